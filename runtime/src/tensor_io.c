/*===- tensor_io.c - read/write ONNX TensorProto (.pb) and NumPy (.npy) ----===
 *
 * The protobuf wire format is parsed by hand (no protobuf library). Every
 * read is bounds-checked: a truncated or garbage file yields an error code and
 * a one-line message naming the file, never a crash or a huge allocation
 * (every allocation is bounded by a small multiple of the file size).
 *
 * Tensor data is stored little endian in both formats; the runtime assumes a
 * little-endian host.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "kiln_internal.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&             \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Kiln runtime assumes a little-endian host"
#endif

#define ERR(code, ...) kiln_set_error(err, err_size, (code), __VA_ARGS__)

/*===----------------------------------------------------------------------===*/
/* Reading a whole file                                                      */
/*===----------------------------------------------------------------------===*/

int32_t kiln_read_whole_file(const char *path, uint8_t **out, size_t *out_len,
                             char *err, size_t err_size) {
  FILE *f;
  struct stat st;
  uint8_t *buf;
  size_t cap = 4096, len = 0;

  *out = NULL;
  *out_len = 0;
  f = fopen(path, "rb");
  if (!f)
    return ERR(KILN_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
  if (fstat(fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      fclose(f);
      return ERR(KILN_ERROR_IO, "cannot read '%s': is a directory", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size < (uint64_t)SIZE_MAX)
      cap = (size_t)st.st_size + 1; /* +1 so EOF is seen without growing */
  }
  buf = (uint8_t *)malloc(cap);
  if (!buf) {
    fclose(f);
    return ERR(KILN_ERROR_OUT_OF_MEMORY, "cannot read '%s': out of memory",
               path);
  }
  for (;;) {
    size_t n;
    if (len == cap) {
      uint8_t *nb;
      if (cap > SIZE_MAX / 2) {
        free(buf);
        fclose(f);
        return ERR(KILN_ERROR_OUT_OF_MEMORY, "cannot read '%s': too large",
                   path);
      }
      nb = (uint8_t *)realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        fclose(f);
        return ERR(KILN_ERROR_OUT_OF_MEMORY,
                   "cannot read '%s': out of memory", path);
      }
      buf = nb;
      cap *= 2;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(f)) {
    int e = errno;
    free(buf);
    fclose(f);
    return ERR(KILN_ERROR_IO, "error reading '%s': %s", path,
               e ? strerror(e) : "read failed");
  }
  fclose(f);
  *out = buf;
  *out_len = len;
  return KILN_OK;
}

/* Moves buf[off, off+len) to the front of buf, shrinks the allocation and
 * hands it to `t` (avoids a second copy of large tensor payloads). */
static void adopt_payload(kiln_tensor *t, uint8_t *buf, size_t off,
                          size_t len) {
  uint8_t *shrunk;
  if (off)
    memmove(buf, buf + off, len);
  shrunk = (uint8_t *)realloc(buf, len ? len : 1);
  t->data = shrunk ? shrunk : buf;
  t->byte_size = len;
}

/*===----------------------------------------------------------------------===*/
/* Protobuf wire format                                                      */
/*===----------------------------------------------------------------------===*/

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4,
       WT_I32 = 5 };

/* Returns 0 on success, -1 if truncated or longer than 10 bytes. */
static int rd_varint(const uint8_t *b, size_t end, size_t *pos, uint64_t *v) {
  uint64_t r = 0;
  unsigned i;
  for (i = 0; i < 10; ++i) {
    uint8_t c;
    if (*pos >= end)
      return -1;
    c = b[(*pos)++];
    r |= (uint64_t)(c & 0x7f) << (7 * i);
    if (!(c & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return -1;
}

/* Reads a length prefix and checks the payload fits in [pos, end). */
static int rd_len(const uint8_t *b, size_t end, size_t *pos, size_t *len) {
  uint64_t v;
  if (rd_varint(b, end, pos, &v) != 0)
    return -1;
  if (v > (uint64_t)(end - *pos))
    return -1;
  *len = (size_t)v;
  return 0;
}

/* Skips one field value of wire type `wt` (the tag is already consumed). */
static int skip_field(const uint8_t *b, size_t end, size_t *pos, unsigned wt,
                      uint64_t field, int depth) {
  uint64_t v;
  size_t len;
  switch (wt) {
  case WT_VARINT:
    return rd_varint(b, end, pos, &v);
  case WT_I64:
    if (end - *pos < 8)
      return -1;
    *pos += 8;
    return 0;
  case WT_I32:
    if (end - *pos < 4)
      return -1;
    *pos += 4;
    return 0;
  case WT_LEN:
    if (rd_len(b, end, pos, &len) != 0)
      return -1;
    *pos += len;
    return 0;
  case WT_SGROUP:
    if (depth >= 32)
      return -1;
    for (;;) {
      uint64_t tag;
      if (rd_varint(b, end, pos, &tag) != 0)
        return -1;
      if ((tag & 7) == WT_EGROUP)
        return (tag >> 3) == field ? 0 : -1;
      if ((tag >> 3) == 0 ||
          skip_field(b, end, pos, (unsigned)(tag & 7), tag >> 3, depth + 1))
        return -1;
    }
  default: /* a stray end-group, or wire types 6 and 7 */
    return -1;
  }
}

/* Counts the varints in [pos, pos+len); -1 if one is malformed. */
static int count_varints(const uint8_t *b, size_t pos, size_t len,
                         uint64_t *count) {
  size_t end = pos + len;
  uint64_t v, n = 0;
  while (pos < end) {
    if (rd_varint(b, end, &pos, &v) != 0)
      return -1;
    ++n;
  }
  *count = n;
  return 0;
}

int kiln_pb_read_varint(const uint8_t *b, size_t end, size_t *pos,
                        uint64_t *v) {
  return rd_varint(b, end, pos, v);
}

int kiln_pb_read_len(const uint8_t *b, size_t end, size_t *pos, size_t *len) {
  return rd_len(b, end, pos, len);
}

int kiln_pb_skip_field(const uint8_t *b, size_t end, size_t *pos,
                       unsigned wire_type, uint64_t field) {
  return skip_field(b, end, pos, wire_type, field, 0);
}

/* TensorProto field numbers. */
enum {
  F_DIMS = 1, F_DATA_TYPE = 2, F_SEGMENT = 3, F_FLOAT = 4, F_INT32 = 5,
  F_STRING = 6, F_INT64 = 7, F_NAME = 8, F_RAW = 9, F_DOUBLE = 10,
  F_UINT64 = 11, F_DOC = 12, F_EXTERNAL = 13, F_LOCATION = 14
};
#define NUM_TYPED 12 /* indexed by field number; only 4,5,7,10,11 used */

static const char *field_name(int f) {
  switch (f) {
  case F_FLOAT: return "float_data";
  case F_INT32: return "int32_data";
  case F_INT64: return "int64_data";
  case F_DOUBLE: return "double_data";
  case F_UINT64: return "uint64_data";
  default: return "?";
  }
}

/* The typed field that carries values of `elem_type` (ONNX rules). */
static int typed_field_for(int32_t elem_type) {
  switch (elem_type) {
  case KILN_FLOAT:
    return F_FLOAT;
  case KILN_INT32: case KILN_INT16: case KILN_INT8: case KILN_UINT16:
  case KILN_UINT8: case KILN_BOOL: case KILN_FLOAT16: case KILN_BFLOAT16:
    return F_INT32;
  case KILN_INT64:
    return F_INT64;
  case KILN_DOUBLE:
    return F_DOUBLE;
  case KILN_UINT32: case KILN_UINT64:
    return F_UINT64;
  default:
    return 0;
  }
}

/* Stores one decoded integer of a typed field as element `k` of `t`. */
static void store_int(kiln_tensor *t, uint64_t k, uint64_t v) {
  uint8_t *d = (uint8_t *)t->data;
  switch (t->elem_type) {
  case KILN_INT32: case KILN_UINT32: {
    uint32_t x = (uint32_t)v;
    memcpy(d + k * 4, &x, 4);
    break;
  }
  case KILN_INT16: case KILN_UINT16: case KILN_FLOAT16: case KILN_BFLOAT16: {
    uint16_t x = (uint16_t)v;
    memcpy(d + k * 2, &x, 2);
    break;
  }
  case KILN_INT8: case KILN_UINT8:
    d[k] = (uint8_t)v;
    break;
  case KILN_BOOL:
    d[k] = (uint8_t)(v != 0);
    break;
  case KILN_INT64: case KILN_UINT64:
    memcpy(d + k * 8, &v, 8);
    break;
  default:
    break;
  }
}

/* Pass 2: decodes every occurrence of typed field `want` into t->data. */
static int decode_typed(const uint8_t *b, size_t len, int want,
                        kiln_tensor *t, uint64_t nelem) {
  size_t pos = 0;
  uint64_t k = 0;
  size_t esz = want == F_FLOAT ? 4 : 8;
  while (pos < len) {
    uint64_t tag, fn;
    unsigned wt;
    if (rd_varint(b, len, &pos, &tag) != 0)
      return -1;
    fn = tag >> 3;
    wt = (unsigned)(tag & 7);
    if (fn != (uint64_t)want) {
      if (skip_field(b, len, &pos, wt, fn, 0) != 0)
        return -1;
      continue;
    }
    if (want == F_FLOAT || want == F_DOUBLE) {
      size_t n;
      if (wt == WT_LEN) {
        if (rd_len(b, len, &pos, &n) != 0)
          return -1;
      } else {
        n = esz;
        if (len - pos < n)
          return -1;
      }
      if (n / esz > nelem - k)
        return -1;
      memcpy((uint8_t *)t->data + k * esz, b + pos, n);
      k += n / esz;
      pos += n;
    } else if (wt == WT_LEN) {
      size_t n, end;
      if (rd_len(b, len, &pos, &n) != 0)
        return -1;
      end = pos + n;
      while (pos < end) {
        uint64_t v;
        if (rd_varint(b, end, &pos, &v) != 0 || k >= nelem)
          return -1;
        store_int(t, k++, v);
      }
    } else {
      uint64_t v;
      if (rd_varint(b, len, &pos, &v) != 0 || k >= nelem)
        return -1;
      store_int(t, k++, v);
    }
  }
  return k == nelem ? 0 : -1;
}

int32_t kiln_tensor_parse_pb(const char *path, uint8_t **bufp, size_t len,
                             kiln_tensor *out, char *err, size_t err_size) {
  const uint8_t *b = *bufp;
  size_t pos = 0;
  int have_type = 0, have_raw = 0, rank = 0, want, f;
  int32_t data_type = 0;
  int64_t dims[KILN_MAX_RANK];
  size_t raw_off = 0, raw_len = 0;
  uint64_t count[NUM_TYPED] = {0};
  uint64_t nelem, bytes, typed_total = 0;
  size_t esize;
  char ty[256];

  while (pos < len) {
    size_t tag_pos = pos, n;
    uint64_t tag, fn, v;
    unsigned wt;
    if (rd_varint(b, len, &pos, &tag) != 0)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': not a TensorProto: truncated field tag at byte %zu",
                 path, tag_pos);
    fn = tag >> 3;
    wt = (unsigned)(tag & 7);
    if (fn == 0 || wt == 6 || wt == 7 || wt == WT_EGROUP)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': not a TensorProto: invalid field tag 0x%llx at byte "
                 "%zu",
                 path, (unsigned long long)tag, tag_pos);
#define BAD_WT()                                                               \
  ERR(KILN_ERROR_FORMAT,                                                       \
      "'%s': not a TensorProto: field %llu has wire type %u at byte %zu",     \
      path, (unsigned long long)fn, wt, tag_pos)
#define TRUNC()                                                                \
  ERR(KILN_ERROR_FORMAT,                                                       \
      "'%s': truncated or malformed TensorProto field %llu at byte %zu", path, \
      (unsigned long long)fn, tag_pos)
    switch (fn) {
    case F_DIMS: {
      size_t end;
      if (wt == WT_VARINT) {
        end = len;
      } else if (wt == WT_LEN) {
        if (rd_len(b, len, &pos, &n) != 0)
          return TRUNC();
        end = pos + n;
      } else {
        return BAD_WT();
      }
      do {
        if (wt == WT_LEN && pos >= end)
          break;
        if (rd_varint(b, end, &pos, &v) != 0)
          return TRUNC();
        if (rank >= KILN_MAX_RANK)
          return ERR(KILN_ERROR_UNSUPPORTED,
                     "'%s': tensor rank exceeds the runtime's limit of %d",
                     path, KILN_MAX_RANK);
        if ((int64_t)v < 0)
          return ERR(KILN_ERROR_FORMAT, "'%s': negative dimension %lld",
                     path, (long long)(int64_t)v);
        dims[rank++] = (int64_t)v;
      } while (wt == WT_LEN);
      break;
    }
    case F_DATA_TYPE:
      if (wt != WT_VARINT)
        return BAD_WT();
      if (rd_varint(b, len, &pos, &v) != 0)
        return TRUNC();
      data_type = (int32_t)(uint32_t)v;
      have_type = 1;
      break;
    case F_FLOAT:
    case F_DOUBLE: {
      unsigned fixed_wt = fn == F_FLOAT ? WT_I32 : WT_I64;
      size_t esz = fn == F_FLOAT ? 4 : 8;
      if (wt == fixed_wt) {
        if (len - pos < esz)
          return TRUNC();
        pos += esz;
        count[fn] += 1;
      } else if (wt == WT_LEN) {
        if (rd_len(b, len, &pos, &n) != 0)
          return TRUNC();
        if (n % esz != 0)
          return ERR(KILN_ERROR_FORMAT,
                     "'%s': packed %s at byte %zu has %zu bytes, not a "
                     "multiple of %zu",
                     path, field_name((int)fn), tag_pos, n, esz);
        pos += n;
        count[fn] += n / esz;
      } else {
        return BAD_WT();
      }
      break;
    }
    case F_INT32:
    case F_INT64:
    case F_UINT64:
      if (wt == WT_VARINT) {
        if (rd_varint(b, len, &pos, &v) != 0)
          return TRUNC();
        count[fn] += 1;
      } else if (wt == WT_LEN) {
        if (rd_len(b, len, &pos, &n) != 0 || count_varints(b, pos, n, &v))
          return TRUNC();
        pos += n;
        count[fn] += v;
      } else {
        return BAD_WT();
      }
      break;
    case F_STRING:
      if (wt != WT_LEN)
        return BAD_WT();
      return ERR(KILN_ERROR_UNSUPPORTED,
                 "'%s': string tensors (string_data) are not supported", path);
    case F_NAME:
    case F_SEGMENT:
    case F_DOC:
      if (wt != WT_LEN)
        return BAD_WT();
      if (rd_len(b, len, &pos, &n) != 0)
        return TRUNC();
      pos += n;
      break;
    case F_RAW:
      if (wt != WT_LEN)
        return BAD_WT();
      if (rd_len(b, len, &pos, &n) != 0)
        return TRUNC();
      have_raw = 1;
      raw_off = pos;
      raw_len = n;
      pos += n;
      break;
    case F_EXTERNAL:
      if (wt != WT_LEN)
        return BAD_WT();
      return ERR(KILN_ERROR_UNSUPPORTED,
                 "'%s': tensor data is stored externally (external_data); "
                 "only embedded data is supported",
                 path);
    case F_LOCATION:
      if (wt != WT_VARINT)
        return BAD_WT();
      if (rd_varint(b, len, &pos, &v) != 0)
        return TRUNC();
      if (v != 0)
        return ERR(KILN_ERROR_UNSUPPORTED,
                   "'%s': tensor data is stored externally (data_location=%llu)"
                   "; only embedded data is supported",
                   path, (unsigned long long)v);
      break;
    default:
      if (skip_field(b, len, &pos, wt, fn, 0) != 0)
        return TRUNC();
      break;
    }
#undef BAD_WT
#undef TRUNC
  }

  if (!have_type || data_type == 0)
    return ERR(KILN_ERROR_FORMAT,
               "'%s': not a TensorProto: missing data_type", path);
  if (data_type == KILN_STRING)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': string tensors are not supported", path);
  esize = kiln_elem_size(data_type);
  if (esize == 0)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': data type %s (%d) is not supported", path,
               kiln_elem_type_name(data_type), (int)data_type);
  kiln_format_type(ty, sizeof ty, data_type, rank, dims);
  if (kiln_shape_bytes(rank, dims, 1, &nelem) != 0 ||
      kiln_shape_bytes(rank, dims, esize, &bytes) != 0)
    return ERR(KILN_ERROR_FORMAT, "'%s': tensor %s is too large", path, ty);

  want = typed_field_for(data_type);
  for (f = 0; f < NUM_TYPED; ++f) {
    typed_total += count[f];
    if (count[f] && f != want)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': %s tensor has values in %s (expected %s)", path,
                 kiln_elem_type_name(data_type), field_name(f),
                 field_name(want));
  }
  if (have_raw && typed_total)
    return ERR(KILN_ERROR_FORMAT,
               "'%s': tensor has both raw_data and %s", path,
               field_name(want));

  out->elem_type = data_type;
  out->rank = rank;
  memcpy(out->shape, dims, sizeof(int64_t) * (size_t)rank);

  if (have_raw) {
    if ((uint64_t)raw_len != bytes)
      return ERR(KILN_ERROR_FORMAT,
                 "'%s': raw_data has %zu bytes, expected %llu for %s", path,
                 raw_len, (unsigned long long)bytes, ty);
    adopt_payload(out, *bufp, raw_off, raw_len);
    *bufp = NULL;
    return KILN_OK;
  }
  if (count[want] != nelem) {
    if (count[want] == 0)
      return ERR(KILN_ERROR_FORMAT, "'%s': tensor %s has no data", path, ty);
    return ERR(KILN_ERROR_FORMAT,
               "'%s': %s has %llu values, expected %llu for %s", path,
               field_name(want), (unsigned long long)count[want],
               (unsigned long long)nelem, ty);
  }
  /* nelem values were counted in the file, so `bytes` is at most 8x its
   * size (a 1-byte varint can expand to an 8-byte element). */
  out->data = malloc(bytes ? (size_t)bytes : 1);
  if (!out->data)
    return ERR(KILN_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
  out->byte_size = bytes;
  if (decode_typed(b, len, want, out, nelem) != 0) {
    kiln_tensor_free(out);
    return ERR(KILN_ERROR_FORMAT, "'%s': malformed %s", path,
               field_name(want));
  }
  return KILN_OK;
}

/*===----------------------------------------------------------------------===*/
/* NumPy .npy                                                                */
/*===----------------------------------------------------------------------===*/

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

typedef struct {
  const char *s;
  size_t i, n;
} txt;

static void skip_ws(txt *t) {
  while (t->i < t->n && (t->s[t->i] == ' ' || t->s[t->i] == '\t' ||
                         t->s[t->i] == '\n' || t->s[t->i] == '\r'))
    ++t->i;
}

static int eat(txt *t, char c) {
  skip_ws(t);
  if (t->i < t->n && t->s[t->i] == c) {
    ++t->i;
    return 1;
  }
  return 0;
}

static int peek(txt *t, char c) {
  skip_ws(t);
  return t->i < t->n && t->s[t->i] == c;
}

/* A Python string literal in ' or " quotes (no escapes). */
static int rd_pystr(txt *t, char *out, size_t out_size) {
  char q;
  size_t k = 0;
  skip_ws(t);
  if (t->i >= t->n || (t->s[t->i] != '\'' && t->s[t->i] != '"'))
    return 0;
  q = t->s[t->i++];
  while (t->i < t->n && t->s[t->i] != q) {
    if (t->s[t->i] == '\\' || k + 1 >= out_size)
      return 0;
    out[k++] = t->s[t->i++];
  }
  if (t->i >= t->n)
    return 0;
  ++t->i;
  out[k] = '\0';
  return 1;
}

static int rd_ident(txt *t, char *out, size_t out_size) {
  size_t k = 0;
  skip_ws(t);
  while (t->i < t->n && ((t->s[t->i] >= 'a' && t->s[t->i] <= 'z') ||
                         (t->s[t->i] >= 'A' && t->s[t->i] <= 'Z'))) {
    if (k + 1 >= out_size)
      return 0;
    out[k++] = t->s[t->i++];
  }
  out[k] = '\0';
  return k > 0;
}

/* Maps a NumPy dtype string to an ONNX type; 0 if unknown, -1 big endian. */
static int32_t npy_dtype(const char *d) {
  static const struct {
    const char *code;
    int32_t type;
  } table[] = {{"f4", KILN_FLOAT},   {"f8", KILN_DOUBLE}, {"f2", KILN_FLOAT16},
               {"i1", KILN_INT8},    {"u1", KILN_UINT8},  {"b1", KILN_BOOL},
               {"i2", KILN_INT16},   {"u2", KILN_UINT16}, {"i4", KILN_INT32},
               {"u4", KILN_UINT32},  {"i8", KILN_INT64},  {"u8", KILN_UINT64}};
  char order = '=';
  size_t i;
  if (*d == '<' || *d == '>' || *d == '|' || *d == '=')
    order = *d++;
  for (i = 0; i < sizeof table / sizeof table[0]; ++i) {
    if (strcmp(d, table[i].code) != 0)
      continue;
    if (kiln_elem_size(table[i].type) == 1)
      return table[i].type; /* byte order is irrelevant */
    if (order == '|')
      return 0;
    return order == '>' ? -1 : table[i].type;
  }
  return 0;
}

static const char *npy_descr(int32_t elem_type) {
  switch (elem_type) {
  case KILN_FLOAT: return "<f4";
  case KILN_DOUBLE: return "<f8";
  case KILN_FLOAT16: return "<f2";
  case KILN_INT8: return "|i1";
  case KILN_UINT8: return "|u1";
  case KILN_BOOL: return "|b1";
  case KILN_INT16: return "<i2";
  case KILN_UINT16: return "<u2";
  case KILN_INT32: return "<i4";
  case KILN_UINT32: return "<u4";
  case KILN_INT64: return "<i8";
  case KILN_UINT64: return "<u8";
  default: return NULL;
  }
}

static int32_t parse_npy(const char *path, uint8_t **bufp, size_t len,
                         kiln_tensor *out, char *err, size_t err_size) {
  const uint8_t *b = *bufp;
  unsigned major, minor;
  size_t hstart, hlen, data_off;
  txt t;
  char key[32], descr[32] = "", ident[16];
  int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0;
  int32_t rank = 0, elem_type;
  int64_t shape[KILN_MAX_RANK];
  uint64_t bytes;
  char ty[256];

  if (len < 10)
    return ERR(KILN_ERROR_FORMAT, "'%s': truncated .npy header", path);
  major = b[6];
  minor = b[7];
  if (major == 1) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12)
      return ERR(KILN_ERROR_FORMAT, "'%s': truncated .npy header", path);
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
           (size_t)b[11] << 24;
    hstart = 12;
  } else {
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': unsupported .npy format version %u.%u", path, major,
               minor);
  }
  if (hlen > len - hstart)
    return ERR(KILN_ERROR_FORMAT, "'%s': truncated .npy header", path);
  data_off = hstart + hlen;

  t.s = (const char *)b + hstart;
  t.i = 0;
  t.n = hlen;
