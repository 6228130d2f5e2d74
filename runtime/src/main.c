/*===- main.c - main() of a standalone Kiln model executable --------------===
 *
 * Linked with one compiled model object that defines `kiln_model`:
 *
 *   prog [options] input0 [input1 ...]
 *
 * Reads the inputs (.pb or .npy, positional in graph-input order), runs the
 * model and writes output_<i>.pb (or .npy) into the output directory. A
 * sequence or optional input is a SequenceProto or OptionalProto .pb (an
 * optional tensor may also be a plain tensor file); a sequence output is
 * written as one (.pb only).
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "kiln_internal.h"

extern const kiln_model_info kiln_model;

/* Threads for the model's parallel loops (--threads). */
static int kiln_num_threads = 1;

static const char *prog_name = "model";

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s [options] input0 [input1 ...]\n"
          "\n"
          "Runs the compiled model '%s' on inputs given in graph-input order\n"
          "(ONNX TensorProto .pb or NumPy .npy files; SequenceProto or\n"
          "OptionalProto .pb files for sequence and optional inputs) and\n"
          "writes output_<i>.pb (or .npy) for each graph output.\n"
          "\n"
          "options:\n"
          "  --output-dir DIR        directory for the outputs (default .;\n"
          "                          created if missing)\n"
          "  --output-format FMT     pb (default) or npy\n"
          "  --bench N               after one warm-up run, time N runs and "
          "print\n"
          "                          'latency_ms median=<ms> min=<ms> runs=<N>'\n"
          "  --threads T             number of threads (T >= 1)\n"
          "  --info                  print the model signature and exit\n"
          "  -h, --help              print this help and exit\n",
          prog_name, kiln_model.name ? kiln_model.name : "?");
}

static int fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int fail(const char *fmt, ...) {
  va_list ap;
  fputs("error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

/* Parses a positive int option value; returns 0 on success. */
static int parse_count(const char *s, int *out) {
  char *end;
  long v;
  if (!s || !*s)
    return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < 1 || v > INT_MAX)
    return -1;
  *out = (int)v;
  return 0;
}

/* mkdir -p; `created` (created_size bytes) gets the outermost folder it
 * made, "" when it made none. */
static int make_dirs(const char *dir, char *msg, size_t msg_size,
                     char *created, size_t created_size) {
  char buf[4096];
  size_t len = strlen(dir), i;
  struct stat st;
  created[0] = '\0';
  if (len == 0 || len >= sizeof buf) {
    snprintf(msg, msg_size, "invalid output directory '%s'", dir);
    return -1;
  }
  memcpy(buf, dir, len + 1);
  for (i = 1; i <= len; ++i) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    if (buf[i - 1] == '/')
      continue;
    buf[i] = '\0';
    if (mkdir(buf, 0777) == 0) {
      if (!created[0])
        snprintf(created, created_size, "%s", buf);
    } else {
      int e = errno;
      if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(msg, msg_size, "cannot create output directory '%.900s': %s",
                 buf, e == EEXIST ? "not a directory" : strerror(e));
        return -1;
      }
    }
    buf[i] = dir[i];
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(msg, msg_size, "output directory '%s' is not a directory", dir);
    return -1;
  }
  return 0;
}

/* Removes the folders make_dirs made for `dir` (from `dir` up to
 * `created`) where they are still empty: a failed run leaves nothing. */
