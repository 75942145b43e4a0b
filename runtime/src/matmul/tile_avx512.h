/*===- tile_avx512.h - The 12 x 32 tile of 16-float vectors ----------------===*
 *
 * The packed route on AVX-512: the same blocks and B slivers as
 * tile_avx2.h, a register block of zmm vectors.
 *
 * Part of matmul.c's translation unit (included there once), so that its
 * static functions are inlined into each CPU-feature variant of the
 * tile functions and compiled for that variant's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_TILE_AVX512_H
#define SINTER_RUNTIME_SRC_MATMUL_TILE_AVX512_H

#include "pack.h"

#include <immintrin.h>

/* The AVX-512 route of gemm_tile: the same blocks and the same B slivers
 * (16 columns, which the compiler's packed weights fix), but a 12 x 32
 * register block of zmm: two adjacent slivers per step, 24 accumulators,
 * 12 broadcasts of A and 24 FMAs per k. The 6 x 16 ymm block of gemm_tile,
 * compiled for AVX-512, reaches at most half of a core whose FMAs are 512
 * bits wide. */
/* C[0..rows) x [0..cols) += (A sliver of kMRw rows) x (B slivers b0 and,
 * with kPair, b1: 16 or 32 columns) over kc; with `first`, C = row0 + the
 * product (+ row_bias), as in microkernel. Only the sliver's first kRows
 * rows (4, 8 or 12, a constant after inlining; rows <= kRows) are
 * multiplied: the last block of a product whose rows are not a multiple
 * of 12 (128 = 10 x 12 + 8, 197 = 16 x 12 + 5) would otherwise spend a
 * whole block's FMAs on padding, about 3% of the models' products. */
SINTER_TARGET_AVX512 __attribute__((always_inline)) static inline void
microkernel_wide(int64_t kc, const float *restrict a, const float *restrict b0,
                 const float *restrict b1, float *c, int64_t ldc, int64_t rows,
                 int64_t cols, const float *row0, const float *row_bias,
                 int first,
                 const char *prefetch, int64_t prefetch_lines,
                 const int kPair, const int kRows) {
  __m512 acc[kMRw][2];
  if (!first)
    for (int r = 0; r < kRows; ++r) {
      __builtin_prefetch(c + r * ldc, 1, 3);
      __builtin_prefetch(c + r * ldc + kNR, 1, 3);
      __builtin_prefetch(c + r * ldc + 2 * kNR - 1, 1, 3);
    }
  for (int r = 0; r < kRows; ++r)
    acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += kMRw) {
    if (k < prefetch_lines)
      _mm_prefetch(prefetch + 64 * k, _MM_HINT_T1);
    const __m512 x0 = _mm512_loadu_ps(b0 + k * kNR);
    const __m512 x1 = kPair ? _mm512_loadu_ps(b1 + k * kNR) : x0;
    for (int r = 0; r < kRows; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, x0, acc[r][0]);
      if (kPair)
        acc[r][1] = _mm512_fmadd_ps(ar, x1, acc[r][1]);
    }
  }
  if (first && row_bias)
    for (int64_t r = 0; r < rows; ++r) {
      const __m512 bias = _mm512_set1_ps(row_bias[r]);
      acc[r][0] = _mm512_add_ps(acc[r][0], bias);
      acc[r][1] = _mm512_add_ps(acc[r][1], bias);
    }
  const int64_t width = kPair ? 2 * kNR : kNR;
  if (rows == kRows && cols == width) {
    for (int r = 0; r < kRows; ++r) {
      float *row = c + r * ldc;
      const float *from = first ? row0 : row;
      _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(from), acc[r][0]));
      if (kPair)
        _mm512_storeu_ps(row + kNR, _mm512_add_ps(_mm512_loadu_ps(from + kNR),
                                                  acc[r][1]));
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float block[2 * kNR];
    _mm512_storeu_ps(block, acc[r][0]);
    _mm512_storeu_ps(block + kNR, acc[r][1]);
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = (first ? row0[j] : c[r * ldc + j]) + block[j];
  }
}

