/*===- parallel.c - the thread pool behind compiled parallel loops ----------===
 *
 * Compiled models call kiln_parallel_for for every loop nest that the
 * compiler outlined (kiln-outline-parallel): `task(ctx, begin, end)` runs the
 * iterations [begin, end) of a loop of `n` iterations. The pool is
 * process-wide; its workers are created by kiln_set_num_threads (never during
 * a run, so P_run still allocates nothing) and wait for work by spinning
 * briefly, then on a condition variable.
 *
 * The iterations are cut into chunks, and each thread owns a contiguous run
 * of them: thread t starts at chunk nchunks * t / T, so consecutive loops
 * over the same data (a layer's output, the next layer's input) give each
 * thread the same part of it, which is still in its own cache. A thread done
 * with its run takes the chunks still left in the others' runs, so a slow
 * (or descheduled) thread delays the loop by one chunk at most. (Handing out
 * every chunk from one shared counter balanced as well, but moved about half
 * of every activation between the cores' caches at each layer: 10% slower
 * on MobileNet-V2 at 2 threads.) One loop runs on the pool at a time: a
 * second caller (another application thread) runs its loop on its own
 * thread.
 *
 * Built with KILN_RUNTIME_SERIAL (targets without threads) every loop runs
 * on the calling thread.
 *
 * With KILN_PROFILE_LOOPS=<file> in the environment, every loop's calls,
 * iteration count, wall time and the time the caller waited for the others
 * at its end are summed per task function (a static table: nothing is
 * allocated) and written to <file> at exit, one line per loop with the
 * task's address relative to kiln_parallel_for (utils/profile.py --loops
 * names them and compares thread counts).
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"

#ifdef KILN_RUNTIME_SERIAL

int kiln_set_num_threads(int n) { (void)n; return 1; }
int kiln_get_num_threads(void) { return 1; }
void kiln_parallel_for(kiln_task_fn task, void *ctx, int64_t n) {
  if (n > 0)
    task(ctx, 0, n);
}

#else

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define KILN_SPINS 20000 /* polls before a worker sleeps */
#define KILN_CHUNKS_PER_THREAD 8

/* The chunks a thread owns: it takes them from the front, thieves too. */
typedef struct {
  atomic_llong next; /* next chunk to take */
  int64_t end;       /* one past the last */
  char pad[64 - sizeof(atomic_llong) - sizeof(int64_t)]; /* own cache line */
} kiln_chunk_run;

static struct {
  pthread_mutex_t lock; /* guards sleeping on `wake` */
  pthread_cond_t wake;
  pthread_mutex_t busy; /* held while a loop runs on the pool */
  int nthreads;         /* workers + the calling thread */
  int stop;
  pthread_t workers[KILN_MAX_THREADS];
  atomic_uint generation; /* bumped once per loop */
  atomic_int pending;     /* workers not done with the current loop */
  unsigned start[KILN_MAX_THREADS]; /* generation a new worker starts from */
  kiln_chunk_run runs[KILN_MAX_THREADS];  /* thread t's chunks */
  kiln_task_fn task;
  void *ctx;
  int64_t n, chunk, nchunks;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .busy = PTHREAD_MUTEX_INITIALIZER,
          .nthreads = 1};

/* The loop profile (KILN_PROFILE_LOOPS): one row per task function. */
#define KILN_PROFILE_ROWS 1024
static struct {
  int state; /* 0: environment not read yet, 1: off, 2: on */
  const char *path;
  int rows;
  int threads; /* the most threads a loop ran on */
  struct {
    kiln_task_fn task;
    int64_t calls, n, total_ns, wait_ns;
  } row[KILN_PROFILE_ROWS];
} profile;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void write_profile(void) {
  FILE *f = fopen(profile.path, "w");
  if (!f)
    return;
  fprintf(f, "# threads %d (the most a loop ran on); per loop: task offset "
             "from kiln_parallel_for, "
             "calls, iterations, total ns, caller wait ns\n",
          profile.threads);
  for (int i = 0; i < profile.rows; ++i)
    fprintf(f, "%lld %lld %lld %lld %lld\n",
            (long long)((intptr_t)profile.row[i].task -
                        (intptr_t)&kiln_parallel_for),
            (long long)profile.row[i].calls, (long long)profile.row[i].n,
            (long long)profile.row[i].total_ns,
            (long long)profile.row[i].wait_ns);
  fclose(f);
}

/* Whether loops are profiled (reads the environment once, from the thread
 * that runs the model). */
static int profiling(void) {
  if (profile.state == 0) {
    profile.path = getenv("KILN_PROFILE_LOOPS");
    profile.state = profile.path && *profile.path ? 2 : 1;
    if (profile.state == 2)
      atexit(write_profile);
  }
  return profile.state == 2;
}

static void record_locked(kiln_task_fn task, int64_t n, int64_t total,
                          int64_t wait, int threads) {
  if (threads > profile.threads)
    profile.threads = threads;
  int i = 0;
  while (i < profile.rows && profile.row[i].task != task)
    ++i;
  if (i == profile.rows) {
    if (i == KILN_PROFILE_ROWS)
      return;
    profile.row[profile.rows++].task = task;
  }
  profile.row[i].calls += 1;
  profile.row[i].n = n;
  profile.row[i].total_ns += total;
  profile.row[i].wait_ns += wait;
}

