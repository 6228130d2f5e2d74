/*===- sequence_io.c - read/write ONNX SequenceProto and OptionalProto -----===
 *
 * Sequences of tensors and optionals in .pb files, as the ONNX backend tests
 * store them. The element tensors are parsed and written by tensor_io.c's
 * TensorProto code, so they read exactly as kiln_tensor_read_file reads a
 * tensor file. Every read is bounds-checked: a malformed file yields an error
 * code and a one-line message, never a crash.
 *
 * SequenceProto and OptionalProto share their layout: 1 name, 2 elem_type,
 * then one field per kind of value (3 tensor, 4 sparse tensor, 5 sequence,
 * 6 map, 7 optional; elem_type 1 to 5 names the same kinds in that order),
 * repeated in a SequenceProto, at most one in an OptionalProto. So the bytes
 * alone do not always tell which message a file holds; the readers decide:
 *
 * kiln_sequence_read_pb (every field must be one of 1 to 7 with its wire
 * type, else the file is neither message, e.g. a TensorProto):
 *   - one sequence value (field 5): an OptionalProto holding that sequence
 *     (its SequenceProto payload is read as below; empty: length 0);
 *   - tensor values (field 3): a SequenceProto of those tensors. An
 *     OptionalProto holding one tensor has the very same bytes and so reads
 *     as a sequence of length 1;
 *   - no value at all: with elem_type 1 (TENSOR) an empty SequenceProto (as
 *     onnx.numpy_helper.from_list([]) and kiln_sequence_write_pb write it);
 *     with elem_type 0 (UNDEFINED, as the backend tests' empty optionals
 *     and from_optional(None) have it), 3 (SEQUENCE) or none, an
 *     OptionalProto holding nothing (`none` = 1);
 *   - sparse tensors, maps, optionals, several sequence values (a sequence
 *     of sequences): KILN_ERROR_UNSUPPORTED.
 * kiln_optional_read_pb: a file that fits the layout above with no value
 * but tensors is an OptionalProto (no field 3: no value; one: that tensor);
 * anything else is read as a tensor file (TensorProto or .npy), which holds
 * a value. A TensorProto uses fields above 7 (name, raw_data) or dims of
 * wire type varint, so it never fits the layout unless it has neither name
 * nor raw_data nor dims.
 *
 * kiln_sequence_write_pb writes what onnx writes: a SequenceProto (name,
 * elem_type 1, tensor_values without names, raw_data); an OptionalProto
 * (name, elem_type 3, sequence_value without a name); an OptionalProto with
 * no value as name and elem_type 0 (UNDEFINED), as in the backend tests'
 * data: onnx.numpy_helper.to_optional reads elem_type 0 as None, while an
 * elem_type 3 without a sequence_value would read as a malformed sequence.
 *===----------------------------------------------------------------------===*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln_internal.h"

#define ERR(code, ...) kiln_set_error(err, err_size, (code), __VA_ARGS__)

enum { WT_VARINT = 0, WT_LEN = 2 };

/* Field numbers (both messages). */
enum { F_NAME = 1, F_ELEM_TYPE = 2, F_TENSOR = 3, F_OPTIONAL = 7 };
/* elem_type values: the kind in field elem_type + 2. */
enum { T_UNDEFINED = 0, T_TENSOR = 1, T_SEQUENCE = 3, T_LAST = 5 };

/* What kind of value field `f` (3 to 7) holds, plural. */
static const char *kind_name(int f) {
  static const char *const names[] = {"tensors", "sparse tensors",
                                      "sequences", "maps", "optionals"};
  return f >= F_TENSOR && f <= F_OPTIONAL ? names[f - F_TENSOR] : "values";
}

/* The top-level fields of a SequenceProto or OptionalProto. */
typedef struct {
  int has_elem_type;
  int64_t elem_type;
  size_t count[F_OPTIONAL + 1];     /* occurrences of fields 3 to 7 */
  size_t first_off[F_OPTIONAL + 1]; /* payload of the first occurrence */
  size_t first_len[F_OPTIONAL + 1];
  int kinds;                        /* how many of fields 3 to 7 occur */
} pb_msg;

