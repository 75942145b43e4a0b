/* Memory bandwidth: a STREAM-style triad a[i] = b[i] + s * c[i] and a copy
 * over arrays far larger than the last-level cache (256 MiB each by
 * default), on as many threads as OMP_NUM_THREADS says. Prints GB/s as
 * bytes moved (reads plus writes, write-allocate traffic not counted, as
 * STREAM does) over time, the best of 5 runs: "triad G copy G".
 *
 *   cc -O3 -march=native -fopenmp bench/limits/bandwidth.c -o bandwidth
 *   OMP_NUM_THREADS=1 ./bandwidth [MiB per array]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
  size_t n = mib * 1024 * 1024 / sizeof(float);
  float *a = aligned_alloc(64, n * sizeof(float));
  float *b = aligned_alloc(64, n * sizeof(float));
  float *c = aligned_alloc(64, n * sizeof(float));
  if (!a || !b || !c) {
    fprintf(stderr, "bandwidth: cannot allocate 3 x %zu MiB\n", mib);
    return 1;
  }
  /* First touch on the threads that use the pages. */
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) {
    a[i] = 0.0f;
    b[i] = 1.0f;
    c[i] = 2.0f;
  }
  double triad = 0.0, copy = 0.0;
  const float s = 3.0f;
  for (int run = 0; run < 5; ++run) {
    double start = seconds();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; ++i)
      a[i] = b[i] + s * c[i];
    double rate = 3.0 * n * sizeof(float) / (seconds() - start) / 1e9;
    if (rate > triad)
      triad = rate;
    start = seconds();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; ++i)
      c[i] = a[i];
    rate = 2.0 * n * sizeof(float) / (seconds() - start) / 1e9;
    if (rate > copy)
      copy = rate;
  }
  printf("triad %.2f copy %.2f\n", triad, copy);
  /* Keep the stores. */
  return a[n / 2] == 12345.0f && c[n / 3] == 54321.0f;
}
