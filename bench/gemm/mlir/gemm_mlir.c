/* Times the GEMM that MLIR's vectorization generates (gemm.mlir.in under
 * schedule.mlir, built by bench/gemm/generated.py) as bench/gemm/gemm.c
 * times the runtime's kernel: the packed-weight layout sinterc gives
 * constant B (slivers of 32 columns, each K x 32 contiguous), median of
 * `runs` calls after one untimed call, on OMP_NUM_THREADS threads (the
 * generated function multiplies one panel of PANEL rows; this driver spreads
 * the panels over OpenMP threads, as the runtime spreads its tiles); checks
 * 64 entries against a double-precision sum. Prints "median_ms GFLOP/s
 * max_error". M, N, K and PANEL are compiled in (-D), as the generated code
 * is specialized to them.
 */
#include "../../timing.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { kWidth = 32, kSlivers = N / kWidth };

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} memref2;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} memref3;

void _mlir_ciface_gemm_panel(memref2 *a, memref3 *b, memref3 *c);

int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 10;
  _Static_assert(M % PANEL == 0 && N % kWidth == 0, "shape the schedule does not cover");
  float *a = aligned_alloc(64, sizeof(float) * (size_t)M * K);
  float *b = aligned_alloc(64, sizeof(float) * (size_t)K * N);
  float *bp = aligned_alloc(64, sizeof(float) * (size_t)K * N);
  float *c = aligned_alloc(64, sizeof(float) * (size_t)M * N);
  if (!a || !b || !bp || !c) {
    fprintf(stderr, "gemm_mlir: out of memory\n");
    return 1;
  }
  srand(1);
  for (long i = 0; i < (long)M * K; ++i)
    a[i] = (float)rand() / RAND_MAX - 0.5f;
  for (long i = 0; i < (long)K * N; ++i)
    b[i] = ((float)rand() / RAND_MAX - 0.5f) / sqrtf((float)K);
  for (long j = 0; j < N; ++j)
    for (long p = 0; p < K; ++p)
      bp[(j / kWidth) * K * kWidth + p * kWidth + j % kWidth] = b[p * N + j];
  memref3 bv = {bp, bp, 0, {kSlivers, K, kWidth}, {(int64_t)K * kWidth, kWidth, 1}};
  double *times = malloc(sizeof(double) * (size_t)runs);
  for (int r = -1; r < runs; ++r) {
    double start = seconds();
#pragma omp parallel for schedule(static)
    for (int panel = 0; panel < M / PANEL; ++panel) {
      memref2 av = {a, a, (int64_t)panel * PANEL * K, {PANEL, K}, {K, 1}};
      memref3 cv = {c, c, (int64_t)panel * PANEL * N, {PANEL, kSlivers, kWidth}, {N, kWidth, 1}};
      _mlir_ciface_gemm_panel(&av, &bv, &cv);
    }
    if (r >= 0)
      times[r] = seconds() - start;
  }
  qsort(times, (size_t)runs, sizeof(double), compare);
  double median = times[runs / 2];
  double error = gemm_max_error(a, b, c, M, N, K, 0);
  printf("%.4f %.2f %.3g\n", median * 1e3, 2.0 * M * N * K / median / 1e9, error);
  return error < 1e-3 ? 0 : 1;
}
