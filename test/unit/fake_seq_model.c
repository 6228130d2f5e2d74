/*===- fake_seq_model.c - a stand-in model with sequences and optionals ----===
 *
 * Implements the model ABI of kiln/runtime.h (kinds of ABI 5) for the
 * runtime tests of main():
 *   inputs  xs: seq(float32[?,3]), w: optional(float32[3]),
 *           os: optional(seq(int64))
 *   outputs ys: seq(float32[?,3]): each element of xs plus w (xs when w is
 *               absent), then one more element [1,3] holding the run count;
 *           os2: optional(seq(int64)) = os (none stays none);
 *           n: int64[] = the length of xs.
 * As P_run must, it frees what an earlier run left in the output sequences.
 * As a test hook, an xs of 5 elements makes the run fail with
 * KILN_ERROR_OUT_OF_RANGE (after writing ys).
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/runtime.h"

static const int64_t shape_any_x3[2] = {-1, 3};
static const int64_t shape_3[1] = {3};

static const kiln_tensor_info seq_inputs[3] = {
    {"xs", KILN_FLOAT, 2, shape_any_x3, 0, KILN_KIND_SEQUENCE},
    {"w", KILN_FLOAT, 1, shape_3, 12, KILN_KIND_OPTIONAL_TENSOR},
    {"os", KILN_INT64, -1, 0, 0, KILN_KIND_OPTIONAL_SEQUENCE},
};
static const kiln_tensor_info seq_outputs[3] = {
    {"ys", KILN_FLOAT, 2, shape_any_x3, 0, KILN_KIND_SEQUENCE},
    {"os2", KILN_INT64, -1, 0, 0, KILN_KIND_OPTIONAL_SEQUENCE},
    {"n", KILN_INT64, 0, 0, 8, KILN_KIND_TENSOR},
};

static int copy_tensor(kiln_tensor *dst, const kiln_tensor *src) {
  *dst = *src;
  dst->data = malloc(src->byte_size ? (size_t)src->byte_size : 1);
  if (!dst->data)
    return -1;
  if (src->byte_size)
    memcpy(dst->data, src->data, (size_t)src->byte_size);
  return 0;
}

int32_t fake_seq_run(const void *const *inputs, void *const *outputs,
                     void *arena) {
  static int64_t runs;
  const kiln_sequence *xs, *os;
  const float *w;
  kiln_sequence *ys, *os2;
  int64_t i, j;
  (void)arena;
  if (!inputs || !outputs || !inputs[0] || !outputs[0] || !outputs[1] ||
      !outputs[2])
    return KILN_ERROR_INVALID_ARGUMENT;
  xs = (const kiln_sequence *)inputs[0];
  w = (const float *)inputs[1]; /* NULL: absent */
  os = (const kiln_sequence *)inputs[2];
  ys = (kiln_sequence *)outputs[0];
  os2 = (kiln_sequence *)outputs[1];
  ++runs;

  kiln_sequence_free(ys);
  ys->elem_type = KILN_FLOAT;
  ys->items =
      (kiln_tensor *)calloc((size_t)xs->length + 1, sizeof(kiln_tensor));
  if (!ys->items)
    return KILN_ERROR_OUT_OF_MEMORY;
  for (i = 0; i < xs->length; ++i) {
    kiln_tensor *t = &ys->items[i];
    if (copy_tensor(t, &xs->items[i]) != 0)
      return KILN_ERROR_OUT_OF_MEMORY;
    ++ys->length;
    for (j = 0; w && j < (int64_t)(t->byte_size / sizeof(float)); ++j)
      ((float *)t->data)[j] += w[j % 3];
  }
  {
    kiln_tensor *t = &ys->items[ys->length];
    t->elem_type = KILN_FLOAT;
    t->rank = 2;
    t->shape[0] = 1;
    t->shape[1] = 3;
    t->byte_size = 12;
    t->data = malloc(12);
    if (!t->data)
      return KILN_ERROR_OUT_OF_MEMORY;
    for (j = 0; j < 3; ++j)
      ((float *)t->data)[j] = (float)runs;
    ++ys->length;
  }
  if (xs->length == 5)
    return KILN_ERROR_OUT_OF_RANGE;

  kiln_sequence_free(os2);
  os2->elem_type = KILN_INT64;
  if (!os || os->none) {
    os2->none = 1;
  } else if (os->length) {
    os2->items = (kiln_tensor *)calloc((size_t)os->length, sizeof(kiln_tensor));
    if (!os2->items)
      return KILN_ERROR_OUT_OF_MEMORY;
    for (i = 0; i < os->length; ++i) {
      if (copy_tensor(&os2->items[i], &os->items[i]) != 0)
        return KILN_ERROR_OUT_OF_MEMORY;
      ++os2->length;
    }
  }
  *(int64_t *)outputs[2] = xs->length;
  return KILN_OK;
}

#define FAKE_SEQ_INFO                                                          \
  {KILN_ABI_VERSION, "fake_seq", 3, 3, seq_inputs, seq_outputs, 64, 64,       \
   fake_seq_run, 0, 0, 0, 0, 0, 0, KILN_DEVICE_CPU}

const kiln_model_info kiln_model = FAKE_SEQ_INFO;
