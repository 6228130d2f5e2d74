/* Runs two models compiled by Kiln on a bare-metal Cortex-M and checks their
 * outputs against the same models compiled for the host.
 *
 * mlp.o/mlp.h and kws.o/kws.h come from `kiln compile --target=... --name`;
 * model_data.c/.h from gen_data.py (sample inputs and the host's outputs).
 * The firmware owns all memory: each model gets a static arena of exactly the
 * size and alignment its header states, and its input and output buffers; the
 * compiled code allocates nothing and needs no C library beyond memcpy, memset
 * and memmove (libc_min.c). Output goes to the host through semihosting, and
 * main's return value becomes QEMU's exit code: 0 when every output matches.
 */
#include <stdint.h>

#include "kws.h"
#include "mlp.h"
#include "model_data.h"
#include "semihosting.h"

/* From startup.c: the deepest stack use since reset, and the stack's size. */
uint32_t stack_high_water(void);
uint32_t stack_size(void);

/* Scratch memory for intermediate tensors. (The two models never run at the
 * same time, so they could share one arena of the larger size.) */
static _Alignas(MLP_ARENA_ALIGN) uint8_t mlp_arena[MLP_ARENA_SIZE];
static _Alignas(KWS_ARENA_ALIGN) uint8_t kws_arena[KWS_ARENA_SIZE];

static float mlp_output[sizeof mlp_expected_0 / sizeof(float)];
static float kws_output[sizeof kws_expected_0 / sizeof(float)];

/* Both models take one float tensor and produce one; check that the sample
 * data has the sizes the compiled models expect. */
_Static_assert(MLP_NUM_INPUTS == 1 && MLP_NUM_OUTPUTS == 1, "mlp: 1 in, 1 out");
_Static_assert(KWS_NUM_INPUTS == 1 && KWS_NUM_OUTPUTS == 1, "kws: 1 in, 1 out");
_Static_assert(sizeof mlp_input_0 == MLP_INPUT_0_BYTES, "mlp input size");
_Static_assert(sizeof mlp_output == MLP_OUTPUT_0_BYTES, "mlp output size");
_Static_assert(sizeof kws_input_0 == KWS_INPUT_0_BYTES, "kws input size");
_Static_assert(sizeof kws_output == KWS_OUTPUT_0_BYTES, "kws output size");

typedef struct test_case {
  const kiln_model_info *info; /* name and signature, from the header */
  kiln_run_fn run;             /* the model's entry point, P_run */
  void *arena;
  const float *input;
  float *output;
  const float *expected; /* what the host-compiled model produced */
} test_case;

static const test_case tests[] = {
    {&mlp_info, mlp_run, mlp_arena, mlp_input_0, mlp_output, mlp_expected_0},
    {&kws_info, kws_run, kws_arena, kws_input_0, kws_output, kws_expected_0},
};

/* ---- printing without a C library ---------------------------------------- */

static void print(const char *s) { sh_write(s); }

static void print_uint(uint32_t v) { sh_write_uint(v); }

/* Prints v like printf("%.5e"): six significant digits are all a float has
 * to give reliably. Scaling by powers of ten in float loses an ulp or so,
 * which is fine for display; the comparison itself is done on the values. */
static void print_float(float v) {
  if (v != v) {
    print("nan");
    return;
  }
  if (v < 0.0f) {
    print("-");
    v = -v;
  }
  if (v > 3.4028235e38f) {
    print("inf");
    return;
  }
  int exp10 = 0;
  if (v != 0.0f) {
    while (v >= 10.0f) {
      v /= 10.0f;
      ++exp10;
    }
    while (v < 1.0f) {
      v *= 10.0f;
      --exp10;
    }
  }
  uint32_t digits = (uint32_t)(v * 1e5f + 0.5f); /* 100000 .. 1000000 */
  if (digits >= 1000000) {                         /* 9.999995 rounded up */
    digits /= 10;
    ++exp10;
  }
  char buf[16], *p = buf;
  *p++ = (char)('0' + digits / 100000);
  *p++ = '.';
  for (uint32_t div = 10000; div; div /= 10)
    *p++ = (char)('0' + digits / div % 10);
  *p++ = 'e';
  *p++ = exp10 < 0 ? '-' : '+';
  uint32_t e = (uint32_t)(exp10 < 0 ? -exp10 : exp10);
  *p++ = (char)('0' + e / 10);
  *p++ = (char)('0' + e % 10);
  *p = '\0';
  print(buf);
}

static void print_shape(const kiln_tensor_info *t) {
  print(t->name);
  print(" [");
  for (int32_t d = 0; d < t->rank; ++d) {
    if (d)
      print(",");
    print_uint((uint32_t)t->shape[d]);
  }
  print("]");
}

/* ---- running and checking ------------------------------------------------ */

/* Runs one model and compares each output value with the host's:
 * |got - expected| <= 1e-4 + 1e-3 * |expected|. Returns 1 if all match. */
static int run_and_check(const test_case *t) {
  const kiln_model_info *info = t->info;
  print("model ");
  print(info->name);
  print(": input ");
  print_shape(&info->inputs[0]);
  print(", output ");
  print_shape(&info->outputs[0]);
  print(", arena ");
  print_uint((uint32_t)info->arena_size);
  print(" bytes\n");

  const void *inputs[1] = {t->input};
  void *outputs[1] = {t->output};
  int32_t status = t->run(inputs, outputs, t->arena);
  if (status != KILN_OK) {
    print("  error: run returned status ");
    print_uint((uint32_t)status);
    print("\n");
    return 0;
  }

  uint32_t count = (uint32_t)(info->outputs[0].byte_size / sizeof(float));
  float max_err = 0.0f;
  int ok = 1;
  for (uint32_t i = 0; i < count; ++i) {
    float got = t->output[i], want = t->expected[i];
    float err = __builtin_fabsf(got - want);
    int match = err <= 1e-4f + 1e-3f * __builtin_fabsf(want); /* NaN: no */
    if (err > max_err || err != err) /* a NaN, once seen, stays */
      max_err = err;
    ok &= match;
    print("  ");
    print(info->outputs[0].name);
    print("[");
    print_uint(i);
    print("] = ");
    print_float(got);
    print("   host ");
    print_float(want);
    print(match ? "\n" : "   MISMATCH\n");
  }
  print("  max abs error vs host: ");
  print_float(max_err);
  print(ok ? "  (ok)\n" : "  (FAILED)\n");

  /* On bare metal there is no static fallback arena: NULL must be refused. */
  status = t->run(inputs, outputs, (void *)0);
  if (status == KILN_OK) {
    print("  error: run accepted a NULL arena\n");
    ok = 0;
  }
  return ok;
}

int main(void) {
  print("Kiln models on a bare-metal Cortex-M\n");
  int all_ok = 1;
  for (uint32_t i = 0; i < sizeof tests / sizeof tests[0]; ++i)
    all_ok &= run_and_check(&tests[i]);

  print("stack high-water mark: ");
  print_uint(stack_high_water());
  print(" bytes (of ");
  print_uint(stack_size());
  print(")\n");
  print(all_ok ? "all outputs match the host\n"
               : "FAILED: outputs differ from the host\n");
  return all_ok ? 0 : 1;
}
