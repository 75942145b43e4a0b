/*===- int8_matmul.c - Products of int8 activations and int8 weights -------===*
 *
 * The W8A8 kernel (sinter_qmatmul_i8): C = (a_scale (A - a_zero_point))
 * (W scale) + bias, with A int8 or uint8 activations (rounded by
 * sinter.quantize or sinter.dynamic_quantize in the generated code, or by
 * an imported QDQ model's QuantizeLinear) and W an int8 weight packed
 * by sinter_qweight_pack with one scale per output column. The products are
 * summed exactly in int32 and scaled once per block of k.
 *
 * AVX2 has no int8 dot product; `vpmaddwd` multiplies 16 pairs of int16 and
 * adds each pair into an int32, i.e. two k per instruction, exactly (no
 * saturation, unlike `vpmaddubsw`). On this project's machine it sustains
 * 2.25x the multiply-adds of f32 FMA (bench/NOTES.md). Both operands are
 * therefore laid out as pairs of consecutive k: a row of A as int32 words
 * holding (a[k] - zero point, a[k + 1] - zero point) as int16 (within
 * [-255, 255], so the pair's sum stays far inside int32), a weight sliver of 16 columns as, per
 * pair of k, 16 columns x 2 int16 (two vectors of 8 columns).
 *
 * - One to three rows of A (decoding) stream the packed weight once: each
 *   pair of its 16-byte rows is interleaved and sign-extended in registers,
 *   the int32 sums run over up to kStreamPairs pairs of k.
 * - More rows take the GotoBLAS route of the f32 GEMM (matmul.c): per block
 *   of kKC k, the block of W is unpacked into int16 pair panels and the rows
 *   of A into kMR-row slivers of pairs, and a kMR x 16 block of int32 sums
 *   stays in registers across the block; it is then scaled and added to C.
 *   With AVX-512 VNNI the same route runs on vpdpbusd (below).
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/runtime.h"

#include "cpu.h"
#include "qweight.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef sinter_memref1_f32 memref1;
typedef sinter_memref3_f32 memref3;

enum {
  kWidth = SINTER_QWEIGHT_WIDTH, /* columns of a sliver */
  kMR = 6,                       /* rows of the register block */
  kKC = 512,                     /* k of a block (even) */
  kMC = 72,                      /* rows of a packed block of A */
  kNC = 256,                     /* columns of an unpacked block of W */
  kStreamRows = 4,               /* below this many rows, stream W */
  /* Pairs of k summed in int32 before scaling when streaming: exact while
   * 2 * kStreamPairs * 128 * 128 < 2^31. */
  kStreamPairs = 4096,
};

typedef struct problem {
  const sinter_memref3_i8 *a;
  const memref1 *a_scales, *bias;
  const memref3 *c;
  const sinter_qweight_header *qw;
  int row_scales, has_bias;
  /* A holds uint8 (SINTER_QMATMUL_A_UNSIGNED); its zero point. */
  int a_unsigned;
  int32_t a_zero_point;
  int64_t batch, m, n, k;
} problem;

static inline const int8_t *a_row(const problem *p, int64_t batch, int64_t i) {
  const sinter_memref3_i8 *a = p->a;
  return a->aligned + a->offset +
         (a->sizes[0] == 1 ? 0 : batch * a->strides[0]) + i * a->strides[1];
}

/* A's element, less its zero point: within [-255, 255], an int16. */
static inline int32_t a_at(const problem *p, const int8_t *row, int64_t k) {
  const int8_t value = row[k * p->a->strides[2]];
  return (p->a_unsigned ? (int32_t)(uint8_t)value : (int32_t)value) -
         p->a_zero_point;
}

static inline float a_scale(const problem *p, int64_t batch, int64_t i) {
  const memref1 *s = p->a_scales;
  int64_t index = p->row_scales ? batch * p->m + i : 0;
  return s->aligned[s->offset + index * s->strides[0]];
}

static inline const int8_t *w_matrix(const problem *p, int64_t batch) {
  const sinter_qweight_header *h = p->qw;
  return (const int8_t *)h + SINTER_QWEIGHT_HEADER_SIZE +
         (h->batch == 1 ? 0 : batch * h->matrix_bytes);
}

