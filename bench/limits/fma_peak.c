/* The fp32 FMA peak of one core: twelve independent chains of fused
 * multiply-adds on the widest vectors this build targets (-march=native),
 * registers only, so the figure is the core's arithmetic limit and nothing
 * else. Prints GFLOP/s (2 FLOPs per lane per FMA), the best of 5 runs.
 *
 *   cc -O3 -march=native bench/limits/fma_peak.c -o fma_peak && ./fma_peak
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

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  const vf zero = {0};
  vf m = zero + 0.9999f, c = zero + 0.0001f;
  vf a[kChains];
  for (int i = 0; i < kChains; ++i)
    a[i] = zero + (float)i;
  const long iterations = 50000000;
  double best = 0.0;
  for (int run = 0; run < 5; ++run) {
    double start = seconds();
    for (long n = 0; n < iterations; ++n)
      for (int i = 0; i < kChains; ++i)
        a[i] = a[i] * m + c; /* contracted to an FMA with -march=native */
    double rate = (double)iterations * kChains * LANES * 2 / (seconds() - start) / 1e9;
    best = rate > best ? rate : best;
  }
  float checksum = 0.0f;
  for (int i = 0; i < kChains; ++i)
    checksum += a[i][0];
  printf("%.1f GFLOP/s fp32 FMA, %d lanes (checksum %g)\n", best, LANES,
         (double)checksum);
  return 0;
}
