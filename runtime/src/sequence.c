/*===- sequence.c - sequences and optionals at run time -------------------===
 *
 * What compiled code calls for a sequence whose elements are known only when
 * the model runs (a graph input, one a Loop grows, one an If chooses). A
 * sequence is a value: every operation returns a new kiln_sequence from the
 * run's memory, sharing the elements it keeps (they are never written
 * after insertion). The run owns every block it hands out in one list and
 * frees them all at kiln_run_end; output sequences are deep copies made
 * with malloc for the caller.
 *
 * Nothing here aborts: an error is recorded in the run (the first one
 * wins) and the call returns a harmless value, so the compiled code goes on
 * without reading or writing out of bounds and P_run returns the status.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/runtime.h"

typedef struct kiln_block {
  struct kiln_block *next;
  /* the payload follows, aligned like max_align_t */
} kiln_block;

struct kiln_run {
  kiln_block *blocks;
  int32_t status;
};

/* A heap run that could not be created: every call sees a failed run. */
static kiln_run kiln_failed_run = {NULL, KILN_ERROR_OUT_OF_MEMORY};

/* What an empty sequence is when even that cannot be allocated. */
static const kiln_sequence kiln_no_sequence = {0, 0, 0, NULL};

/* Zeroed bytes for reads of an element that failed; larger reads get a
 * zeroed block from the run. */
static const unsigned char kiln_zeros[64] __attribute__((aligned(64)));

kiln_run *kiln_run_begin(void) {
  kiln_run *run = (kiln_run *)calloc(1, sizeof *run);
  return run ? run : &kiln_failed_run;
}

int32_t kiln_run_end(kiln_run *run) {
  if (!run || run == &kiln_failed_run)
    return KILN_ERROR_OUT_OF_MEMORY;
  int32_t status = run->status;
  kiln_block *b = run->blocks;
  while (b) {
    kiln_block *next = b->next;
    free(b);
    b = next;
  }
  free(run);
  return status;
}

void kiln_run_fail(kiln_run *run, int32_t status) {
  if (run && run != &kiln_failed_run && run->status == KILN_OK)
    run->status = status;
}

/* `bytes` zeroed bytes owned by the run (NULL and a recorded error when
 * there is no memory). */
static void *run_alloc(kiln_run *run, size_t bytes) {
  enum { HEADER = 64 }; /* keeps the payload 64-byte aligned */
  if (!run || run == &kiln_failed_run)
    return NULL;
  if (bytes > SIZE_MAX - HEADER) {
    kiln_run_fail(run, KILN_ERROR_OUT_OF_MEMORY);
    return NULL;
  }
  void *mem = NULL;
  if (posix_memalign(&mem, 64, HEADER + bytes) != 0 || !mem) {
    kiln_run_fail(run, KILN_ERROR_OUT_OF_MEMORY);
    return NULL;
  }
  memset(mem, 0, HEADER + bytes);
  kiln_block *b = (kiln_block *)mem;
  b->next = run->blocks;
  run->blocks = b;
  return (unsigned char *)mem + HEADER;
}

/* A new sequence with room for `length` items. */
static kiln_sequence *new_sequence(kiln_run *run, int32_t elem_type,
                                   int64_t length) {
  kiln_sequence *s = (kiln_sequence *)run_alloc(run, sizeof *s);
  if (!s)
    return NULL;
  s->elem_type = elem_type;
  s->length = length;
  if (length > 0) {
    if ((uint64_t)length > SIZE_MAX / sizeof(kiln_tensor)) {
      kiln_run_fail(run, KILN_ERROR_OUT_OF_MEMORY);
      return NULL;
    }
    s->items = (kiln_tensor *)run_alloc(run, (size_t)length * sizeof(kiln_tensor));
    if (!s->items)
      return NULL;
  }
  return s;
}

static const kiln_sequence *or_empty(const kiln_sequence *s) {
  return s ? s : &kiln_no_sequence;
}

const kiln_sequence *kiln_seq_empty(kiln_run *run, int32_t elem_type,
                                    int32_t none) {
  kiln_sequence *s = new_sequence(run, elem_type, 0);
  if (!s)
    return &kiln_no_sequence;
  s->none = none != 0;
  return s;
}

