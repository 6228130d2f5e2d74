/* Loads a model compiled by Kiln as a shared library it has never seen,
 * discovers its signature and runs it.
 *
 *   kiln compile examples/tinynet/model.onnx --emit=so -o libtinynet.so
 *   cc -std=c11 main.c -I build/include build/lib/libkiln_runtime.a -ldl \
 *      -o kiln_dlopen
 *   ./kiln_dlopen ./libtinynet.so [input_0.pb|.npy ...]
 *
 * The program includes no model header: it dlopens the library, looks up the
 * unprefixed symbol `kiln_model` (a kiln_model_info, see kiln/runtime.h),
 * prints the inputs, outputs and arena size, and checks that the prefixed
 * entry point `<name>_run` is the same function as kiln_model.run.
 *
 * Inputs: either one tensor file per graph input, in graph order (ONNX
 * TensorProto .pb or NumPy .npy, read with the runtime's
 * kiln_tensor_read_file), or none, in which case every input is filled with
 * the deterministic pattern
 *
 *   element i of input k = ((i * 7 + k * 13) % 17) / 8 - 1   (floating point)
 *                        = (i * 7 + k * 13) % 17              (integers)
 *                        = (i * 7 + k * 13) % 2               (bool)
 *
 * which a test can reproduce with NumPy. The arena comes from
 * kiln_arena_alloc. Each output is printed as
 *
 *   output <k> '<name>' <type>[<shape>]:
 *   <value>            (one line per element, floats with %.9g)
 *
 * Exit status: 0 on success, 1 on any error (one `error:` line on stderr).
 */
#define _POSIX_C_SOURCE 200809L

#include <kiln/runtime.h>

#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *fmt, ...) {
  va_list ap;
  fputs("error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static const char *type_name(int32_t t) {
  switch (t) {
  case KILN_FLOAT: return "float32";
  case KILN_UINT8: return "uint8";
  case KILN_INT8: return "int8";
  case KILN_UINT16: return "uint16";
  case KILN_INT16: return "int16";
  case KILN_INT32: return "int32";
  case KILN_INT64: return "int64";
  case KILN_STRING: return "string";
  case KILN_BOOL: return "bool";
  case KILN_FLOAT16: return "float16";
  case KILN_DOUBLE: return "float64";
  case KILN_UINT32: return "uint32";
  case KILN_UINT64: return "uint64";
  case KILN_BFLOAT16: return "bfloat16";
  default: return "unknown";
  }
}

static void print_tensor_info(const char *what, int32_t k,
                              const kiln_tensor_info *t) {
  printf("%s %d '%s' %s[", what, (int)k, t->name ? t->name : "?",
         type_name(t->elem_type));
  for (int32_t d = 0; d < t->rank; ++d)
    printf("%s%" PRId64, d ? "," : "", t->shape[d]);
  printf("] %" PRIu64 " bytes", t->byte_size);
}

/* Fills input k with the pattern documented above. */
static int fill_pattern(void *buf, const kiln_tensor_info *t, int32_t k) {
  size_t es = kiln_elem_size(t->elem_type);
  if (es == 0) {
    fail("input '%s' has element type %d, which this program cannot fill",
         t->name, (int)t->elem_type);
    return 0;
  }
  uint64_t n = t->byte_size / es;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = (i * 7 + (uint64_t)k * 13) % 17;
    double f = (double)v / 8.0 - 1.0;
    switch (t->elem_type) {
    case KILN_FLOAT: ((float *)buf)[i] = (float)f; break;
    case KILN_DOUBLE: ((double *)buf)[i] = f; break;
    case KILN_UINT8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
    case KILN_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
    case KILN_UINT16: ((uint16_t *)buf)[i] = (uint16_t)v; break;
    case KILN_INT16: ((int16_t *)buf)[i] = (int16_t)v; break;
    case KILN_INT32: ((int32_t *)buf)[i] = (int32_t)v; break;
    case KILN_INT64: ((int64_t *)buf)[i] = (int64_t)v; break;
    case KILN_UINT32: ((uint32_t *)buf)[i] = (uint32_t)v; break;
    case KILN_UINT64: ((uint64_t *)buf)[i] = v; break;
    case KILN_BOOL: ((uint8_t *)buf)[i] = (uint8_t)(v % 2); break;
    default:
      fail("input '%s' has element type %s, which this program cannot fill",
           t->name, type_name(t->elem_type));
      return 0;
    }
  }
  return 1;
}

