/*===- stream.h - One to three rows, streaming B once ----------------------===*
 *
 * Products with fewer than kStreamRows rows: B (f32, compile-time packed
 * or quantized) read once for all the rows, without packing.
 *
 * Part of matmul.c's translation unit (included there once), so that its
 * static functions are inlined into each CPU-feature variant of the
 * tile functions and compiled for that variant's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_STREAM_H
#define SINTER_RUNTIME_SRC_MATMUL_STREAM_H

#include "pack.h"

#include <immintrin.h>

/* out[i][j] += sum over k in [k0, k1) of A[i][k] B[k][j], for rows [0, m)
 * and columns [j0, j1), B's rows contiguous: one scaled row of B added per
 * row of A and step of depth. */
SINTER_INLINE void add_rows_of_b(const problem *p, const float *a,
                                 const float *b, int64_t k0, int64_t k1,
                                 int64_t j0, int64_t j1, float *out,
                                 int64_t ldo) {
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  for (int64_t k = k0; k < k1; ++k) {
    const float *restrict row = b + k * p->bk;
    for (int64_t i = 0; i < p->m; ++i) {
      const float scale = a[i * am + k * ak];
      float *restrict to = out + i * ldo;
      for (int64_t j = j0; j < j1; ++j)
        to[j] += scale * row[j];
    }
  }
}

/* Rows [0, m) of one batch's C, columns [j0, j1), by streaming B once for
 * all the rows. */
SINTER_INLINE void stream_rows(const problem *p, int64_t batch, int64_t j0,
                               int64_t j1) {
  const float *a = a_matrix(p, batch), *b = b_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  const int64_t ldc = p->c->strides[1];
  if (p->bn == 1) {
    add_rows_of_b(p, a, b, 0, p->k, j0, j1, c, ldc);
    return;
  }
  for (int64_t j = j0; j < j1; ++j) {
    const float *restrict column = b + j * p->bn;
    for (int64_t i = 0; i < p->m; ++i) {
      float total = 0.0f;
      if (p->bk == 1 && ak == 1) {
        /* Dot products along k, both contiguous (a transposed weight). */
        const float *restrict x = a + i * am;
        for (int64_t k = 0; k < p->k; ++k)
          total += x[k] * column[k];
      } else {
        for (int64_t k = 0; k < p->k; ++k)
          total += a[i * am + k * ak] * column[k * p->bk];
      }
      c[i * ldc + j] += total;
    }
  }
}

/* Rows [0, m) (m < kStreamRows) of one batch's C, columns [j0, j1), from
 * a B the compiler packed: each sliver is K x kNR contiguous floats, read
 * once for all the rows. Two slivers at a time: one sequential stream per
 * core leaves memory bandwidth unused (too few misses in flight). */
SINTER_INLINE void stream_packed(const problem *p, int64_t batch, int64_t j0,
                                 int64_t j1) {
  const float *a = a_matrix(p, batch), *b = b_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  const int64_t ldc = p->c->strides[1], rows = p->m, depth = p->k;
  const v8f zero = {0};
  for (int64_t j = j0; j < j1; j += 2 * kNR) {
    const int pair = j + kNR < j1;
    const float *restrict first = b + j * depth;
    /* Without a second sliver, the first is read twice (and dropped). */
    const float *restrict second = pair ? first + depth * kNR : first;
    v8f acc[kStreamRows][4];
    for (int r = 0; r < kStreamRows; ++r)
      acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = zero;
    for (int64_t k = 0; k < depth; ++k) {
      v8f b0, b1, b2, b3;
      LOAD8(b0, first + k * kNR);
      LOAD8(b1, first + k * kNR + 8);
      LOAD8(b2, second + k * kNR);
      LOAD8(b3, second + k * kNR + 8);
      for (int64_t r = 0; r < rows; ++r) {
        v8f ar = zero + a[r * am + k * ak];
        acc[r][0] += ar * b0;
        acc[r][1] += ar * b1;
        acc[r][2] += ar * b2;
        acc[r][3] += ar * b3;
      }
    }
    int64_t width = j1 - j < 2 * kNR ? j1 - j : 2 * kNR;
    for (int64_t r = 0; r < rows; ++r) {
      float block[2 * kNR];
      STORE8(block, acc[r][0]);
      STORE8(block + 8, acc[r][1]);
      STORE8(block + 16, acc[r][2]);
      STORE8(block + 24, acc[r][3]);
      for (int64_t e = 0; e < width; ++e)
        c[r * ldc + j + e] += block[e];
    }
  }
}

/* Rows [0, kRows) (kRows < kStreamRows) of one batch's C, columns [j0, j1)
 * (j0 a multiple of 16), from a quantized B read once: per sliver and group
 * of k, the dot products of the rows with the group's integers, then
 * scale * (dot - zero point * sum of the rows' elements in the group). The
 * sums are the same for every sliver: they are taken once per chunk of
 * kGroupChunk groups, before the slivers. kUnroll consecutive k accumulate
 * into separate registers: one chain of dependent FMAs per row would stall
 * on their latency, not on memory. kRows, kUnroll and bits are constants
 * after inlining. */
enum { kGroupChunk = 256 };

typedef void (*q_row_loader)(const int8_t *row, int bits, v8f *lo, v8f *hi);

