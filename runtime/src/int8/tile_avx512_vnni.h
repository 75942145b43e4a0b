/*===- tile_avx512_vnni.h - The 12 x 32 tile on vpdpbusd -------------------===*
 *
 * The packed route on AVX-512 VNNI: its own packing of A and of the
 * weight (groups of 4 k) and a 12 x 32 block of int32 sums in zmm
 * registers, the inner loop in assembly.
 *
 * Part of int8_matmul.c's translation unit (included there once), so
 * that its static functions are inlined where int8_matmul.c calls them,
 * each compiled for its caller's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_INT8_TILE_AVX512_VNNI_H
#define SINTER_RUNTIME_SRC_INT8_TILE_AVX512_VNNI_H

#include "problem.h"

#include <immintrin.h>

/*===-------------------------------------------------------------------===*
 * AVX-512 VNNI
 *
 * vpdpbusd multiplies groups of 4 unsigned by 4 signed bytes and adds each
 * group's sum into an int32: 64 multiply-adds per instruction on zmm, four
 * times vpmaddwd's on ymm. A is made unsigned, u = a + 128 (int8) or u = a
 * (uint8), and the offset comes back per column: with o = 128 + zero
 * point (int8) or the zero point (uint8),
 *   sum_k (a - zero point) w = sum_k u w - o sum_k w.
 * A sliver of kMRv rows holds per group of 4 k one int32 word of 4 bytes
 * per row; a panel of 32 columns (two slivers of the packed weight) holds
 * per group two vectors of 16 columns x 4 bytes, and the column sums of
 * its block.
 *===-------------------------------------------------------------------===*/

enum { kMRv = 12, kNRv = 32 }; /* the assembly below holds 12 x 32 */

/* A's byte at (row, k) as the unsigned operand: a + 128 for int8. */
static inline uint8_t a_unsigned_at(const problem *p, const int8_t *row,
                                    int64_t k) {
  const int8_t value = row[k * p->a->strides[2]];
  return p->a_unsigned ? (uint8_t)value : (uint8_t)(value + 128);
}

/* Rows [i0, i0 + rows) x k [k0, k0 + kc) of A as slivers of kMRv rows:
 * sliver s, group g (k0 + 4g ...), row r at (s groups + g) kMRv + r;
 * rows past `rows` and k past kc are zero bytes. */
static void pack_a_vnni(const problem *p, int64_t batch, int64_t i0,
                        int64_t rows, int64_t k0, int64_t kc, uint32_t *out) {
  const int64_t groups = (kc + 3) / 4, slivers = (rows + kMRv - 1) / kMRv;
  for (int64_t s = 0; s < slivers; ++s)
    for (int r = 0; r < kMRv; ++r) {
      uint32_t *dst = out + s * groups * kMRv + r;
      if (s * kMRv + r >= rows) {
        for (int64_t g = 0; g < groups; ++g)
          dst[g * kMRv] = 0;
        continue;
      }
      const int8_t *a = a_row(p, batch, i0 + s * kMRv + r);
      int64_t g = 0;
      if (p->a->strides[2] == 1) {
        /* Contiguous: 4 bytes at a time; a + 128 flips the sign bit. */
        const uint32_t flip = p->a_unsigned ? 0u : 0x80808080u;
        for (; 4 * g + 4 <= kc; ++g) {
          uint32_t word;
          memcpy(&word, a + k0 + 4 * g, 4);
          dst[g * kMRv] = word ^ flip;
        }
      }
      for (; g < groups; ++g) {
        uint32_t word = 0;
        for (int e = 0; e < 4 && 4 * g + e < kc; ++e)
          word |= (uint32_t)a_unsigned_at(p, a, k0 + 4 * g + e) << (8 * e);
        dst[g * kMRv] = word;
      }
    }
}

/* Panels of 32 columns from slivers [s0, s0 + count) (a missing second
 * sliver is zeros) x k [k0, k0 + kc): panel t, group g at
 * (t groups + g) x 128 bytes; and per column its block's sum of weights,
 * sums[t * 32 + c]. */
