/* Times the runtime's W8A8 kernel (sinter_qmatmul_i8: what a linear layer
 * of --quantize=w8a8 becomes) on C = A W, A M x K int8 with one scale per
 * row, W N x K int8 packed by sinter_qweight_pack with one scale per
 * column: median of `runs` calls after one untimed call, on
 * OMP_NUM_THREADS threads. Checks 64 entries against the exact integer
 * sum. Prints "median_ms GMAC/s max_rel_error" (multiply-adds: M N K).
 *
 *   cc -O2 -fopenmp -Iruntime/include bench/quant/i8gemm.c \
 *      build/lib/libsinter_rt_embedded.a -lm -o i8gemm
 *   OMP_NUM_THREADS=1 ./i8gemm M N K [runs]
 */
#include "sinter/runtime.h"

#include "../timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: i8gemm M N K [runs]\n");
    return 2;
  }
  long m = atol(argv[1]), n = atol(argv[2]), k = atol(argv[3]);
  int runs = argc > 4 ? atoi(argv[4]) : 20;
  sinter_qweight_desc desc = {8, SINTER_QWEIGHT_SCALES_BF16, 1, n, k, k};
  long size = (long)sinter_qweight_packed_size(&desc);
  int8_t *q = malloc((size_t)(n * k)), *a = malloc((size_t)(m * k));
  float *scales = malloc(sizeof(float) * (size_t)n),
        *a_scales = malloc(sizeof(float) * (size_t)m);
  float *c = aligned_alloc(64, sizeof(float) * (size_t)(m * n + 16));
  int8_t *packed = aligned_alloc(64, (size_t)((size + 63) / 64 * 64));
  if (size < 0 || !q || !a || !scales || !a_scales || !c || !packed) {
    fprintf(stderr, "i8gemm: bad shape or out of memory\n");
    return 1;
  }
  srand(1);
  for (long i = 0; i < n * k; ++i)
    q[i] = (int8_t)(rand() % 255 - 127);
  for (long i = 0; i < m * k; ++i)
    a[i] = (int8_t)(rand() % 255 - 127);
  for (long j = 0; j < n; ++j)
    scales[j] = 0.0078125f; /* a bfloat16 */
  for (long i = 0; i < m; ++i)
    a_scales[i] = 0.01f * (float)(1 + i % 7);
  if (sinter_qweight_pack(&desc, q, scales, NULL, packed) != 0) {
    fprintf(stderr, "i8gemm: cannot pack\n");
    return 1;
  }
  sinter_memref3_i8 av = {a, a, 0, {1, m, k}, {m * k, k, 1}};
  sinter_memref1_f32 sv = {a_scales, a_scales, 0, {m}, {1}};
  sinter_memref1_i8 wv = {packed, packed, 0, {size}, {1}};
  sinter_memref1_f32 none = {NULL, NULL, 0, {0}, {1}};
  sinter_memref3_f32 cv = {c, c, 0, {1, m, n}, {m * n, n, 1}};
  double *times = malloc(sizeof(double) * (size_t)runs);
  _mlir_ciface_sinter_qmatmul_i8(&av, &sv, 0, &wv, &none, &cv,
                                 SINTER_QMATMUL_ROW_SCALES);
  for (int r = 0; r < runs; ++r) {
    double t0 = seconds();
    _mlir_ciface_sinter_qmatmul_i8(&av, &sv, 0, &wv, &none, &cv,
                                   SINTER_QMATMUL_ROW_SCALES);
    times[r] = seconds() - t0;
  }
  double worst = 0.0;
  for (int s = 0; s < 64; ++s) {
    long i = (s * 7919L) % m, j = (s * 104729L) % n;
    long long sum = 0;
    for (long kk = 0; kk < k; ++kk)
      sum += (long long)a[i * k + kk] * q[j * k + kk];
    double expected = (double)sum * a_scales[i] * scales[j];
    double error = fabs(c[i * n + j] - expected) / (fabs(expected) + 1e-6);
    if (error > worst)
      worst = error;
  }
  qsort(times, (size_t)runs, sizeof(double), compare);
  double median = times[runs / 2];
  printf("%.4f %.2f %.2e\n", median * 1e3, (double)m * n * k / median / 1e9,
         worst);
  return 0;
}
