/*===- tile_avx2.h - The 6 x 16 tile on vpmaddwd ---------------------------===*
 *
 * The packed route on AVX2: kMR x 16 blocks of int32 sums in ymm
 * registers, the inner loop in assembly.
 *
 * Part of int8_matmul.c's translation unit (included there once), so
 * that its static functions are inlined where int8_matmul.c calls them,
 * each compiled for its caller's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_INT8_TILE_AVX2_H
#define SINTER_RUNTIME_SRC_INT8_TILE_AVX2_H

#include "pack.h"

#include <immintrin.h>

/* C[rows][16] += (the kMR x 16 block of int32 sums of one A sliver and one
 * W panel over `pairs` pairs of k) * a_scale[row] * w_scale[column], for
 * the first `rows` rows and `width` columns.
 *
 * The loop is written in assembly: twelve accumulators, the two W vectors,
 * the broadcast A word and the product fill the 16 registers exactly, and
 * GCC (12) spills half the accumulators of the same loop in intrinsics
 * (bench/NOTES.md). */
SINTER_TARGET_AVX2 __attribute__((always_inline)) static inline void
microkernel(const int32_t *a, const int16_t *w, int64_t pairs, float *c,
            int64_t ldc, int rows, int64_t width, const float *a_scales,
            const float *w_scales) {
  _Static_assert(kMR == 6 && kWidth == 16, "the assembly holds 6 x 16");
  int32_t sums[kMR][kWidth] __attribute__((aligned(32)));
  __asm__ volatile(
      "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
      "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"
      "vpxor %%xmm2, %%xmm2, %%xmm2\n\t"
      "vpxor %%xmm3, %%xmm3, %%xmm3\n\t"
      "vpxor %%xmm4, %%xmm4, %%xmm4\n\t"
      "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"
      "vpxor %%xmm6, %%xmm6, %%xmm6\n\t"
      "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"
      "vpxor %%xmm8, %%xmm8, %%xmm8\n\t"
      "vpxor %%xmm9, %%xmm9, %%xmm9\n\t"
      "vpxor %%xmm10, %%xmm10, %%xmm10\n\t"
      "vpxor %%xmm11, %%xmm11, %%xmm11\n\t"
      "test %[pairs], %[pairs]\n\t"
      "jz 2f\n\t"
      "1:\n\t"
      "vmovdqa (%[w]), %%ymm12\n\t"
      "vmovdqa 32(%[w]), %%ymm13\n\t"
      "vpbroadcastd 0(%[a]), %%ymm14\n\t"
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm0, %%ymm0\n\t"
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm1, %%ymm1\n\t"
      "vpbroadcastd 4(%[a]), %%ymm14\n\t"
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm2, %%ymm2\n\t"
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm3, %%ymm3\n\t"
      "vpbroadcastd 8(%[a]), %%ymm14\n\t"
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm4, %%ymm4\n\t"
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm5, %%ymm5\n\t"
      "vpbroadcastd 12(%[a]), %%ymm14\n\t"
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm6, %%ymm6\n\t"
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm7, %%ymm7\n\t"
      "vpbroadcastd 16(%[a]), %%ymm14\n\t"
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm8, %%ymm8\n\t"
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm9, %%ymm9\n\t"
      "vpbroadcastd 20(%[a]), %%ymm14\n\t"
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm10, %%ymm10\n\t"
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"
      "vpaddd %%ymm15, %%ymm11, %%ymm11\n\t"
      "add $24, %[a]\n\t"
      "add $64, %[w]\n\t"
      "dec %[pairs]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "vmovdqu %%ymm0, 0(%[sums])\n\t"
      "vmovdqu %%ymm1, 32(%[sums])\n\t"
      "vmovdqu %%ymm2, 64(%[sums])\n\t"
      "vmovdqu %%ymm3, 96(%[sums])\n\t"
      "vmovdqu %%ymm4, 128(%[sums])\n\t"
      "vmovdqu %%ymm5, 160(%[sums])\n\t"
      "vmovdqu %%ymm6, 192(%[sums])\n\t"
      "vmovdqu %%ymm7, 224(%[sums])\n\t"
      "vmovdqu %%ymm8, 256(%[sums])\n\t"
      "vmovdqu %%ymm9, 288(%[sums])\n\t"
      "vmovdqu %%ymm10, 320(%[sums])\n\t"
      "vmovdqu %%ymm11, 352(%[sums])\n\t"
      : [a] "+r"(a), [w] "+r"(w), [pairs] "+r"(pairs)
      : [sums] "r"(sums)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
        "cc", "memory");
  const __m256 ws0 = _mm256_loadu_ps(w_scales),
               ws1 = _mm256_loadu_ps(w_scales + 8);
  for (int r = 0; r < rows; ++r) {
    const __m256 sa = _mm256_set1_ps(a_scales[r]);
    __m256 v0 = _mm256_mul_ps(
        _mm256_cvtepi32_ps(_mm256_load_si256((const __m256i *)sums[r])),
        _mm256_mul_ps(sa, ws0));
    __m256 v1 = _mm256_mul_ps(
        _mm256_cvtepi32_ps(_mm256_load_si256((const __m256i *)(sums[r] + 8))),
        _mm256_mul_ps(sa, ws1));
    float *row = c + r * ldc;
    if (width == kWidth) {
      _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), v0));
      _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), v1));
      continue;
    }
    float block[kWidth];
    _mm256_storeu_ps(block, v0);
    _mm256_storeu_ps(block + 8, v1);
    for (int64_t e = 0; e < width; ++e)
      row[e] += block[e];
  }
}