/* Reads the next field of b[0, len): 0, or -1 truncated, -2 a field number
 * outside 1 to 7, -3 the wrong wire type for it. Sets *fn, and *v (varint)
 * or *off and *n (payload). */
static int next_field(const uint8_t *b, size_t len, size_t *pos, uint64_t *fn,
                      unsigned *wt, uint64_t *v, size_t *off, size_t *n) {
  uint64_t tag;
  if (kiln_pb_read_varint(b, len, pos, &tag) != 0)
    return -1;
  *fn = tag >> 3;
  *wt = (unsigned)(tag & 7);
  if (*fn < F_NAME || *fn > F_OPTIONAL)
    return -2;
  if (*wt != (*fn == F_ELEM_TYPE ? WT_VARINT : WT_LEN))
    return -3;
  if (*fn == F_ELEM_TYPE)
    return kiln_pb_read_varint(b, len, pos, v);
  if (kiln_pb_read_len(b, len, pos, n) != 0)
    return -1;
  *off = *pos;
  *pos += *n;
  return 0;
}

/* Scans b[0, len) (at byte `base` of the file). err may be NULL to probe. */
static int32_t scan_msg(const char *path, const uint8_t *b, size_t len,
                        size_t base, pb_msg *m, char *err, size_t err_size) {
  size_t pos = 0;
  int f;
  memset(m, 0, sizeof *m);
  while (pos < len) {
    size_t at = pos, off = 0, n = 0;
    uint64_t fn = 0, v = 0;
    unsigned wt = 0;
    int rc = next_field(b, len, &pos, &fn, &wt, &v, &off, &n);
    if (rc == -2)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': not a SequenceProto or OptionalProto: unexpected "
                 "field %llu at byte %zu",
                 path, (unsigned long long)fn, base + at);
    if (rc == -3)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': not a SequenceProto or OptionalProto: field %llu has "
                 "wire type %u at byte %zu",
                 path, (unsigned long long)fn, wt, base + at);
    if (rc != 0)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': truncated or malformed SequenceProto/OptionalProto "
                 "field at byte %zu",
                 path, base + at);
    if (fn == F_ELEM_TYPE) {
      m->has_elem_type = 1;
      m->elem_type = (int32_t)(uint32_t)v;
    } else if (fn >= F_TENSOR && m->count[fn]++ == 0) {
      m->first_off[fn] = off;
      m->first_len[fn] = n;
    }
  }
  for (f = F_TENSOR; f <= F_OPTIONAL; ++f)
    m->kinds += m->count[f] != 0;
  return KILN_OK;
}