/* The weight's scale of column j (one per column: groups == 1). */
static inline float w_scale(const problem *p, const int8_t *matrix, int64_t j) {
  const sinter_qweight_header *h = p->qw;
  const int8_t *scales = matrix + h->scales_offset;
  /* Sliver j / 16, group 0, column j % 16: index j. */
  const int64_t index = j;
  if (h->flags & SINTER_QWEIGHT_SCALES_BF16) {
    uint16_t half;
    memcpy(&half, scales + 2 * index, 2);
    uint32_t bits = (uint32_t)half << 16;
    float value;
    memcpy(&value, &bits, 4);
    return value;
  }
  float value;
  memcpy(&value, scales + 4 * index, 4);
  return value;
}

static inline float *c_row(const problem *p, int64_t batch, int64_t i) {
  return p->c->aligned + p->c->offset + batch * p->c->strides[0] +
         i * p->c->strides[1];
}

/* C[i][j0, j1) = bias or 0, for every row of one batch. */
static void initialize_c(const problem *p, int64_t batch, int64_t i0,
                         int64_t i1, int64_t j0, int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    float *row = c_row(p, batch, i);
    for (int64_t j = j0; j < j1; ++j)
      row[j] = p->has_bias
                   ? p->bias->aligned[p->bias->offset + j * p->bias->strides[0]]
                   : 0.0f;
  }
}

/* C[i][j] += sum * a_scale(i) * w_scale(j) for a block of int32 sums. */
static void add_scaled(const problem *p, int64_t batch, const int8_t *matrix,
                       int64_t i, int64_t j0, int64_t width,
                       const int32_t *sums) {
  float *row = c_row(p, batch, i);
  const float sa = a_scale(p, batch, i);
  for (int64_t e = 0; e < width; ++e)
    row[j0 + e] += (float)sums[e] * (sa * w_scale(p, matrix, j0 + e));
}

/* (lo, hi) as the int32 word that vpmaddwd reads as a pair of int16. */
static inline int32_t pair_word(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)(uint16_t)(int16_t)hi << 16) |
                   (uint16_t)(int16_t)lo);
}

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

/*===-------------------------------------------------------------------===*
 * AVX2
 *===-------------------------------------------------------------------===*/

/* The pair (k, k + 1) of a sliver's 16-byte rows `row` (and `next`, or
 * zeros past K) as two vectors of 8 columns x 2 int16. */
SINTER_TARGET_AVX2 __attribute__((always_inline)) static inline void
load_w_pair(const int8_t *row, const int8_t *next, __m256i *lo, __m256i *hi) {
  __m128i r0 = _mm_loadu_si128((const __m128i *)row);
  __m128i r1 = next ? _mm_loadu_si128((const __m128i *)next) : _mm_setzero_si128();
  *lo = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(r0, r1));
  *hi = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(r0, r1));
}

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

/* C[rows][16] += (the kMR x 16 block of int32 sums of one A sliver and one
 * W panel over `pairs` pairs of k) * a_scale[row] * w_scale[column], for
 * the first `rows` rows and `width` columns.
 *
 * The loop is written in assembly: twelve accumulators, the two W vectors,
 * the broadcast A word and the product fill the 16 registers exactly, and
 * GCC (12) spills half the accumulators of the same loop in intrinsics,
 * which halved its speed (bench/NOTES.md). */
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

/*===-------------------------------------------------------------------===*
 * The entry
 *===-------------------------------------------------------------------===*/

/* Whether the packed weight is one this kernel reads: 8 bits, one scale
 * per column, no zero points, its sizes those of the product. */
static int weight_fits(const problem *p, const sinter_memref1_i8 *weight) {
  const sinter_qweight_header *h = p->qw;
  return weight->sizes[0] >= SINTER_QWEIGHT_HEADER_SIZE &&
         memcmp(h->magic, SINTER_QWEIGHT_MAGIC, 4) == 0 && h->bits == 8 &&
         h->groups == 1 && !sinter_qweight_has_zero_points(h) && h->n == p->n &&
         h->k == p->k && (h->batch == 1 || h->batch == p->batch) &&
         weight->sizes[0] >= SINTER_QWEIGHT_HEADER_SIZE + h->batch * h->matrix_bytes;
}

