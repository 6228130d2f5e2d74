/* The dynamic ABI of compiled models, from C, with the heap watched.
 *
 * Links `dyn` (classifier.onnx compiled with the batch left symbolic,
 * --max-dim N=4) and `fixed` (the same model with --dim N=3); `spatial`
 * (spatial.onnx, image size H x W symbolic with no bound: the arena's size
 * comes from spatial_shapes) and `spatial8` (--dim H=8 --dim W=8). Checks:
 *   - dyn_shapes: output shape [N,10] and the arena size for N = 3;
 *   - dyn_run_dynamic at N = 3 performs no heap allocation (malloc, calloc,
 *     realloc, aligned_alloc and posix_memalign are replaced here and fail
 *     the test when called during the run), with two threads;
 *   - its result equals three runs at N = 1 (bit for bit: the same code runs
 *     each sample) and the static build at N = 3 (to rounding);
 *   - N = 0 runs and writes nothing; N = 5 (over the max), a wrong fixed
 *     dim, a NULL shape array and a misaligned arena are refused with the
 *     documented codes;
 *   - spatial: the arena size grows with H x W; a run at 8 x 8 in an arena
 *     of that size allocates nothing and equals spatial8; 16 x 24 runs;
 *     a NULL arena and a dim past the overflow limit are refused;
 *   - tiled (a Softmax of a Tile by repeats that are an input): P_shapes
 *     says it needs the inputs, P_shapes_of gives the output shape and the
 *     arena size from the repeats, the run allocates nothing and computes;
 *     negative repeats are refused.
 * Prints one line per check and exits 1 if any failed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyn.h"
#include "fixed.h"
#include "spatial.h"
#include "spatial8.h"
#include "tiled.h"

/* A bump allocator standing in for the C library's, which counts calls
 * made while `watching` is set. */
static _Alignas(64) unsigned char heap[64 << 20];
static size_t heap_used;
static int watching, heap_calls;

static void *bump(size_t align, size_t size) {
  size_t at = (heap_used + align - 1) & ~(align - 1);
  if (watching)
    ++heap_calls;
  if (at + size > sizeof heap)
    return NULL;
  heap_used = at + size;
  return heap + at;
}
void *malloc(size_t n) { return bump(16, n); }
void *calloc(size_t n, size_t m) {
  void *p = bump(16, n * m);
  if (p)
    memset(p, 0, n * m);
  return p;
}
void *realloc(void *p, size_t n) {
  void *q = bump(16, n);
  if (q && p)
    memcpy(q, p, n); /* may read past the old block: it is all in heap[] */
  return q;
}
void *aligned_alloc(size_t a, size_t n) { return bump(a < 16 ? 16 : a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
  *out = bump(a < 16 ? 16 : a, n);
  return *out ? 0 : 12;
}
void free(void *p) { (void)p; }

static _Alignas(64) unsigned char arena[DYN_ARENA_SIZE + 64];
static int failures;

static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "PASS" : "FAIL", what);
  failures += !ok;
}

