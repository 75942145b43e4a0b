/*===- attention.c - Flash attention for generated code --------------------===*
 *
 * The kernel that `sinter.attention` lowers to on the CPU (f32):
 * softmax(scale * Q K^T + mask) V computed one block of queries at a time
 * against one block of keys at a time with an online softmax (running max
 * and sum per query row, the accumulator rescaled when the max grows), so
 * the Sq x Sk score matrix never exists: the scratch is one block of
 * scores per thread. Under a causal mask the key blocks after a query
 * block's last row are never visited. Grouped-query heads read their KV
 * head in place (query head h uses KV head h / (Hq / Hkv)).
 *
 * Called through MLIR's C interface with strided descriptors, so views
 * (transposes, slices, broadcast masks with stride 0) need no copies; the
 * last dimension of Q, K and V must be contiguous (the lowering makes it
 * so). Blocks of (batch, head, query block) run on OpenMP threads when the
 * runtime is built with OpenMP (the copy inside model.so); the shared
 * libsinter_rt runs them in order.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/runtime.h"

#include "cpu.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef sinter_memref4_f32 memref4;

/* The scratch of one thread (K^T, the scores, the accumulator, the scaled
 * queries) lives on its stack: 208 KiB at the largest head size, well
 * inside the 4 MiB that libomp gives its threads. */
enum {
  kQueryBlock = 32,
  kKeyBlock = 128,
  kMaxHeadDim = SINTER_ATTENTION_MAX_HEAD_DIM
};


typedef struct problem {
  const memref4 *q, *k, *v, *mask, *out;
  float scale;
  int causal, has_mask;
  int64_t batch, heads, group, sq, sk, d, dv, offset, query_blocks;
} problem;

/* The products run on register tiles of kTileRows rows x kTileCols columns:
 * eight 8-float vectors of accumulators (GCC's vector extension, so that
 * each instantiation keeps them in its registers; the baseline splits them
 * in SSE halves), over operands padded with zeros to whole tiles. The
 * AVX-512 instantiation takes tiles of kWideRows x kWideCols instead:
 * sixteen 16-float vectors (zmm), per step two loads and eight broadcasts
 * for sixteen FMAs (the 4 x 16 tile in ymm reaches a quarter of an
 * AVX-512 core's peak: half the width, and six loads per eight FMAs). */
enum { kTileRows = 4, kTileCols = 16, kWideRows = 8, kWideCols = 32 };
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

/* Unaligned moves between floats and vectors (macros: a function taking
 * or returning a 32-byte vector changes the ABI without AVX). */
#define LOAD8(vector, floats) memcpy(&(vector), (floats), sizeof(v8f))
#define STORE8(floats, vector) memcpy((floats), &(vector), sizeof(v8f))
#define LOAD16(vector, floats) memcpy(&(vector), (floats), sizeof(v16f))
#define STORE16(floats, vector) memcpy((floats), &(vector), sizeof(v16f))

typedef int32_t v8i __attribute__((vector_size(32)));
typedef int32_t v16i __attribute__((vector_size(64)));

/* x[j] = e^(x[j] - shift) for j < n (all x[j] <= shift), returning their
 * sum. x has room for n rounded up to 16: the tail lanes are filled with
 * -inf, whose e^ is 0. Sixteen lanes at a time with vectors (one zmm on
 * AVX-512, two ymm on AVX2; GCC does not vectorize the scalar form inside
 * the AVX instantiations; in ymm on AVX-512 it was a tenth of vit-base's
 * attention): x = k ln2 + r
 * with k = round(x / ln2), e^r by a degree-6 polynomial on |r| <= ln2 / 2
 * (relative error < 2e-7), 2^k built in the exponent bits; below -87.3
 * the result is 0. */
