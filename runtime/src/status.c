/*===- status.c - status strings, element types, tensor checks ------------===*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln_internal.h"

const char *kiln_elem_type_name(int32_t elem_type) {
  static char unknown[32];
  switch (elem_type) {
#define KILN_ELEM_NAME_CASE(code, bytes, name)                                 \
  case code:                                                                   \
    return name;
    KILN_FOR_EACH_ELEM_TYPE(KILN_ELEM_NAME_CASE)
#undef KILN_ELEM_NAME_CASE
  case KILN_STRING: return "string";
  case 14: return "complex64";
  case 15: return "complex128";
  case 17: return "float8e4m3fn";
  case 18: return "float8e4m3fnuz";
  case 19: return "float8e5m2";
  case 20: return "float8e5m2fnuz";
  case 21: return "uint4";
  case 22: return "int4";
  default:
    snprintf(unknown, sizeof unknown, "type<%d>", (int)elem_type);
    return unknown;
  }
}

void kiln_format_type(char *buf, size_t size, int32_t elem_type, int32_t rank,
                      const int64_t *shape) {
  size_t used;
  int32_t i;
  if (!buf || size == 0)
    return;
  snprintf(buf, size, "%s[", kiln_elem_type_name(elem_type));
  used = strlen(buf);
  for (i = 0; i < rank && shape && used + 1 < size; ++i) {
    if (shape[i] < 0) /* a symbolic dimension */
      snprintf(buf + used, size - used, "%s?", i ? "," : "");
    else
      snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
               (long long)shape[i]);
    used += strlen(buf + used);
  }
  if (used + 1 < size) {
    buf[used] = ']';
    buf[used + 1] = '\0';
  }
}

static char device_error[512];

const char *kiln_device_error(void) { return device_error; }

void kiln_set_device_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(device_error, sizeof device_error, fmt, ap);
  va_end(ap);
}

int32_t kiln_set_error(char *err, size_t err_size, int32_t code,
                       const char *fmt, ...) {
  if (err && err_size > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
  }
  return code;
}

int kiln_shape_bytes(int32_t rank, const int64_t *shape, size_t elem_size,
                     uint64_t *bytes) {
  uint64_t n = 1;
  int32_t i;
  int zero = 0;
  if (rank < 0 || rank > KILN_MAX_RANK || (rank > 0 && !shape))
    return -1;
  for (i = 0; i < rank; ++i) {
    if (shape[i] < 0)
      return -1;
    if (shape[i] == 0)
      zero = 1;
  }
  if (zero) {
    *bytes = 0;
    return 0;
  }
  for (i = 0; i < rank; ++i) {
    uint64_t d = (uint64_t)shape[i];
    if (n > UINT64_MAX / d)
      return -1;
    n *= d;
  }
  if (elem_size && n > UINT64_MAX / elem_size)
    return -1;
  n *= elem_size;
  if (n > (uint64_t)SIZE_MAX)
    return -1;
  *bytes = n;
  return 0;
}

int32_t kiln_tensor_check(const kiln_tensor *t, const kiln_tensor_info *info,
                          char *err, size_t err_size) {
  char want[256], got[256];
  const char *name;
  int32_t i;
  int shape_ok, symbolic = 0;
  if (!t || !info)
    return kiln_set_error(err, err_size, KILN_ERROR_INVALID_ARGUMENT,
                          "kiln_tensor_check: NULL argument");
  name = info->name ? info->name : "?";
  kiln_format_type(want, sizeof want, info->elem_type, info->rank,
                   info->shape);
  kiln_format_type(got, sizeof got, t->elem_type, t->rank, t->shape);
  if (t->elem_type != info->elem_type)
    return kiln_set_error(err, err_size, KILN_ERROR_TYPE_MISMATCH,
                          "input '%s': expected %s, got %s", name, want, got);
  shape_ok = t->rank == info->rank;
  for (i = 0; shape_ok && i < t->rank; ++i) {
    shape_ok = info->shape && (t->shape[i] == info->shape[i] ||
                               (info->shape[i] < 0 && t->shape[i] >= 0));
    symbolic |= info->shape && info->shape[i] < 0;
  }
  if (!shape_ok)
    return kiln_set_error(err, err_size, KILN_ERROR_SHAPE_MISMATCH,
                          "input '%s': expected %s, got %s", name, want, got);
  if (!symbolic && t->byte_size != info->byte_size)
    return kiln_set_error(
        err, err_size, KILN_ERROR_SHAPE_MISMATCH,
        "input '%s': expected %llu bytes for %s, got %llu", name,
        (unsigned long long)info->byte_size, want,
        (unsigned long long)t->byte_size);
  if (!t->data && t->byte_size != 0)
    return kiln_set_error(err, err_size, KILN_ERROR_INVALID_ARGUMENT,
                          "input '%s': tensor has no data", name);
  return KILN_OK;
}

void kiln_tensor_free(kiln_tensor *t) {
  if (!t)
    return;
  free(t->data);
  t->data = NULL;
  t->byte_size = 0;
}