/* spatial: dims with no bound, the arena sized by spatial_shapes. */
static void check_spatial(void) {
  enum { C = 8, OUT = 10 };
  static float x[3 * 16 * 24], y[OUT], r[C * 16 * 24], ys[OUT], rs[C * 64];
  int64_t in_shape[4] = {1, 3, 8, 8}, y_shape[2], r_shape[4];
  const int64_t *in_shapes[1] = {in_shape};
  int64_t *out_shapes[2] = {y_shape, r_shape};
  const void *ins[1] = {x};
  void *outs[2] = {y, r}, *outs_s[2] = {ys, rs};
  uint64_t small = 0, large = 0;
  unsigned char *arena2;
  int32_t rc;
  int i, close = 1;

  for (i = 0; i < 3 * 16 * 24; ++i)
    x[i] = (float)((i * 53 % 97) - 48) / 24.0f;
  rc = spatial_shapes(in_shapes, out_shapes, &small);
  check(rc == KILN_OK && y_shape[0] == 1 && y_shape[1] == OUT &&
            r_shape[1] == C && r_shape[2] == 8 && r_shape[3] == 8 && small > 0,
        "spatial_shapes at 8 x 8: output shapes and an arena size");
  in_shape[2] = 16;
  in_shape[3] = 24;
  rc = spatial_shapes(in_shapes, NULL, &large);
  check(rc == KILN_OK && large > small,
        "spatial_shapes at 16 x 24: a larger arena");
  arena2 = aligned_alloc(SPATIAL_ARENA_ALIGN, large);
  in_shape[2] = in_shape[3] = 8;
  watching = 1;
  heap_calls = 0;
  rc = spatial_run_dynamic(ins, in_shapes, outs, out_shapes, arena2);
  watching = 0;
  check(rc == KILN_OK && r_shape[2] == 8, "spatial_run_dynamic at 8 x 8");
  check(heap_calls == 0, "no heap allocation inside spatial_run_dynamic");
  rc = spatial8_run(ins, outs_s, NULL);
  for (i = 0; i < OUT; ++i)
    close &= fabsf(ys[i] - y[i]) <= 1e-5f + 1e-4f * fabsf(ys[i]);
  for (i = 0; i < C * 64; ++i)
    close &= fabsf(rs[i] - r[i]) <= 1e-5f + 1e-4f * fabsf(rs[i]);
  check(rc == KILN_OK && close, "equals the static build (--dim H=8 W=8)");
  in_shape[2] = 16;
  in_shape[3] = 24;
  rc = spatial_run_dynamic(ins, in_shapes, outs, out_shapes, arena2);
  check(rc == KILN_OK && r_shape[2] == 16 && r_shape[3] == 24,
        "spatial_run_dynamic at 16 x 24 in the same arena");
  check(spatial_run_dynamic(ins, in_shapes, outs, out_shapes, NULL) ==
            KILN_ERROR_INVALID_ARGUMENT,
        "no static arena: NULL is KILN_ERROR_INVALID_ARGUMENT");
  in_shape[2] = (int64_t)1 << 50;
  check(spatial_shapes(in_shapes, NULL, &large) == KILN_ERROR_SHAPE_MISMATCH,
        "H = 2^50 (sizes would overflow): KILN_ERROR_SHAPE_MISMATCH");
  check(spatial_info.num_dims == 2 && spatial_info.dims[0].max == 0 &&
            spatial_info.arena_size == 0 && spatial_info.run == NULL,
        "spatial_info: dims with no bound, arena size 0 (from the shapes)");
}

/* tiled: sizes from the values of an input. */
static void check_tiled(void) {
  static float x[6] = {-1, 2, -3, 4, -5, 6}, y[12 * 12];
  int64_t reps[2] = {2, 3};
  int64_t x_shape[2] = {2, 3}, reps_shape[1] = {2}, y_shape[2] = {0, 0};
  const int64_t *in_shapes[2] = {x_shape, reps_shape};
  int64_t *out_shapes[1] = {y_shape};
  const void *ins[2] = {x, reps};
  void *outs[1] = {y};
  uint64_t size = 0, larger = 0;
  unsigned char *arena3;
  int32_t rc;
  int i, j, ok = 1;

  check(tiled_info.shapes_need_inputs == 1 && tiled_info.shapes_of != NULL &&
            tiled_shapes(in_shapes, out_shapes, &size) ==
                KILN_ERROR_NEEDS_INPUTS,
        "tiled: P_shapes needs the inputs (KILN_ERROR_NEEDS_INPUTS)");
  rc = tiled_shapes_of(ins, in_shapes, out_shapes, &size);
  check(rc == KILN_OK && y_shape[0] == 4 && y_shape[1] == 9 && size > 0,
        "tiled_shapes_of with repeats 2, 3: output 4 x 9 and an arena size");
  reps[0] = 6;
  reps[1] = 4;
  rc = tiled_shapes_of(ins, in_shapes, NULL, &larger);
  check(rc == KILN_OK && larger > size, "repeats 6, 4: a larger arena");
  arena3 = aligned_alloc(TILED_ARENA_ALIGN, larger);
  watching = 1;
  heap_calls = 0;
  rc = tiled_run_dynamic(ins, in_shapes, outs, out_shapes, arena3);
  watching = 0;
  for (i = 0; i < 12; ++i) {
    const float *row = x + (i % 2) * 3;
    float sum = 0;
    for (j = 0; j < 12; ++j)
      sum += expf(row[j % 3]);
    for (j = 0; j < 12; ++j)
      ok &= fabsf(y[i * 12 + j] - expf(row[j % 3]) / sum) <= 1e-6f;
  }
  check(rc == KILN_OK && y_shape[0] == 12 && y_shape[1] == 12 && ok,
        "tiled_run_dynamic with repeats 6, 4: the softmax of the tiled input");
  check(heap_calls == 0, "no heap allocation inside tiled_run_dynamic");
  reps[0] = -1;
  check(tiled_shapes_of(ins, in_shapes, NULL, &size) ==
                KILN_ERROR_SHAPE_MISMATCH &&
            tiled_run_dynamic(ins, in_shapes, outs, out_shapes, arena3) ==
                KILN_ERROR_SHAPE_MISMATCH,
        "negative repeats: KILN_ERROR_SHAPE_MISMATCH");
}