/* Parses the TensorProto p[0, n) into `out` (named `label` in messages). */
static int32_t parse_tensor(const char *label, const uint8_t *p, size_t n,
                            kiln_tensor *out, char *err, size_t err_size) {
  uint8_t *copy = (uint8_t *)malloc(n ? n : 1);
  int32_t rc;
  memset(out, 0, sizeof *out);
  if (!copy)
    return ERR(KILN_ERROR_OUT_OF_MEMORY, "'%s': out of memory", label);
  memcpy(copy, p, n);
  rc = kiln_tensor_parse_pb(label, &copy, n, out, err, err_size);
  free(copy); /* NULL if the tensor adopted it */
  if (rc != KILN_OK) {
    kiln_tensor_free(out);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

/* Reads the SequenceProto b[0, len), scanned into `m`, into `out` (zeroed;
 * on failure it holds what was read so far). */
static int32_t read_sequence(const char *path, const uint8_t *b, size_t len,
                             const pb_msg *m, kiln_sequence *out, char *err,
                             size_t err_size) {
  size_t pos = 0, cap = 0;
  int f;
  for (f = F_TENSOR + 1; f <= F_OPTIONAL; ++f)
    if (m->count[f])
      return ERR(KILN_ERROR_UNSUPPORTED,
                 "'%s': sequences of %s are not supported (only of tensors)",
                 path, kind_name(f));
  if (m->has_elem_type && m->elem_type != T_TENSOR &&
      m->elem_type != T_UNDEFINED) {
    if (m->elem_type > T_TENSOR && m->elem_type <= T_LAST)
      return ERR(KILN_ERROR_UNSUPPORTED,
                 "'%s': sequences of %s are not supported (only of tensors)",
                 path, kind_name((int)m->elem_type + 2));
    return ERR(KILN_ERROR_FORMAT,
               "'%s': SequenceProto has unknown elem_type %lld", path,
               (long long)m->elem_type);
  }
  while (pos < len) {
    size_t off = 0, n = 0;
    uint64_t fn = 0, v = 0;
    unsigned wt = 0;
    char label[4200];
    kiln_tensor *t;
    int32_t rc;
    if (next_field(b, len, &pos, &fn, &wt, &v, &off, &n) != 0)
      return ERR(KILN_ERROR_FORMAT, "'%s': malformed SequenceProto", path);
    if (fn != F_TENSOR)
      continue;
    if ((size_t)out->length == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      kiln_tensor *ni;
      if (ncap > m->count[F_TENSOR])
        ncap = m->count[F_TENSOR];
      ni = (kiln_tensor *)realloc(out->items, ncap * sizeof *ni);
      if (!ni)
        return ERR(KILN_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
      out->items = ni;
      cap = ncap;
    }
    t = &out->items[out->length];
    snprintf(label, sizeof label, "%s, element %lld", path,
             (long long)out->length);
    rc = parse_tensor(label, b + off, n, t, err, err_size);
    if (rc != KILN_OK)
      return rc;
    ++out->length;
    if (t->elem_type != out->items[0].elem_type) {
      char a[32];
      snprintf(a, sizeof a, "%s", kiln_elem_type_name(t->elem_type));
      return ERR(KILN_ERROR_FORMAT, "'%s': element %lld is %s, element 0 is %s",
                 path, (long long)(out->length - 1), a,
                 kiln_elem_type_name(out->items[0].elem_type));
    }
  }
  out->elem_type = out->length ? out->items[0].elem_type : 0;
  return KILN_OK;
}

/* Reads the file b[0, len), scanned into `m`, as described at the top. */
static int32_t read_sequence_file(const char *path, const uint8_t *b,
                                  size_t len, const pb_msg *m,
                                  kiln_sequence *out, char *err,
                                  size_t err_size) {
  enum { F_SEQ = T_SEQUENCE + 2 };
  int f;
  if (m->count[F_SEQ] == 1 && m->kinds == 1) { /* an OptionalProto */
    pb_msg inner;
    const uint8_t *p = b + m->first_off[F_SEQ];
    size_t n = m->first_len[F_SEQ];
    int32_t rc = scan_msg(path, p, n, m->first_off[F_SEQ], &inner, err,
                          err_size);
    if (rc != KILN_OK)
      return rc;
    return read_sequence(path, p, n, &inner, out, err, err_size);
  }
  if (m->count[F_SEQ] > 1)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': sequences of sequences are not supported", path);
  if (m->kinds > 1)
    return ERR(KILN_ERROR_FORMAT,
               "'%s': neither a SequenceProto nor an OptionalProto: it holds "
               "values of several kinds",
               path);
  if (m->count[F_TENSOR])
    return read_sequence(path, b, len, m, out, err, err_size);
  for (f = F_TENSOR + 1; f <= F_OPTIONAL; ++f)
    if (m->count[f])
      return ERR(KILN_ERROR_UNSUPPORTED,
                 "'%s': a sequence or optional of %s is not supported", path,
                 kind_name(f));
  /* No value at all. */
  if (!m->has_elem_type || m->elem_type == T_UNDEFINED ||
      m->elem_type == T_SEQUENCE) {
    out->none = 1; /* an OptionalProto holding nothing */
    return KILN_OK;
  }
  if (m->elem_type == T_TENSOR)
    return KILN_OK; /* an empty SequenceProto */
  if (m->elem_type > T_TENSOR && m->elem_type <= T_LAST)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': a sequence or optional of %s is not supported", path,
               kind_name((int)m->elem_type + 2));
  return ERR(KILN_ERROR_FORMAT, "'%s': unknown elem_type %lld", path,
             (long long)m->elem_type);
}

int32_t kiln_sequence_read_pb(const char *path, kiln_sequence *out, char *err,
                              size_t err_size) {
  uint8_t *buf;
  size_t len;
  pb_msg m;
  int32_t rc;
  if (err && err_size)
    err[0] = '\0';
  if (!out)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "kiln_sequence_read_pb: NULL sequence");
  memset(out, 0, sizeof *out);
  if (!path)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "kiln_sequence_read_pb: NULL path");
  rc = kiln_read_whole_file(path, &buf, &len, err, err_size);
  if (rc != KILN_OK)
    return rc;
  rc = scan_msg(path, buf, len, 0, &m, err, err_size);
  if (rc == KILN_OK)
    rc = read_sequence_file(path, buf, len, &m, out, err, err_size);
  free(buf);
  if (rc != KILN_OK)
    kiln_sequence_free(out);
  return rc;
}