SINTER_INLINE float exp_shifted_sum(float *restrict x, int64_t n,
                                    float shift) {
  for (int64_t j = n; j % 16 != 0; ++j)
    x[j] = -INFINITY;
  const v16f zero = {0};
  v16f total = zero;
  for (int64_t j = 0; j < n; j += 16) {
    v16f v;
    LOAD16(v, x + j);
    v = v - shift;
    v16i in_range = v > zero - 87.3f;
    v = (v16f)(((v16i)v & in_range) | ((v16i)(zero - 87.3f) & ~in_range));
    /* round(x / ln2) by truncating x / ln2 - 1/2 toward zero (x <= 0). */
    v16i k = __builtin_convertvector(v * 1.44269504f - 0.5f, v16i);
    v16f kf = __builtin_convertvector(k, v16f);
    v16f r = v - kf * 0.693145752f - kf * 1.42860677e-6f;
    v16f poly = zero + 1.38888889e-3f;
    poly = poly * r + 8.33333333e-3f;
    poly = poly * r + 4.16666667e-2f;
    poly = poly * r + 1.66666667e-1f;
    poly = poly * r + 0.5f;
    poly = poly * r + 1.0f;
    poly = poly * r + 1.0f;
    v16f e = poly * (v16f)((k + 127) << 23);
    e = (v16f)((v16i)e & in_range);
    STORE16(x + j, e);
    total += e;
  }
  float sum = 0.0f;
  for (int lane = 0; lane < 16; ++lane)
    sum += total[lane];
  return sum;
}

