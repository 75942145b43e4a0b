/* The fp32 FMA peak of one core: twelve independent chains of fused
 * multiply-adds on the widest vectors this build targets (-march=native),
 * registers only, so the figure is the core's arithmetic limit and nothing
 * else. Prints GFLOP/s (2 FLOPs per lane per FMA), the best of 5 runs.
 *
 *   cc -O3 -march=native bench/limits/fma_peak.c -o fma_peak && ./fma_peak
 *
 * Each chain is its own variable, passed through an empty asm statement
 * every step: the compiler can neither keep a chain in memory nor prove one
 * constant. Chain 1 starts at 1.0, which is exactly the fixed point of
 * a * 0.9999 + 0.0001 in float; GCC once folded that chain away, so the
 * loop ran 11 FMAs a step while the rate counted 12 and the peak read 9%
 * high (bench/NOTES.md, "The FMA probe").
 */
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vf __attribute__((vector_size(LANES * 4)));
enum { kChains = 12 };
/* X(chain) for each of the kChains chains. */
#define FOR_EACH_CHAIN(X)                                                      \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  const vf zero = {0};
  const vf m = zero + 0.9999f, c = zero + 0.0001f;
#define DECLARE(i) vf a##i = zero + (float)(i);
  FOR_EACH_CHAIN(DECLARE)
  const long iterations = 50000000;
  double best = 0.0;
  for (int run = 0; run < 5; ++run) {
    double start = seconds();
    for (long n = 0; n < iterations; ++n) {
#define STEP(i) a##i = a##i * m + c; /* an FMA with -march=native */
      FOR_EACH_CHAIN(STEP)
      __asm__("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4),
              "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10),
              "+x"(a11));
    }
    double rate = (double)iterations * kChains * LANES * 2 / (seconds() - start) / 1e9;
    best = rate > best ? rate : best;
  }
  float checksum = 0.0f;
#define SUM(i) checksum += a##i[0];
  FOR_EACH_CHAIN(SUM)
  printf("%.1f GFLOP/s fp32 FMA, %d lanes (checksum %g)\n", best, LANES,
         (double)checksum);
  return 0;
}
