/*===- conv.h - A convolution's windows as the columns of B ----------------===*
 *
 * sinter_conv2d_f32 runs a convolution as the matrix products
 * out[n] = W cols[n]: W is the weight as [M, C KH KW], and column
 * y OW + x of cols[n] holds the input window of output position (y, x),
 * row (c KH + i) KW + j being in[n][c][y SH - PT + i DH][x SW - PL + j DW],
 * zero outside the input. cols is never written out (an im2col copy costs
 * KH KW times the input, twice through memory): the packed route's B
 * blocks are packed from the input directly, one sliver of kNR output
 * positions at a time.
 *
 * Part of matmul.c's translation unit (included there once, through
 * pack.h), so that its static functions are inlined into each CPU-feature
 * variant of the tile functions and compiled for that variant's vector
 * extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_CONV_H
#define SINTER_RUNTIME_SRC_MATMUL_CONV_H

#include "problem.h"

/* Packs depth [k0, k0 + kc) x columns [j0, j0 + cols) of image `batch`'s
 * cols as pack_b packs B: sliver s holds cols[k0 + k][j0 + s kNR + q] at
 * s kNR kc + k kNR + q, zero beyond the last column. */
SINTER_INLINE void pack_b_conv(const problem *p, int64_t batch, int64_t k0,
                               int64_t kc, int64_t j0, int64_t cols,
                               float *restrict packed) {
  const conv_geometry *g = p->conv;
  const memref4 *in = g->in;
  const float *image = in->aligned + in->offset + batch * in->strides[0];
  const int64_t height = in->sizes[2], width = in->sizes[3];
  const int64_t sc = in->strides[1], sy = in->strides[2], sx = in->strides[3];
  const int64_t window = g->kernel_h * g->kernel_w;
  for (int64_t s = 0; s < cols; s += kNR) {
    const int64_t n = cols - s < kNR ? cols - s : kNR;
    /* The input position of each column's window origin (y SH - PT,
     * x SW - PL); the sliver's columns lie in one output row when the
     * first and the last do. */
    int64_t ys[kNR], xs[kNR];
    for (int64_t q = 0; q < n; ++q) {
      const int64_t position = j0 + s + q;
      ys[q] = position / g->out_w * g->stride_h - g->pad_top;
      xs[q] = position % g->out_w * g->stride_w - g->pad_left;
    }
    const int one_row = n == kNR && ys[0] == ys[kNR - 1];
    float *restrict out = packed + s * kc;
    int64_t c = k0 / window, i = k0 % window / g->kernel_w,
            j = k0 % g->kernel_w;
    for (int64_t k = 0; k < kc; ++k) {
      float *restrict row = out + k * kNR;
      const float *plane = image + c * sc;
      const int64_t dy = i * g->dilation_h, dx = j * g->dilation_w;
      if (one_row) {
        const int64_t y = ys[0] + dy, x0 = xs[0] + dx,
                      x1 = xs[kNR - 1] + dx;
        if (y < 0 || y >= height) {
          memset(row, 0, sizeof(float) * kNR);
        } else if (x0 >= 0 && x1 < width && g->stride_w == 1 && sx == 1) {
          /* The common case: kNR neighbours of one input row. */
          memcpy(row, plane + y * sy + x0, sizeof(float) * kNR);
        } else {
          const float *line = plane + y * sy;
          for (int64_t q = 0; q < kNR; ++q) {
            const int64_t x = xs[q] + dx;
            row[q] = x >= 0 && x < width ? line[x * sx] : 0.0f;
          }
        }
      } else {
        for (int64_t q = 0; q < kNR; ++q) {
          const int64_t y = q < n ? ys[q] + dy : -1, x = q < n ? xs[q] + dx : -1;
          row[q] = y >= 0 && y < height && x >= 0 && x < width
                       ? plane[y * sy + x * sx]
                       : 0.0f;
        }
      }
      if (++j == g->kernel_w) {
        j = 0;
        if (++i == g->kernel_h) {
          i = 0;
          ++c;
        }
      }
    }
  }
}

/* The epilogue on rows [i0, i1) x columns [j0, j1) of image `batch`'s C,
 * right after the tile's products, while the block is in cache. */
SINTER_INLINE void apply_epilogue(const problem *p, int64_t batch, int64_t i0,
                                  int64_t i1, int64_t j0, int64_t j1) {
  const conv_epilogue *e = p->epilogue;
  float *c = c_matrix(p, batch);
  const int64_t ldc = p->c->strides[1];
  const memref4 *r = e->residual;
  const int plain_residual =
      r && r->strides[3] == 1 && r->strides[2] == e->out_w;
  for (int64_t i = i0; i < i1; ++i) {
    float *restrict row = c + i * ldc;
    if (plain_residual) {
      const float *add = r->aligned + r->offset + batch * r->strides[0] +
                         i * r->strides[1];
      for (int64_t j = j0; j < j1; ++j)
        row[j] += add[j];
    } else if (r) {
      for (int64_t j = j0; j < j1; ++j)
        row[j] += r->aligned[r->offset + batch * r->strides[0] +
                             i * r->strides[1] + j / e->out_w * r->strides[2] +
                             j % e->out_w * r->strides[3]];
    }
    if (e->clamp)
      for (int64_t j = j0; j < j1; ++j) {
        float x = row[j] < e->lo ? e->lo : row[j];
        row[j] = x > e->hi ? e->hi : x;
      }
  }
}

/* The convolution term by term, for the products the packed route does not
 * take (fewer than kStreamRows output channels, whose rows would stream a
 * B that is not in memory). */
static void conv_direct(const problem *p, const memref4 *out) {
  const conv_geometry *g = p->conv;
  const memref4 *in = g->in;
  const memref3 *w = p->a;
  const int64_t window = g->kernel_h * g->kernel_w;
  for (int64_t n = 0; n < out->sizes[0]; ++n)
    for (int64_t m = 0; m < out->sizes[1]; ++m)
      for (int64_t y = 0; y < out->sizes[2]; ++y)
        for (int64_t x = 0; x < out->sizes[3]; ++x) {
          float sum = p->row_bias ? p->bias->aligned[p->bias->offset +
                                                     m * p->bias->strides[0]]
                                  : 0.0f;
          for (int64_t k = 0; k < p->k; ++k) {
            const int64_t c = k / window, i = k % window / g->kernel_w,
                          j = k % g->kernel_w;
            const int64_t iy = y * g->stride_h - g->pad_top + i * g->dilation_h,
                          ix = x * g->stride_w - g->pad_left + j * g->dilation_w;
            if (iy < 0 || iy >= in->sizes[2] || ix < 0 || ix >= in->sizes[3])
              continue;
            sum += w->aligned[w->offset + m * w->strides[1] + k * w->strides[2]] *
                   in->aligned[in->offset + n * in->strides[0] + c * in->strides[1] +
                               iy * in->strides[2] + ix * in->strides[3]];
          }
          const conv_epilogue *e = p->epilogue;
          if (e && e->residual)
            sum += e->residual->aligned[e->residual->offset +
                                        n * e->residual->strides[0] +
                                        m * e->residual->strides[1] +
                                        y * e->residual->strides[2] +
                                        x * e->residual->strides[3]];
          if (e && e->clamp)
            sum = sum < e->lo ? e->lo : sum > e->hi ? e->hi : sum;
          out->aligned[out->offset + n * out->strides[0] + m * out->strides[1] +
                       y * out->strides[2] + x * out->strides[3]] = sum;
        }
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_CONV_H */
