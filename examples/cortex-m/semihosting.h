/* Arm semihosting: the debugger (here QEMU, with -semihosting-config
 * enable=on,target=native) performs I/O on the firmware's behalf.
 *
 * A semihosting call is `bkpt 0xab` on M-profile cores with the operation
 * number in r0 and a parameter (or a pointer to a parameter block) in r1.
 * Only the two calls this example needs are wrapped here.
 */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

#include <stdint.h>

/* Writes a NUL-terminated string to the host's console (SYS_WRITE0). */
void sh_write(const char *s);

/* Writes an unsigned number in decimal. */
void sh_write_uint(uint32_t v);

/* Ends the program; `status` becomes QEMU's exit code (SYS_EXIT_EXTENDED). */
void sh_exit(int32_t status) __attribute__((noreturn));

#endif /* SEMIHOSTING_H */
