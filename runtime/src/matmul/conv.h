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

/* Part of a sliver's columns that lie in one output row: lanes [lane,
 * lane + len), whose windows start at input (y, x), (y, x + SW), ... */
typedef struct conv_run {
  int64_t lane, len, y, x;
} conv_run;

/* Row (y, x + t SW) of one window offset for t in [0, len), zero outside the
 * input: the prefix and suffix that fall outside are found by arithmetic,
 * the rest copied (contiguous for stride 1, which the caller passes as a
 * constant so that the copy is a memcpy). */
SINTER_INLINE void copy_run(float *restrict row, const float *line, int64_t x,
                            int64_t len, int64_t step, int64_t sx,
                            int64_t width) {
  int64_t lo = 0, hi = len;
  if (x < 0)
    lo = (-x + step - 1) / step;
  if (x + (len - 1) * step >= width)
    hi = x >= width ? 0 : (width - x + step - 1) / step;
  if (lo > hi)
    lo = hi;
  for (int64_t t = 0; t < lo; ++t)
    row[t] = 0.0f;
  if (step * sx == 1)
    memcpy(row + lo, line + x + lo, sizeof(float) * (size_t)(hi - lo));
  else
    for (int64_t t = lo; t < hi; ++t)
      row[t] = line[(x + t * step) * sx];
  for (int64_t t = hi; t < len; ++t)
    row[t] = 0.0f;
}

/* Packs depth [k0, k0 + kc) x columns [j0, j0 + cols) of image `batch`'s
 * cols as pack_b packs B: sliver s holds cols[k0 + k][j0 + s kNR + q] at
 * s kNR kc + k kNR + q, zero beyond the last column. Each sliver's columns
 * are cut once into runs inside one output row; each row of the sliver is
 * then a copy per run, its bounds found by arithmetic rather than per
 * element (per element, packing cost as much as the products of a layer
 * of 64 output channels: bench/NOTES.md). */
SINTER_INLINE void pack_b_conv(const problem *p, int64_t batch, int64_t k0,
                               int64_t kc, int64_t j0, int64_t cols,
                               float *restrict packed) {
  const conv_geometry *g = p->conv;
  const memref4 *in = g->in;
  const float *image = in->aligned + in->offset + batch * in->strides[0];
  const int64_t height = in->sizes[2], width = in->sizes[3];
  const int64_t sc = in->strides[1], sy = in->strides[2], sx = in->strides[3];
  const int64_t window = g->kernel_h * g->kernel_w, step = g->stride_w;
  const int unit_step = step == 1 && sx == 1;
  for (int64_t s = 0; s < cols; s += kNR) {
    const int64_t n = cols - s < kNR ? cols - s : kNR;
    conv_run runs[kNR];
    int64_t count = 0;
    for (int64_t q = 0; q < n;) {
      const int64_t position = j0 + s + q, oy = position / g->out_w,
                    ox = position % g->out_w;
      const int64_t len = n - q < g->out_w - ox ? n - q : g->out_w - ox;
      runs[count++] = (conv_run){q, len, oy * g->stride_h - g->pad_top,
                                 ox * step - g->pad_left};
      q += len;
    }
    /* The common case: kNR neighbours of one input row. */
    const int whole_row = count == 1 && n == kNR && unit_step;
    float *restrict out = packed + s * kc;
    int64_t c = k0 / window, i = k0 % window / g->kernel_w,
            j = k0 % g->kernel_w;
    for (int64_t k = 0; k < kc; ++k) {
      float *restrict row = out + k * kNR;
      const float *plane = image + c * sc;
      const int64_t dy = i * g->dilation_h, dx = j * g->dilation_w;
      if (whole_row) {
        const int64_t y = runs[0].y + dy, x = runs[0].x + dx;
        if ((uint64_t)y >= (uint64_t)height)
          memset(row, 0, sizeof(float) * kNR);
        else if (x >= 0 && x + kNR <= width)
          memcpy(row, plane + y * sy + x, sizeof(float) * kNR);
        else
          copy_run(row, plane + y * sy, x, kNR, 1, 1, width);
      } else {
        for (int64_t r = 0; r < count; ++r) {
          const conv_run *run = &runs[r];
          const int64_t y = run->y + dy;
          if ((uint64_t)y >= (uint64_t)height) {
            memset(row + run->lane, 0, sizeof(float) * (size_t)run->len);
          } else if (unit_step) {
            copy_run(row + run->lane, plane + y * sy, run->x + dx, run->len,
                     1, 1, width);
          } else {
            copy_run(row + run->lane, plane + y * sy, run->x + dx, run->len,
                     step, sx, width);
          }
        }
        if (n < kNR)
          memset(row + n, 0, sizeof(float) * (size_t)(kNR - n));
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
            sum += a_element(p, m, k) *
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