int32_t kiln_optional_read_pb(const char *path, kiln_tensor *out,
                              int32_t *present, char *err, size_t err_size) {
  static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
  uint8_t *buf;
  size_t len;
  pb_msg m;
  int32_t rc = KILN_OK;
  int f, fits;
  if (err && err_size)
    err[0] = '\0';
  if (present)
    *present = 0;
  if (!out || !present)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "kiln_optional_read_pb: NULL argument");
  memset(out, 0, sizeof *out);
  if (!path)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "kiln_optional_read_pb: NULL path");
  rc = kiln_read_whole_file(path, &buf, &len, err, err_size);
  if (rc != KILN_OK)
    return rc;
  if (len >= sizeof npy_magic &&
      memcmp(buf, npy_magic, sizeof npy_magic) == 0) {
    free(buf);
    rc = kiln_tensor_read_file(path, out, err, err_size);
    *present = rc == KILN_OK;
    return rc;
  }
  fits = scan_msg(path, buf, len, 0, &m, NULL, 0) == KILN_OK;
  if (fits && m.kinds == (m.count[F_TENSOR] != 0)) { /* an OptionalProto */
    if (m.count[F_TENSOR] > 1)
      rc = ERR(KILN_ERROR_TYPE_MISMATCH,
               "'%s': a sequence of %zu tensors, not an optional tensor", path,
               m.count[F_TENSOR]);
    else if (m.count[F_TENSOR] == 1)
      rc = parse_tensor(path, buf + m.first_off[F_TENSOR],
                        m.first_len[F_TENSOR], out, err, err_size);
    free(buf);
    *present = rc == KILN_OK && m.count[F_TENSOR] == 1;
    return rc;
  }
  /* A TensorProto (or an optional holding something else than a tensor). */
  rc = kiln_tensor_parse_pb(path, &buf, len, out, err, err_size);
  free(buf); /* NULL if the tensor adopted it */
  if (rc != KILN_OK) {
    kiln_tensor_free(out);
    memset(out, 0, sizeof *out);
    for (f = F_TENSOR + 1; fits && f <= F_OPTIONAL; ++f)
      if (m.count[f])
        return ERR(KILN_ERROR_TYPE_MISMATCH,
                   "'%s': holds %s, expected an optional tensor", path,
                   f == F_TENSOR + 2 ? "a sequence" : kind_name(f));
    return rc;
  }
  *present = 1;
  return KILN_OK;
}