#define BAD_HEADER()                                                           \
  ERR(KILN_ERROR_FORMAT, "'%s': malformed .npy header at offset %zu", path,   \
      hstart + t.i)
  if (!eat(&t, '{'))
    return BAD_HEADER();
  while (!eat(&t, '}')) {
    if (!rd_pystr(&t, key, sizeof key) || !eat(&t, ':'))
      return BAD_HEADER();
    if (strcmp(key, "descr") == 0) {
      if (peek(&t, '['))
        return ERR(KILN_ERROR_UNSUPPORTED,
                   "'%s': structured .npy dtypes are not supported", path);
      if (!rd_pystr(&t, descr, sizeof descr))
        return BAD_HEADER();
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (!rd_ident(&t, ident, sizeof ident))
        return BAD_HEADER();
      if (strcmp(ident, "True") == 0)
        fortran = 1;
      else if (strcmp(ident, "False") == 0)
        fortran = 0;
      else
        return BAD_HEADER();
      have_fortran = 1;
    } else if (strcmp(key, "shape") == 0) {
      if (!eat(&t, '('))
        return BAD_HEADER();
      rank = 0;
      while (!eat(&t, ')')) {
        uint64_t v = 0;
        int digits = 0;
        skip_ws(&t);
        while (t.i < t.n && t.s[t.i] >= '0' && t.s[t.i] <= '9') {
          unsigned dgt = (unsigned)(t.s[t.i++] - '0');
          if (v > ((uint64_t)INT64_MAX - dgt) / 10)
            return ERR(KILN_ERROR_FORMAT,
                       "'%s': .npy shape dimension is too large", path);
          v = v * 10 + dgt;
          ++digits;
        }
        if (!digits)
          return BAD_HEADER();
        if (t.i < t.n && t.s[t.i] == 'L') /* Python 2 long */
          ++t.i;
        if (rank >= KILN_MAX_RANK)
          return ERR(KILN_ERROR_UNSUPPORTED,
                     "'%s': tensor rank exceeds the runtime's limit of %d",
                     path, KILN_MAX_RANK);
        shape[rank++] = (int64_t)v;
        if (!eat(&t, ',')) {
          if (!eat(&t, ')'))
            return BAD_HEADER();
          break;
        }
      }
      have_shape = 1;
    } else {
      return ERR(KILN_ERROR_FORMAT, "'%s': unexpected key '%s' in .npy header",
                 path, key);
    }
    if (!eat(&t, ',')) {
      if (!eat(&t, '}'))
        return BAD_HEADER();
      break;
    }
  }
