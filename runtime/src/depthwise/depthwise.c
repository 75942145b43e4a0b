/*===- depthwise.c - Depthwise 2-D convolution for generated code ----------===*
 *
 * The kernel that an f32 `sinter.conv` with one input channel per group
 * (MobileNet's and EfficientNet's depthwise layers) lowers to on the CPU.
 * Each output channel reads one input plane and a KH x KW filter: about
 * two FLOPs per byte moved, so the layer is bound by memory, not by the
 * FMAs. Each plane is therefore read once: copied into a zero-bordered
 * scratch plane (the padding is never a tensor of its own, and the loops
 * below need no bounds checks), then every output row is computed eight
 * columns at a time with the accumulators in registers, the bias added
 * first and the clamp (ReLU, ReLU6) applied before the one store.
 *
 * Planes run on OpenMP threads when the runtime is built with OpenMP (the
 * copy inside model.so) and the layer is large enough to pay for the fork.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/kernels.h"

#include "cpu.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef sinter_memref1_f32 memref1;
typedef sinter_memref2_f32 memref2;
typedef sinter_memref4_f32 memref4;

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
#define LOAD8(vector, floats) memcpy(&(vector), (floats), sizeof(v8f))
#define STORE8(floats, vector) memcpy((floats), &(vector), sizeof(v8f))

/* Output blocks of eight columns computed side by side. */
enum { kGroup = 4 };

typedef struct problem {
  const memref4 *in, *out;
  const memref2 *weight;
  const memref1 *bias;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w,
      pad_top, pad_left;
  int64_t multiplier; /* output channels per input channel */
  int has_bias, clamp;
  float lo, hi;
  /* The scratch plane: rows of `scratch_w` floats, enough for the windows
   * of every output row and of the last block of eight columns. */
  int64_t scratch_h, scratch_w;
} problem;

/* Tap t (i KW + j) of output channel m's filter. */
SINTER_INLINE float tap(const problem *p, int64_t m, int64_t t) {
  const memref2 *w = p->weight;
  return w->aligned[w->offset + m * w->strides[0] + t * w->strides[1]];
}

SINTER_INLINE float channel_bias(const problem *p, int64_t m) {
  return p->has_bias
             ? p->bias->aligned[p->bias->offset + m * p->bias->strides[0]]
             : 0.0f;
}

SINTER_INLINE float clamped(const problem *p, float x) {
  if (!p->clamp)
    return x;
  x = x < p->lo ? p->lo : x;
  return x > p->hi ? p->hi : x;
}

/* Plane (n, m) term by term with the bounds checked: where no scratch
 * could be had. */
static void plane_direct(const problem *p, int64_t n, int64_t m) {
  const memref4 *in = p->in, *out = p->out;
  const int64_t c = m / p->multiplier;
  for (int64_t y = 0; y < out->sizes[2]; ++y)
    for (int64_t x = 0; x < out->sizes[3]; ++x) {
      float sum = channel_bias(p, m);
      for (int64_t i = 0; i < p->kernel_h; ++i)
        for (int64_t j = 0; j < p->kernel_w; ++j) {
          const int64_t iy = y * p->stride_h - p->pad_top + i * p->dilation_h,
                        ix = x * p->stride_w - p->pad_left + j * p->dilation_w;
          if (iy < 0 || iy >= in->sizes[2] || ix < 0 || ix >= in->sizes[3])
            continue;
          sum += tap(p, m, i * p->kernel_w + j) *
                 in->aligned[in->offset + n * in->strides[0] +
                             c * in->strides[1] + iy * in->strides[2] +
                             ix * in->strides[3]];
        }
      out->aligned[out->offset + n * out->strides[0] + m * out->strides[1] +
                   y * out->strides[2] + x * out->strides[3]] =
          clamped(p, sum);
    }
}

/* Eight input columns x, x + step, ... of a scratch row (`step` a constant
 * after inlining where it is 1 or 2). Vectors pass through pointers: the
 * baseline instantiation has no AVX registers to return them in. */
SINTER_INLINE void load_columns(const float *row, int64_t step, v8f *v) {
  if (step == 1) {
    LOAD8(*v, row);
  } else if (step == 2) {
    v8f a, b;
    LOAD8(a, row);
    LOAD8(b, row + 8);
    *v = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
  } else {
    for (int q = 0; q < 8; ++q)
      (*v)[q] = row[q * step];
  }
}

