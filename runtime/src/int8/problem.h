/*===- problem.h - One W8A8 product, its blocks and its C ------------------===*
 *
 * The block sizes, a product's description and the reads of A, the
 * weight's scales and C shared by every route of the int8 kernel.
 *
 * Part of int8_matmul.c's translation unit (included there once), so
 * that its static functions are inlined where int8_matmul.c calls them,
 * each compiled for its caller's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_INT8_PROBLEM_H
#define SINTER_RUNTIME_SRC_INT8_PROBLEM_H

#include "sinter/kernels.h"

#include "cpu.h"
#include "qweight.h"

#include <stdint.h>
#include <string.h>

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

#endif /* SINTER_RUNTIME_SRC_INT8_PROBLEM_H */