#undef BAD_HEADER
  if (!have_descr || !have_fortran || !have_shape)
    return ERR(KILN_ERROR_FORMAT,
               "'%s': .npy header lacks descr, fortran_order or shape", path);
  if (fortran)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': Fortran-order .npy arrays are not supported", path);
  elem_type = npy_dtype(descr);
  if (elem_type == -1)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': big-endian .npy dtype '%s' is not supported", path,
               descr);
  if (elem_type == 0)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "'%s': .npy dtype '%s' is not supported", path, descr);
  kiln_format_type(ty, sizeof ty, elem_type, rank, shape);
  if (kiln_shape_bytes(rank, shape, kiln_elem_size(elem_type), &bytes) != 0)
    return ERR(KILN_ERROR_FORMAT, "'%s': tensor %s is too large", path, ty);
  if ((uint64_t)(len - data_off) != bytes)
    return ERR(KILN_ERROR_FORMAT,
               "'%s': .npy data has %zu bytes, expected %llu for %s", path,
               len - data_off, (unsigned long long)bytes, ty);
  out->elem_type = elem_type;
  out->rank = rank;
  memcpy(out->shape, shape, sizeof(int64_t) * (size_t)rank);
  adopt_payload(out, *bufp, data_off, (size_t)bytes);
  *bufp = NULL;
  return KILN_OK;
}