SINTER_TARGET_AVX512_VNNI static void
unpack_w_vnni(const problem *p, const int8_t *matrix, int64_t s0,
              int64_t count, int64_t k0, int64_t kc, int8_t *out,
              int32_t *sums) {
  const int64_t groups = (kc + 3) / 4, panels = (count + 1) / 2;
  const __m128i zero = _mm_setzero_si128();
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t t = 0; t < panels; ++t)
    for (int half = 0; half < 2; ++half) {
      const int64_t sliver = 2 * t + half;
      int8_t *dst = out + t * groups * 128 + half * 64;
      __m512i total = _mm512_setzero_si512();
      const int8_t *w = matrix + ((s0 + sliver) * p->k + k0) * kWidth;
      for (int64_t g = 0; g < groups; ++g, dst += 128) {
        __m128i r[4];
        for (int e = 0; e < 4; ++e)
          r[e] = sliver < count && 4 * g + e < kc
                     ? _mm_loadu_si128((const __m128i *)(w + (4 * g + e) * kWidth))
                     : zero;
        /* 4 rows of 16 bytes to 16 columns of 4 bytes. */
        __m128i lo01 = _mm_unpacklo_epi8(r[0], r[1]),
                hi01 = _mm_unpackhi_epi8(r[0], r[1]),
                lo23 = _mm_unpacklo_epi8(r[2], r[3]),
                hi23 = _mm_unpackhi_epi8(r[2], r[3]);
        __m512i quads = _mm512_inserti32x4(
            _mm512_inserti32x4(
                _mm512_inserti32x4(
                    _mm512_castsi128_si512(_mm_unpacklo_epi16(lo01, lo23)),
                    _mm_unpackhi_epi16(lo01, lo23), 1),
                _mm_unpacklo_epi16(hi01, hi23), 2),
            _mm_unpackhi_epi16(hi01, hi23), 3);
        _mm512_store_si512((__m512i *)dst, quads);
        total = _mm512_dpbusd_epi32(total, ones, quads);
      }
      _mm512_storeu_si512((__m512i *)(sums + t * kNRv + half * kWidth), total);
    }
}

/* C[rows][width] += (sum_k u w - offset * column sum) * a_scale * w_scale
 * for one A sliver and one panel over `groups` groups of 4 k. */
SINTER_TARGET_AVX512_VNNI __attribute__((always_inline)) static inline void
microkernel_vnni(const uint32_t *a, const int8_t *w, int64_t groups, float *c,
                 int64_t ldc, int rows, int64_t width, const float *a_scales,
                 const float *w_scales, const int32_t *column_sums,
                 int32_t offset) {
  /* The loop in assembly for the reason microkernel's is (GCC 12 moves
   * every accumulator through the stack on each step). */
  int32_t sums[kMRv][kNRv] __attribute__((aligned(64)));
  __asm__ volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
      "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"
      "vpxord %%zmm4, %%zmm4, %%zmm4\n\t"
      "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"
      "vpxord %%zmm6, %%zmm6, %%zmm6\n\t"
      "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"
      "vpxord %%zmm8, %%zmm8, %%zmm8\n\t"
      "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"
      "vpxord %%zmm10, %%zmm10, %%zmm10\n\t"
      "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"
      "vpxord %%zmm12, %%zmm12, %%zmm12\n\t"
      "vpxord %%zmm13, %%zmm13, %%zmm13\n\t"
      "vpxord %%zmm14, %%zmm14, %%zmm14\n\t"
      "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"
      "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
      "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
      "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
      "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
      "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
      "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
      "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
      "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
      "test %[groups], %[groups]\n\t"
      "jz 2f\n\t"
      "1:\n\t"
      "vmovdqa32 (%[w]), %%zmm24\n\t"
      "vmovdqa32 64(%[w]), %%zmm25\n\t"
      "vpbroadcastd 0(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm0\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm1\n\t"
      "vpbroadcastd 4(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm2\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm3\n\t"
      "vpbroadcastd 8(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm4\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm5\n\t"
      "vpbroadcastd 12(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm6\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm7\n\t"
      "vpbroadcastd 16(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm8\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm9\n\t"
      "vpbroadcastd 20(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm10\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm11\n\t"
      "vpbroadcastd 24(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm12\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm13\n\t"
      "vpbroadcastd 28(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm14\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm15\n\t"
      "vpbroadcastd 32(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm16\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm17\n\t"
      "vpbroadcastd 36(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm18\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm19\n\t"
      "vpbroadcastd 40(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm20\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm21\n\t"
      "vpbroadcastd 44(%[a]), %%zmm26\n\t"
      "vpdpbusd %%zmm24, %%zmm26, %%zmm22\n\t"
      "vpdpbusd %%zmm25, %%zmm26, %%zmm23\n\t"
      "add $48, %[a]\n\t"
      "add $128, %[w]\n\t"
      "dec %[groups]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "vmovdqu32 %%zmm0, 0(%[sums])\n\t"
      "vmovdqu32 %%zmm1, 64(%[sums])\n\t"
      "vmovdqu32 %%zmm2, 128(%[sums])\n\t"
      "vmovdqu32 %%zmm3, 192(%[sums])\n\t"
      "vmovdqu32 %%zmm4, 256(%[sums])\n\t"
      "vmovdqu32 %%zmm5, 320(%[sums])\n\t"
      "vmovdqu32 %%zmm6, 384(%[sums])\n\t"
      "vmovdqu32 %%zmm7, 448(%[sums])\n\t"
      "vmovdqu32 %%zmm8, 512(%[sums])\n\t"
      "vmovdqu32 %%zmm9, 576(%[sums])\n\t"
      "vmovdqu32 %%zmm10, 640(%[sums])\n\t"
      "vmovdqu32 %%zmm11, 704(%[sums])\n\t"
      "vmovdqu32 %%zmm12, 768(%[sums])\n\t"
      "vmovdqu32 %%zmm13, 832(%[sums])\n\t"
      "vmovdqu32 %%zmm14, 896(%[sums])\n\t"
      "vmovdqu32 %%zmm15, 960(%[sums])\n\t"
      "vmovdqu32 %%zmm16, 1024(%[sums])\n\t"
      "vmovdqu32 %%zmm17, 1088(%[sums])\n\t"
      "vmovdqu32 %%zmm18, 1152(%[sums])\n\t"
      "vmovdqu32 %%zmm19, 1216(%[sums])\n\t"
      "vmovdqu32 %%zmm20, 1280(%[sums])\n\t"
      "vmovdqu32 %%zmm21, 1344(%[sums])\n\t"
      "vmovdqu32 %%zmm22, 1408(%[sums])\n\t"
      "vmovdqu32 %%zmm23, 1472(%[sums])\n\t"
      : [a] "+r"(a), [w] "+r"(w), [groups] "+r"(groups)
      : [sums] "r"(sums)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "cc", "memory");
  __m512i acc[kMRv][2];
  for (int r = 0; r < kMRv; ++r) {
    acc[r][0] = _mm512_load_si512((const __m512i *)sums[r]);
    acc[r][1] = _mm512_load_si512((const __m512i *)(sums[r] + 16));
  }
  const __m512i off = _mm512_set1_epi32(offset);
  const __m512i correction0 = _mm512_mullo_epi32(
                    off, _mm512_loadu_si512((const __m512i *)column_sums)),
                correction1 = _mm512_mullo_epi32(
                    off, _mm512_loadu_si512((const __m512i *)(column_sums + 16)));
  const __m512 ws0 = _mm512_loadu_ps(w_scales),
               ws1 = _mm512_loadu_ps(w_scales + 16);
  for (int r = 0; r < rows; ++r) {
    const __m512 sa = _mm512_set1_ps(a_scales[r]);
    __m512 v0 = _mm512_mul_ps(
        _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][0], correction0)),
        _mm512_mul_ps(sa, ws0));
    __m512 v1 = _mm512_mul_ps(
        _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][1], correction1)),
        _mm512_mul_ps(sa, ws1));
    float *row = c + r * ldc;
    if (width == kNRv) {
      _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), v0));
      _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), v1));
      continue;
    }
    float block[kNRv];
    _mm512_storeu_ps(block, v0);
    _mm512_storeu_ps(block + 16, v1);
    for (int64_t e = 0; e < width; ++e)
      row[e] += block[e];
  }
}

