/* Start-up code for the Cortex-M4 (mps2-an386) and Cortex-M33 (mps2-an505)
 * boards: the vector table, and a reset handler that prepares memory and the
 * FPU, calls main and reports its return value to the host.
 *
 * The symbols used here (__stack_top, __data_load, ...) are defined by the
 * linker scripts (sections.ld).
 */
#include <stdint.h>

#include "semihosting.h"

int main(void);

extern uint32_t __stack_bottom[], __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

/* Written over the unused stack at reset; main later asks how much of it has
 * been overwritten (stack_high_water). */
#define STACK_PAINT 0xC0FFEE55u

/* Coprocessor Access Control Register: CP10 and CP11 are the FPU. */
#define CPACR (*(volatile uint32_t *)0xE000ED88u)

/* Any exception we do not expect: a fault, or an interrupt nobody enabled.
 * Report its number (IPSR: 3 is HardFault) and stop with status 2. */
void Default_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  sh_write("fatal: unexpected exception ");
  sh_write_uint(ipsr & 0x1ff);
  sh_write("\n");
  sh_exit(2);
}

static void paint_stack(void) {
  /* Everything below the current stack pointer is still unused. */
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = __stack_bottom; p < sp; ++p)
    *p = STACK_PAINT;
}

void Reset_Handler(void) {
  /* Give full access to the FPU before any floating-point instruction runs:
   * with -mfloat-abi=hard even passing a float argument uses it. */
  CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");

#if defined(__ARM_ARCH_8M_MAIN__)
  /* Armv8-M checks the stack pointer against a limit register: a stack
   * overflow becomes a fault instead of silently overwriting .bss. */
  __asm__ volatile("msr msplim, %0" ::"r"(__stack_bottom));
#endif

  /* Initialised data: copy from flash. Zero-initialised data: clear. */
  for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;)
    *dst++ = *src++;
  for (uint32_t *dst = __bss_start; dst < __bss_end;)
    *dst++ = 0;

  paint_stack();
  sh_exit(main());
}

/* How many bytes of the stack have been used since reset (the deepest point
 * reached), found as the lowest word that no longer holds the paint. */
uint32_t stack_high_water(void) {
  const uint32_t *p = __stack_bottom;
  while (p < __stack_top && *p == STACK_PAINT)
    ++p;
  return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

uint32_t stack_size(void) {
  return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
}

/* The vector table: the initial stack pointer, then the exception handlers
 * (Armv7-M / Armv8-M system exceptions 1-15). The linker scripts place it at
 * the start of flash, where the core reads it at reset. No interrupts are
 * enabled, so no device interrupt entries follow. */
typedef void (*handler_t)(void);
__attribute__((section(".vectors"), used))
const handler_t vector_table[16] = {
    (handler_t)__stack_top, /* 0: initial main stack pointer */
    Reset_Handler,          /* 1: reset */
    Default_Handler,        /* 2: NMI */
    Default_Handler,        /* 3: HardFault */
    Default_Handler,        /* 4: MemManage */
    Default_Handler,        /* 5: BusFault */
    Default_Handler,        /* 6: UsageFault */
    Default_Handler,        /* 7: SecureFault (Armv8-M) */
    0, 0, 0,                /* 8-10: reserved */
    Default_Handler,        /* 11: SVCall */
    Default_Handler,        /* 12: DebugMonitor */
    0,                      /* 13: reserved */
    Default_Handler,        /* 14: PendSV */
    Default_Handler,        /* 15: SysTick */
};