int32_t kiln_tensor_read_file(const char *path, kiln_tensor *out, char *err,
                              size_t err_size) {
  uint8_t *buf;
  size_t len;
  int32_t rc;
  if (err && err_size)
    err[0] = '\0';
  if (!out)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "kiln_tensor_read_file: NULL tensor");
  memset(out, 0, sizeof *out);
  if (!path)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "kiln_tensor_read_file: NULL path");
  rc = kiln_read_whole_file(path, &buf, &len, err, err_size);
  if (rc != KILN_OK)
    return rc;
  if (len >= sizeof NPY_MAGIC && memcmp(buf, NPY_MAGIC, sizeof NPY_MAGIC) == 0)
    rc = parse_npy(path, &buf, len, out, err, err_size);
  else
    rc = kiln_tensor_parse_pb(path, &buf, len, out, err, err_size);
  free(buf); /* NULL if the tensor adopted it */
  if (rc != KILN_OK) {
    kiln_tensor_free(out);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

/*===----------------------------------------------------------------------===*/
/* Writing                                                                   */
/*===----------------------------------------------------------------------===*/

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

size_t kiln_pb_put_varint(uint8_t *p, uint64_t v) { return put_varint(p, v); }

size_t kiln_pb_varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/* What write_pb_body writes; keep the two in step. */
uint64_t kiln_tensor_pb_size(const kiln_tensor *t, const char *name) {
  uint64_t n = 0;
  int32_t i;
  for (i = 0; i < t->rank; ++i)
    n += 1 + kiln_pb_varint_size((uint64_t)t->shape[i]);
  n += 1 + kiln_pb_varint_size((uint64_t)(uint32_t)t->elem_type);
  if (name) {
    size_t len = strlen(name);
    n += 1 + kiln_pb_varint_size(len) + len;
  }
  n += 1 + kiln_pb_varint_size(t->byte_size) + t->byte_size;
  return n;
}

int kiln_tensor_write_pb_body(FILE *f, const kiln_tensor *t,
                              const char *name) {
  uint8_t hdr[16 * (KILN_MAX_RANK + 2)];
  size_t n = 0;
  int32_t i;
  for (i = 0; i < t->rank; ++i) { /* dims, unpacked like onnx writes them */
    hdr[n++] = (F_DIMS << 3) | WT_VARINT;
    n += put_varint(hdr + n, (uint64_t)t->shape[i]);
  }
  hdr[n++] = (F_DATA_TYPE << 3) | WT_VARINT;
  n += put_varint(hdr + n, (uint64_t)(uint32_t)t->elem_type);
  if (fwrite(hdr, 1, n, f) != n)
    return -1;
  if (name) {
    size_t len = strlen(name);
    n = 0;
    hdr[n++] = (F_NAME << 3) | WT_LEN;
    n += put_varint(hdr + n, len);
    if (fwrite(hdr, 1, n, f) != n || fwrite(name, 1, len, f) != len)
      return -1;
  }
  n = 0;
  hdr[n++] = (F_RAW << 3) | WT_LEN;
  n += put_varint(hdr + n, t->byte_size);
  if (fwrite(hdr, 1, n, f) != n)
    return -1;
  if (t->byte_size &&
      fwrite(t->data, 1, (size_t)t->byte_size, f) != (size_t)t->byte_size)
    return -1;
  return 0;
}

static int write_npy_body(FILE *f, const kiln_tensor *t) {
  char hdr[512];
  size_t n, total;
  int32_t i;
  n = (size_t)snprintf(hdr + 10, sizeof hdr - 10,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       npy_descr(t->elem_type));
  for (i = 0; i < t->rank; ++i)
    n += (size_t)snprintf(hdr + 10 + n, sizeof hdr - 10 - n, "%s%lld",
                          i ? ", " : "", (long long)t->shape[i]);
  n += (size_t)snprintf(hdr + 10 + n, sizeof hdr - 10 - n, "%s), }",
                        t->rank == 1 ? "," : "");
  total = (10 + n + 1 + 63) / 64 * 64; /* header ends 64-byte aligned */
  if (total > sizeof hdr)
    return -1;
  memset(hdr + 10 + n, ' ', total - 10 - n - 1);
  hdr[total - 1] = '\n';
  memcpy(hdr, NPY_MAGIC, 6);
  hdr[6] = 1;
  hdr[7] = 0;
  hdr[8] = (char)((total - 10) & 0xff);
  hdr[9] = (char)((total - 10) >> 8);
  if (fwrite(hdr, 1, total, f) != total)
    return -1;
  if (t->byte_size &&
      fwrite(t->data, 1, (size_t)t->byte_size, f) != (size_t)t->byte_size)
    return -1;
  return 0;
}

int32_t kiln_tensor_check_writable(const char *path, int format,
                                   const kiln_tensor *t, char *err,
                                   size_t err_size) {
  uint64_t bytes;
  if (t->rank < 0 || t->rank > KILN_MAX_RANK)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "cannot write '%s': bad rank %d",
               path, (int)t->rank);
  if (kiln_elem_size(t->elem_type) == 0)
    return ERR(KILN_ERROR_UNSUPPORTED,
               "cannot write '%s': data type %s is not supported", path,
               kiln_elem_type_name(t->elem_type));
  if (format == KILN_FORMAT_NPY && !npy_descr(t->elem_type))
    return ERR(KILN_ERROR_UNSUPPORTED,
               "cannot write '%s': NumPy has no %s dtype", path,
               kiln_elem_type_name(t->elem_type));
  if (kiln_shape_bytes(t->rank, t->shape, kiln_elem_size(t->elem_type),
                       &bytes) != 0 ||
      bytes != t->byte_size)
    return ERR(KILN_ERROR_INVALID_ARGUMENT,
               "cannot write '%s': byte_size %llu does not match the shape",
               path, (unsigned long long)t->byte_size);
  if (!t->data && bytes)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "cannot write '%s': no data",
               path);
  return KILN_OK;
}

