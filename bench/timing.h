/* What the kernel benchmarks (gemm/gemm.c, quant/qgemv.c) share: a
 * monotonic clock, the comparison qsort needs for the median, and the
 * GEMMs' check against a double-precision product. */
#ifndef SINTER_BENCH_TIMING_H
#define SINTER_BENCH_TIMING_H

#include <math.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The largest error of 64 entries of C = A B (A M x K, B K x N or, with
 * `transposed`, N x K; all row-major) against a double-precision sum: the
 * GEMM benchmarks' check that what they time is the product. */
static double gemm_max_error(const float *a, const float *b, const float *c, long m, long n,
                             long k, int transposed) {
  double error = 0.0;
  for (int s = 0; s < 64; ++s) {
    long i = (s * 7919L) % m, j = (s * 104729L) % n;
    double expected = 0.0;
    for (long p = 0; p < k; ++p)
      expected += (double)a[i * k + p] * (transposed ? b[j * k + p] : b[p * n + j]);
    double e = fabs(expected - c[i * n + j]);
    if (e > error)
      error = e;
  }
  return error;
}

#endif /* SINTER_BENCH_TIMING_H */
