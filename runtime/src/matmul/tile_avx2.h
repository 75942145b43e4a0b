/*===- tile_avx2.h - The 6 x 16 tile of 8-float vectors --------------------===*
 *
 * The packed route's register block in 8-float (ymm) vectors: AVX2's
 * tile, also compiled into the baseline variant (and the AVX-512
 * variant's, which runs gemm_tile_wide instead).
 *
 * Part of matmul.c's translation unit (included there once), so that its
 * static functions are inlined into each CPU-feature variant of the
 * tile functions and compiled for that variant's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_TILE_AVX2_H
#define SINTER_RUNTIME_SRC_MATMUL_TILE_AVX2_H

#include "pack.h"

/* C[0..rows) x [0..cols) += (packed A sliver) x (packed B sliver) over kc:
 * the kMR x kNR accumulators stay in registers for the whole depth. With
 * `first` (the first depth block), C is not read: it becomes the product
 * plus `row0`, the block's columns of the bias row (or zeros), plus
 * `row_bias[r]` on row r where the bias is per row (a convolution's; null
 * otherwise), so that C is never initialized in a pass of its own. Row r
 * of A's sliver at depth k is a[k lda + r]: lda is kMR where A was packed
 * for this block, kMaxMR where sinterc packed it (a constant after
 * inlining). Only the sliver's first kRows rows (2, 4 or 6, a constant
 * after inlining; rows <= kRows) are multiplied: a product of 32 rows is
 * five blocks of 6 and one of 2, which as a block of 6 would spend a ninth
 * of its FMAs on padding (the U-Net's and MobileNetV2's 16- and 32-channel
 * convolutions). */
SINTER_INLINE void microkernel(int64_t kc, const float *restrict a,
                               const float *restrict b, float *c,
                               int64_t ldc, int64_t rows, int64_t cols,
                               const float *row0, const float *row_bias,
                               int first, const int lda, const int kRows) {
  v8f acc[kMR][2];
  const v8f zero = {0};
  /* The block of C is read and written after the depth loop: start
   * fetching it now (its 16 floats may straddle two lines). */
  if (!first)
    for (int r = 0; r < kRows; ++r) {
      __builtin_prefetch(c + r * ldc, 1, 3);
      __builtin_prefetch(c + r * ldc + kNR - 1, 1, 3);
    }
  for (int r = 0; r < kMR; ++r)
    acc[r][0] = acc[r][1] = zero;
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    v8f b0, b1;
    LOAD8(b0, b + k * kNR);
    LOAD8(b1, b + k * kNR + 8);
    for (int r = 0; r < kRows; ++r) {
      v8f ar = zero + a[k * lda + r];
      acc[r][0] += ar * b0;
      acc[r][1] += ar * b1;
    }
  }
  if (first && row_bias)
    for (int64_t r = 0; r < rows; ++r) {
      acc[r][0] += row_bias[r];
      acc[r][1] += row_bias[r];
    }
  if (rows == kMR && cols == kNR) {
    for (int r = 0; r < kMR; ++r) {
      v8f c0, c1;
      if (first) {
        LOAD8(c0, row0);
        LOAD8(c1, row0 + 8);
      } else {
        LOAD8(c0, c + r * ldc);
        LOAD8(c1, c + r * ldc + 8);
      }
      c0 += acc[r][0];
      c1 += acc[r][1];
      STORE8(c + r * ldc, c0);
      STORE8(c + r * ldc + 8, c1);
    }
    return;
  }
  float block[kMR][kNR];
  for (int r = 0; r < kMR; ++r) {
    STORE8(block[r], acc[r][0]);
    STORE8(block[r] + 8, acc[r][1]);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = (first ? row0[j] : c[r * ldc + j]) + block[r][j];
}

/* One tile: rows [i0, i1) and columns [j0, j0 + width) of one batch's C
 * (width at most p->nc).
 * Each block of p->kc x p->nc of B is packed once and serves every block of
 * kMC rows of A (GotoBLAS's loop order), so B is read from memory once per
 * tile. */
SINTER_INLINE void gemm_tile(const problem *p, int64_t batch, int64_t i0,
                             int64_t i1, int64_t j0, int64_t width,
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
    for (int64_t ic = i0; ic < i1; ic += kMC) {
      const int64_t rows = i1 - ic < kMC ? i1 - ic : kMC;
      if (!p->packed_a)
        pack_a(p, a, ic, rows, k0, kc, packed_a, kMR);
      /* The B sliver stays in L1 while the A slivers stream from L2. */
      for (int64_t jr = 0; jr < cols; jr += kNR)
        for (int64_t ir = 0; ir < rows; ir += kMR) {
          const int64_t height = rows - ir < kMR ? rows - ir : kMR;
#define SINTER_BLOCK(A, LDA, ROWS)                                            \
  microkernel(kc, A, slivers + jr / kNR * sliver_stride,                      \
              c + (ic + ir) * ldc + j0 + jr, ldc, height,                     \
              cols - jr < kNR ? cols - jr : kNR, row0 + jr,                   \
              row_bias ? row_bias + ic + ir : NULL, k0 == 0, LDA, ROWS)
#define SINTER_BLOCKS(A, LDA)                                                 \
  if (height > 4)                                                             \
    SINTER_BLOCK(A, LDA, 6);                                                  \
  else if (height > 2)                                                        \
    SINTER_BLOCK(A, LDA, 4);                                                  \
  else                                                                        \
    SINTER_BLOCK(A, LDA, 2);
          if (p->packed_a) {
            SINTER_BLOCKS(packed_a_rows(p, ic + ir, k0), kMaxMR)
          } else {
            SINTER_BLOCKS(packed_a + ir * kc, kMR)
          }
#undef SINTER_BLOCKS
#undef SINTER_BLOCK
        }
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_TILE_AVX2_H */