int32_t kiln_write_tmp_file(const char *path, kiln_write_body_fn body,
                            const void *ctx, char *tmp_path, size_t tmp_size,
                            char *err, size_t err_size) {
  static unsigned counter;
  int fd = -1, attempt, e;
  FILE *f;
  int bad;

  for (attempt = 0; attempt < 100; ++attempt) {
    int n = snprintf(tmp_path, tmp_size, "%s.tmp.%ld.%u", path,
                     (long)getpid(), counter++);
    if (n < 0 || (size_t)n >= tmp_size)
      return ERR(KILN_ERROR_IO, "cannot write '%s': path too long", path);
    fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd >= 0 || errno != EEXIST)
      break;
  }
  if (fd < 0) {
    e = errno;
    tmp_path[0] = '\0';
    return ERR(KILN_ERROR_IO, "cannot write '%s': %s", path, strerror(e));
  }
  f = fdopen(fd, "wb");
  if (!f) {
    e = errno;
    close(fd);
    unlink(tmp_path);
    tmp_path[0] = '\0';
    return ERR(KILN_ERROR_IO, "cannot write '%s': %s", path, strerror(e));
  }
  errno = 0;
  bad = body(f, ctx);
  if (fflush(f) != 0)
    bad = 1;
  e = errno;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    unlink(tmp_path);
    tmp_path[0] = '\0';
    return ERR(KILN_ERROR_IO, "cannot write '%s': %s", path,
               e ? strerror(e) : "write failed");
  }
  return KILN_OK;
}