static inline int64_t round_up(int64_t n, int64_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

/* s[i][j] = sum_e qs[i][e] * kt[e][j] for whole tiles of ROWS x (two
 * vectors of VEC), LOAD and STORE its moves: the accumulators stay in
 * registers over the head dimension, each step two loads of kt and one
 * broadcast of q per row. cols is a multiple of one vector: an odd last
 * vector takes a tile of one (197 keys: 224 columns in tiles of two, 208
 * with the half tile). */
#define SINTER_SCORES_TILES(VEC, LOAD, STORE, ROWS)                           \
  do {                                                                       \
    const int64_t half = sizeof(VEC) / sizeof(float);                        \
    for (int64_t i = 0; i < rows; i += ROWS) {                               \
      int64_t j = 0;                                                         \
      for (; j + 2 * half <= cols; j += 2 * half) {                          \
        VEC acc[ROWS][2] = {{{0}}};                                          \
        for (int64_t e = 0; e < d; ++e) {                                    \
          VEC k0, k1;                                                        \
          LOAD(k0, kt + e * kKeyBlock + j);                                  \
          LOAD(k1, kt + e * kKeyBlock + j + half);                           \
          for (int r = 0; r < ROWS; ++r) {                                   \
            float qv = qs[(i + r) * d + e];                                  \
            acc[r][0] += qv * k0;                                            \
            acc[r][1] += qv * k1;                                            \
          }                                                                  \
        }                                                                    \
        for (int r = 0; r < ROWS; ++r) {                                     \
          STORE(s + (i + r) * kKeyBlock + j, acc[r][0]);                     \
          STORE(s + (i + r) * kKeyBlock + j + half, acc[r][1]);              \
        }                                                                    \
      }                                                                      \
      if (j < cols) {                                                        \
        VEC acc[ROWS] = {{0}};                                               \
        for (int64_t e = 0; e < d; ++e) {                                    \
          VEC k0;                                                            \
          LOAD(k0, kt + e * kKeyBlock + j);                                  \
          for (int r = 0; r < ROWS; ++r)                                     \
            acc[r] += qs[(i + r) * d + e] * k0;                              \
        }                                                                    \
        for (int r = 0; r < ROWS; ++r)                                       \
          STORE(s + (i + r) * kKeyBlock + j, acc[r]);                        \
      }                                                                      \
    }                                                                        \
  } while (0)

/* The scores of whole tiles; `wide`: the AVX-512 tiles. */
SINTER_INLINE void scores_tiles(const float *restrict qs, int64_t d,
                                const float *restrict kt, int64_t rows,
                                int64_t cols, float *restrict s,
                                const int wide) {
  if (wide)
    SINTER_SCORES_TILES(v16f, LOAD16, STORE16, kWideRows);
  else
    SINTER_SCORES_TILES(v8f, LOAD8, STORE8, kTileRows);
}
#undef SINTER_SCORES_TILES

/* acc[i][e0 + c] += sum_j s[i][j] * vr(j)[c] for the rows [i, i + ROWS)
 * and c < width (at most two vectors of VEC), vr(j) the row j of V from
 * column e0; LOAD and STORE are VEC's moves. */
#define SINTER_VALUES_TILE(VEC, LOAD, STORE, ROWS, vr_of_j)                   \
  do {                                                                       \
    enum { kHalf = sizeof(VEC) / sizeof(float) };                            \
    VEC a[ROWS][2] = {{{0}}};                                                \
    for (int64_t j = 0; j < cols; ++j) {                                     \
      const float *vr = (vr_of_j);                                           \
      VEC v0, v1;                                                            \
      LOAD(v0, vr);                                                          \
      LOAD(v1, vr + kHalf);                                                  \
      for (int r = 0; r < ROWS; ++r) {                                       \
        float pj = s[(i + r) * kKeyBlock + j];                               \
        a[r][0] += pj * v0;                                                  \
        a[r][1] += pj * v1;                                                  \
      }                                                                      \
    }                                                                        \
    for (int r = 0; r < ROWS; ++r) {                                         \
      float sums[2 * kHalf];                                                 \
      STORE(sums, a[r][0]);                                                  \
      STORE(sums + kHalf, a[r][1]);                                          \
      for (int c = 0; c < width; ++c)                                        \
        acc[(i + r) * dv + e0 + c] += sums[c];                               \
    }                                                                        \
  } while (0)

/* acc[i][e0 + c] += sum_j s[i][j] * v[j][e0 + c] for c < width (at most
 * one tile's columns) and whole row tiles; `wide`: the AVX-512 tiles. V
 * rows are read in place; a partial last tile reads them through a
 * zero-padded copy, in a loop of its own so that the whole tiles keep
 * their accumulators in registers. */
SINTER_INLINE void values_tile(const float *restrict s, int64_t cols,
                               const float *vbase, int64_t vstride,
                               int64_t rows, int64_t e0, int width,
                               float *restrict acc, int64_t dv,
                               const int wide) {
  const int64_t tile = wide ? kWideCols : kTileCols;
  float padded[kKeyBlock * kWideCols];
  if (width < tile) {
    memset(padded, 0, sizeof(float) * (size_t)(cols * tile));
    for (int64_t j = 0; j < cols; ++j)
      memcpy(padded + j * tile, vbase + j * vstride + e0,
             sizeof(float) * (size_t)width);
  }
  for (int64_t i = 0; i < rows; i += wide ? kWideRows : kTileRows) {
    if (wide && width == tile)
      SINTER_VALUES_TILE(v16f, LOAD16, STORE16, kWideRows,
                         vbase + j * vstride + e0);
    else if (wide)
      SINTER_VALUES_TILE(v16f, LOAD16, STORE16, kWideRows, padded + j * tile);
    else if (width == tile)
      SINTER_VALUES_TILE(v8f, LOAD8, STORE8, kTileRows,
                         vbase + j * vstride + e0);
    else
      SINTER_VALUES_TILE(v8f, LOAD8, STORE8, kTileRows, padded + j * tile);
  }
}
#undef SINTER_VALUES_TILE

/* The largest score of a row's first n keys. */
SINTER_INLINE float row_max_of(const float *restrict srow, int64_t n) {
  float best = -INFINITY;
  int64_t j = 0;
  if (n >= 8) {
    v8f m;
    LOAD8(m, srow);
    for (j = 8; j + 8 <= n; j += 8) {
      v8f x;
      LOAD8(x, srow + j);
      v8i greater = x > m;
      m = (v8f)(((v8i)x & greater) | ((v8i)m & ~greater));
    }
    for (int lane = 0; lane < 8; ++lane)
      best = m[lane] > best ? m[lane] : best;
  }
  for (; j < n; ++j)
    best = srow[j] > best ? srow[j] : best;
  return best;
}

/* One (b, h, query block): the online softmax over every key block.
 * Instantiated below for AVX-512, AVX2 and the baseline. */
SINTER_INLINE void attend_block(const problem *p, int64_t index,
                                float *scratch, const int wide) {
  int64_t qb = index % p->query_blocks;
  int64_t h = (index / p->query_blocks) % p->heads;
  int64_t b = index / (p->query_blocks * p->heads);
  int64_t i0 = qb * kQueryBlock;
  int64_t rows = p->sq - i0 < kQueryBlock ? p->sq - i0 : kQueryBlock;
  int64_t tile_rows = round_up(rows, wide ? kWideRows : kTileRows);
  int64_t d = p->d, dv = p->dv, kvh = h / p->group;
  float *kt = scratch;                      /* d x kKeyBlock */
  float *s = kt + kMaxHeadDim * kKeyBlock;  /* tile_rows x kKeyBlock */
  float *acc = s + kQueryBlock * kKeyBlock; /* tile_rows x dv */
  float *qs = acc + kQueryBlock * kMaxHeadDim; /* tile_rows x d, scaled */
  float row_max[kQueryBlock], row_sum[kQueryBlock];
  for (int64_t i = 0; i < rows; ++i) {
    row_max[i] = -INFINITY;
    row_sum[i] = 0.0f;
  }
  memset(acc, 0, sizeof(float) * (size_t)(tile_rows * dv));

  /* The block's queries, scaled once for all key blocks; rows past the
   * end are zeros, so whole tiles can run over them. */
  const memref4 *q = p->q, *k = p->k, *v = p->v, *m = p->mask;
  for (int64_t i = 0; i < tile_rows; ++i) {
    const float *qr = q->aligned + q->offset + b * q->strides[0] +
                      h * q->strides[1] + (i0 + i) * q->strides[2];
    for (int64_t e = 0; e < d; ++e)
      qs[i * d + e] = i < rows ? qr[e] * p->scale : 0.0f;
  }

  /* Causal: keys after the block's last row are hidden from all its rows. */
  int64_t end = p->sk;
  if (p->causal) {
    int64_t last = i0 + rows - 1 + p->offset + 1;
    end = last < end ? last : end;
  }
  const float *kbase = k->aligned + k->offset + b * k->strides[0] +
                       kvh * k->strides[1];
  for (int64_t j0 = 0; j0 < end; j0 += kKeyBlock) {
    int64_t cols = end - j0 < kKeyBlock ? end - j0 : kKeyBlock;
    int64_t tile_cols = round_up(cols, (wide ? kWideCols : kTileCols) / 2);
    /* K^T of the block, zero columns up to a whole vector; by 4 x 4 blocks
     * in registers where whole (a float at a time, the transpose took
     * about as long as the scores it feeds). */
    int64_t jt = 0;
    if (d % 4 == 0)
      for (; jt + 4 <= cols; jt += 4) {
        const float *k0 = kbase + (j0 + jt) * k->strides[2],
                    *k1 = k0 + k->strides[2], *k2 = k1 + k->strides[2],
                    *k3 = k2 + k->strides[2];
        for (int64_t e = 0; e < d; e += 4) {
          __m128 r0 = _mm_loadu_ps(k0 + e), r1 = _mm_loadu_ps(k1 + e),
                 r2 = _mm_loadu_ps(k2 + e), r3 = _mm_loadu_ps(k3 + e);
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          _mm_storeu_ps(kt + e * kKeyBlock + jt, r0);
          _mm_storeu_ps(kt + (e + 1) * kKeyBlock + jt, r1);
          _mm_storeu_ps(kt + (e + 2) * kKeyBlock + jt, r2);
          _mm_storeu_ps(kt + (e + 3) * kKeyBlock + jt, r3);
        }
      }
    for (; jt < tile_cols; ++jt) {
      const float *kr = kbase + (j0 + jt) * k->strides[2];
      for (int64_t e = 0; e < d; ++e)
        kt[e * kKeyBlock + jt] = jt < cols ? kr[e] : 0.0f;
    }
    scores_tiles(qs, d, kt, tile_rows, tile_cols, s, wide);

    for (int64_t i = 0; i < rows; ++i) {
      float *restrict srow = s + i * kKeyBlock;
      if (p->has_mask) {
        const float *mr = m->aligned + m->offset +
                          (m->sizes[0] == 1 ? 0 : b * m->strides[0]) +
                          (m->sizes[1] == 1 ? 0 : h * m->strides[1]) +
                          (m->sizes[2] == 1 ? 0 : (i0 + i) * m->strides[2]);
        int64_t ms = m->sizes[3] == 1 ? 0 : m->strides[3];
        for (int64_t j = 0; j < cols; ++j)
          srow[j] += mr[(j0 + j) * ms];
      }
      if (p->causal) /* hide the keys after i + offset */
        for (int64_t j = i0 + i + p->offset + 1 - j0; j < cols; ++j)
          if (j >= 0)
            srow[j] = -INFINITY;
      float block_max = row_max_of(srow, cols);
      float new_max = block_max > row_max[i] ? block_max : row_max[i];
      /* Every key so far hidden: nothing to add (and no inf - inf). */
      if (new_max == -INFINITY) {
        memset(srow, 0, sizeof(float) * (size_t)cols);
        continue;
      }
      /* Once per row and key block: libm's expf. */
      float correction = expf(row_max[i] - new_max);
      float sum = exp_shifted_sum(srow, cols, new_max);
      row_sum[i] = row_sum[i] * correction + sum;
      row_max[i] = new_max;
      if (correction != 1.0f)
        for (int64_t e = 0; e < dv; ++e)
          acc[i * dv + e] *= correction;
    }
    /* Padding rows weigh nothing. */
    for (int64_t i = rows; i < tile_rows; ++i)
      memset(s + i * kKeyBlock, 0, sizeof(float) * (size_t)cols);

    const float *vbase = v->aligned + v->offset + b * v->strides[0] +
                         kvh * v->strides[1] + j0 * v->strides[2];
    const int64_t tile = wide ? kWideCols : kTileCols;
    for (int64_t e0 = 0; e0 < dv; e0 += tile)
      values_tile(s, cols, vbase, v->strides[2], tile_rows, e0,
                  dv - e0 < tile ? (int)(dv - e0) : (int)tile, acc, dv, wide);
  }
  const memref4 *o = p->out;
  for (int64_t i = 0; i < rows; ++i) {
    float *orow = o->aligned + o->offset + b * o->strides[0] +
                  h * o->strides[1] + (i0 + i) * o->strides[2];
    /* A row whose keys are all hidden attends to nothing: zeros, not NaN. */
    float inverse = row_sum[i] > 0.0f ? 1.0f / row_sum[i] : 0.0f;
    for (int64_t e = 0; e < dv; ++e)
      orow[e * o->strides[3]] = acc[i * dv + e] * inverse;
  }
}

/* The instantiations (as SINTER_ISA_VARIANTS, but AVX-512 with its wide
 * tiles). */
SINTER_TARGET_AVX512 static void
attend_block_avx512(const problem *p, int64_t index, float *scratch) {
  attend_block(p, index, scratch, 1);
}
SINTER_TARGET_AVX2 static void attend_block_avx2(const problem *p,
                                                 int64_t index,
                                                 float *scratch) {
  attend_block(p, index, scratch, 0);
}
static void attend_block_baseline(const problem *p, int64_t index,
                                  float *scratch) {
  attend_block(p, index, scratch, 0);
}

typedef void (*block_fn)(const problem *, int64_t, float *);

void _mlir_ciface_sinter_attention_f32(const memref4 *q, const memref4 *k,
                                       const memref4 *v, const memref4 *mask,
                                       const memref4 *out, float scale,
                                       int32_t flags) {
  problem p;
  p.q = q;
  p.k = k;
  p.v = v;
  p.mask = mask;
  p.out = out;
  p.scale = scale;
  p.causal = (flags & SINTER_ATTENTION_CAUSAL) != 0;
  p.has_mask = (flags & SINTER_ATTENTION_HAS_MASK) != 0;
  p.batch = q->sizes[0];
  p.heads = q->sizes[1];
  p.group = k->sizes[1] > 0 ? q->sizes[1] / k->sizes[1] : 1;
  p.sq = q->sizes[2];
  p.sk = k->sizes[2];
  p.d = q->sizes[3];
  p.dv = v->sizes[3];
  p.offset = p.sk - p.sq;
  p.query_blocks = (p.sq + kQueryBlock - 1) / kQueryBlock;
  int64_t blocks = p.batch * p.heads * p.query_blocks;
  if (blocks == 0 || p.d > kMaxHeadDim || p.dv > kMaxHeadDim)
    return;
  block_fn attend = SINTER_PICK_ISA(attend_block);
  /* Small problems (the heads of a tiny model) run on the calling thread:
   * waking the team costs more than the blocks take. */
  int parallel = p.batch * p.heads * p.sq * p.sk * (p.d + p.dv) >=
                 SINTER_PARALLEL_WORK;
  (void)parallel;
  /* Blocks late in a causal sequence see more keys: hand them out one at a
   * time. */
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  {
    float scratch[kMaxHeadDim * kKeyBlock + kQueryBlock * kKeyBlock +
                  2 * kQueryBlock * kMaxHeadDim];
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t index = 0; index < blocks; ++index)
      attend(&p, index, scratch);
  }
}
