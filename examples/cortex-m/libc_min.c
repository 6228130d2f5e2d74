/* The only C library functions a Kiln-compiled model needs: memcpy, memset and
 * memmove, under their standard names and under the Arm EABI helper names
 * (__aeabi_memcpy and friends) that LLVM emits for Arm targets.
 *
 * Build this file with -fno-builtin -fno-tree-loop-distribute-patterns, or
 * GCC may recognise the loops below and turn them back into calls to memcpy
 * and memset: infinite recursion.
 */
#include <stddef.h>
#include <stdint.h>

/* A word that may alias any other type, for the word-at-a-time loops. */
typedef uint32_t __attribute__((may_alias)) word_t;

void *memcpy(void *restrict dest, const void *restrict src, size_t n) {
  unsigned char *d = dest;
  const unsigned char *s = src;
  /* Word copies when both pointers are word aligned (the common case for
   * tensors), then the remaining bytes. */
  if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
    for (; n >= 4; n -= 4, d += 4, s += 4)
      *(word_t *)d = *(const word_t *)s;
  }
  while (n--)
    *d++ = *s++;
  return dest;
}

void *memmove(void *dest, const void *src, size_t n) {
  unsigned char *d = dest;
  const unsigned char *s = src;
  if (d <= s || d >= s + n)
    return memcpy(dest, src, n); /* no harmful overlap: copy forwards */
  while (n--)                    /* dest overlaps src from above: backwards */
    d[n] = s[n];
  return dest;
}

void *memset(void *dest, int c, size_t n) {
  unsigned char *d = dest;
  if (((uintptr_t)d & 3) == 0) {
    uint32_t word = (unsigned char)c * 0x01010101u;
    for (; n >= 4; n -= 4, d += 4)
      *(word_t *)d = word;
  }
  while (n--)
    *d++ = (unsigned char)c;
  return dest;
}

/* Arm EABI run-time helpers (Run-time ABI for the Arm Architecture, 4.3.4).
 * The 4 and 8 variants may assume that kind of alignment; these simply
 * forward. Note __aeabi_memset takes (dest, n, c): not memset's order. */
void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memset(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset4(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset8(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }
