/* What the kernel benchmarks (gemm/gemm.c, quant/qgemv.c) share: a
 * monotonic clock and the comparison qsort needs for the median. */
#ifndef SINTER_BENCH_TIMING_H
#define SINTER_BENCH_TIMING_H

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

#endif /* SINTER_BENCH_TIMING_H */
