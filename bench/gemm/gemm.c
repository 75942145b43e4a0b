/* Times the runtime's matmul kernel (what f32 sinter.linear and
 * sinter.matmul become) on one product C = A B, A M x K, B K x N (or N x K
 * read transposed), as generated code calls it: median of `runs` calls
 * after one untimed call, on OMP_NUM_THREADS threads; with `packed`, B is
 * first packed into the kernel's layout, as sinterc packs constant weights.
 * Checks 64 entries against a double-precision sum. Prints "median_ms
 * GFLOP/s max_error".
 *
 *   cc -O2 -fopenmp -Iruntime/include bench/gemm/gemm.c \
 *      build/lib/libsinter_rt_embedded.a -lm -o gemm
 *   OMP_NUM_THREADS=1 ./gemm M N K [transposed] [runs] [packed]
 */
#include "sinter/runtime.h"

#include "../timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: gemm M N K [transposed] [runs]\n");
    return 2;
  }
  long m = atol(argv[1]), n = atol(argv[2]), k = atol(argv[3]);
  int transposed = argc > 4 && atoi(argv[4]);
  int runs = argc > 5 ? atoi(argv[5]) : 10;
  int packed = argc > 6 && atoi(argv[6]);
  float *a = aligned_alloc(64, sizeof(float) * (size_t)(m * k + 16));
  float *b = aligned_alloc(64, sizeof(float) * (size_t)(k * n + 16));
  float *c = aligned_alloc(64, sizeof(float) * (size_t)(m * n + 16));
  if (!a || !b || !c) {
    fprintf(stderr, "gemm: out of memory\n");
    return 1;
  }
  srand(1);
  for (long i = 0; i < m * k; ++i)
    a[i] = (float)rand() / RAND_MAX - 0.5f;
  for (long i = 0; i < k * n; ++i)
    b[i] = ((float)rand() / RAND_MAX - 0.5f) / sqrtf((float)k);
  sinter_memref3_f32 av = {a, a, 0, {1, m, k}, {m * k, k, 1}};
  sinter_memref3_f32 bv = {b, b, 0, {1, k, n}, {k * n, n, 1}};
  if (transposed)
    bv = (sinter_memref3_f32){b, b, 0, {1, n, k}, {k * n, k, 1}};
  sinter_memref3_f32 cv = {c, c, 0, {1, m, n}, {m * n, n, 1}};
  sinter_memref1_f32 none = {0};
  int flags = transposed ? SINTER_MATMUL_TRANSPOSE_B : 0;
  float *slivers = NULL;
  if (packed) {
    const long width = SINTER_MATMUL_PACK_WIDTH, count = (n + width - 1) / width;
    slivers = aligned_alloc(64, sizeof(float) * (size_t)(count * k * width));
    if (!slivers) {
      fprintf(stderr, "gemm: out of memory\n");
      return 1;
    }
    for (long j = 0; j < count * width; ++j)
      for (long p = 0; p < k; ++p)
        slivers[(j / width) * k * width + p * width + j % width] =
            j >= n ? 0.0f : transposed ? b[j * k + p] : b[p * n + j];
    bv = (sinter_memref3_f32){
        slivers, slivers, 0, {1, count, k * width}, {count * k * width, k * width, 1}};
    flags = SINTER_MATMUL_PACKED_B;
  }
  _mlir_ciface_sinter_matmul_f32(&av, &bv, &none, &cv, flags);
  double *times = malloc(sizeof(double) * (size_t)runs);
  for (int r = 0; r < runs; ++r) {
    double start = seconds();
    _mlir_ciface_sinter_matmul_f32(&av, &bv, &none, &cv, flags);
    times[r] = seconds() - start;
  }
  qsort(times, (size_t)runs, sizeof(double), compare);
  double median = times[runs / 2];
  double error = gemm_max_error(a, b, c, m, n, k, transposed);
  printf("%.4f %.2f %.3g\n", median * 1e3, 2.0 * m * n * k / median / 1e9,
         error);
  return error < 1e-3 ? 0 : 1;
}
