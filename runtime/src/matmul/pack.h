/*===- pack.h - Packing the blocks of A and B ------------------------------===*
 *
 * A's rows into slivers of the register block's rows, B's columns (f32,
 * or a quantized weight unpacked to f32) into slivers of kNR columns, and
 * the row C starts from.
 *
 * Part of matmul.c's translation unit (included there once), so that its
 * static functions are inlined into each CPU-feature variant of the
 * tile functions and compiled for that variant's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_PACK_H
#define SINTER_RUNTIME_SRC_MATMUL_PACK_H

#include "conv.h"
#include "problem.h"

#include <immintrin.h>

/* Packs rows [i0, i0 + rows) x depth [k0, k0 + kc) of A as slivers of `mr`
 * rows (kMR, or kMRw for the AVX-512 route; a constant after inlining):
 * sliver s holds a[i0 + s mr + r][k0 + k] at s mr kc + k mr + r. Rows of A
 * contiguous along k (the usual case) are read as mr streams. */
SINTER_INLINE void pack_a(const problem *p, const float *a, int64_t i0,
                          int64_t rows, int64_t k0, int64_t kc,
                          float *restrict packed, const int mr) {
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  for (int64_t s = 0; s < rows; s += mr) {
    int64_t height = rows - s < mr ? rows - s : mr;
    float *restrict out = packed + s * kc;
    const float *row[kMaxMR];
    for (int r = 0; r < mr; ++r)
      row[r] = a + (i0 + s + (r < height ? r : 0)) * am + k0 * ak;
    if (ak == 1 && height == mr) {
      /* A transpose of mr rows by kc: 4 x 4 blocks in registers (a float
       * at a time, packing A took a visible part of the product's time:
       * bench/NOTES.md). */
      int64_t k = 0;
      for (; k + 4 <= kc; k += 4) {
        int r = 0;
        for (; r + 4 <= mr; r += 4) {
          __m128 r0 = _mm_loadu_ps(row[r] + k), r1 = _mm_loadu_ps(row[r + 1] + k),
                 r2 = _mm_loadu_ps(row[r + 2] + k),
                 r3 = _mm_loadu_ps(row[r + 3] + k);
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          _mm_storeu_ps(out + k * mr + r, r0);
          _mm_storeu_ps(out + (k + 1) * mr + r, r1);
          _mm_storeu_ps(out + (k + 2) * mr + r, r2);
          _mm_storeu_ps(out + (k + 3) * mr + r, r3);
        }
        for (; r < mr; ++r)
          for (int64_t q = k; q < k + 4; ++q)
            out[q * mr + r] = row[r][q];
      }
      for (; k < kc; ++k)
        for (int r = 0; r < mr; ++r)
          out[k * mr + r] = row[r][k];
      continue;
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int r = 0; r < mr; ++r)
        out[k * mr + r] = r < height ? row[r][k * ak] : 0.0f;
  }
}

/* Packs depth [k0, k0 + kc) x columns [j0, j0 + cols) of B as slivers of
 * kNR columns: sliver s holds b[k0 + k][j0 + s kNR + c] at s kNR kc + k kNR
 * + c. Rows of B contiguous (a K x N weight) are read a row at a time, its
 * kNR floats for each sliver in turn (a sliver at a time read 64 bytes of
 * each row, one page per row for N >= 1024: bench/NOTES.md); columns
 * contiguous (an N x K weight, read transposed) are read as kNR streams. */
SINTER_INLINE void pack_b(const problem *p, const float *b, int64_t k0,
                          int64_t kc, int64_t j0, int64_t cols,
                          float *restrict packed) {
  const int64_t bk = p->bk, bn = p->bn;
  /* The whole slivers of a B with contiguous rows; the rest below. */
  const int64_t whole = bn == 1 ? cols / kNR * kNR : 0;
  if (whole > 0)
    for (int64_t k = 0; k < kc; ++k) {
      const float *row = b + (k0 + k) * bk + j0;
      for (int64_t s = 0; s < whole; s += kNR)
        memcpy(packed + s * kc + k * kNR, row + s, sizeof(float) * kNR);
    }
  for (int64_t s = whole; s < cols; s += kNR) {
    int64_t width = cols - s < kNR ? cols - s : kNR;
    float *restrict out = packed + s * kc;
    const float *base = b + k0 * bk + (j0 + s) * bn;
    if (bk == 1) {
      for (int64_t c = 0; c < kNR; ++c) {
        const float *column = base + (c < width ? c : 0) * bn;
        for (int64_t k = 0; k < kc; ++k)
          out[k * kNR + c] = c < width ? column[k] : 0.0f;
      }
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t c = 0; c < kNR; ++c)
          out[k * kNR + c] = c < width ? base[k * bk + c * bn] : 0.0f;
    }
  }
}

/* The 16 columns of one packed quantized row (qweight.h) as floats,
 * columns 0-7 in `lo` and 8-15 in `hi`: 8-bit rows are signed, 4-bit rows
 * unsigned nibbles. `bits` is a constant after inlining. Each byte is
 * copied into all four bytes of its 32-bit lane (a lane permute and a byte
 * shuffle on AVX2) and shifted down: GCC widens 8-byte vectors with
 * scalar inserts instead. */