int main(void) {
  enum { B = 3, IN = 3 * 8 * 8, OUT = 10 };
  static float x[4 * IN + 1], y[4 * OUT], y1[B * OUT], ys[B * OUT];
  int64_t in_shape[4] = {B, 3, 8, 8}, out_shape[2] = {-7, -7};
  const int64_t *in_shapes[1] = {in_shape};
  int64_t *out_shapes[1] = {out_shape};
  const void *ins[1] = {x};
  void *outs[1] = {y};
  uint64_t arena_size = 0;
  int32_t rc;
  int i, same = 1, close = 1;

  for (i = 0; i < 4 * IN; ++i)
    x[i] = (float)((i * 37 % 101) - 50) / 25.0f;
  kiln_set_num_threads(2);

  rc = dyn_shapes(in_shapes, out_shapes, &arena_size);
  check(rc == KILN_OK && out_shape[0] == B && out_shape[1] == OUT &&
            arena_size == DYN_ARENA_SIZE,
        "dyn_shapes: output [3,10], arena DYN_ARENA_SIZE");

  out_shape[0] = out_shape[1] = -7;
  watching = 1;
  rc = dyn_run_dynamic(ins, in_shapes, outs, out_shapes, arena);
  watching = 0;
  check(rc == KILN_OK && out_shape[0] == B && out_shape[1] == OUT,
        "dyn_run_dynamic at batch 3");
  check(heap_calls == 0, "no heap allocation inside dyn_run_dynamic");

  /* Sample by sample, from the same binary. */
  for (i = 0; i < B; ++i) {
    int64_t one[4] = {1, 3, 8, 8};
    const int64_t *one_shapes[1] = {one};
    const void *in1[1] = {x + i * IN};
    void *out1[1] = {y1 + i * OUT};
    rc = dyn_run_dynamic(in1, one_shapes, out1, NULL, NULL);
    same &= rc == KILN_OK;
  }
  same &= memcmp(y, y1, sizeof y1) == 0;
  check(same, "batch 3 equals three runs at batch 1, bit for bit");

  {
    void *outs_s[1] = {ys};
    rc = fixed_run(ins, outs_s, NULL);
    for (i = 0; i < B * OUT; ++i)
      close &= fabsf(ys[i] - y[i]) <= 1e-5f + 1e-4f * fabsf(ys[i]);
    check(rc == KILN_OK && close, "equals the static build (--dim N=3)");
  }

  in_shape[0] = 0;
  y[0] = 42.0f;
  rc = dyn_run_dynamic(ins, in_shapes, outs, out_shapes, arena);
  check(rc == KILN_OK && out_shape[0] == 0 && y[0] == 42.0f,
        "batch 0 runs and writes nothing");
  in_shape[0] = 5;
  check(dyn_run_dynamic(ins, in_shapes, outs, out_shapes, arena) ==
                KILN_ERROR_SHAPE_MISMATCH &&
            dyn_shapes(in_shapes, NULL, NULL) == KILN_ERROR_SHAPE_MISMATCH,
        "batch 5 over --max-dim N=4: KILN_ERROR_SHAPE_MISMATCH");
  in_shape[0] = 2;
  in_shape[1] = 4;
  check(dyn_run_dynamic(ins, in_shapes, outs, out_shapes, arena) ==
            KILN_ERROR_SHAPE_MISMATCH,
        "a wrong fixed dim: KILN_ERROR_SHAPE_MISMATCH");
  in_shape[1] = 3;
  check(dyn_run_dynamic(ins, NULL, outs, out_shapes, arena) ==
            KILN_ERROR_INVALID_ARGUMENT,
        "NULL input_shapes: KILN_ERROR_INVALID_ARGUMENT");
  check(dyn_run_dynamic(ins, in_shapes, outs, out_shapes, arena + 8) ==
            KILN_ERROR_ARENA_ALIGNMENT,
        "a misaligned arena: KILN_ERROR_ARENA_ALIGNMENT");
  check(dyn_info.num_dims == 1 && strcmp(dyn_info.dims[0].name, "N") == 0 &&
            dyn_info.dims[0].max == 4 && dyn_info.run == NULL &&
            dyn_info.inputs[0].shape[0] == -1 &&
            dyn_info.inputs[0].byte_size == 4u * IN * sizeof(float),
        "dyn_info: dim N up to 4, shape entry -1, byte size at the max");
  check_spatial();
  check_tiled();
  return failures ? 1 : 0;
}
