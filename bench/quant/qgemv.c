/* Times the runtime's quantized matmul kernel (what a linear layer by a
 * --quantize'd weight becomes) on C = A W, A M x K, W N x K packed by
 * sinter_qweight_pack: median of `runs` calls after one untimed call, on
 * OMP_NUM_THREADS threads. The weight is replicated into enough copies to
 * cover 64 MiB, used in turn, so that every call reads it from memory as
 * a decoding step reads each layer's weights (a single copy of a small
 * weight would stay in the caches). Checks 64 entries against a
 * double-precision sum over the dequantized weight. Prints "median_ms
 * weight_GB/s packed_bytes max_error".
 *
 *   cc -O2 -fopenmp -Iruntime/include -Iruntime/src bench/quant/qgemv.c \
 *      build/lib/libsinter_rt_embedded.a -lm -o qgemv
 *   OMP_NUM_THREADS=1 ./qgemv M N K bits group [runs]
 */
#include "sinter/runtime.h"

#include "../timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: qgemv M N K bits group [runs]\n");
    return 2;
  }
  long m = atol(argv[1]), n = atol(argv[2]), k = atol(argv[3]);
  int bits = atoi(argv[4]);
  long group = atol(argv[5]);
  int runs = argc > 6 ? atoi(argv[6]) : 20;
  long groups = (k + group - 1) / group;
  sinter_qweight_desc desc = {
      bits, SINTER_QWEIGHT_SCALES_BF16 | (bits == 4 ? SINTER_QWEIGHT_ZERO_POINTS : 0),
      1, n, k, group};
  long size = (long)sinter_qweight_packed_size(&desc);
  int8_t *q = malloc((size_t)(n * k)), *zp = malloc((size_t)(n * groups));
  float *scales = malloc(sizeof(float) * (size_t)(n * groups));
  float *a = aligned_alloc(64, sizeof(float) * (size_t)(m * k + 16));
  float *c = aligned_alloc(64, sizeof(float) * (size_t)(m * n + 16));
  long copies = (64L << 20) / size + 1;
  int8_t *packed = aligned_alloc(64, (size_t)(copies * ((size + 63) / 64 * 64)));
  if (size < 0 || !q || !zp || !scales || !a || !c || !packed) {
    fprintf(stderr, "qgemv: bad shape or out of memory\n");
    return 1;
  }
  srand(1);
  for (long i = 0; i < n * k; ++i)
    q[i] = (int8_t)(bits == 8 ? rand() % 255 - 127 : rand() % 16);
  for (long i = 0; i < n * groups; ++i) {
    scales[i] = 0.0078125f * (float)(1 + rand() % 4); /* exact in bfloat16 */
    zp[i] = (int8_t)(bits == 8 ? 0 : rand() % 16);
  }
  for (long i = 0; i < m * k; ++i)
    a[i] = (float)rand() / RAND_MAX - 0.5f;
  long stride = (size + 63) / 64 * 64;
  for (long copy = 0; copy < copies; ++copy)
    if (sinter_qweight_pack(&desc, q, scales, bits == 4 ? zp : NULL,
                            packed + copy * stride) != 0) {
      fprintf(stderr, "qgemv: cannot pack\n");
      return 1;
    }
  sinter_memref3_f32 av = {a, a, 0, {1, m, k}, {m * k, k, 1}};
  sinter_memref3_f32 cv = {c, c, 0, {1, m, n}, {m * n, n, 1}};
  sinter_memref1_f32 none = {NULL, NULL, 0, {0}, {1}};
  double *times = malloc(sizeof(double) * (size_t)runs);
  for (int r = -1; r < runs; ++r) {
    long copy = (r + 1) % copies;
    sinter_memref1_i8 wv = {packed, packed, copy * stride, {size}, {1}};
    double start = seconds();
    _mlir_ciface_sinter_qmatmul_f32(&av, &wv, &none, &cv, 0);
    if (r >= 0)
      times[r] = seconds() - start;
  }
  double error = 0.0;
  for (int t = 0; t < 64; ++t) {
    long i = (t * 7919L) % m, j = (t * 104729L) % n;
    double sum = 0.0;
    for (long x = 0; x < k; ++x)
      sum += (double)a[i * k + x] *
             ((double)q[j * k + x] - (bits == 4 ? zp[j * groups + x / group] : 0)) *
             scales[j * groups + x / group];
    double e = fabs(sum - c[i * n + j]);
    if (e > error)
      error = e;
  }
  qsort(times, (size_t)runs, sizeof(double), compare);
  double median = times[runs / 2];
  printf("%.4f %.2f %ld %.3g\n", median * 1e3, (double)size / median / 1e9, size, error);
  return 0;
}
