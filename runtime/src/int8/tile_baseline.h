/*===- tile_baseline.h - The int8 product without vector extensions --------===*
 *
 * Plain loops over the packed layout.
 *
 * Part of int8_matmul.c's translation unit (included there once), so
 * that its static functions are inlined where int8_matmul.c calls them,
 * each compiled for its caller's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_INT8_TILE_BASELINE_H
#define SINTER_RUNTIME_SRC_INT8_TILE_BASELINE_H

#include "problem.h"

/*===-------------------------------------------------------------------===*
 * The portable route: plain loops over the packed layout, for CPUs without
 * AVX2 (and the reference the vector routes are tested against).
 *===-------------------------------------------------------------------===*/

static void tile_baseline(const problem *p, int64_t batch, int64_t i0,
                          int64_t i1, int64_t j0, int64_t j1) {
  const int8_t *matrix = w_matrix(p, batch);
  const int64_t k = p->k;
  initialize_c(p, batch, i0, i1, j0, j1);
  for (int64_t i = i0; i < i1; ++i) {
    const int8_t *a = a_row(p, batch, i);
    for (int64_t j = j0; j < j1; ++j) {
      const int8_t *w = matrix + (j / kWidth) * k * kWidth + j % kWidth;
      int64_t sum = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        sum += a_at(p, a, kk) * w[kk * kWidth];
      int32_t s32 = (int32_t)sum;
      add_scaled(p, batch, matrix, i, j, 1, &s32);
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_INT8_TILE_BASELINE_H */