static pthread_mutex_t profile_lock = PTHREAD_MUTEX_INITIALIZER;

/* Loops may come from several application threads (each its own model). */
static void record(kiln_task_fn task, int64_t n, int64_t total, int64_t wait,
                   int threads) {
  pthread_mutex_lock(&profile_lock);
  record_locked(task, n, total, wait, threads);
  pthread_mutex_unlock(&profile_lock);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Runs the chunks left in thread `owner`'s run. */
static void run_chunks_of(int owner) {
  kiln_chunk_run *run = &pool.runs[owner];
  for (;;) {
    int64_t i = atomic_fetch_add_explicit(&run->next, 1, memory_order_relaxed);
    if (i >= run->end)
      return;
    int64_t begin = i * pool.chunk;
    int64_t end = begin + pool.chunk < pool.n ? begin + pool.chunk : pool.n;
    pool.task(pool.ctx, begin, end);
  }
}

/* Thread `self`'s share of the loop: its own run, then what is left of the
 * others'. */
static void run_chunks(int self) {
  for (int k = 0; k < pool.nthreads; ++k)
    run_chunks_of((self + k) % pool.nthreads);
}

static void *worker(void *arg) {
  int self = (int)(uintptr_t)arg; /* 1 .. nthreads - 1; the caller is 0 */
  unsigned seen = pool.start[self];
  for (;;) {
    unsigned g;
    int spins = 0;
    while ((g = atomic_load_explicit(&pool.generation,
                                     memory_order_acquire)) == seen) {
      if (++spins < KILN_SPINS) {
        cpu_relax();
        continue;
      }
      pthread_mutex_lock(&pool.lock);
      while ((g = atomic_load(&pool.generation)) == seen && !pool.stop)
        pthread_cond_wait(&pool.wake, &pool.lock);
      pthread_mutex_unlock(&pool.lock);
      break;
    }
    if (pool.stop)
      return NULL;
    seen = g;
    run_chunks(self);
    atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
  }
}

static void stop_workers(void) {
  pthread_mutex_lock(&pool.lock);
  pool.stop = 1;
  atomic_fetch_add(&pool.generation, 1);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  for (int i = 0; i < pool.nthreads - 1; ++i)
    pthread_join(pool.workers[i], NULL);
  pool.stop = 0;
  pool.nthreads = 1;
}

int kiln_set_num_threads(int n) {
  if (n < 1)
    n = 1;
  if (n > KILN_MAX_THREADS)
    n = KILN_MAX_THREADS;
  pthread_mutex_lock(&pool.busy);
  if (n != pool.nthreads) {
    stop_workers();
    unsigned g = atomic_load(&pool.generation);
    while (pool.nthreads < n) {
      pool.start[pool.nthreads] = g;
      if (pthread_create(&pool.workers[pool.nthreads - 1], NULL, worker,
                         (void *)(uintptr_t)pool.nthreads) != 0)
        break;
      ++pool.nthreads;
    }
  }
  n = pool.nthreads;
  pthread_mutex_unlock(&pool.busy);
  return n;
}

int kiln_get_num_threads(void) { return pool.nthreads; }

void kiln_parallel_for(kiln_task_fn task, void *ctx, int64_t n) {
  if (n <= 0)
    return;
  /* Serial when there is nothing to share, or when the pool is running
   * another loop (another thread's model, or a task calling back in). */
  int64_t start = profiling() ? now_ns() : 0;
  if (pool.nthreads <= 1 || n == 1 || pthread_mutex_trylock(&pool.busy) != 0) {
    task(ctx, 0, n);
    if (start)
      record(task, n, now_ns() - start, 0, 1);
    return;
  }
  if (pool.nthreads <= 1) { /* threads were stopped meanwhile */
    pthread_mutex_unlock(&pool.busy);
    task(ctx, 0, n);
    if (start)
      record(task, n, now_ns() - start, 0, 1);
    return;
  }
  int64_t want = (int64_t)pool.nthreads * KILN_CHUNKS_PER_THREAD;
  pool.task = task;
  pool.ctx = ctx;
  pool.n = n;
  pool.chunk = n > want ? (n + want - 1) / want : 1;
  pool.nchunks = (n + pool.chunk - 1) / pool.chunk;
  for (int t = 0; t < pool.nthreads; ++t) {
    atomic_store_explicit(&pool.runs[t].next, pool.nchunks * t / pool.nthreads,
                          memory_order_relaxed);
    pool.runs[t].end = pool.nchunks * (t + 1) / pool.nthreads;
  }
  atomic_store_explicit(&pool.pending, pool.nthreads - 1, memory_order_relaxed);
  pthread_mutex_lock(&pool.lock);
  atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  run_chunks(0);
  int64_t ran = start ? now_ns() : 0;
  /* The workers finish their last chunk; a descheduled one (a busy machine)
   * gets the core back through sched_yield. */
  for (int spins = 0;
       atomic_load_explicit(&pool.pending, memory_order_acquire) != 0;
       ++spins) {
    if (spins < KILN_SPINS)
      cpu_relax();
    else
      sched_yield();
  }
  if (start) {
    int64_t end = now_ns();
    record(task, n, end - start, end - ran, pool.nthreads);
  }
  pthread_mutex_unlock(&pool.busy);
}

#endif
