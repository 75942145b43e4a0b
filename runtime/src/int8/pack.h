/*===- pack.h - Packing A and the weight into pairs of k -------------------===*
 *
 * The AVX2 route's operands: rows of A as slivers of pair words, the
 * packed weight's slivers as int16 pair panels.
 *
 * Part of int8_matmul.c's translation unit (included there once), so
 * that its static functions are inlined where int8_matmul.c calls them,
 * each compiled for its caller's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_INT8_PACK_H
#define SINTER_RUNTIME_SRC_INT8_PACK_H

#include "problem.h"

#include <immintrin.h>

/* The pair (k, k + 1) of a sliver's 16-byte rows `row` (and `next`, or
 * zeros past K) as two vectors of 8 columns x 2 int16. */
SINTER_TARGET_AVX2 __attribute__((always_inline)) static inline void
load_w_pair(const int8_t *row, const int8_t *next, __m256i *lo, __m256i *hi) {
  __m128i r0 = _mm_loadu_si128((const __m128i *)row);
  __m128i r1 = next ? _mm_loadu_si128((const __m128i *)next) : _mm_setzero_si128();
  *lo = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(r0, r1));
  *hi = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(r0, r1));
}

/* Rows [i0, i0 + rows) x k [k0, k0 + kc) of A as slivers of kMR rows of
 * pair words: sliver s holds row i0 + s kMR + r, pair q at
 * (s pairs + q) kMR + r; rows past `rows` and k past K are zeros. */
static void pack_a(const problem *p, int64_t batch, int64_t i0, int64_t rows,
                   int64_t k0, int64_t kc, int32_t *out) {
  const int64_t pairs = (kc + 1) / 2, slivers = (rows + kMR - 1) / kMR;
  for (int64_t s = 0; s < slivers; ++s)
    for (int r = 0; r < kMR; ++r) {
      int32_t *dst = out + s * pairs * kMR + r;
      if (s * kMR + r >= rows) {
        for (int64_t q = 0; q < pairs; ++q)
          dst[q * kMR] = 0;
        continue;
      }
      const int8_t *a = a_row(p, batch, i0 + s * kMR + r);
      for (int64_t q = 0; q < pairs; ++q) {
        int64_t kk = k0 + 2 * q;
        dst[q * kMR] = pair_word(a_at(p, a, kk),
                                 2 * q + 1 < kc ? a_at(p, a, kk + 1) : 0);
      }
    }
}

/* Slivers [s0, s0 + count) x k [k0, k0 + kc) of the packed weight as pair
 * panels: sliver t, pair q at (t pairs + q) x 32 int16. */
SINTER_TARGET_AVX2 static void unpack_w(const problem *p, const int8_t *matrix,
                                        int64_t s0, int64_t count, int64_t k0,
                                        int64_t kc, int16_t *out) {
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t t = 0; t < count; ++t) {
    const int8_t *w = matrix + ((s0 + t) * p->k + k0) * kWidth;
    int16_t *dst = out + t * pairs * 2 * kWidth;
    for (int64_t q = 0; q < pairs; ++q) {
      __m256i lo, hi;
      const int8_t *row = w + 2 * q * kWidth;
      load_w_pair(row, 2 * q + 1 < kc ? row + kWidth : NULL, &lo, &hi);
      _mm256_store_si256((__m256i *)(dst + q * 2 * kWidth), lo);
      _mm256_store_si256((__m256i *)(dst + q * 2 * kWidth + 16), hi);
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_INT8_PACK_H */
