/*===- norm.c - Layer and RMS normalization for generated code -------------===*
 *
 * The kernel that `sinter.layer_norm`, `sinter.rms_norm` and
 * `sinter.add_norm` lower to on the CPU (f32). Each row is read from memory
 * once: the residual sum (when there is one) is formed and stored, the
 * statistics are two passes over the row while it sits in L1 (the mean, then
 * the mean square of the centered values: as accurate as the textbook
 * formula, unlike E[x^2] - E[x]^2), and the normalized row is written in a
 * third. The decomposed lowering makes each of those a pass over the whole
 * tensor and materializes the centered squares.
 *
 * Rows run on OpenMP threads when the runtime is built with OpenMP (the copy
 * inside model.so) and the tensor is large enough to pay for the fork.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/kernels.h"

#include "cpu.h"

#include <math.h>
#include <stdint.h>

typedef sinter_memref2_f32 memref2;
typedef sinter_memref1_f32 memref1;

/* Below this many elements the rows run on the calling thread: waking the
 * team costs more than the row work saves. */
enum { kParallelElements = 1 << 15 };

typedef struct problem {
  const memref2 *x, *residual, *out, *sum;
  const memref1 *scale, *bias;
  float epsilon;
  int rms, has_bias, has_residual, contiguous;
  int64_t rows, cols;
} problem;

#define ROW(m, i) ((m)->aligned + (m)->offset + (i) * (m)->strides[0])
#define VEC(m) ((m)->aligned + (m)->offset)

/* Unit inner strides everywhere: the loops below vectorize (the runtime's
 * kernels are built with reassociation allowed). */
SINTER_INLINE void norm_row_contiguous(const problem *p, int64_t i) {
  const int64_t n = p->cols;
  const float *restrict src = ROW(p->x, i);
  if (p->has_residual) {
    const float *restrict r = ROW(p->residual, i);
    float *restrict s = ROW(p->sum, i);
    for (int64_t j = 0; j < n; ++j)
      s[j] = src[j] + r[j];
    src = s;
  }
  float mean = 0.0f;
  if (!p->rms) {
    float total = 0.0f;
    for (int64_t j = 0; j < n; ++j)
      total += src[j];
    mean = total / (float)n;
  }
  float squares = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    float centered = src[j] - mean;
    squares += centered * centered;
  }
  const float inverse = 1.0f / sqrtf(squares / (float)n + p->epsilon);
  const float *restrict g = VEC(p->scale);
  float *restrict o = ROW(p->out, i);
  if (p->has_bias) {
    const float *restrict b = VEC(p->bias);
    for (int64_t j = 0; j < n; ++j)
      o[j] = (src[j] - mean) * inverse * g[j] + b[j];
  } else {
    for (int64_t j = 0; j < n; ++j)
      o[j] = (src[j] - mean) * inverse * g[j];
  }
}

/* Any strides (views the lowering passes without copying). */
static void norm_row_strided(const problem *p, int64_t i) {
  const int64_t n = p->cols;
  const float *src = ROW(p->x, i);
  int64_t stride = p->x->strides[1];
  if (p->has_residual) {
    const float *r = ROW(p->residual, i);
    float *s = ROW(p->sum, i);
    for (int64_t j = 0; j < n; ++j)
      s[j * p->sum->strides[1]] =
          src[j * stride] + r[j * p->residual->strides[1]];
    src = s;
    stride = p->sum->strides[1];
  }
  float mean = 0.0f;
  if (!p->rms) {
    float total = 0.0f;
    for (int64_t j = 0; j < n; ++j)
      total += src[j * stride];
    mean = total / (float)n;
  }
  float squares = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    float centered = src[j * stride] - mean;
    squares += centered * centered;
  }
  const float inverse = 1.0f / sqrtf(squares / (float)n + p->epsilon);
  float *o = ROW(p->out, i);
  for (int64_t j = 0; j < n; ++j) {
    float y = (src[j * stride] - mean) * inverse *
              VEC(p->scale)[j * p->scale->strides[0]];
    if (p->has_bias)
      y += VEC(p->bias)[j * p->bias->strides[0]];
    o[j * p->out->strides[1]] = y;
  }
}

SINTER_INLINE void norm_row(const problem *p, int64_t i) {
  if (p->contiguous)
    norm_row_contiguous(p, i);
  else
    norm_row_strided(p, i);
}

SINTER_ISA_VARIANTS(norm_row, (const problem *p, int64_t i), (p, i))

typedef void (*row_fn)(const problem *, int64_t);

void _mlir_ciface_sinter_norm_f32(const memref2 *x, const memref2 *residual,
                                  const memref1 *scale, const memref1 *bias,
                                  const memref2 *out, const memref2 *sum,
                                  float epsilon, int32_t flags) {
  problem p;
  p.x = x;
  p.residual = residual;
  p.scale = scale;
  p.bias = bias;
  p.out = out;
  p.sum = sum;
  p.epsilon = epsilon;
  p.rms = (flags & SINTER_NORM_RMS) != 0;
  p.has_bias = (flags & SINTER_NORM_HAS_BIAS) != 0;
  p.has_residual = (flags & SINTER_NORM_HAS_RESIDUAL) != 0;
  p.rows = x->sizes[0];
  p.cols = x->sizes[1];
  p.contiguous = x->strides[1] == 1 && out->strides[1] == 1 &&
                 scale->strides[0] == 1 &&
                 (!p.has_bias || bias->strides[0] == 1) &&
                 (!p.has_residual ||
                  (residual->strides[1] == 1 && sum->strides[1] == 1));
  if (p.rows == 0 || p.cols == 0)
    return;
  row_fn normalize = SINTER_PICK_ISA(norm_row);
  int64_t rows = p.rows;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (rows * p.cols >= kParallelElements)
#endif
  for (int64_t i = 0; i < rows; ++i)
    normalize(&p, i);
}