static void remove_made_dirs(const char *dir, const char *created) {
  char buf[4096];
  size_t len = strlen(dir), top = strlen(created);
  if (!created[0] || len >= sizeof buf || top > len ||
      strncmp(dir, created, top) != 0)
    return;
  memcpy(buf, dir, len + 1);
  while (len >= top) {
    while (len > top && buf[len - 1] == '/')
      buf[--len] = '\0';
    if (rmdir(buf) != 0 || len == top)
      return;
    while (len > top && buf[len - 1] != '/')
      --len;
    buf[len] = '\0';
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A graph input or output that P_run sees as a kiln_sequence. */
static int is_seq(const kiln_tensor_info *t) {
  return t->kind == KILN_KIND_SEQUENCE ||
         t->kind == KILN_KIND_OPTIONAL_SEQUENCE;
}

/* Formats "float32[batch,3,224,224]": symbolic dims by name. The element of
 * a sequence or optional: "float32[?,3]" (-1: any size), or "float32" when
 * its shape is not declared (rank -1). */
static void format_declared(char *buf, size_t size, const kiln_model_info *m,
                            const kiln_tensor_info *t) {
  size_t used;
  int32_t i;
  if (t->rank < 0) {
    snprintf(buf, size, "%s", kiln_elem_type_name(t->elem_type));
    return;
  }
  kiln_format_type(buf, size, t->elem_type, 0, NULL);
  used = strlen(buf);
  if (used == 0)
    return;
  --used; /* drop the "]" */
  for (i = 0; i < t->rank && t->shape && used + 1 < size; ++i) {
    int64_t d = t->shape[i];
    int64_t k = d == KILN_DIM_COMPUTED ? INT64_MAX : -1 - d;
    if (d == KILN_DIM_COMPUTED || (d < 0 && t->kind != KILN_KIND_TENSOR))
      snprintf(buf + used, size - used, "%s?", i ? "," : "");
    else if (d < 0 && k < m->num_dims && m->dims && m->dims[k].name)
      snprintf(buf + used, size - used, "%s%s", i ? "," : "",
               m->dims[k].name);
    else
      snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
               (long long)d);
    used += strlen(buf + used);
  }
  snprintf(buf + used, size - used, "]");
}

/* format_declared, wrapped by kind: "seq(float32[?,3])", "optional(...)". */
static void format_value(char *buf, size_t size, const kiln_model_info *m,
                         const kiln_tensor_info *t) {
  char el[400];
  format_declared(el, sizeof el, m, t);
  switch (t->kind) {
  case KILN_KIND_SEQUENCE:
    snprintf(buf, size, "seq(%s)", el);
    break;
  case KILN_KIND_OPTIONAL_TENSOR:
    snprintf(buf, size, "optional(%s)", el);
    break;
  case KILN_KIND_OPTIONAL_SEQUENCE:
    snprintf(buf, size, "optional(seq(%s))", el);
    break;
  default:
    snprintf(buf, size, "%s", el);
    break;
  }
}

/* Whether the model runs on a GPU (its arena is device memory). */
static int on_gpu(const kiln_model_info *m) {
  return m->abi_version >= 6 && m->device == KILN_DEVICE_CUDA;
}

static void print_info(void) {
  const kiln_model_info *m = &kiln_model;
  char ty[512];
  int32_t i;
  printf("model: %s\n", m->name ? m->name : "?");
  printf("abi_version: %u\n", (unsigned)m->abi_version);
  printf("inputs: %d\n", (int)m->num_inputs);
  for (i = 0; i < m->num_inputs; ++i) {
    format_value(ty, sizeof ty, m, &m->inputs[i]);
    printf("  %d: %s %s\n", (int)i,
           m->inputs[i].name ? m->inputs[i].name : "?", ty);
  }
  printf("outputs: %d\n", (int)m->num_outputs);
  for (i = 0; i < m->num_outputs; ++i) {
    format_value(ty, sizeof ty, m, &m->outputs[i]);
    printf("  %d: %s %s\n", (int)i,
           m->outputs[i].name ? m->outputs[i].name : "?", ty);
  }
  for (i = 0; i < m->num_dims; ++i) {
    if (m->dims[i].max > 0)
      printf("dim %s: 0 to %lld\n", m->dims[i].name,
             (long long)m->dims[i].max);
    else
      printf("dim %s: any size\n", m->dims[i].name);
  }
  if (!m->run && m->arena_size == 0)
    printf("arena: sized by the input shapes%s (align %llu)\n",
           m->shapes_need_inputs ? " and values" : "",
           (unsigned long long)m->arena_align);
  else
    printf("arena: %llu bytes%s (align %llu)\n",
           (unsigned long long)m->arena_size,
           on_gpu(m) ? " of GPU memory" : "",
           (unsigned long long)m->arena_align);
  if (on_gpu(m))
    printf("device: NVIDIA GPU (CUDA)\n");
}

/* The values of a dynamic model's symbolic dims from the inputs read (each
 * already checked against its declared type and fixed dims): the same
 * wherever a dim appears, and within its max. */
static int resolve_dims(const kiln_model_info *m, const kiln_tensor *ins,
                        int64_t *dims, const char *const *paths) {
  int32_t k, j;
  char ty[512];
  for (k = 0; k < m->num_dims; ++k)
    dims[k] = -1;
  for (k = 0; k < m->num_inputs; ++k) {
    const kiln_tensor_info *t = &m->inputs[k];
    /* Sequences have no shape here; an absent optional tensor neither. */
    if (t->kind != KILN_KIND_TENSOR &&
        !(t->kind == KILN_KIND_OPTIONAL_TENSOR && ins[k].data))
      continue;
    for (j = 0; j < t->rank; ++j) {
      int64_t d = -1 - t->shape[j];
      if (t->shape[j] >= 0)
        continue;
      if (d >= m->num_dims)
        return fail("model '%s' has an invalid kiln_model_info", m->name);
      if (m->dims[d].max > 0 && ins[k].shape[j] > m->dims[d].max) {
        format_declared(ty, sizeof ty, m, t);
        return fail("input '%s': %s is %lld, the model takes at most %lld "
                    "(expected %s, from '%s')",
                    t->name ? t->name : "?", m->dims[d].name,
                    (long long)ins[k].shape[j], (long long)m->dims[d].max,
                    ty, paths[k]);
      }
      if (dims[d] >= 0 && dims[d] != ins[k].shape[j]) {
        format_declared(ty, sizeof ty, m, t);
        return fail("input '%s': %s is %lld here but %lld in an earlier "
                    "input (expected %s, from '%s')",
                    t->name ? t->name : "?", m->dims[d].name,
                    (long long)ins[k].shape[j], (long long)dims[d], ty,
                    paths[k]);
      }
      dims[d] = ins[k].shape[j];
    }
  }
  return 0;
}

static int32_t run_model(const kiln_model_info *m, const void **in_ptrs,
                         const int64_t **in_shapes, void **out_ptrs,
                         int64_t **out_shapes, void *arena) {
  if (!m->run)
    return m->run_dynamic((const void *const *)in_ptrs,
                          (const int64_t *const *)in_shapes,
                          (void *const *)out_ptrs,
                          (int64_t *const *)out_shapes, arena);
  return m->run((const void *const *)in_ptrs, (void *const *)out_ptrs, arena);
}

/* The one line for a failed run; a device error says what failed. */
static void run_failed(const kiln_model_info *m, int32_t rc) {
  if (rc == KILN_ERROR_DEVICE && *kiln_device_error())
    fail("model '%s' failed: %s", m->name ? m->name : "?",
         kiln_device_error());
  else
    fail("model '%s' failed: %s (status %d)", m->name ? m->name : "?",
         kiln_status_string(rc), (int)rc);
}

int main(int argc, char **argv) {
  const kiln_model_info *m = &kiln_model;
  const char *out_dir = ".";
  const char *ext = "pb";
  int format = KILN_FORMAT_PB;
  int bench = 0, info = 0, i, n_pos = 0, only_pos = 0, status = 1;
  char made_dir[4096] = "";
  const char **pos = NULL;
  kiln_tensor *ins = NULL, *outs = NULL;
  kiln_sequence *seqs = NULL; /* the inputs', then the outputs' */
  const void **in_ptrs = NULL;
  void **out_ptrs = NULL;
  void *arena = NULL;
  char **tmp = NULL;
  double *times = NULL;
  const int64_t **in_shapes = NULL;
  int64_t **out_shapes = NULL;
  int64_t *dims = NULL;
  uint64_t arena_size = m->arena_size;
  char err[1024];
  int32_t rc, k;
  uint64_t bytes;

  if (argc > 0 && argv[0] && *argv[0]) {
    const char *slash = strrchr(argv[0], '/');
    prog_name = slash ? slash + 1 : argv[0];
  }
  pos = (const char **)calloc((size_t)argc + 1, sizeof *pos);
  if (!pos)
    return fail("out of memory");

  for (i = 1; i < argc; ++i) {
    const char *a = argv[i], *val = NULL, *eq;
    size_t name_len;
    if (only_pos || a[0] != '-' || a[1] == '\0') {
      pos[n_pos++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_pos = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      free(pos);
      return 0;
    }
    if (strcmp(a, "--info") == 0) {
      info = 1;
      continue;
    }
    eq = strchr(a, '=');
    name_len = eq ? (size_t)(eq - a) : strlen(a);
#define IS_OPT(s) (name_len == strlen(s) && strncmp(a, s, name_len) == 0)
    if (!IS_OPT("--output-dir") && !IS_OPT("--output-format") &&
        !IS_OPT("--bench") && !IS_OPT("--threads")) {
      free(pos);
      return fail("unknown option '%s' (see --help)", a);
    }
    if (eq) {
      val = eq + 1;
    } else {
      if (i + 1 >= argc) {
        free(pos);
        return fail("option '%s' needs a value", a);
      }
      val = argv[++i];
    }
    if (IS_OPT("--output-dir")) {
      if (!*val) {
        free(pos);
        return fail("--output-dir needs a non-empty value");
      }
      out_dir = val;
    } else if (IS_OPT("--output-format")) {
      if (strcmp(val, "pb") == 0) {
        format = KILN_FORMAT_PB;
        ext = "pb";
      } else if (strcmp(val, "npy") == 0) {
        format = KILN_FORMAT_NPY;
        ext = "npy";
      } else {
        free(pos);
        return fail("--output-format must be 'pb' or 'npy', got '%s'", val);
      }
    } else if (IS_OPT("--bench")) {
      if (parse_count(val, &bench) != 0) {
        free(pos);
        return fail("--bench needs a positive integer, got '%s'", val);
      }
    } else if (IS_OPT("--threads")) {
      if (parse_count(val, &kiln_num_threads) != 0) {
        free(pos);
        return fail("--threads needs an integer >= 1, got '%s'", val);
      }
    }
#undef IS_OPT
  }

  if (m->abi_version != KILN_ABI_VERSION) {
    free(pos);
    return fail("model '%s' has ABI version %u, this runtime expects %u",
                m->name ? m->name : "?", (unsigned)m->abi_version,
                (unsigned)KILN_ABI_VERSION);
  }
  if ((!m->run && (!m->run_dynamic || !m->shapes || !m->shapes_of ||
                   (m->num_dims > 0 && !m->dims))) ||
      (m->num_inputs > 0 && !m->inputs) ||
      (m->num_outputs > 0 && !m->outputs) || m->num_inputs < 0 ||
      m->num_outputs < 0) {
    free(pos);
    return fail("model '%s' has an invalid kiln_model_info",
                m->name ? m->name : "?");
  }
  for (k = 0; k < m->num_inputs + m->num_outputs; ++k) {
    int32_t kind = k < m->num_inputs ? m->inputs[k].kind
                                     : m->outputs[k - m->num_inputs].kind;
    if (kind < KILN_KIND_TENSOR || kind > KILN_KIND_OPTIONAL_SEQUENCE ||
        (k >= m->num_inputs && kind == KILN_KIND_OPTIONAL_TENSOR)) {
      free(pos);
      return fail("model '%s' has an invalid kiln_model_info (kind %d)",
                  m->name ? m->name : "?", (int)kind);
    }
  }
  if (info) {
    print_info();
    free(pos);
    return 0;
  }
  if (kiln_set_num_threads(kiln_num_threads) < kiln_num_threads)
    fprintf(stderr, "%s: warning: running with %d thread(s), not %d\n",
            prog_name, kiln_get_num_threads(), kiln_num_threads);
  if (n_pos != m->num_inputs) {
    char names[512] = "";
    size_t used = 0;
    for (k = 0; k < m->num_inputs && used + 1 < sizeof names; ++k) {
      snprintf(names + used, sizeof names - used, "%s%s", k ? ", " : "",
               m->inputs[k].name ? m->inputs[k].name : "?");
      used += strlen(names + used);
    }
    free(pos);
    return fail("model '%s' takes %d input%s (%s), got %d (see --help)",
                m->name ? m->name : "?", (int)m->num_inputs,
                m->num_inputs == 1 ? "" : "s", names, n_pos);
  }
  for (k = 0; k < m->num_outputs && format == KILN_FORMAT_NPY; ++k) {
    if (is_seq(&m->outputs[k])) {
      free(pos);
      return fail("output %d ('%s') is %s, which --output-format npy cannot "
                  "hold (use pb)",
                  (int)k, m->outputs[k].name ? m->outputs[k].name : "?",
                  m->outputs[k].kind == KILN_KIND_SEQUENCE
                      ? "a sequence"
                      : "an optional sequence");
    }
  }

  ins = (kiln_tensor *)calloc((size_t)m->num_inputs + 1, sizeof *ins);
  outs = (kiln_tensor *)calloc((size_t)m->num_outputs + 1, sizeof *outs);
  in_ptrs = (const void **)calloc((size_t)m->num_inputs + 1, sizeof *in_ptrs);
  out_ptrs = (void **)calloc((size_t)m->num_outputs + 1, sizeof *out_ptrs);
  tmp = (char **)calloc((size_t)m->num_outputs + 1, sizeof *tmp);
  in_shapes = (const int64_t **)calloc((size_t)m->num_inputs + 1,
                                       sizeof *in_shapes);
  out_shapes = (int64_t **)calloc((size_t)m->num_outputs + 1,
                                  sizeof *out_shapes);
  dims = (int64_t *)calloc((size_t)m->num_dims + 1, sizeof *dims);
  seqs = (kiln_sequence *)calloc(
      (size_t)m->num_inputs + (size_t)m->num_outputs + 1, sizeof *seqs);
  if (!ins || !outs || !in_ptrs || !out_ptrs || !tmp || !in_shapes ||
      !out_shapes || !dims || !seqs) {
    fail("out of memory");
    goto done;
  }

  for (k = 0; k < m->num_inputs; ++k) {
    const kiln_tensor_info *in = &m->inputs[k];
    int32_t present = 1;
    /* A sequence or an absent optional has no shape: it gets ins[k]'s
     * zeroed one. */
    in_shapes[k] = ins[k].shape;
    if (is_seq(in)) {
      kiln_sequence *s = &seqs[k];
      rc = kiln_sequence_read_pb(pos[k], s, err, sizeof err);
      if (rc != KILN_OK) {
        fail("input '%s': %s", in->name ? in->name : "?", err);
        goto done;
      }
      rc = kiln_sequence_check(s, in, err, sizeof err);
      if (rc != KILN_OK) {
        fail("%s (from '%s')", err, pos[k]);
        goto done;
      }
      if (!s->none && s->length == 0)
        s->elem_type = in->elem_type; /* an empty one's file cannot say */
      in_ptrs[k] = s;
      continue;
    }
    if (in->kind == KILN_KIND_OPTIONAL_TENSOR) {
      rc = kiln_optional_read_pb(pos[k], &ins[k], &present, err, sizeof err);
      if (rc != KILN_OK) {
        fail("input '%s': %s", in->name ? in->name : "?", err);
        goto done;
      }
      if (!present)
        continue; /* in_ptrs[k] stays NULL */
    } else {
      rc = kiln_tensor_read_file(pos[k], &ins[k], err, sizeof err);
      if (rc != KILN_OK) {
        fail("%s", err);
        goto done;
      }
    }
    rc = kiln_tensor_check(&ins[k], in, err, sizeof err);
    if (rc != KILN_OK) {
      fail("%s (from '%s')", err, pos[k]);
      goto done;
    }
    in_ptrs[k] = ins[k].data;
  }
  for (k = 0; k < m->num_outputs; ++k)
    out_shapes[k] = outs[k].shape;
  if (!m->run) {
    /* The model's own check has the last word; resolve_dims names the
     * input and dim for the common mistakes. */
    if (resolve_dims(m, ins, dims, pos) != 0)
      goto done;
    /* With the input values: sizes inside may come from them. */
    rc = m->shapes_of((const void *const *)in_ptrs,
                      (const int64_t *const *)in_shapes,
                      (int64_t *const *)out_shapes, &arena_size);
    if (rc != KILN_OK) {
      fail("model '%s' does not accept these input%s: %s (status %d)",
           m->name ? m->name : "?",
           m->shapes_need_inputs ? " shapes and values" : " shapes",
           kiln_status_string(rc), (int)rc);
      goto done;
    }
  }

  if (make_dirs(out_dir, err, sizeof err, made_dir, sizeof made_dir) != 0) {
    fail("%s", err);
    goto done;
  }

  if (on_gpu(m)) {
    /* NULL: the model's own arena, in device memory */
  } else {
    kiln_model_info sized = *m;
    sized.arena_size = arena_size;
    arena = kiln_arena_alloc(&sized);
  }
  if (!arena && !on_gpu(m)) {
    fail("cannot allocate the %llu-byte arena (align %llu)",
         (unsigned long long)arena_size, (unsigned long long)m->arena_align);
    goto done;
  }
  for (k = 0; k < m->num_outputs; ++k) {
    const kiln_tensor_info *o = &m->outputs[k];
    kiln_model_info one;
    if (is_seq(o)) { /* P_run fills the zeroed sequence; no buffer */
      out_ptrs[k] = &seqs[m->num_inputs + k];
      continue;
    }
    memset(&one, 0, sizeof one);
    one.arena_align = 64;
    outs[k].elem_type = o->elem_type;
    outs[k].rank = o->rank;
    if (o->rank < 0 || o->rank > KILN_MAX_RANK) {
      fail("output %d ('%s') has unsupported rank %d", (int)k,
           o->name ? o->name : "?", (int)o->rank);
      goto done;
    }
    /* A dynamic model's output shapes came from P_shapes. */
    if (o->rank && m->run)
      memcpy(outs[k].shape, o->shape, sizeof(int64_t) * (size_t)o->rank);
    if (!m->run && kiln_elem_size(o->elem_type) != 0 &&
        kiln_shape_bytes(o->rank, outs[k].shape, kiln_elem_size(o->elem_type),
                         &bytes) != 0) {
      fail("output %d ('%s') would be too large for these inputs (its size "
           "overflows)",
           (int)k, o->name ? o->name : "?");
      goto done;
    }
    if (kiln_elem_size(o->elem_type) == 0 ||
        kiln_shape_bytes(o->rank, outs[k].shape, kiln_elem_size(o->elem_type),
                         &bytes) != 0 ||
        (m->run && bytes != o->byte_size)) {
      fail("output %d ('%s') declares an inconsistent type, shape or "
           "byte_size",
           (int)k, o->name ? o->name : "?");
      goto done;
    }
    outs[k].byte_size = bytes;
    one.arena_size = bytes;
    /* Aligned, zeroed; freed with free() by kiln_tensor_free. */
    outs[k].data = kiln_arena_alloc(&one);
    if (!outs[k].data) {
      fail("cannot allocate %llu bytes for output '%s'",
           (unsigned long long)bytes, o->name ? o->name : "?");
      goto done;
    }
    out_ptrs[k] = outs[k].data;
  }

  rc = run_model(m, in_ptrs, in_shapes, out_ptrs, out_shapes, arena);
  if (rc != KILN_OK) {
    run_failed(m, rc);
    goto done;
  }
  /* A dim that depends on the input values is known now (P_shapes gave its
   * bound, which sized the buffer). */
  for (k = 0; k < m->num_outputs && !m->run; ++k) {
    if (is_seq(&m->outputs[k]))
      continue;
    if (kiln_shape_bytes(outs[k].rank, outs[k].shape,
                         kiln_elem_size(outs[k].elem_type), &bytes) != 0 ||
        bytes > outs[k].byte_size) {
      fail("model '%s' returned a shape for output '%s' beyond its bound",
           m->name ? m->name : "?",
           m->outputs[k].name ? m->outputs[k].name : "?");
      goto done;
    }
    outs[k].byte_size = bytes;
  }
  if (bench > 0) {
    double median;
    times = (double *)malloc(sizeof *times * (size_t)bench);
    if (!times) {
      fail("out of memory");
      goto done;
    }
    for (i = 0; i < bench; ++i) {
      double t0 = now_ms();
      rc = run_model(m, in_ptrs, in_shapes, out_ptrs, out_shapes, arena);
      times[i] = now_ms() - t0;
      if (rc != KILN_OK) {
        run_failed(m, rc);
        goto done;
      }
    }
    qsort(times, (size_t)bench, sizeof *times, cmp_double);
    median = bench % 2 ? times[bench / 2]
                       : (times[bench / 2 - 1] + times[bench / 2]) / 2;
    printf("latency_ms median=%.3f min=%.3f runs=%d\n", median, times[0],
           bench);
    fflush(stdout);
  }

  /* Write every output to a temporary file first, then rename them all, so
   * a failure leaves no partial output behind. */
  for (k = 0; k < m->num_outputs; ++k) {
    char path[4096], tmp_path[4096 + 64];
    int n = snprintf(path, sizeof path, "%s/output_%d.%s", out_dir, (int)k,
                     ext);
    if (n < 0 || (size_t)n >= sizeof path) {
      fail("output path in '%s' is too long", out_dir);
      goto done;
    }
    if (is_seq(&m->outputs[k]))
      rc = kiln_sequence_write_tmp(
          path, &seqs[m->num_inputs + k], m->outputs[k].name,
          m->outputs[k].kind == KILN_KIND_OPTIONAL_SEQUENCE, tmp_path,
          sizeof tmp_path, err, sizeof err);
    else
      rc = kiln_tensor_write_tmp(path, format, &outs[k], m->outputs[k].name,
                                 tmp_path, sizeof tmp_path, err, sizeof err);
    if (rc != KILN_OK) {
      fail("%s", err);
      goto done;
    }
    tmp[k] = strdup(tmp_path);
    if (!tmp[k]) {
      unlink(tmp_path);
      fail("out of memory");
      goto done;
    }
  }
  for (k = 0; k < m->num_outputs; ++k) {
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%d.%s", out_dir, (int)k, ext);
    if (rename(tmp[k], path) != 0) {
      fail("cannot write '%s': %s", path, strerror(errno));
      goto done;
    }
    free(tmp[k]);
    tmp[k] = NULL;
  }
  status = 0;

done:
  if (status != 0)
    remove_made_dirs(out_dir, made_dir);
  if (tmp) {
    for (k = 0; k < m->num_outputs; ++k) {
      if (tmp[k]) {
        unlink(tmp[k]);
        free(tmp[k]);
      }
    }
  }
  if (ins)
    for (k = 0; k < m->num_inputs; ++k)
      kiln_tensor_free(&ins[k]);
  if (outs)
    for (k = 0; k < m->num_outputs; ++k)
      kiln_tensor_free(&outs[k]);
  if (seqs)
    for (k = 0; k < m->num_inputs + m->num_outputs; ++k)
      kiln_sequence_free(&seqs[k]);
  free(seqs);
  kiln_arena_free(arena);
  free(times);
  free(dims);
  free(out_shapes);
  free(in_shapes);
  free(tmp);
  free(out_ptrs);
  free(in_ptrs);
  free(outs);
  free(ins);
  free(pos);
  return status;
}