SINTER_INLINE void load_q_row(const int8_t *row, int bits, v8f *lo, v8f *hi) {
  v16i8 bytes;
  if (bits == 8) {
    memcpy(&bytes, row, 16);
    v32i8 first = __builtin_shufflevector(
        bytes, bytes, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4,
        4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
    v32i8 second = __builtin_shufflevector(
        bytes, bytes, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11,
        12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15);
    *lo = __builtin_convertvector((v8i)first >> 24, v8f);
    *hi = __builtin_convertvector((v8i)second >> 24, v8f);
    return;
  }
  /* Through a 64-bit load: memcpy into part of a vector goes through the
   * stack (a store-forwarding stall per row). */
  int64_t eight;
  memcpy(&eight, row, 8);
  v2i64 half = {eight, 0};
  bytes = (v16i8)half;
  v32i8 spread = __builtin_shufflevector(
      bytes, bytes, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
      5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
  v8i wide = (v8i)spread;
  *lo = __builtin_convertvector(wide & 15, v8f);
  *hi = __builtin_convertvector((wide >> 4) & 15, v8f);
}

/* Scales and zero points of block (sliver, group) `block` of a quantized
 * matrix, as floats for its 16 columns (zero points 0 when there are
 * none). A bfloat16 is the top half of a float. */
SINTER_INLINE void load_q_block(const sinter_qweight_header *h,
                                const int8_t *matrix, int64_t block, int bits,
                                v8f scale[2], v8f zero_point[2]) {
  if (h->flags & SINTER_QWEIGHT_SCALES_BF16) {
    const int8_t *at = matrix + h->scales_offset + block * SINTER_QWEIGHT_WIDTH * 2;
    for (int half = 0; half < 2; ++half) {
      v8u16 raw;
      memcpy(&raw, at + half * 16, sizeof(raw));
      v8u wide = __builtin_convertvector(raw, v8u) << 16;
      memcpy(&scale[half], &wide, sizeof(wide));
    }
  } else {
    const int8_t *at = matrix + h->scales_offset + block * SINTER_QWEIGHT_WIDTH * 4;
    memcpy(&scale[0], at, sizeof(v8f));
    memcpy(&scale[1], at + 32, sizeof(v8f));
  }
  if (h->flags & SINTER_QWEIGHT_ZERO_POINTS) {
    load_q_row(matrix + h->zero_points_offset +
                   block * sinter_qweight_row_bytes(bits),
               bits, &zero_point[0], &zero_point[1]);
  } else {
    const v8f zero = {0};
    zero_point[0] = zero_point[1] = zero;
  }
}

/* pack_b for a quantized B: depth [k0, k0 + kc) x columns [j0, j0 + cols)
 * (j0 a multiple of 16) unpacked to f32, (q - zero point) * scale, into
 * the same sliver layout. */
SINTER_INLINE void pack_q_b(const problem *p, const int8_t *matrix, int bits,
                            int64_t k0, int64_t kc, int64_t j0, int64_t cols,
                            float *restrict packed) {
  const sinter_qweight_header *h = p->qw;
  const int64_t row = sinter_qweight_row_bytes(bits), group = h->group_size;
  for (int64_t s = 0; s < cols; s += kNR) {
    const int64_t sliver = (j0 + s) / kNR;
    float *restrict out = packed + s * kc;
    const int8_t *q = matrix + (sliver * h->k + k0) * row;
    int64_t g = k0 / group, group_end = (g + 1) * group;
    v8f scale[2], zero_point[2];
    load_q_block(h, matrix, sliver * h->groups + g, bits, scale, zero_point);
    for (int64_t k = 0; k < kc; ++k, q += row) {
      if (k0 + k == group_end) {
        ++g;
        group_end += group;
        load_q_block(h, matrix, sliver * h->groups + g, bits, scale,
                     zero_point);
      }
      v8f lo, hi;
      load_q_row(q, bits, &lo, &hi);
      lo = (lo - zero_point[0]) * scale[0];
      hi = (hi - zero_point[1]) * scale[1];
      STORE8(out + k * kNR, lo);
      STORE8(out + k * kNR + 8, hi);
    }
  }
}

/* The slivers of B for depth [k0, k0 + kc) and columns [j0, j0 + cols):
 * unpacked now into `packed_b` (a quantized B), packed now (f32), or
 * where the compiler packed them (sliver s of the whole matrix at s K kNR);
 * *stride is the distance between slivers. */
SINTER_INLINE const float *b_block(const problem *p, int64_t batch,
                                   int64_t k0, int64_t kc, int64_t j0,
                                   int64_t cols, float *restrict packed_b,
                                   int64_t *stride) {
  *stride = kc * kNR;
  if (p->conv) {
    pack_b_conv(p, batch, k0, kc, j0, cols, packed_b);
    return packed_b;
  }
  if (p->qw) {
    const int8_t *matrix = q_matrix(p, batch);
    if (p->qw->bits == 8)
      pack_q_b(p, matrix, 8, k0, kc, j0, cols, packed_b);
    else
      pack_q_b(p, matrix, 4, k0, kc, j0, cols, packed_b);
    return packed_b;
  }
  const float *b = b_matrix(p, batch);
  if (p->packed_b) {
    *stride = p->k * kNR;
    return b + j0 * p->k + k0 * kNR;
  }
  pack_b(p, b, k0, kc, j0, cols, packed_b);
  return packed_b;
}

/* Columns [j0, j0 + cols) of the row every row of C starts from: the bias,
 * or zeros; padded with zeros to whole slivers. The first depth block
 * writes C from it, so C is never cleared in a pass of its own (for a C
 * larger than the caches that pass is a whole read and write of C:
 * bench/NOTES.md). */
SINTER_INLINE void initial_row(const problem *p, int64_t j0, int64_t cols,
                               float *restrict row) {
  memset(row, 0, sizeof(float) * kNC);
  if (p->has_bias) {
    const float *bias = p->bias->aligned + p->bias->offset;
    for (int64_t j = 0; j < cols; ++j)
      row[j] = bias[(j0 + j) * p->bias->strides[0]];
  }
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_PACK_H */
