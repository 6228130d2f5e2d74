/*===- fuzz_common.h - what the runtime's libFuzzer targets share ---------===*/
#ifndef KILN_FUZZ_COMMON_H
#define KILN_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiln/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The readers take paths: the input goes to one file per process. */
static inline const char *kiln_fuzz_file(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0])
    snprintf(path, sizeof path, "/tmp/kiln_fuzz_in.%d", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f)
    abort();
  if (size && fwrite(data, 1, size, f) != size)
    abort();
  fclose(f);
  return path;
}

static inline const char *kiln_fuzz_out_path(void) {
  static char path[64];
  if (!path[0])
    snprintf(path, sizeof path, "/tmp/kiln_fuzz_out.%d.pb", (int)getpid());
  return path;
}

/* Reads every byte, so that the sanitizer sees a buffer shorter than its
 * claimed size. */
static inline void kiln_fuzz_touch(const void *data, uint64_t n) {
  const volatile uint8_t *p = (const volatile uint8_t *)data;
  uint8_t sum = 0;
  for (uint64_t i = 0; i < n; ++i)
    sum ^= p[i];
  (void)sum;
}

#endif /* KILN_FUZZ_COMMON_H */