static void print_values(const void *buf, const kiln_tensor_info *t) {
  size_t es = kiln_elem_size(t->elem_type);
  uint64_t n = es ? t->byte_size / es : 0;
  for (uint64_t i = 0; i < n; ++i) {
    switch (t->elem_type) {
    case KILN_FLOAT: printf("%.9g\n", (double)((const float *)buf)[i]); break;
    case KILN_DOUBLE: printf("%.17g\n", ((const double *)buf)[i]); break;
    case KILN_UINT8: printf("%u\n", (unsigned)((const uint8_t *)buf)[i]); break;
    case KILN_BOOL: printf("%u\n", (unsigned)((const uint8_t *)buf)[i]); break;
    case KILN_INT8: printf("%d\n", (int)((const int8_t *)buf)[i]); break;
    case KILN_UINT16: printf("%u\n", (unsigned)((const uint16_t *)buf)[i]); break;
    case KILN_INT16: printf("%d\n", (int)((const int16_t *)buf)[i]); break;
    case KILN_INT32: printf("%" PRId32 "\n", ((const int32_t *)buf)[i]); break;
    case KILN_INT64: printf("%" PRId64 "\n", ((const int64_t *)buf)[i]); break;
    case KILN_UINT32: printf("%" PRIu32 "\n", ((const uint32_t *)buf)[i]); break;
    case KILN_UINT64: printf("%" PRIu64 "\n", ((const uint64_t *)buf)[i]); break;
    case KILN_FLOAT16:
    case KILN_BFLOAT16:
      printf("0x%04x\n", (unsigned)((const uint16_t *)buf)[i]);
      break;
    default: printf("?\n"); break;
    }
  }
}

