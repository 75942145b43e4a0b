/* Times the Halide-generated GEMM (gemm_generator.cpp) as bench/gemm/gemm.c
 * times the runtime's kernel: same operands, same packed-weight layout,
 * median of `runs` calls after one untimed call, on OMP_NUM_THREADS threads
 * of Halide's pool; checks 64 entries against a double-precision sum.
 * Prints "median_ms GFLOP/s max_error".
 *
 *   OMP_NUM_THREADS=1 ./gemm_halide M N K [runs] [packed]
 */
#include "HalideRuntime.h"
#include "sinter_gemm_halide.h"
#include "sinter_gemm_halide_packed.h"

#include "timing.h"

#include "sinter/kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kWidth = SINTER_MATMUL_PACK_WIDTH };

static struct halide_buffer_t view(float *data, int rank, const int *extents) {
  struct halide_buffer_t buffer;
  memset(&buffer, 0, sizeof buffer);
  struct halide_dimension_t *dims = calloc((size_t)rank, sizeof(struct halide_dimension_t));
  int stride = 1;
  for (int d = 0; d < rank; ++d) {
    dims[d].min = 0;
    dims[d].extent = extents[d];
    dims[d].stride = stride;
    stride *= extents[d];
  }
  buffer.host = (uint8_t *)data;
  buffer.type.code = halide_type_float;
  buffer.type.bits = 32;
  buffer.type.lanes = 1;
  buffer.dimensions = rank;
  buffer.dim = dims;
  return buffer;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: gemm_halide M N K [runs] [packed]\n");
    return 2;
  }
  int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
  int runs = argc > 4 ? atoi(argv[4]) : 10;
  int packed = argc > 5 && atoi(argv[5]);
  const char *threads = getenv("OMP_NUM_THREADS");
  halide_set_num_threads(threads ? atoi(threads) : 1);
  int slivers = (n + kWidth - 1) / kWidth;
  float *a = aligned_alloc(64, sizeof(float) * ((size_t)m * k + 16));
  float *b = aligned_alloc(64, sizeof(float) * ((size_t)k * n + 16));
  float *bp = aligned_alloc(64, sizeof(float) * ((size_t)slivers * kWidth * k + 16));
  float *c = aligned_alloc(64, sizeof(float) * ((size_t)m * n + 16));
  if (!a || !b || !bp || !c) {
    fprintf(stderr, "gemm_halide: out of memory\n");
    return 1;
  }
  srand(1);
  for (long i = 0; i < (long)m * k; ++i)
    a[i] = (float)rand() / RAND_MAX - 0.5f;
  for (long i = 0; i < (long)k * n; ++i)
    b[i] = ((float)rand() / RAND_MAX - 0.5f) / sqrtf((float)k);
  for (long j = 0; j < (long)slivers * kWidth; ++j)
    for (long p = 0; p < k; ++p)
      bp[(j / kWidth) * k * kWidth + p * kWidth + j % kWidth] =
          j >= n ? 0.0f : b[p * n + j];
  struct halide_buffer_t av = view(a, 2, (int[]){k, m});
  struct halide_buffer_t bv = packed ? view(bp, 3, (int[]){kWidth, k, slivers})
                              : view(b, 3, (int[]){n, k, 1});
  struct halide_buffer_t cv = view(c, 2, (int[]){n, m});
  int (*gemm)(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *) =
      packed ? sinter_gemm_halide_packed : sinter_gemm_halide;
  if (gemm(&av, &bv, &cv) != 0) {
    fprintf(stderr, "gemm_halide: the generated pipeline failed\n");
    return 1;
  }
  double *times = malloc(sizeof(double) * (size_t)runs);
  for (int r = 0; r < runs; ++r) {
    double start = seconds();
    gemm(&av, &bv, &cv);
    times[r] = seconds() - start;
  }
  qsort(times, (size_t)runs, sizeof(double), compare);
  double median = times[runs / 2];
  double error = gemm_max_error(a, b, c, m, n, k, 0);
  printf("%.4f %.2f %.3g\n", median * 1e3, 2.0 * m * n * k / median / 1e9, error);
  return error < 1e-3 ? 0 : 1;
}
