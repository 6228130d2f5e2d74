/*===- fake_cuda.c - a CUDA driver without a GPU, for Kiln's tests ---------===
 *
 * libkiln_fake_cuda.so stands in for libcuda.so.1 (KILN_CUDA_DRIVER=...)
 * so that GPU models run on machines with no GPU:
 *
 * - A model compiled with `kiln compile --gpu-emulate` carries, in place
 *   of PTX, an image of host functions, one per kernel
 *   (lowering/Gpu/GpuEmulate.cpp). cuModuleLoadDataEx takes that image
 *   and cuLaunchKernel runs every thread of the grid, one after the other;
 *   a block of a kernel that waits at barriers runs as fibers (ucontext),
 *   each thread up to the barrier in turn, then each on to the next. Under
 *   AddressSanitizer, which does not follow swapcontext, such a block runs
 *   as one POSIX thread per GPU thread instead, meeting at a
 *   pthread_barrier.
 *   Anything else (real PTX) is refused with CUDA_ERROR_INVALID_IMAGE.
 * - "Device memory" is host memory from this library, filled with 0xff
 *   bytes (NaN as floats) when allocated, so that a kernel reading what no
 *   one wrote shows. cuPointerGetAttribute knows it as device memory.
 * - KILN_FAKE_CUDA selects a failure instead: "no-device" (cuInit says
 *   CUDA_ERROR_NO_DEVICE), "sm_75" (an older GPU than any Kiln targets),
 *   "launch-fails" (every launch returns CUDA_ERROR_LAUNCH_FAILED).
 *
 * Only the functions the Kiln runtime loads (runtime/src/gpu.c) are here.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE /* ucontext */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "cuda_driver.h"

#if defined(__SANITIZE_ADDRESS__)
#define EMU_OS_THREADS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_OS_THREADS 1
#endif
#endif

/* What an emulated kernel reads its ids from: tid, ntid, ctaid, nctaid,
 * each x, y, z, then the function a barrier calls. */
typedef struct {
  uint32_t ids[12];
  void (*barrier)(void);
} emu_ids;
typedef void (*kernel_entry)(void **params, emu_ids *ids);
enum { EMU_BARRIERS = 1 }; /* emu_kernel.flags: waits at barriers */
typedef struct {
  const char *name;
  kernel_entry entry;
  int64_t flags;
} emu_kernel; /* what cuModuleGetFunction returns */
typedef struct {
  char magic[8]; /* "KILNEMU2" */
  int64_t count;
  emu_kernel kernels[];
} emu_image;

static int initialized;

static int mode(const char *what) {
  const char *m = getenv("KILN_FAKE_CUDA");
  return m && strcmp(m, what) == 0;
}

/* The allocations, to tell device pointers from host ones. */
enum { MAX_ALLOCS = 4096 };
static struct {
  char *base;
  size_t size;
} allocs[MAX_ALLOCS];
static int num_allocs;

