/* Single-core fp32 FMA peak, for bench.py's "% of peak".
 *
 * Runs CHAINS independent chains of vector FMAs (acc = acc * a + b) on the
 * widest vectors the compiler targets (AVX-512, AVX, or 128-bit), enough of
 * them to hide the FMA latency on every current x86 and Arm core, and prints
 *
 *   fma_peak gflops=<GFLOP/s on one core> vector_bits=<width> chains=<n>
 *
 * the best of several timed rounds of about 0.1 s. Build and run:
 *
 *   cc -O2 -march=native -ffp-contract=fast -o fma_peak fma_peak.c && ./fma_peak
 */
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#define VBYTES 64
#elif defined(__AVX__)
#define VBYTES 32
#else
#define VBYTES 16
#endif
#define LANES (VBYTES / 4)
#define CHAINS 12

typedef float vf __attribute__((vector_size(VBYTES)));

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* iters x CHAINS x LANES FMAs; returns a value that depends on all of them. */
static float run(long iters, float seed) {
  vf a, b, acc[CHAINS];
  for (int l = 0; l < LANES; ++l) {
    a[l] = 0.999999f;
    b[l] = 1e-7f * seed;
  }
  for (int c = 0; c < CHAINS; ++c)
    for (int l = 0; l < LANES; ++l)
      acc[c][l] = seed + c + l;
  for (long i = 0; i < iters; ++i) {
    /* Keeps the multiplier in a register without letting the compiler see
     * through the loop. */
    __asm__ volatile("" : "+x"(a));
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = acc[c] * a + b;
  }
  float s = 0;
  for (int c = 0; c < CHAINS; ++c)
    for (int l = 0; l < LANES; ++l)
      s += acc[c][l];
  return s;
}

int main(void) {
  long iters = 1 << 16;
  float sink = 0;
  /* Calibrate to about 0.1 s per round. */
  for (;;) {
    double t0 = now();
    sink += run(iters, 1.0f);
    double dt = now() - t0;
    if (dt > 0.05) {
      iters = (long)(iters * 0.1 / dt) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int r = 0; r < 7; ++r) {
    double t0 = now();
    sink += run(iters, 1.0f + r);
    double dt = now() - t0;
    double gflops = 2.0 * iters * CHAINS * LANES / dt / 1e9;
    if (gflops > best)
      best = gflops;
  }
  printf("fma_peak gflops=%.2f vector_bits=%d chains=%d\n", best, VBYTES * 8,
         CHAINS);
  return sink == 12345.0f; /* keeps the result live */
}
