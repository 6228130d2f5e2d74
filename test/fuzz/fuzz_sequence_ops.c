/*===- fuzz_sequence_ops.c - libFuzzer target: run-time sequences ---------===
 *
 * The bytes as a program of sequence operations, the calls compiled code
 * makes (runtime/src/sequence.c): insert tensors of fuzzed type, shape and
 * strides at fuzzed positions, erase, read elements with fuzzed expected
 * dims, take lengths and values of optionals, export to a caller's
 * sequence. Whatever the positions and shapes, nothing may read or write
 * out of bounds, leak, or abort; errors end in kiln_run_end's status.
 *===----------------------------------------------------------------------===*/
#include "fuzz_common.h"

typedef struct {
  const uint8_t *p;
  size_t n;
} reader;

static uint8_t next(reader *r) {
  if (!r->n)
    return 0;
  --r->n;
  return *r->p++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size};
  static const int32_t types[] = {KILN_FLOAT, KILN_INT64, KILN_BOOL,
                                  KILN_FLOAT16, KILN_DOUBLE, KILN_UINT8};
  kiln_run *run = kiln_run_begin();
  const kiln_sequence *seqs[4];
  for (int i = 0; i < 4; ++i)
    seqs[i] = kiln_seq_empty(run, types[i % 6], i == 3);
  float source[256];
  for (int i = 0; i < 256; ++i)
    source[i] = (float)i;
  kiln_sequence out;
  memset(&out, 0, sizeof out);
  for (int step = 0; step < 64 && r.n; ++step) {
    uint8_t op = next(&r);
    const kiln_sequence *s = seqs[op >> 6];
    int64_t pos = (int8_t)next(&r);
    int32_t has_pos = next(&r) & 1;
    switch (op % 7) {
    case 0: { /* insert a strided view of `source` that stays inside it */
      int32_t type = types[next(&r) % 6];
      int32_t rank = next(&r) % 4;
      int64_t dims[8];
      uint64_t span = 1;
      for (int d = 0; d < rank; ++d) {
        dims[d] = next(&r) % 4;
        dims[rank + d] = 0;
      }
      /* Row-major strides in elements, then at most one broadcast (0). */
      int64_t stride = 1;
      for (int d = rank - 1; d >= 0; --d) {
        dims[rank + d] = stride;
        stride *= dims[d] ? dims[d] : 1;
      }
      if (rank && (next(&r) & 1))
        dims[rank + next(&r) % rank] = 0;
      for (int d = 0; d < rank; ++d)
        span *= dims[d] ? (uint64_t)dims[d] : 1;
      size_t elem = kiln_elem_size(type);
      int64_t offset = next(&r) % 4;
      if ((span + (uint64_t)offset) * elem > sizeof source)
        break;
      s = kiln_seq_insert(run, s, pos, has_pos, type, rank,
                          (int64_t)(intptr_t)dims, (int64_t)(intptr_t)source,
                          offset);
      break;
    }
    case 1:
      s = kiln_seq_erase(run, s, pos, has_pos);
      break;
    case 2: { /* read an element expecting fuzzed dims */
      int32_t type = types[next(&r) % 6];
      int32_t rank = next(&r) % 4;
      int64_t dims[8];
      for (int d = 0; d < rank; ++d)
        dims[d] = (int64_t)(next(&r) % 5) - 1;
      const uint8_t *bytes = (const uint8_t *)kiln_seq_at(run, s, pos, type,
                                                           rank,
                                                           (int64_t)(intptr_t)dims);
      uint64_t n = kiln_elem_size(type);
      for (int d = 0; d < rank; ++d)
        n *= (uint64_t)dims[d];
      kiln_fuzz_touch(bytes, n);
      break;
    }
    case 3:
      (void)kiln_seq_length(run, s);
      (void)kiln_seq_has_value(run, s);
      break;
    case 4:
      s = kiln_seq_value(run, s);
      break;
    case 5:
      kiln_seq_export(run, &out, s, has_pos);
      break;
    default:
      s = kiln_seq_empty(run, types[next(&r) % 6], has_pos);
      break;
    }
    seqs[op >> 6] = s;
  }
  (void)kiln_run_end(run);
  for (int64_t i = 0; i < out.length; ++i)
    kiln_fuzz_touch(out.items[i].data, out.items[i].byte_size);
  kiln_sequence_free(&out);
  return 0;
}