int64_t kiln_seq_length(kiln_run *run, const kiln_sequence *seq) {
  (void)run;
  return seq && !seq->none ? seq->length : 0;
}

int32_t kiln_seq_has_value(kiln_run *run, const kiln_sequence *seq) {
  (void)run;
  return seq && !seq->none;
}

const kiln_sequence *kiln_seq_value(kiln_run *run, const kiln_sequence *seq) {
  if (!seq || seq->none) {
    kiln_run_fail(run, KILN_ERROR_OUT_OF_RANGE);
    return &kiln_no_sequence;
  }
  return seq;
}

/* The index `pos` stands for among `n` (or n + 1 slots when inserting);
 * -1 and a recorded error when out of range. */
static int64_t resolve_position(kiln_run *run, int64_t pos, int32_t has_pos,
                                int64_t n, int64_t slots) {
  if (!has_pos)
    pos = slots == n ? n - 1 : n;
  else if (pos < 0)
    pos += n;
  if (pos < 0 || pos >= slots) {
    kiln_run_fail(run, KILN_ERROR_OUT_OF_RANGE);
    return -1;
  }
  return pos;
}

const kiln_sequence *kiln_seq_insert(kiln_run *run, const kiln_sequence *seq,
                                     int64_t pos, int32_t has_pos,
                                     int32_t elem_type, int32_t rank,
                                     int64_t dims, int64_t data,
                                     int64_t offset) {
  seq = or_empty(seq);
  int64_t n = seq->none ? 0 : seq->length;
  int64_t at = resolve_position(run, pos, has_pos, n, n + 1);
  size_t elem = kiln_elem_size(elem_type);
  if (at < 0 || rank < 0 || rank > 8 || elem == 0) {
    kiln_run_fail(run, at < 0 ? KILN_ERROR_OUT_OF_RANGE : KILN_ERROR_UNSUPPORTED);
    return seq;
  }
  if (n > 0 && seq->elem_type != elem_type) {
    kiln_run_fail(run, KILN_ERROR_TYPE_MISMATCH);
    return seq;
  }
  const int64_t *sizes = (const int64_t *)(intptr_t)dims;
  const int64_t *strides = sizes + rank;
  uint64_t count = 1;
  for (int32_t d = 0; d < rank; ++d) {
    if (sizes[d] < 0 || (sizes[d] && count > UINT64_MAX / (uint64_t)sizes[d])) {
      kiln_run_fail(run, KILN_ERROR_SHAPE_MISMATCH);
      return seq;
    }
    count *= (uint64_t)sizes[d];
  }
  if (count > SIZE_MAX / elem) {
    kiln_run_fail(run, KILN_ERROR_OUT_OF_MEMORY);
    return seq;
  }
  kiln_sequence *out = new_sequence(run, elem_type, n + 1);
  unsigned char *copy = (unsigned char *)run_alloc(run, (size_t)count * elem);
  if (!out || !copy)
    return seq;
  /* Copy the strided source into dense row-major order. */
  const unsigned char *src = (const unsigned char *)(intptr_t)data;
  int64_t index[8] = {0};
  for (uint64_t i = 0; i < count; ++i) {
    int64_t at_elem = offset;
    for (int32_t d = 0; d < rank; ++d)
      at_elem += index[d] * strides[d];
    memcpy(copy + i * elem, src + at_elem * (int64_t)elem, elem);
    for (int32_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
  kiln_tensor *t = &out->items[at];
  t->elem_type = elem_type;
  t->rank = rank;
  for (int32_t d = 0; d < rank; ++d)
    t->shape[d] = sizes[d];
  t->data = copy;
  t->byte_size = count * elem;
  if (at > 0)
    memcpy(out->items, seq->items, (size_t)at * sizeof(kiln_tensor));
  if (n > at)
    memcpy(out->items + at + 1, seq->items + at,
           (size_t)(n - at) * sizeof(kiln_tensor));
  return out;
}

const kiln_sequence *kiln_seq_erase(kiln_run *run, const kiln_sequence *seq,
                                    int64_t pos, int32_t has_pos) {
  seq = or_empty(seq);
  int64_t n = seq->none ? 0 : seq->length;
  int64_t at = resolve_position(run, pos, has_pos, n, n);
  if (at < 0)
    return seq;
  kiln_sequence *out = new_sequence(run, seq->elem_type, n - 1);
  if (!out)
    return seq;
  if (at > 0)
    memcpy(out->items, seq->items, (size_t)at * sizeof(kiln_tensor));
  if (n - 1 > at)
    memcpy(out->items + at, seq->items + at + 1,
           (size_t)(n - 1 - at) * sizeof(kiln_tensor));
  return out;
}

const void *kiln_seq_at(kiln_run *run, const kiln_sequence *seq, int64_t pos,
                        int32_t elem_type, int32_t rank, int64_t dims) {
  int64_t *want = (int64_t *)(intptr_t)dims;
  seq = or_empty(seq);
  int64_t n = seq->none ? 0 : seq->length;
  int64_t at = resolve_position(run, pos, 1, n, n);
  const kiln_tensor *t = at >= 0 ? &seq->items[at] : NULL;
  int32_t status = KILN_OK;
  if (!t)
    status = KILN_ERROR_OUT_OF_RANGE;
  else if (t->elem_type != elem_type)
    status = KILN_ERROR_TYPE_MISMATCH;
  else if (t->rank != rank)
    status = KILN_ERROR_SHAPE_MISMATCH;
  else
    for (int32_t d = 0; d < rank; ++d)
      if (want[d] >= 0 && want[d] != t->shape[d])
        status = KILN_ERROR_SHAPE_MISMATCH;
  void *data;
  if (status == KILN_OK) {
    for (int32_t d = 0; d < rank; ++d)
      want[d] = t->shape[d];
    data = t->data;
  } else {
    /* Zeroed data of the shape the code expects (0 for the open dims). */
    kiln_run_fail(run, status);
    uint64_t bytes = kiln_elem_size(elem_type);
    for (int32_t d = 0; d < rank; ++d) {
      if (want[d] < 0)
        want[d] = 0;
      bytes *= (uint64_t)want[d];
    }
    data = bytes <= sizeof kiln_zeros ? (void *)kiln_zeros
                                      : run_alloc(run, (size_t)bytes);
    if (!data) { /* no memory: every dim 0, nothing to read */
      for (int32_t d = 0; d < rank; ++d)
        want[d] = 0;
      data = (void *)kiln_zeros;
    }
  }
  return data;
}

void kiln_sequence_free(kiln_sequence *s) {
  if (!s)
    return;
  for (int64_t i = 0; s->items && i < s->length; ++i)
    free(s->items[i].data);
  free(s->items);
  memset(s, 0, sizeof *s);
}

void kiln_seq_export(kiln_run *run, kiln_sequence *out,
                     const kiln_sequence *seq, int32_t optional) {
  if (!out) {
    kiln_run_fail(run, KILN_ERROR_INVALID_ARGUMENT);
    return;
  }
  kiln_sequence_free(out);
  seq = or_empty(seq);
  out->elem_type = seq->elem_type;
  if (seq->none) {
    out->none = 1;
    if (!optional)
      kiln_run_fail(run, KILN_ERROR_OUT_OF_RANGE);
    return;
  }
  if (seq->length == 0)
    return;
  out->items = (kiln_tensor *)calloc((size_t)seq->length, sizeof(kiln_tensor));
  if (!out->items) {
    kiln_run_fail(run, KILN_ERROR_OUT_OF_MEMORY);
    return;
  }
  for (int64_t i = 0; i < seq->length; ++i) {
    kiln_tensor t = seq->items[i];
    void *data = malloc(t.byte_size ? (size_t)t.byte_size : 1);
    if (!data) {
      kiln_run_fail(run, KILN_ERROR_OUT_OF_MEMORY);
      return; /* out holds the first i items: kiln_sequence_free frees them */
    }
    if (t.byte_size)
      memcpy(data, t.data, (size_t)t.byte_size);
    t.data = data;
    out->items[i] = t;
    out->length = i + 1;
  }
}
