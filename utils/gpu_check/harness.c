/*===- harness.c - many compiled models in one program, for gpu-check -----===
 *
 * utils/gpu_check.py compiles every model of a check (backend tests, zoo
 * models, a GEMM) to an object with its own symbol prefix and links them
 * with this file, a generated table (models.c) and the Kiln runtime into
 * one program, `suite`, which is what travels to a machine with a GPU: one
 * runtime for all models, no compiler or Python needed there.
 *
 *   suite list                      index, name and device of every model
 *   suite run LIST OUTDIR           run the models on the inputs LIST names
 *   suite bench NAME RUNS [THREADS] time a model on random inputs
 *
 * LIST has one line per run: `<model name>\t<output folder>\t<input>...`
 * (tabs); the outputs go to OUTDIR/<output folder>/output_<k>.pb, and one
 * line per run says `ok <folder> <ms>` or `fail <folder>: <why>`. bench
 * prints `bench <name> median_ms=<m> min_ms=<m> runs=<n>` after one warm-up
 * run (a GPU model's first run loads it); a GPU model's time includes
 * copying host inputs in and outputs out.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kiln/runtime.h"

/* models.c */
extern const kiln_model_info *const kiln_check_models[];
extern const char *const kiln_check_names[];
extern const int kiln_check_count;


static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static const kiln_model_info *find(const char *name) {
  int i;
  for (i = 0; i < kiln_check_count; ++i)
    if (strcmp(kiln_check_names[i], name) == 0)
      return kiln_check_models[i];
  return NULL;
}