/* Rows [i0, i1) x columns [j0, j1) of one batch's C (j0 a multiple of 16,
 * i1 - i0 <= kMC, j1 - j0 <= kNC). */
SINTER_TARGET_AVX2 static void gemm_tile_avx2(const problem *p, int64_t batch,
                                              int64_t i0, int64_t i1,
                                              int64_t j0, int64_t j1,
                                              int32_t *packed_a,
                                              int16_t *panels) {
  const int8_t *matrix = w_matrix(p, batch);
  const int64_t rows = i1 - i0, s0 = j0 / kWidth,
                slivers = (j1 - j0 + kWidth - 1) / kWidth;
  const int64_t ldc = p->c->strides[1];
  /* The scales of the tile's rows and columns (padded to whole slivers). */
  float a_scales[kMC], w_scales[kNC];
  for (int64_t i = 0; i < rows; ++i)
    a_scales[i] = a_scale(p, batch, i0 + i);
  for (int64_t j = 0; j < slivers * kWidth; ++j)
    w_scales[j] = j0 + j < p->n ? w_scale(p, matrix, j0 + j) : 0.0f;
  initialize_c(p, batch, i0, i1, j0, j1);
  for (int64_t k0 = 0; k0 < p->k; k0 += kKC) {
    const int64_t kc = p->k - k0 < kKC ? p->k - k0 : kKC, pairs = (kc + 1) / 2;
    pack_a(p, batch, i0, rows, k0, kc, packed_a);
    unpack_w(p, matrix, s0, slivers, k0, kc, panels);
    for (int64_t t = 0; t < slivers; ++t) {
      const int64_t j = j0 + t * kWidth;
      const int64_t width = j1 - j < kWidth ? j1 - j : kWidth;
      for (int64_t s = 0; s * kMR < rows; ++s) {
        const int64_t r0 = s * kMR;
        microkernel(packed_a + s * pairs * kMR,
                    panels + t * pairs * 2 * kWidth, pairs,
                    c_row(p, batch, i0 + r0) + j, ldc,
                    rows - r0 < kMR ? (int)(rows - r0) : kMR, width,
                    a_scales + r0, w_scales + t * kWidth);
      }
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_INT8_TILE_AVX2_H */
