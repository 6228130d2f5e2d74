/* Arm semihosting calls (see semihosting.h). */
#include "semihosting.h"

enum {
  SYS_WRITE0 = 0x04,         /* write a NUL-terminated string */
  SYS_EXIT = 0x18,           /* report an exception or exit */
  SYS_EXIT_EXTENDED = 0x20,  /* same, with a status code on 32-bit Arm too */
};

/* The reason code for "the application exited normally" (ADP_Stopped_...). */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int32_t sh_call(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  /* The host reads the parameter block through r1, so memory is an input. */
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return (int32_t)r0;
}

void sh_write(const char *s) { sh_call(SYS_WRITE0, s); }

void sh_write_uint(uint32_t v) {
  char buf[11]; /* 4294967295 and the NUL */
  char *p = buf + sizeof buf;
  *--p = '\0';
  do
    *--p = (char)('0' + v % 10);
  while (v /= 10);
  sh_write(p);
}

void sh_exit(int32_t status) {
  /* On 32-bit Arm, SYS_EXIT takes only the reason code, so a status can only
   * be returned through SYS_EXIT_EXTENDED and its two-word parameter block. */
  const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
  sh_call(SYS_EXIT_EXTENDED, block);
  /* Not reached: the host ends the program. */
  for (;;)
    __asm__ volatile("wfi");
}
