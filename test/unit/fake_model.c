/*===- fake_model.c - a hand-written stand-in for a compiled model ---------===
 *
 * Implements the model ABI of kiln/runtime.h for runtime tests:
 *   inputs  a: float32[2,3], b: float32[2,3]
 *   outputs y: float32[2,3] = a + b, s: float64[] = sum(y)
 * arena 64 bytes aligned to 64 (used as scratch). As a test hook, a[0] ==
 * -12345 makes the run fail with KILN_ERROR_UNSUPPORTED.
 *===----------------------------------------------------------------------===*/
#include <stdint.h>

#include "kiln/runtime.h"

static const int64_t shape_2x3[2] = {2, 3};

static const kiln_tensor_info fake_inputs[2] = {
    {"a", KILN_FLOAT, 2, shape_2x3, 24, KILN_KIND_TENSOR},
    {"b", KILN_FLOAT, 2, shape_2x3, 24, KILN_KIND_TENSOR},
};
static const kiln_tensor_info fake_outputs[2] = {
    {"y", KILN_FLOAT, 2, shape_2x3, 24, KILN_KIND_TENSOR},
    {"s", KILN_DOUBLE, 0, 0, 8, KILN_KIND_TENSOR},
};

static _Alignas(64) unsigned char fake_static_arena[64];

int32_t fake_run(const void *const *inputs, void *const *outputs, void *arena) {
  const float *a, *b;
  float *y, *scratch;
  double s = 0;
  int i;
  if (!inputs || !outputs || !inputs[0] || !inputs[1] || !outputs[0] ||
      !outputs[1])
    return KILN_ERROR_INVALID_ARGUMENT;
  if (!arena)
    arena = fake_static_arena;
  if ((uintptr_t)arena % 64 != 0)
    return KILN_ERROR_ARENA_ALIGNMENT;
  a = (const float *)inputs[0];
  b = (const float *)inputs[1];
  y = (float *)outputs[0];
  scratch = (float *)arena;
  if (a[0] == -12345.0f)
    return KILN_ERROR_UNSUPPORTED;
  for (i = 0; i < 6; ++i)
    scratch[i] = a[i] + b[i];
  for (i = 0; i < 6; ++i) {
    y[i] = scratch[i];
    s += scratch[i];
  }
  *(double *)outputs[1] = s;
  return KILN_OK;
}

#define FAKE_INFO                                                              \
  {KILN_ABI_VERSION, "fake", 2, 2, fake_inputs, fake_outputs, 64, 64,         \
   fake_run}

const kiln_model_info fake_info = FAKE_INFO;
const kiln_model_info kiln_model = FAKE_INFO;