/*===----------------------------------------------------------------------===*/
/* Writing                                                                   */
/*===----------------------------------------------------------------------===*/

typedef struct {
  const kiln_sequence *s;
  const char *name;
  int32_t optional;
} seq_body;

/* Writes a field tag and a varint (a value or a length). */
static int put_field(FILE *f, unsigned field, unsigned wt, uint64_t v) {
  uint8_t b[16];
  size_t n = kiln_pb_put_varint(b, (uint64_t)(field << 3 | wt));
  n += kiln_pb_put_varint(b + n, v);
  return fwrite(b, 1, n, f) == n ? 0 : -1;
}

static int put_name(FILE *f, const char *name) {
  size_t len;
  if (!name)
    return 0;
  len = strlen(name);
  if (put_field(f, F_NAME, WT_LEN, len) != 0)
    return -1;
  return fwrite(name, 1, len, f) == len ? 0 : -1;
}

/* The size of what write_sequence writes without a name. */
static uint64_t sequence_size(const kiln_sequence *s) {
  uint64_t n = 2; /* elem_type */
  int64_t i;
  for (i = 0; i < s->length; ++i) {
    uint64_t t = kiln_tensor_pb_size(&s->items[i], NULL);
    n += 1 + kiln_pb_varint_size(t) + t;
  }
  return n;
}

static int write_sequence(FILE *f, const kiln_sequence *s, const char *name) {
  int64_t i;
  if (put_name(f, name) != 0 || put_field(f, F_ELEM_TYPE, WT_VARINT, T_TENSOR))
    return -1;
  for (i = 0; i < s->length; ++i) {
    const kiln_tensor *t = &s->items[i];
    if (put_field(f, F_TENSOR, WT_LEN, kiln_tensor_pb_size(t, NULL)) != 0 ||
        kiln_tensor_write_pb_body(f, t, NULL) != 0)
      return -1;
  }
  return 0;
}

static int write_seq_body(FILE *f, const void *ctx) {
  const seq_body *sb = (const seq_body *)ctx;
  if (!sb->optional)
    return write_sequence(f, sb->s, sb->name);
  if (put_name(f, sb->name) != 0)
    return -1;
  if (sb->s->none)
    return put_field(f, F_ELEM_TYPE, WT_VARINT, T_UNDEFINED);
  if (put_field(f, F_ELEM_TYPE, WT_VARINT, T_SEQUENCE) != 0 ||
      put_field(f, T_SEQUENCE + 2, WT_LEN, sequence_size(sb->s)) != 0)
    return -1;
  return write_sequence(f, sb->s, NULL);
}

int32_t kiln_sequence_write_tmp(const char *path, const kiln_sequence *s,
                                const char *name, int32_t optional,
                                char *tmp_path, size_t tmp_size, char *err,
                                size_t err_size) {
  seq_body sb;
  int64_t i;
  if (tmp_path && tmp_size)
    tmp_path[0] = '\0';
  if (!path || !s || !tmp_path || tmp_size == 0)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "kiln_sequence_write: NULL argument");
  if (s->none && !optional)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "cannot write '%s': a sequence with no value (none) can only "
               "be written as an optional",
               path);
  if (s->length < 0 || (s->length > 0 && (!s->items || s->none)))
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "cannot write '%s': bad sequence (length %lld%s)", path,
               (long long)s->length, s->none ? ", none" : "");
  for (i = 0; i < s->length; ++i) {
    const kiln_tensor *t = &s->items[i];
    char label[4200];
    int32_t rc;
    snprintf(label, sizeof label, "%s, element %lld", path, (long long)i);
    rc = kiln_tensor_check_writable(label, KILN_FORMAT_PB, t, err, err_size);
    if (rc != KILN_OK)
      return rc;
    if (t->elem_type != s->items[0].elem_type ||
        (s->elem_type != 0 && t->elem_type != s->elem_type)) {
      char a[32];
      snprintf(a, sizeof a, "%s", kiln_elem_type_name(t->elem_type));
      return ERR(KILN_ERROR_INVALID_ARGUMENT,
                 "cannot write '%s': element %lld is %s in a sequence of %s",
                 path, (long long)i, a,
                 kiln_elem_type_name(s->elem_type ? s->elem_type
                                                  : s->items[0].elem_type));
    }
  }
  sb.s = s;
  sb.name = name;
  sb.optional = optional;
  return kiln_write_tmp_file(path, write_seq_body, &sb, tmp_path, tmp_size,
                             err, err_size);
}