int main(int argc, char **argv) {
  int rc = 1;
  void *lib = NULL, *arena = NULL;
  void **ins = NULL, **outs = NULL;
  kiln_tensor *files = NULL;
  const kiln_model_info *m = NULL;
  char *owned_path = NULL;
  char err[512];

  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    fprintf(argc < 2 ? stderr : stdout,
            "usage: %s MODEL.so [input_0.pb|.npy ...]\n", argv[0]);
    return argc < 2 ? 1 : 0;
  }

  /* A path without a slash would make dlopen search the library path. */
  char *path = argv[1];
  if (!strchr(path, '/')) {
    owned_path = malloc(strlen(path) + 3);
    if (!owned_path) {
      fail("out of memory");
      return 1;
    }
    strcpy(owned_path, "./");
    strcat(owned_path, path);
    path = owned_path;
  }
  lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fail("dlopen: %s", dlerror());
    goto done;
  }
  m = (const kiln_model_info *)dlsym(lib, "kiln_model");
  if (!m) {
    fail("'%s' does not define kiln_model: %s", argv[1], dlerror());
    goto done;
  }
  if (m->abi_version != KILN_ABI_VERSION) {
    fail("'%s' has ABI version %u, this program expects %d", argv[1],
         (unsigned)m->abi_version, KILN_ABI_VERSION);
    goto done;
  }
  if (m->num_dims > 0) {
    /* A dynamic model: P_run_dynamic and P_shapes, see docs/runtime-abi.md. */
    fail("'%s' has %d symbolic dimension(s) (the first: %s); this example "
         "runs static models only",
         argv[1], (int)m->num_dims, m->dims ? m->dims[0].name : "?");
    goto done;
  }
  if (!m->run && m->run_dynamic) {
    /* Static inputs, but an output shape that depends on their values. */
    fail("'%s' has outputs whose shapes depend on the input values (run "
         "it with run_dynamic); this example runs static models only",
         argv[1]);
    goto done;
  }
  if (!m->run || !m->name || m->num_inputs < 0 || m->num_outputs < 0 ||
      (m->num_inputs && !m->inputs) || (m->num_outputs && !m->outputs)) {
    fail("'%s': kiln_model is malformed", argv[1]);
    goto done;
  }

  /* The prefixed entry point must be the one kiln_model points to. */
  {
    size_t len = strlen(m->name);
    char *sym = malloc(len + sizeof "_run");
    if (!sym) {
      fail("out of memory");
      goto done;
    }
    memcpy(sym, m->name, len);
    memcpy(sym + len, "_run", sizeof "_run");
    void *run_sym = dlsym(lib, sym);
    kiln_run_fn run_fn = NULL;
    if (run_sym)
      memcpy(&run_fn, &run_sym, sizeof run_fn); /* object to function pointer */
    if (run_fn != m->run) {
      fail("'%s': symbol %s %s kiln_model.run", argv[1], sym,
           run_sym ? "differs from" : "is missing, unlike");
      free(sym);
      goto done;
    }
    free(sym);
  }

  printf("model '%s' (ABI %u): %d input%s, %d output%s\n", m->name,
         (unsigned)m->abi_version, (int)m->num_inputs,
         m->num_inputs == 1 ? "" : "s", (int)m->num_outputs,
         m->num_outputs == 1 ? "" : "s");
  for (int32_t k = 0; k < m->num_inputs; ++k) {
    print_tensor_info("  input", k, &m->inputs[k]);
    putchar('\n');
  }
  for (int32_t k = 0; k < m->num_outputs; ++k) {
    print_tensor_info("  output", k, &m->outputs[k]);
    putchar('\n');
  }
  printf("  arena %" PRIu64 " bytes, align %" PRIu64 "\n", m->arena_size,
         m->arena_align);

  int nfiles = argc - 2;
  if (nfiles != 0 && nfiles != m->num_inputs) {
    fail("model '%s' takes %d input%s, got %d files", m->name,
         (int)m->num_inputs, m->num_inputs == 1 ? "" : "s", nfiles);
    goto done;
  }

  ins = calloc((size_t)m->num_inputs + 1, sizeof *ins);
  outs = calloc((size_t)m->num_outputs + 1, sizeof *outs);
  files = calloc((size_t)m->num_inputs + 1, sizeof *files);
  if (!ins || !outs || !files) {
    fail("out of memory");
    goto done;
  }
  for (int32_t k = 0; k < m->num_inputs; ++k) {
    const kiln_tensor_info *t = &m->inputs[k];
    if (nfiles) {
      if (kiln_tensor_read_file(argv[2 + k], &files[k], err, sizeof err) != KILN_OK ||
          kiln_tensor_check(&files[k], t, err, sizeof err) != KILN_OK) {
        fail("%s", err);
        goto done;
      }
      ins[k] = files[k].data;
    } else {
      ins[k] = calloc(1, t->byte_size ? (size_t)t->byte_size : 1);
      if (!ins[k]) {
        fail("out of memory");
        goto done;
      }
      if (!fill_pattern(ins[k], t, k))
        goto done;
    }
  }
  for (int32_t k = 0; k < m->num_outputs; ++k) {
    const kiln_tensor_info *t = &m->outputs[k];
    outs[k] = calloc(1, t->byte_size ? (size_t)t->byte_size : 1);
    if (!outs[k]) {
      fail("out of memory");
      goto done;
    }
  }
  arena = kiln_arena_alloc(m);
  if (!arena) {
    fail("cannot allocate the %" PRIu64 "-byte arena", m->arena_size);
    goto done;
  }

  int32_t status = m->run((const void *const *)ins, outs, arena);
  if (status != KILN_OK) {
    fail("%s_run returned %d (%s)", m->name, (int)status,
         kiln_status_string(status));
    goto done;
  }
  for (int32_t k = 0; k < m->num_outputs; ++k) {
    print_tensor_info("output", k, &m->outputs[k]);
    printf(":\n");
    print_values(outs[k], &m->outputs[k]);
  }
  rc = 0;

done:
  if (m) {
    for (int32_t k = 0; k < m->num_inputs; ++k) {
      if (files && files[k].data)
        kiln_tensor_free(&files[k]);
      else if (ins)
        free(ins[k]);
    }
    for (int32_t k = 0; outs && k < m->num_outputs; ++k)
      free(outs[k]);
  }
  free(files);
  free(ins);
  free(outs);
  kiln_arena_free(arena);
  if (lib)
    dlclose(lib);
  free(owned_path);
  return rc;
}