/* gemm_tile_avx2 with VNNI: the same tiles, kMRv x 32 register blocks. */
SINTER_TARGET_AVX512_VNNI static void
gemm_tile_vnni(const problem *p, int64_t batch, int64_t i0, int64_t i1,
               int64_t j0, int64_t j1, uint32_t *packed_a, int8_t *panels) {
  const int8_t *matrix = w_matrix(p, batch);
  const int64_t rows = i1 - i0, s0 = j0 / kWidth,
                slivers = (j1 - j0 + kWidth - 1) / kWidth,
                panel_count = (slivers + 1) / 2;
  const int64_t ldc = p->c->strides[1];
  const int32_t offset = (p->a_unsigned ? 0 : 128) + p->a_zero_point;
  float a_scales[kMC], w_scales[kNC];
  int32_t column_sums[kNC];
  for (int64_t i = 0; i < rows; ++i)
    a_scales[i] = a_scale(p, batch, i0 + i);
  for (int64_t j = 0; j < panel_count * kNRv; ++j)
    w_scales[j] = j0 + j < p->n ? w_scale(p, matrix, j0 + j) : 0.0f;
  initialize_c(p, batch, i0, i1, j0, j1);
  for (int64_t k0 = 0; k0 < p->k; k0 += kKC) {
    const int64_t kc = p->k - k0 < kKC ? p->k - k0 : kKC, groups = (kc + 3) / 4;
    pack_a_vnni(p, batch, i0, rows, k0, kc, packed_a);
    unpack_w_vnni(p, matrix, s0, slivers, k0, kc, panels, column_sums);
    for (int64_t t = 0; t < panel_count; ++t) {
      const int64_t j = j0 + t * kNRv;
      const int64_t width = j1 - j < kNRv ? j1 - j : kNRv;
      for (int64_t s = 0; s * kMRv < rows; ++s) {
        const int64_t r0 = s * kMRv;
        microkernel_vnni(packed_a + s * groups * kMRv,
                         panels + t * groups * 128, groups,
                         c_row(p, batch, i0 + r0) + j, ldc,
                         rows - r0 < kMRv ? (int)(rows - r0) : kMRv, width,
                         a_scales + r0, w_scales + t * kNRv,
                         column_sums + t * kNRv, offset);
      }
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_INT8_TILE_AVX512_VNNI_H */