/* Each lane of *x within [lo, hi] (C has no ?: on vectors). */
SINTER_INLINE void clamp8(v8f *x, const v8f *lo, const v8f *hi) {
  v8i below = *x < *lo, above = *x > *hi;
  v8i bits = ((v8i)*x & ~below) | ((v8i)*lo & below);
  *x = (v8f)((bits & ~above) | ((v8i)*hi & above));
}

/* Output blocks x, x + 8, ..., `count` of them (a constant after
 * inlining), of the row whose windows start at scratch row `top`: one
 * accumulator per block, so that `count` FMA chains run side by side (one
 * chain waits on the FMA's latency at every tap). `step` (the stride
 * along the row), kh and kw are constants where run_planes specializes. */
SINTER_INLINE void output_blocks(const problem *p, const float *top,
                                 const float *weights, float bias, int64_t x,
                                 const int64_t step, const int64_t kh,
                                 const int64_t kw, const int count,
                                 float *result, int64_t out_w) {
  const int64_t sw = p->scratch_w;
  const v8f zero = {0};
  const v8f start = {bias, bias, bias, bias, bias, bias, bias, bias};
  v8f acc[kGroup] = {start, start, start, start};
  _Static_assert(kGroup == 4, "acc starts with kGroup copies of start");
  for (int64_t i = 0; i < kh; ++i) {
    const float *row = top + i * p->dilation_h * sw + x * step;
    for (int64_t j = 0; j < kw; ++j) {
      const float w = weights[i * kw + j];
      for (int b = 0; b < count; ++b) {
        v8f columns;
        load_columns(row + j * p->dilation_w + 8 * b * step, step, &columns);
        acc[b] += w * columns;
      }
    }
  }
  const v8f lo = zero + p->lo, hi = zero + p->hi;
  const int64_t stride = p->out->strides[3];
  for (int b = 0; b < count; ++b) {
    if (p->clamp)
      clamp8(&acc[b], &lo, &hi);
    const int64_t at = x + 8 * b;
    if (at + 8 <= out_w && stride == 1) {
      STORE8(result + at, acc[b]);
    } else {
      for (int64_t q = 0; q < 8 && at + q < out_w; ++q)
        result[(at + q) * stride] = acc[b][q];
    }
  }
}

/* Plane (n, m) through the zero-bordered scratch plane. */
SINTER_INLINE void plane_padded(const problem *p, int64_t n, int64_t m,
                                float *restrict scratch, const int64_t step,
                                const int64_t kh, const int64_t kw) {
  const memref4 *in = p->in, *out = p->out;
  const int64_t height = in->sizes[2], width = in->sizes[3];
  const int64_t sw = p->scratch_w;
  /* The scratch's row r, column q hold in[r - PT][q - PL], or zero. */
  const float *plane = in->aligned + in->offset + n * in->strides[0] +
                       m / p->multiplier * in->strides[1];
  for (int64_t r = 0; r < p->scratch_h; ++r) {
    float *row = scratch + r * sw;
    const int64_t iy = r - p->pad_top;
    if (iy < 0 || iy >= height) {
      memset(row, 0, sizeof(float) * (size_t)sw);
      continue;
    }
    const float *line = plane + iy * in->strides[2];
    const int64_t left = p->pad_left < sw ? p->pad_left : sw;
    int64_t copied = width < sw - left ? width : sw - left;
    if (copied < 0)
      copied = 0;
    memset(row, 0, sizeof(float) * (size_t)left);
    if (in->strides[3] == 1)
      memcpy(row + left, line, sizeof(float) * (size_t)copied);
    else
      for (int64_t q = 0; q < copied; ++q)
        row[left + q] = line[q * in->strides[3]];
    memset(row + left + copied, 0, sizeof(float) * (size_t)(sw - left - copied));
  }
  const int64_t taps = kh * kw;
  float weights[taps];
  for (int64_t t = 0; t < taps; ++t)
    weights[t] = tap(p, m, t);
  const float bias = channel_bias(p, m);
  const int64_t out_h = out->sizes[2], out_w = out->sizes[3];
  float *target = out->aligned + out->offset + n * out->strides[0] +
                  m * out->strides[1];
  const int64_t blocks_w = (out_w + 7) / 8 * 8;
  for (int64_t y = 0; y < out_h; ++y) {
    const float *top = scratch + y * p->stride_h * sw;
    float *result = target + y * out->strides[2];
    int64_t x = 0;
    for (; x + 8 * kGroup <= blocks_w; x += 8 * kGroup)
      output_blocks(p, top, weights, bias, x, step, kh, kw, kGroup, result,
                    out_w);
    for (; x < out_w; x += 8)
      output_blocks(p, top, weights, bias, x, step, kh, kw, 1, result, out_w);
  }
}