CUresult cuInit(unsigned flags) {
  (void)flags;
  if (mode("no-device"))
    return CUDA_ERROR_NO_DEVICE;
  initialized = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  if (!initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *dev, int ordinal) {
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_VALUE;
  *dev = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
  (void)dev;
  if (len > 0) {
    strncpy(name, "Kiln fake GPU", (size_t)len);
    name[len - 1] = '\0';
  }
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attr, CUdevice dev) {
  (void)dev;
  int old = mode("sm_75");
  if (attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = old ? 7 : 9;
  else if (attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = old ? 5 : 0;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice dev) {
  (void)dev;
  *ctx = (void *)&initialized;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(void *ctx) {
  return ctx == (void *)&initialized ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n,
                            int *options, void **values) {
  static const char msg[] =
      "the fake CUDA driver runs --gpu-emulate images only, not PTX";
  const emu_image *img = (const emu_image *)image;
  unsigned i;
  if (!image || memcmp(img->magic, "KILNEMU2", 8) != 0) {
    char *log = NULL;
    size_t size = 0;
    for (i = 0; i < n; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = (char *)values[i];
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        size = (size_t)(uintptr_t)values[i];
    }
    if (log && size > 0) {
      strncpy(log, msg, size);
      log[size - 1] = '\0';
    }
    return CUDA_ERROR_INVALID_IMAGE;
  }
  *module = (void *)img;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
  const emu_image *img = (const emu_image *)module;
  int64_t i;
  for (i = 0; i < img->count; ++i)
    if (strcmp(img->kernels[i].name, name) == 0) {
      *fn = (void *)&img->kernels[i];
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t size) {
  size_t rounded = (size + 255) / 256 * 256;
  char *p;
  if (num_allocs == MAX_ALLOCS)
    return CUDA_ERROR_OUT_OF_MEMORY;
  p = aligned_alloc(256, rounded ? rounded : 256);
  if (!p)
    return CUDA_ERROR_OUT_OF_MEMORY;
  memset(p, 0xff, rounded);
  allocs[num_allocs].base = p;
  allocs[num_allocs].size = size;
  ++num_allocs;
  *ptr = (CUdeviceptr)(uintptr_t)p;
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
  memcpy((void *)(uintptr_t)dst, src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n,
                              void *stream) {
  (void)stream;
  return cuMemcpyHtoD_v2(dst, src, n);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n,
                              void *stream) {
  (void)stream;
  memcpy(dst, (const void *)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = (void *)&num_allocs;
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  return CUDA_SUCCESS;
}

/* The threads of one block as fibers, for kernels with barriers. */
enum { FIBER_STACK = 64 * 1024 };
static struct {
  ucontext_t scheduler;
  ucontext_t *threads;
  emu_ids *ids;
  char *done;
  char *stacks;
  unsigned capacity, current;
  kernel_entry entry;
  void **params;
} fibers;

#ifndef EMU_OS_THREADS
/* A barrier: back to the scheduler, which resumes every other thread
 * first. */
static void fiber_wait(void) {
  swapcontext(&fibers.threads[fibers.current], &fibers.scheduler);
}

static void fiber_main(void) {
  unsigned t = fibers.current;
  fibers.entry(fibers.params, &fibers.ids[t]);
  fibers.done[t] = 1; /* and back to the scheduler (uc_link) */
}

#endif

/* Room for n fibers. */
static CUresult reserve_fibers(unsigned n) {
  if (n <= fibers.capacity)
    return CUDA_SUCCESS;
  free(fibers.threads), free(fibers.ids), free(fibers.done);
  free(fibers.stacks);
  fibers.threads = malloc(n * sizeof *fibers.threads);
  fibers.ids = malloc(n * sizeof *fibers.ids);
  fibers.done = malloc(n);
  fibers.stacks = malloc((size_t)n * FIBER_STACK);
  fibers.capacity = n;
  if (fibers.threads && fibers.ids && fibers.done && fibers.stacks)
    return CUDA_SUCCESS;
  fibers.capacity = 0;
  return CUDA_ERROR_OUT_OF_MEMORY;
}

#ifndef EMU_OS_THREADS
/* Runs the n threads of a block, whose fibers.ids are set, round after
 * round: each round takes every live thread to its next barrier or its
 * end. */
static void run_fibers(unsigned n) {
  unsigned t;
  volatile unsigned live = n; /* kept across swapcontext */
  for (t = 0; t < n; ++t) {
    ucontext_t *c = &fibers.threads[t];
    getcontext(c);
    c->uc_stack.ss_sp = fibers.stacks + (size_t)t * FIBER_STACK;
    c->uc_stack.ss_size = FIBER_STACK;
    c->uc_link = &fibers.scheduler;
    makecontext(c, fiber_main, 0);
    fibers.done[t] = 0;
  }
  while (live > 0)
    for (t = 0; t < n; ++t)
      if (!fibers.done[t]) {
        fibers.current = t;
        swapcontext(&fibers.scheduler, &fibers.threads[t]);
        live -= (unsigned)fibers.done[t];
      }
}
#endif

#ifdef EMU_OS_THREADS
/* The same with one OS thread per GPU thread: slower, but nothing that
 * AddressSanitizer cannot follow. */
static pthread_barrier_t block_barrier;

static void thread_wait(void) { pthread_barrier_wait(&block_barrier); }

static void *thread_main(void *ids) {
  fibers.entry(fibers.params, (emu_ids *)ids);
  return NULL;
}

static void run_threads(unsigned n) {
  pthread_t *threads = malloc(n * sizeof *threads);
  unsigned t, started = 0;
  if (!threads)
    abort();
  pthread_barrier_init(&block_barrier, NULL, n);
  for (t = 0; t < n; ++t)
    if (pthread_create(&threads[t], NULL, thread_main, &fibers.ids[t]) == 0)
      ++started;
  if (started != n)
    abort(); /* the others would wait at the barrier for ever */
  for (t = 0; t < n; ++t)
    pthread_join(threads[t], NULL);
  pthread_barrier_destroy(&block_barrier);
  free(threads);
}
#define EMU_WAIT thread_wait
#define EMU_RUN_BLOCK run_threads
#else
#define EMU_WAIT fiber_wait
#define EMU_RUN_BLOCK run_fibers
#endif

CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        void *stream, void **params, void **extra) {
  const emu_kernel *k = (const emu_kernel *)fn;
  int waits = (k->flags & EMU_BARRIERS) != 0;
  emu_ids one;
  unsigned x, y, z, tx, ty, tz;
  (void)stream;
  (void)extra;
  if (mode("launch-fails"))
    return CUDA_ERROR_LAUNCH_FAILED;
  if (shared != 0 || bx * by * bz > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  if (waits) {
    CUresult r = reserve_fibers(bx * by * bz);
    if (r != CUDA_SUCCESS)
      return r;
    fibers.entry = k->entry;
    fibers.params = params;
  }
  for (z = 0; z < gz; ++z)
    for (y = 0; y < gy; ++y)
      for (x = 0; x < gx; ++x) {
        unsigned n = 0;
        for (tz = 0; tz < bz; ++tz)
          for (ty = 0; ty < by; ++ty)
            for (tx = 0; tx < bx; ++tx, ++n) {
              emu_ids *ids = waits ? &fibers.ids[n] : &one;
              uint32_t v[12] = {tx, ty, tz, bx, by, bz, x, y, z, gx, gy, gz};
              memcpy(ids->ids, v, sizeof v);
              ids->barrier = EMU_WAIT;
              if (!waits)
                k->entry(params, ids);
            }
        if (waits)
          EMU_RUN_BLOCK(n);
      }
  return CUDA_SUCCESS;
}

CUresult cuPointerGetAttribute(void *data, int attr, CUdeviceptr ptr) {
  const char *p = (const char *)(uintptr_t)ptr;
  int i;
  if (attr != CU_POINTER_ATTRIBUTE_MEMORY_TYPE)
    return CUDA_ERROR_INVALID_VALUE;
  for (i = 0; i < num_allocs; ++i)
    if (p >= allocs[i].base && p < allocs[i].base + allocs[i].size) {
      *(unsigned *)data = CU_MEMORYTYPE_DEVICE;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}

static const struct {
  CUresult code;
  const char *name, *text;
} errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED",
     "unspecified launch failure"},
};

/* The table's entry for `r`, or -1. */
static int find_error(CUresult r) {
  int i;
  for (i = 0; i < (int)(sizeof errors / sizeof errors[0]); ++i)
    if (errors[i].code == r)
      return i;
  return -1;
}

CUresult cuGetErrorName(CUresult r, const char **name) {
  int i = find_error(r);
  if (i < 0)
    return CUDA_ERROR_INVALID_VALUE;
  *name = errors[i].name;
  return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult r, const char **text) {
  int i = find_error(r);
  if (i < 0)
    return CUDA_ERROR_INVALID_VALUE;
  *text = errors[i].text;
  return CUDA_SUCCESS;
}
