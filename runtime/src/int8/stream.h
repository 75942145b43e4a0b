/*===- stream.h - One to three rows, streaming the weight once -------------===*
 *
 * Decoding's products on AVX2: each pair of the weight's rows read once
 * for all the rows of A.
 *
 * Part of int8_matmul.c's translation unit (included there once), so
 * that its static functions are inlined where int8_matmul.c calls them,
 * each compiled for its caller's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_INT8_STREAM_H
#define SINTER_RUNTIME_SRC_INT8_STREAM_H

#include "pack.h"

#include <immintrin.h>

/* Rows [0, kRows) of one batch's C (kRows < kStreamRows), columns [j0, j1)
 * (j0 a multiple of 16), reading each weight row once. */
SINTER_TARGET_AVX2 __attribute__((always_inline)) static inline void
stream_rows(const problem *p, int64_t batch, int64_t j0, int64_t j1,
            const int kRows) {
  const int8_t *matrix = w_matrix(p, batch);
  const int64_t k = p->k, pairs = (k + 1) / 2;
  int32_t words[kStreamRows - 1][kStreamPairs];
  for (int64_t p0 = 0; p0 < pairs; p0 += kStreamPairs) {
    const int64_t p1 = pairs - p0 < kStreamPairs ? pairs : p0 + kStreamPairs;
    for (int r = 0; r < kRows; ++r) {
      const int8_t *a = a_row(p, batch, r);
      for (int64_t q = p0; q < p1; ++q)
        words[r][q - p0] = pair_word(a_at(p, a, 2 * q),
                                     2 * q + 1 < k ? a_at(p, a, 2 * q + 1) : 0);
    }
    for (int64_t j = j0; j < j1; j += kWidth) {
      const int8_t *w = matrix + (j / kWidth) * k * kWidth;
      __m256i acc[kStreamRows - 1][2];
      for (int r = 0; r < kRows; ++r)
        acc[r][0] = acc[r][1] = _mm256_setzero_si256();
      for (int64_t q = p0; q < p1; ++q) {
        const int8_t *row = w + 2 * q * kWidth;
        __m256i lo, hi;
        load_w_pair(row, 2 * q + 1 < k ? row + kWidth : NULL, &lo, &hi);
        for (int r = 0; r < kRows; ++r) {
          __m256i x = _mm256_set1_epi32(words[r][q - p0]);
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x, lo));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x, hi));
        }
      }
      const int64_t width = j1 - j < kWidth ? j1 - j : kWidth;
      for (int r = 0; r < kRows; ++r) {
        int32_t sums[kWidth];
        _mm256_storeu_si256((__m256i *)sums, acc[r][0]);
        _mm256_storeu_si256((__m256i *)(sums + 8), acc[r][1]);
        add_scaled(p, batch, matrix, r, j, width, sums);
      }
    }
  }
}

SINTER_TARGET_AVX2 static void stream_avx2(const problem *p, int64_t batch,
                                           int64_t j0, int64_t j1) {
  initialize_c(p, batch, 0, p->m, j0, j1);
  switch (p->m) {
  case 1:
    stream_rows(p, batch, j0, j1, 1);
    break;
  case 2:
    stream_rows(p, batch, j0, j1, 2);
    break;
  default:
    stream_rows(p, batch, j0, j1, 3);
  }
}

#endif /* SINTER_RUNTIME_SRC_INT8_STREAM_H */
