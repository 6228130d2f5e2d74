/*===- kiln_internal.h - helpers shared by the runtime sources -------------===
 *
 * Not part of the ABI: used by status.c, tensor_io.c, arena.c and main.c only.
 *===----------------------------------------------------------------------===*/
#ifndef KILN_INTERNAL_H
#define KILN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/runtime.h"

#define KILN_MAX_RANK 8

#ifdef __cplusplus
extern "C" {
#endif

/* A readable name for an ONNX data type ("float32", "int64", "bool", ...);
 * "type<N>" for codes it does not know (in a static buffer, not reentrant). */
const char *kiln_elem_type_name(int32_t elem_type);

/* Formats "float32[1,3,224,224]" into buf (always NUL-terminated). */
void kiln_format_type(char *buf, size_t size, int32_t elem_type, int32_t rank,
                      const int64_t *shape);

/* snprintf into err if err is non-NULL and err_size > 0; returns `code`. */
int32_t kiln_set_error(char *err, size_t err_size, int32_t code,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Product of shape times element size with overflow checks; returns 0 and
 * sets *bytes on success, -1 on a negative dim or overflow. */
int kiln_shape_bytes(int32_t rank, const int64_t *shape, size_t elem_size,
                     uint64_t *bytes);

/* Output formats for kiln_tensor_write_tmp. */
enum { KILN_FORMAT_PB = 0, KILN_FORMAT_NPY = 1 };

/* Writes `t` in `format` into a new temporary file in the directory of
 * `path` (named like path.tmp.<pid>.<n>) and stores its name in tmp_path.
 * Nothing is left behind on failure. The caller renames the file over `path`
 * (or unlinks it); kiln_tensor_write_pb/_npy do exactly that. */
int32_t kiln_tensor_write_tmp(const char *path, int format,
                              const kiln_tensor *t, const char *name,
                              char *tmp_path, size_t tmp_size, char *err,
                              size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* KILN_INTERNAL_H */