SINTER_TARGET_AVX512 static void gemm_tile_wide(const problem *p,
                                                int64_t batch, int64_t i0,
                                                int64_t i1, int64_t j0,
                                                int64_t width,
                                                float *restrict packed_a,
                                                float *restrict packed_b) {
  const float *a = a_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t ldc = p->c->strides[1];
  const int64_t cols = p->n - j0 < width ? p->n - j0 : width;
  float row0[kNC] __attribute__((aligned(64)));
  initial_row(p, j0, cols, row0);
  const float *row_bias = p->bias_per_row;
  for (int64_t k0 = 0; k0 < p->k; k0 += p->kc) {
    const int64_t kc = p->k - k0 < p->kc ? p->k - k0 : p->kc;
    int64_t sliver_stride;
    const float *slivers =
        b_block(p, batch, k0, kc, j0, cols, packed_b, &sliver_stride);
    for (int64_t ic = i0; ic < i1; ic += kMCw) {
      const int64_t rows = i1 - ic < kMCw ? i1 - ic : kMCw;
      if (!p->packed_a)
        pack_a(p, a, ic, rows, k0, kc, packed_a, kMRw);
      /* The register blocks of one pair of B slivers fetch the next
       * pair into L2, a part each: a weight comes from memory once, and
       * fetched all by the pair's first block (12 rows, 10 bytes a cycle)
       * it stalls that block. Each sliver is kc lines. */
      const int64_t blocks = (rows + kMRw - 1) / kMRw,
                    parts = (blocks + 1) / 2,
                    part_lines = (kc + parts - 1) / parts;
      for (int64_t jr = 0; jr < cols; jr += 2 * kNR) {
        const float *b0 = slivers + jr / kNR * sliver_stride;
        const int64_t left = cols - jr;
        const int64_t next_slivers =
            left <= 2 * kNR ? 0 : left <= 3 * kNR ? 1 : 2;
        for (int64_t ir = 0, q = 0; ir < rows; ir += kMRw, ++q) {
          const int64_t height = rows - ir < kMRw ? rows - ir : kMRw;
          float *block = c + (ic + ir) * ldc + j0 + jr;
          /* Block q fetches part q / 2 of the next pair's sliver q % 2. */
          const int64_t sliver = q % 2, first_line = q / 2 * part_lines;
          int64_t lines = sliver < next_slivers ? kc - first_line : 0;
          if (lines > part_lines)
            lines = part_lines;
          const char *ahead =
              lines > 0 ? (const char *)(b0 + (2 + sliver) * sliver_stride) +
                              64 * first_line
                        : (const char *)b0;
          const float *sliver_a = p->packed_a
                                      ? packed_a_rows(p, ic + ir, k0)
                                      : packed_a + ir * kc;
          const int64_t block_cols = left < 2 * kNR ? left : 2 * kNR;
          const int pair = left > kNR;
#define SINTER_WIDE_BLOCK(PAIR, ROWS)                                          \
  microkernel_wide(kc, sliver_a, b0, PAIR ? b0 + sliver_stride : b0, block,   \
                   ldc, height, block_cols, row0 + jr,                                    \
                   row_bias ? row_bias + ic + ir : NULL, k0 == 0, ahead, lines, \
                   PAIR, ROWS)
          if (height > 8)
            pair ? SINTER_WIDE_BLOCK(1, 12) : SINTER_WIDE_BLOCK(0, 12);
          else if (height > 4)
            pair ? SINTER_WIDE_BLOCK(1, 8) : SINTER_WIDE_BLOCK(0, 8);
          else
            pair ? SINTER_WIDE_BLOCK(1, 4) : SINTER_WIDE_BLOCK(0, 4);
#undef SINTER_WIDE_BLOCK
        }
      }
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_TILE_AVX512_H */
