/* Memory bandwidth: a STREAM-style triad a[i] = b[i] + s * c[i], a copy
 * and a read-only sum (what a batch-1 GEMV does with its weight) over
 * arrays far larger than the last-level cache (256 MiB each by default), on
 * as many threads as OMP_NUM_THREADS says. Prints GB/s as bytes moved
 * (reads plus writes, write-allocate traffic not counted, as STREAM does)
 * over time, the best of 5 runs: "triad G copy G read G".
 *
 *   cc -O3 -march=native -fopenmp bench/limits/bandwidth.c -o bandwidth
 *   OMP_NUM_THREADS=1 ./bandwidth [MiB per array]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v8f __attribute__((vector_size(32)));

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
  double triad = 0.0, copy = 0.0, read = 0.0;
  float total = 0.0f;
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
    start = seconds();
    float sum = 0.0f;
    /* Four vector accumulators: one chain of dependent adds would be bound
     * by the add latency, not by memory. */
#pragma omp parallel reduction(+ : sum)
    {
      v8f acc[4] = {{0}};
#pragma omp for schedule(static)
      for (size_t block = 0; block < n / 32; ++block)
        for (int l = 0; l < 4; ++l) {
          v8f x;
          memcpy(&x, b + block * 32 + l * 8, sizeof(x));
          acc[l] += x;
        }
      for (int l = 0; l < 4; ++l)
        for (int e = 0; e < 8; ++e)
          sum += acc[l][e];
    }
    rate = 1.0 * n * sizeof(float) / (seconds() - start) / 1e9;
    total += sum;
    if (rate > read)
      read = rate;
  }
  printf("triad %.2f copy %.2f read %.2f\n", triad, copy, read);
  /* Keep the stores. */
  return a[n / 2] == 12345.0f && c[n / 3] == 54321.0f && total == -1.0f;
}