/* Planes [first, last) of the N x M planes, in the thread's scratch (null:
 * term by term). */
SINTER_INLINE void run_planes(const problem *p, int64_t first, int64_t last,
                              float *scratch) {
  const int64_t channels = p->out->sizes[1];
  for (int64_t index = first; index < last; ++index) {
    const int64_t n = index / channels, m = index % channels;
    const int64_t kh = p->kernel_h, kw = p->kernel_w;
    if (!scratch)
      plane_direct(p, n, m);
    else if (kh == 3 && kw == 3 && p->stride_w == 1)
      plane_padded(p, n, m, scratch, 1, 3, 3);
    else if (kh == 3 && kw == 3 && p->stride_w == 2)
      plane_padded(p, n, m, scratch, 2, 3, 3);
    else if (kh == 5 && kw == 5 && p->stride_w == 1)
      plane_padded(p, n, m, scratch, 1, 5, 5);
    else if (kh == 5 && kw == 5 && p->stride_w == 2)
      plane_padded(p, n, m, scratch, 2, 5, 5);
    else if (p->stride_w == 1)
      plane_padded(p, n, m, scratch, 1, kh, kw);
    else if (p->stride_w == 2)
      plane_padded(p, n, m, scratch, 2, kh, kw);
    else
      plane_padded(p, n, m, scratch, p->stride_w, kh, kw);
  }
}

SINTER_ISA_VARIANTS(run_planes,
                    (const problem *p, int64_t first, int64_t last,
                     float *scratch),
                    (p, first, last, scratch))

typedef void (*planes_fn)(const problem *, int64_t, int64_t, float *);

void _mlir_ciface_sinter_depthwise2d_f32(
    const memref4 *in, const memref2 *weight, const memref1 *bias,
    const memref4 *out, int32_t kernel_h, int32_t kernel_w, int32_t stride_h,
    int32_t stride_w, int32_t dilation_h, int32_t dilation_w, int32_t pad_top,
    int32_t pad_left, float lo, float hi, int32_t flags) {
  problem p = {in,
               out,
               weight,
               bias,
               kernel_h,
               kernel_w,
               stride_h,
               stride_w,
               dilation_h,
               dilation_w,
               pad_top,
               pad_left,
               in->sizes[1] > 0 ? out->sizes[1] / in->sizes[1] : 1,
               (flags & SINTER_CONV_HAS_BIAS) != 0,
               (flags & SINTER_CONV_CLAMP) != 0,
               lo,
               hi,
               0,
               0};
  const int64_t out_h = out->sizes[2], out_w = out->sizes[3];
  const int64_t planes = out->sizes[0] * out->sizes[1];
  if (planes == 0 || out_h == 0 || out_w == 0)
    return;
  /* Rows and columns the windows reach, the last block of eight columns
   * included (its extra columns read zeros and are not stored). */
  const int64_t blocks_w = (out_w + 7) / 8 * 8;
  p.scratch_h = (out_h - 1) * p.stride_h + (p.kernel_h - 1) * p.dilation_h + 1;
  p.scratch_w = (blocks_w - 1) * p.stride_w + (p.kernel_w - 1) * p.dilation_w +
                1 + (p.stride_w == 2 ? 1 : 0);
  const size_t scratch_floats = (size_t)(p.scratch_h * p.scratch_w);
  planes_fn run = SINTER_PICK_ISA(run_planes);
#ifdef _OPENMP
  const int64_t work = planes * out_h * out_w * p.kernel_h * p.kernel_w;
#pragma omp parallel if (work >= SINTER_PARALLEL_WORK)
#endif
  {
    int64_t id = 0, team = 1;
#ifdef _OPENMP
    id = omp_get_thread_num();
    team = omp_get_num_threads();
#endif
    /* A filter of more taps than a stack array should hold takes the
     * term-by-term loop, as does a thread that gets no scratch. */
    float *scratch = p.kernel_h * p.kernel_w <= 1024
                         ? malloc(sizeof(float) * scratch_floats)
                         : NULL;
    run(&p, planes * id / team, planes * (id + 1) / team, scratch);
    free(scratch);
  }
}
