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
  case KILN_ERROR_NEEDS_INPUTS:
    return "the model's sizes depend on input values (use P_shapes_of)";
  case KILN_ERROR_OUT_OF_RANGE:
    return "an index or sequence position out of range, or an empty optional "
           "read";
  case KILN_ERROR_DEVICE:
    return "the GPU could not run the model";
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

#if defined(__arm__) || defined(__riscv)
/* double -> IEEE half, rounding to nearest even. LLVM calls a helper for
 * `fptrunc` to half on targets without half-precision hardware, and GCC 12's
 * libgcc lacks it on 32-bit Arm (__aeabi_d2h) and on RISC-V (__truncsfhf2,
 * __truncdfhf2), so the runtime defines them from this one conversion. */
static uint16_t kiln_double_to_half(double x) {
  union {
    double d;
    uint64_t u;
  } in;
  in.d = x;
  uint16_t sign = (uint16_t)((in.u >> 48) & 0x8000u);
  int exp = (int)((in.u >> 52) & 0x7ff);
  uint64_t mant = in.u & 0xfffffffffffffull;
  if (exp == 0x7ff) /* inf, or NaN kept quiet with its top payload bits */
    return (uint16_t)(sign | 0x7c00u |
                      (mant ? 0x200u | (uint16_t)(mant >> 42) : 0u));
  int e = exp - 1023 + 15;
  if (e >= 31)
    return (uint16_t)(sign | 0x7c00u); /* overflow: infinity */
  uint64_t bits;  /* the result's magnitude before rounding */
  uint64_t rest;  /* the bits shifted out */
  uint64_t halfway;
  if (e <= 0) { /* a half subnormal (or zero): units of 2^-24 */
    int shift = 1051 - exp;
    if (shift >= 64)
      return sign;
    uint64_t full = mant | (exp ? 1ull << 52 : 0);
    bits = full >> shift;
    rest = full & ((1ull << shift) - 1);
    halfway = 1ull << (shift - 1);
  } else {
    bits = ((uint64_t)e << 10) | (mant >> 42);
    rest = mant & ((1ull << 42) - 1);
    halfway = 1ull << 41;
  }
  if (rest > halfway || (rest == halfway && (bits & 1)))
    ++bits; /* a carry moves into the exponent, up to infinity */
  return (uint16_t)(sign | bits);
}
#endif

#if defined(__arm__)
/* Like every Arm run-time ABI helper, it takes its argument in core
 * registers (the base, soft-float procedure call standard). */
#define KILN_AEABI __attribute__((pcs("aapcs")))
KILN_AEABI uint16_t __aeabi_d2h(double x);
KILN_AEABI uint16_t __aeabi_d2h(double x) { return kiln_double_to_half(x); }
#endif

#if defined(__riscv)
/* The RISC-V psABI passes a half in a float register, NaN-boxed: the upper
 * 16 bits all ones. GCC 12 has no _Float16 here, so the result is built as
 * the float with those bits (a plain register move, no rounding). */
static float kiln_box_half(uint16_t h) {
  union {
    uint32_t u;
    float f;
  } out;
  out.u = 0xffff0000u | h;
  return out.f;
}
float __truncdfhf2(double x);
float __truncsfhf2(float x);
float __truncdfhf2(double x) { return kiln_box_half(kiln_double_to_half(x)); }
/* Every float is exactly a double, so one rounding is all there is. */
float __truncsfhf2(float x) { return kiln_box_half(kiln_double_to_half(x)); }
#endif