void _mlir_ciface_sinter_qmatmul_i8(const sinter_memref3_i8 *a,
                                    const memref1 *a_scales,
                                    int32_t a_zero_point,
                                    const sinter_memref1_i8 *weight,
                                    const memref1 *bias, const memref3 *c,
                                    int32_t flags) {
  problem p;
  memset(&p, 0, sizeof(p));
  p.a = a;
  p.a_scales = a_scales;
  p.bias = bias;
  p.c = c;
  p.qw = (const sinter_qweight_header *)(weight->aligned + weight->offset);
  p.has_bias = (flags & SINTER_QMATMUL_HAS_BIAS) != 0;
  p.row_scales = (flags & SINTER_QMATMUL_ROW_SCALES) != 0;
  p.a_unsigned = (flags & SINTER_QMATMUL_A_UNSIGNED) != 0;
  p.a_zero_point = a_zero_point;
  p.batch = c->sizes[0];
  p.m = c->sizes[1];
  p.n = c->sizes[2];
  p.k = a->sizes[2];
  if (p.batch == 0 || p.m == 0 || p.n == 0)
    return;
  /* sinterc packs the weight and sizes the scales for this product;
   * anything else (a mismatched weights file) leaves C as NaN rather than
   * read out of bounds. */
  int64_t scales = p.row_scales ? p.batch * p.m : 1;
  const int32_t lowest = p.a_unsigned ? 0 : -128,
                highest = p.a_unsigned ? 255 : 127;
  if (!weight_fits(&p, weight) || a_scales->sizes[0] < scales ||
      a_zero_point < lowest || a_zero_point > highest) {
    for (int64_t batch = 0; batch < p.batch; ++batch)
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t j = 0; j < p.n; ++j)
          c_row(&p, batch, i)[j] = __builtin_nanf("");
    return;
  }
  const int vector = sinter_detect_isa() >= SINTER_ISA_AVX2,
            vnni = sinter_has_avx512_vnni();
  const int stream = p.m < kStreamRows;
  /* Tiles: (batch, kMC rows, kNC columns), or when streaming (batch, a
   * column range per thread). */
  int threads = 1;
#ifdef _OPENMP
  if (p.batch * p.m * p.n * p.k >= SINTER_PARALLEL_WORK)
    threads = omp_get_max_threads();
#endif
  int64_t column_width = kNC;
  if (stream) {
    column_width = (p.n + threads - 1) / threads;
    column_width = (column_width + kWidth - 1) / kWidth * kWidth;
  }
  const int64_t column_blocks = (p.n + column_width - 1) / column_width;
  const int64_t row_blocks = stream ? 1 : (p.m + kMC - 1) / kMC;
  const int64_t count = p.batch * column_blocks * row_blocks;
#ifdef _OPENMP
#pragma omp parallel if (threads > 1 && count > 1)
#endif
  {
    /* 144 KiB of A pairs and 256 KiB of W panels per thread, on its stack
     * (libomp gives its threads 4 MiB); the VNNI route's blocks (36 KiB of
     * A, 128 KiB of W) fit in the same buffers. */
    int32_t packed_a[kMC * kKC / 2] __attribute__((aligned(64)));
    int16_t panels[kKC * kNC] __attribute__((aligned(64)));
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t index = 0; index < count; ++index) {
      const int64_t batch = index / (column_blocks * row_blocks);
      const int64_t rest = index % (column_blocks * row_blocks);
      const int64_t j0 = rest / row_blocks * column_width;
      const int64_t j1 = p.n - j0 < column_width ? p.n : j0 + column_width;
      const int64_t i0 = stream ? 0 : rest % row_blocks * kMC;
      const int64_t i1 = stream || p.m - i0 < kMC ? p.m : i0 + kMC;
      if (!vector)
        tile_baseline(&p, batch, i0, i1, j0, j1);
      else if (stream)
        stream_avx2(&p, batch, j0, j1);
      else if (vnni)
        gemm_tile_vnni(&p, batch, i0, i1, j0, j1, (uint32_t *)packed_a,
                       (int8_t *)panels);
      else
        gemm_tile_avx2(&p, batch, i0, i1, j0, j1, packed_a, panels);
    }
  }
}