SINTER_INLINE void stream_q(const problem *p, int64_t batch, int bits,
                            int64_t j0, int64_t j1, const int kRows,
                            const int kUnroll, q_row_loader load) {
  const sinter_qweight_header *h = p->qw;
  const float *a = a_matrix(p, batch);
  const int8_t *matrix = q_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  const int64_t ldc = p->c->strides[1];
  const int64_t row = sinter_qweight_row_bytes(bits), group = h->group_size;
  const int zero_points = (h->flags & SINTER_QWEIGHT_ZERO_POINTS) != 0;
  const v8f zero = {0};
  float sums[kStreamRows][kGroupChunk];
  for (int64_t g0 = 0; g0 < h->groups; g0 += kGroupChunk) {
    const int64_t g1 = h->groups - g0 < kGroupChunk ? h->groups : g0 + kGroupChunk;
    for (int64_t g = g0; zero_points && g < g1; ++g) {
      const int64_t k0 = g * group, k1 = h->k - k0 < group ? h->k : k0 + group;
      for (int r = 0; r < kRows; ++r) {
        float total = 0.0f;
        for (int64_t k = k0; k < k1; ++k)
          total += a[r * am + k * ak];
        sums[r][g - g0] = total;
      }
    }
    for (int64_t j = j0; j < j1; j += kNR) {
      const int64_t sliver = j / kNR;
      const int8_t *q = matrix + (sliver * h->k + g0 * group) * row;
      v8f acc[kStreamRows][2];
      for (int r = 0; r < kRows; ++r)
        acc[r][0] = acc[r][1] = zero;
      for (int64_t g = g0; g < g1; ++g) {
        const int64_t k0 = g * group,
                      k1 = h->k - k0 < group ? h->k : k0 + group;
        v8f dot[kStreamRows][4][2];
        for (int r = 0; r < kRows; ++r)
          for (int u = 0; u < kUnroll; ++u)
            dot[r][u][0] = dot[r][u][1] = zero;
        int64_t k = k0;
        for (; k + kUnroll <= k1; k += kUnroll)
          for (int u = 0; u < kUnroll; ++u, q += row) {
            v8f lo, hi;
            load(q, bits, &lo, &hi);
            for (int r = 0; r < kRows; ++r) {
              const float x = a[r * am + (k + u) * ak];
              dot[r][u][0] += x * lo;
              dot[r][u][1] += x * hi;
            }
          }
        for (; k < k1; ++k, q += row) {
          v8f lo, hi;
          load(q, bits, &lo, &hi);
          for (int r = 0; r < kRows; ++r) {
            const float x = a[r * am + k * ak];
            dot[r][0][0] += x * lo;
            dot[r][0][1] += x * hi;
          }
        }
        v8f scale[2], zero_point[2];
        load_q_block(h, matrix, sliver * h->groups + g, bits, scale,
                     zero_point);
        for (int r = 0; r < kRows; ++r) {
          for (int u = 1; u < kUnroll; ++u) {
            dot[r][0][0] += dot[r][u][0];
            dot[r][0][1] += dot[r][u][1];
          }
          if (zero_points) {
            dot[r][0][0] -= zero_point[0] * sums[r][g - g0];
            dot[r][0][1] -= zero_point[1] * sums[r][g - g0];
          }
          acc[r][0] += scale[0] * dot[r][0][0];
          acc[r][1] += scale[1] * dot[r][0][1];
        }
      }
      const int64_t width = j1 - j < kNR ? j1 - j : kNR;
      for (int r = 0; r < kRows; ++r) {
        float block[kNR];
        STORE8(block, acc[r][0]);
        STORE8(block + 8, acc[r][1]);
        for (int64_t e = 0; e < width; ++e)
          c[r * ldc + j + e] += block[e];
      }
    }
  }
}

/* stream_q with its constants: the bit width and the row count (1 to
 * kStreamRows - 1), unrolled as far as the 16 vector registers allow. */
SINTER_INLINE void stream_q_rows(const problem *p, int64_t batch, int64_t j0,
                                 int64_t j1, q_row_loader load) {
  const int bits = p->qw->bits;
#define SINTER_STREAM_Q(BITS)                                                  \
  switch (p->m) {                                                              \
  case 1:                                                                      \
    stream_q(p, batch, BITS, j0, j1, 1, 4, load);                              \
    break;                                                                     \
  case 2:                                                                      \
    stream_q(p, batch, BITS, j0, j1, 2, 2, load);                              \
    break;                                                                     \
  default:                                                                     \
    stream_q(p, batch, BITS, j0, j1, 3, 1, load);                              \
  }
  if (bits == 8) {
    SINTER_STREAM_Q(8)
  } else {
    SINTER_STREAM_Q(4)
  }
#undef SINTER_STREAM_Q
}

/* load_q_row with AVX2's widening loads (vpmovsxbd / vpmovzxbd from
 * memory: one instruction per 8 columns), which GCC does not derive from
 * vector-extension code. */
SINTER_TARGET_AVX2 __attribute__((always_inline)) static inline void
load_q_row_avx2(const int8_t *row, int bits, v8f *lo, v8f *hi) {
  if (bits == 8) {
    __m256i first = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)row));
    __m256i second =
        _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(row + 8)));
    *lo = (v8f)_mm256_cvtepi32_ps(first);
    *hi = (v8f)_mm256_cvtepi32_ps(second);
    return;
  }
  __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)row));
  *lo = (v8f)_mm256_cvtepi32_ps(_mm256_and_si256(wide, _mm256_set1_epi32(15)));
  *hi = (v8f)_mm256_cvtepi32_ps(_mm256_srli_epi32(wide, 4));
}

SINTER_TARGET_AVX2 static void stream_q_avx2(const problem *p, int64_t batch,
                                             int64_t j0, int64_t j1) {
  stream_q_rows(p, batch, j0, j1, load_q_row_avx2);
}

static void stream_q_baseline(const problem *p, int64_t batch, int64_t j0,
                              int64_t j1) {
  stream_q_rows(p, batch, j0, j1, load_q_row);
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_STREAM_H */