int32_t kiln_sequence_write_pb(const char *path, const kiln_sequence *s,
                               const char *name, int32_t optional, char *err,
                               size_t err_size) {
  char tmp[4096 + 64];
  int32_t rc = kiln_sequence_write_tmp(path, s, name, optional, tmp,
                                       sizeof tmp, err, err_size);
  if (rc != KILN_OK)
    return rc;
  return kiln_rename_tmp(tmp, path, err, err_size);
}

/*===----------------------------------------------------------------------===*/
/* Checking an input                                                         */
/*===----------------------------------------------------------------------===*/

int32_t kiln_sequence_check(const kiln_sequence *s,
                            const kiln_tensor_info *info, char *err,
                            size_t err_size) {
  char want[256], got[256];
  const char *name;
  int64_t i;
  int32_t j;
  if (!s || !info)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "kiln_sequence_check: NULL argument");
  name = info->name ? info->name : "?";
  if (info->kind != KILN_KIND_SEQUENCE &&
      info->kind != KILN_KIND_OPTIONAL_SEQUENCE)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "input '%s': not a sequence input (kind %d)", name,
               (int)info->kind);
  if (s->none) {
    if (info->kind != KILN_KIND_OPTIONAL_SEQUENCE)
      return ERR(KILN_ERROR_TYPE_MISMATCH,
                 "input '%s': expected a sequence, got an optional with no "
                 "value",
                 name);
    if (s->length != 0)
      return ERR(KILN_ERROR_INVALID_ARGUMENT,
                 "input '%s': an optional with no value has %lld elements",
                 name, (long long)s->length);
    return KILN_OK;
  }
  if (s->length < 0 || (s->length > 0 && !s->items))
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "input '%s': bad sequence (length %lld)", name,
               (long long)s->length);
  if (info->rank < 0)
    snprintf(want, sizeof want, "%s", kiln_elem_type_name(info->elem_type));
  else
    kiln_format_type(want, sizeof want, info->elem_type, info->rank,
                     info->shape);
  for (i = 0; i < s->length; ++i) {
    const kiln_tensor *t = &s->items[i];
    uint64_t bytes;
    int shape_ok = 1;
    kiln_format_type(got, sizeof got, t->elem_type, t->rank, t->shape);
    if (t->elem_type != info->elem_type)
      return ERR(KILN_ERROR_TYPE_MISMATCH,
                 "input '%s': element %lld: expected %s, got %s", name,
                 (long long)i, want, got);
    if (info->rank >= 0) {
      shape_ok = t->rank == info->rank;
      for (j = 0; shape_ok && j < t->rank; ++j)
        shape_ok = info->shape && (info->shape[j] < 0 ||
                                   t->shape[j] == info->shape[j]);
    }
    if (!shape_ok)
      return ERR(KILN_ERROR_SHAPE_MISMATCH,
                 "input '%s': element %lld: expected %s, got %s", name,
                 (long long)i, want, got);
    if (kiln_shape_bytes(t->rank, t->shape, kiln_elem_size(t->elem_type),
                         &bytes) != 0 ||
        bytes != t->byte_size || (!t->data && bytes))
      return ERR(KILN_ERROR_INVALID_ARGUMENT,
                 "input '%s': element %lld (%s) has no data or a byte_size "
                 "that does not match its shape",
                 name, (long long)i, got);
  }
  return KILN_OK;
}