typedef struct {
  int format;
  const kiln_tensor *t;
  const char *name;
} tensor_body;

static int write_tensor_body(FILE *f, const void *ctx) {
  const tensor_body *tb = (const tensor_body *)ctx;
  return tb->format == KILN_FORMAT_NPY
             ? write_npy_body(f, tb->t)
             : kiln_tensor_write_pb_body(f, tb->t, tb->name);
}

int32_t kiln_tensor_write_tmp(const char *path, int format,
                              const kiln_tensor *t, const char *name,
                              char *tmp_path, size_t tmp_size, char *err,
                              size_t err_size) {
  tensor_body tb;
  int32_t rc;

  if (tmp_path && tmp_size)
    tmp_path[0] = '\0';
  if (!path || !t || !tmp_path || tmp_size == 0)
    return ERR(KILN_ERROR_INVALID_ARGUMENT, "kiln_tensor_write: NULL argument");
  rc = kiln_tensor_check_writable(path, format, t, err, err_size);
  if (rc != KILN_OK)
    return rc;
  tb.format = format;
  tb.t = t;
  tb.name = name;
  return kiln_write_tmp_file(path, write_tensor_body, &tb, tmp_path, tmp_size,
                             err, err_size);
}

int32_t kiln_rename_tmp(const char *tmp_path, const char *path, char *err,
                        size_t err_size) {
  if (rename(tmp_path, path) != 0) {
    int e = errno;
    unlink(tmp_path);
    return ERR(KILN_ERROR_IO, "cannot write '%s': %s", path, strerror(e));
  }
  return KILN_OK;
}

static int32_t write_atomic(const char *path, int format, const kiln_tensor *t,
                            const char *name, char *err, size_t err_size) {
  char tmp[4096 + 64];
  int32_t rc = kiln_tensor_write_tmp(path, format, t, name, tmp, sizeof tmp,
                                     err, err_size);
  if (rc != KILN_OK)
    return rc;
  return kiln_rename_tmp(tmp, path, err, err_size);
}

int32_t kiln_tensor_write_pb(const char *path, const kiln_tensor *t,
                             const char *name, char *err, size_t err_size) {
  return write_atomic(path, KILN_FORMAT_PB, t, name, err, err_size);
}

int32_t kiln_tensor_write_npy(const char *path, const kiln_tensor *t,
                              char *err, size_t err_size) {
  return write_atomic(path, KILN_FORMAT_NPY, t, NULL, err, err_size);
}
