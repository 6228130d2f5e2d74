/*===- abi.c - status strings and element sizes ---------------------------===
 *
 * The part of the runtime every target has, bare metal included: it needs no
 * libc at all (no allocation, no I/O), so firmware can link it.
 *===----------------------------------------------------------------------===*/
#include "kiln/runtime.h"

const char *kiln_status_string(int32_t status) {
  switch (status) {
  case KILN_OK:
    return "success";
  case KILN_ERROR_INVALID_ARGUMENT:
    return "invalid argument (a NULL buffer pointer)";
  case KILN_ERROR_ARENA_ALIGNMENT:
    return "arena is not aligned to the model's arena_align";
  case KILN_ERROR_IO:
    return "a file could not be read or written";
  case KILN_ERROR_FORMAT:
    return "a tensor file is malformed";
  case KILN_ERROR_TYPE_MISMATCH:
    return "tensor element type mismatch";
  case KILN_ERROR_SHAPE_MISMATCH:
    return "tensor shape mismatch";
  case KILN_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case KILN_ERROR_UNSUPPORTED:
    return "unsupported feature or data type";
  default:
    return "unknown error";
  }
}

size_t kiln_elem_size(int32_t elem_type) {
  switch (elem_type) {
#define KILN_ELEM_SIZE_CASE(code, bytes, name)                                 \
  case code:                                                                   \
    return bytes;
    KILN_FOR_EACH_ELEM_TYPE(KILN_ELEM_SIZE_CASE)
#undef KILN_ELEM_SIZE_CASE
  default: /* KILN_STRING, complex, float8, 4-bit types, unknown codes */
    return 0;
  }
}