static int mkdirs(char *path) {
  char *p;
  for (p = path + 1; *p; ++p)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static const char *why(int32_t rc) {
  return rc == KILN_ERROR_DEVICE && *kiln_device_error() ? kiln_device_error()
                                                         : kiln_status_string(rc);
}

/* One line of a run list; returns 0 if the model ran. */
static int run_line(char *line, const char *out_dir) {
  char *fields[64], err[512], path[4096];
  int n = 0, i, ok = 0;
  const kiln_model_info *m;
  kiln_tensor ins[62], outs[62];
  const void *in_ptrs[62];
  void *out_ptrs[62];
  int32_t rc;
  double t0, ms;
  char *save = NULL, *f;
  line[strcspn(line, "\r\n")] = '\0';
  for (f = strtok_r(line, "\t", &save); f && n < 64;
       f = strtok_r(NULL, "\t", &save))
    fields[n++] = f;
  if (n < 2)
    return 0; /* blank */
  memset(ins, 0, sizeof ins);
  memset(outs, 0, sizeof outs);
  m = find(fields[0]);
  if (!m) {
    printf("fail %s: no model '%s' in this suite\n", fields[1], fields[0]);
    return -1;
  }
  if (m->num_inputs != n - 2 || m->num_outputs > 62 || !m->run) {
    printf("fail %s: model '%s' takes %d inputs, the list gives %d\n",
           fields[1], fields[0], (int)m->num_inputs, n - 2);
    return -1;
  }
  for (i = 0; i < m->num_inputs; ++i) {
    if (kiln_tensor_read_file(fields[2 + i], &ins[i], err, sizeof err) != 0 ||
        kiln_tensor_check(&ins[i], &m->inputs[i], err, sizeof err) != 0) {
      printf("fail %s: %s\n", fields[1], err);
      goto done;
    }
    in_ptrs[i] = ins[i].data;
  }
  for (i = 0; i < m->num_outputs; ++i) {
    const kiln_tensor_info *o = &m->outputs[i];
    int d;
    outs[i].elem_type = o->elem_type;
    outs[i].rank = o->rank;
    for (d = 0; d < o->rank; ++d)
      outs[i].shape[d] = o->shape[d];
    outs[i].byte_size = o->byte_size;
    outs[i].data = malloc(o->byte_size ? o->byte_size : 1);
    if (!outs[i].data) {
      printf("fail %s: out of memory\n", fields[1]);
      goto done;
    }
    out_ptrs[i] = outs[i].data;
  }
  t0 = now_ms();
  rc = m->run(in_ptrs, out_ptrs, NULL);
  ms = now_ms() - t0;
  if (rc != KILN_OK) {
    printf("fail %s: %s\n", fields[1], why(rc));
    goto done;
  }
  snprintf(path, sizeof path, "%s/%s", out_dir, fields[1]);
  if (mkdirs(path) != 0) {
    printf("fail %s: cannot create %s\n", fields[1], path);
    goto done;
  }
  for (i = 0; i < m->num_outputs; ++i) {
    snprintf(path, sizeof path, "%s/%s/output_%d.pb", out_dir, fields[1], i);
    if (kiln_tensor_write_pb(path, &outs[i], m->outputs[i].name, err,
                             sizeof err) != 0) {
      printf("fail %s: %s\n", fields[1], err);
      goto done;
    }
  }
  printf("ok %s %.3f\n", fields[1], ms);
  ok = 1;
done:
  fflush(stdout);
  for (i = 0; i < 62; ++i) {
    kiln_tensor_free(&ins[i]);
    free(outs[i].data);
  }
  return ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int bench(const char *name, int runs) {
  const kiln_model_info *m = find(name);
  void *ptrs[128];
  double *times;
  int i, rc = 1;
  if (!m || !m->run || m->num_inputs + m->num_outputs > 128 || runs < 1) {
    fprintf(stderr, "error: no static model '%s' (or bad run count)\n", name);
    return 1;
  }
  for (i = 0; i < m->num_inputs + m->num_outputs; ++i) {
    const kiln_tensor_info *t =
        i < m->num_inputs ? &m->inputs[i] : &m->outputs[i - m->num_inputs];
    uint64_t k;
    ptrs[i] = malloc(t->byte_size ? t->byte_size : 1);
    if (!ptrs[i])
      return 1;
    if (t->elem_type == KILN_FLOAT)
      for (k = 0; k < t->byte_size / 4; ++k)
        ((float *)ptrs[i])[k] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
    else
      memset(ptrs[i], 0, t->byte_size);
  }
  times = malloc(sizeof *times * (size_t)runs);
  if (!times)
    return 1;
  if ((rc = m->run((const void *const *)ptrs, ptrs + m->num_inputs, NULL))) {
    printf("bench %s failed: %s\n", name, why(rc));
    return 1;
  }
  for (i = 0; i < runs; ++i) {
    double t0 = now_ms();
    rc = m->run((const void *const *)ptrs, ptrs + m->num_inputs, NULL);
    times[i] = now_ms() - t0;
    if (rc) {
      printf("bench %s failed: %s\n", name, why(rc));
      return 1;
    }
  }
  qsort(times, (size_t)runs, sizeof *times, cmp_double);
  printf("bench %s median_ms=%.3f min_ms=%.3f runs=%d\n", name,
         runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2,
         times[0], runs);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) {
    int i;
    for (i = 0; i < kiln_check_count; ++i)
      printf("%d %s %s\n", i, kiln_check_names[i],
             kiln_check_models[i]->abi_version >= 6 &&
                     kiln_check_models[i]->device == KILN_DEVICE_CUDA
                 ? "cuda"
                 : "cpu");
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "run") == 0) {
    FILE *f = fopen(argv[2], "r");
    static char line[1 << 16];
    int failed = 0, total = 0;
    if (!f) {
      fprintf(stderr, "error: cannot read %s\n", argv[2]);
      return 1;
    }
    while (fgets(line, sizeof line, f)) {
      int r = run_line(line, argv[3]);
      total += 1;
      failed += r != 0;
    }
    fclose(f);
    printf("ran %d, failed %d\n", total, failed);
    return 0;
  }
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "bench") == 0) {
    if (argc == 5)
      kiln_set_num_threads(atoi(argv[4]));
    return bench(argv[2], atoi(argv[3]));
  }
  fprintf(stderr, "usage: %s list | run LIST OUTDIR | bench NAME RUNS "
                  "[THREADS]\n",
          argv[0]);
  return 2;
}
