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
#include "sinter/kernels.h"

#include "cpu.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef sinter_memref4_f32 memref4;

/* The scratch of one thread (the block's scaled Q^T, its scores and its
 * accumulator) lives on its stack: 80 KiB at the largest head size, and
 * 16 KiB more in values_tile for a padded copy of V's columns, well inside
 * the 4 MiB that libomp gives its threads. */
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

/* Scores are kept transposed, keys by queries (S^T = K Q^T): K is read in
 * place, a broadcast of one element of a key per step, so no block of K is
 * ever transposed (transposing it for every query block took a sixth of
 * the kernel), and the online softmax runs down the columns, sixteen
 * queries a vector: the maximum and the sum over keys are vertical, with
 * no reduction across lanes per row (the row-wise softmax took a quarter
 * of the kernel on vit-base's 197 keys). Only the block's queries are
 * transposed, once for all key blocks.
 *
 * The products run on register tiles of kTileRows rows x two 8-float
 * vectors (GCC's vector extension, so that each instantiation keeps them
 * in its registers; the baseline splits them in SSE halves); the AVX-512
 * instantiation takes kWideRows x two 16-float vectors (zmm): per step two
 * loads and eight broadcasts for sixteen FMAs. */
enum { kTileRows = 4, kTileCols = 16, kWideRows = 8, kWideCols = 32 };
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

/* Unaligned moves between floats and vectors (macros: a function taking
 * or returning a 32-byte vector changes the ABI without AVX). */
#define LOAD8(vector, floats) memcpy(&(vector), (floats), sizeof(v8f))
#define STORE8(floats, vector) memcpy((floats), &(vector), sizeof(v8f))
#define LOAD16(vector, floats) memcpy(&(vector), (floats), sizeof(v16f))
#define STORE16(floats, vector) memcpy((floats), &(vector), sizeof(v16f))

typedef int32_t v16i __attribute__((vector_size(64)));

/* e^x in each lane for x <= 0 (a score less its query's running maximum):
 * x = k ln2 + r with k = round(x / ln2), e^r by a degree-6 polynomial on
 * |r| <= ln2 / 2 (relative error < 2e-7), 2^k built in the exponent bits;
 * below -87.3 (a hidden key's -inf, and NaN) the result is 0. Sixteen
 * lanes, in place: one zmm on AVX-512, two ymm on AVX2. */
SINTER_INLINE void exp_nonpositive(v16f *x) {
  const v16f zero = {0};
  v16f v = *x;
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
  *x = (v16f)((v16i)e & in_range);
}

/* The larger of a and b in each lane (b where either is NaN); a macro, as
 * LOAD16: a function returning a 64-byte vector changes the ABI below
 * AVX-512. */
#define MAX16(a, b) ((v16f)((((v16i)(a)) & ((a) > (b))) | (((v16i)(b)) & ~((a) > (b)))))

static inline int64_t round_up(int64_t n, int64_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

/* st[j][i] = sum_e key_j[e] * qt[e][i] for keys j < cols (key j at kbase +
 * j * ks) and queries i < qcols (a multiple of one VEC), in tiles of ROWS
 * keys x two vectors of queries (one for an odd last vector) whose
 * accumulators stay in registers over the head dimension; LOAD and STORE
 * are VEC's moves. Rows of a tile past the last key repeat it: their
 * scores are never read. */
#define SINTER_SCORES_TILES(VEC, LOAD, STORE, ROWS)                           \
  do {                                                                       \
    const int64_t half = sizeof(VEC) / sizeof(float);                        \
    for (int64_t j = 0; j < cols; j += ROWS) {                               \
      const float *key[ROWS];                                                \
      for (int r = 0; r < ROWS; ++r)                                         \
        key[r] = kbase + (j + r < cols ? j + r : cols - 1) * ks;             \
      int64_t i = 0;                                                         \
      for (; i + 2 * half <= qcols; i += 2 * half) {                         \
        VEC acc[ROWS][2] = {{{0}}};                                          \
        for (int64_t e = 0; e < d; ++e) {                                    \
          VEC q0, q1;                                                        \
          LOAD(q0, qt + e * kQueryBlock + i);                                \
          LOAD(q1, qt + e * kQueryBlock + i + half);                         \
          for (int r = 0; r < ROWS; ++r) {                                   \
            const float kv = key[r][e];                                      \
            acc[r][0] += kv * q0;                                            \
            acc[r][1] += kv * q1;                                            \
          }                                                                  \
        }                                                                    \
        for (int r = 0; r < ROWS; ++r) {                                     \
          STORE(st + (j + r) * kQueryBlock + i, acc[r][0]);                  \
          STORE(st + (j + r) * kQueryBlock + i + half, acc[r][1]);           \
        }                                                                    \
      }                                                                      \
      if (i < qcols) {                                                       \
        VEC acc[ROWS] = {{0}};                                               \
        for (int64_t e = 0; e < d; ++e) {                                    \
          VEC q0;                                                            \
          LOAD(q0, qt + e * kQueryBlock + i);                                \
          for (int r = 0; r < ROWS; ++r)                                     \
            acc[r] += key[r][e] * q0;                                        \
        }                                                                    \
        for (int r = 0; r < ROWS; ++r)                                       \
          STORE(st + (j + r) * kQueryBlock + i, acc[r]);                     \
      }                                                                      \
    }                                                                        \
  } while (0)

/* The block's scores; `wide`: the AVX-512 tiles. */
SINTER_INLINE void scores_tiles(const float *restrict qt, int64_t d,
                                const float *kbase, int64_t ks, int64_t cols,
                                int64_t qcols, float *restrict st,
                                const int wide) {
  if (wide)
    SINTER_SCORES_TILES(v16f, LOAD16, STORE16, kWideRows);
  else
    SINTER_SCORES_TILES(v8f, LOAD8, STORE8, kTileRows);
}
#undef SINTER_SCORES_TILES

/* acc[i + r][e0 + c] += sum_j p[i + r][j] * vr(j)[c] for r < ROWS and
 * c < width (at most two vectors of VEC), p[i][j] = st[j][i] (the
 * probabilities, keys by queries), vr(j) the row j of V from column e0;
 * LOAD and STORE are VEC's moves. */
#define SINTER_VALUES_TILE(VEC, LOAD, STORE, ROWS, vr_of_j)                   \
  do {                                                                       \
    enum { kHalf = sizeof(VEC) / sizeof(float) };                            \
    VEC a[ROWS][2] = {{{0}}};                                                \
    for (int64_t j = 0; j < cols; ++j) {                                     \
      const float *vr = (vr_of_j);                                           \
      const float *pj = st + j * kQueryBlock + i;                            \
      VEC v0, v1;                                                            \
      LOAD(v0, vr);                                                          \
      LOAD(v1, vr + kHalf);                                                  \
      for (int r = 0; r < ROWS; ++r) {                                       \
        a[r][0] += pj[r] * v0;                                               \
        a[r][1] += pj[r] * v1;                                               \
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

/* acc[i][e0 + c] += sum_j p[i][j] * v[j][e0 + c] for c < width (at most
 * one tile's columns) and whole row tiles; `wide`: the AVX-512 tiles. V
 * rows are read in place; a partial last tile reads them through a
 * zero-padded copy, in a loop of its own so that the whole tiles keep
 * their accumulators in registers. */
SINTER_INLINE void values_tile(const float *restrict st, int64_t cols,
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

/* One (b, h, query block): the online softmax over every key block.
 * Instantiated below for AVX-512, AVX2 and the baseline. */
SINTER_INLINE void attend_block(const problem *p, int64_t index,
                                float *scratch, const int wide) {
  int64_t qb = index % p->query_blocks;
  int64_t h = (index / p->query_blocks) % p->heads;
  int64_t b = index / (p->query_blocks * p->heads);
  int64_t i0 = qb * kQueryBlock;
  int64_t rows = p->sq - i0 < kQueryBlock ? p->sq - i0 : kQueryBlock;
  /* Queries in whole vectors of 16 for the scores and the softmax, in
   * whole register tiles for the values; the padding queries are zeros. */
  int64_t qcols = round_up(rows, 16);
  int64_t tile_rows = round_up(rows, wide ? kWideRows : kTileRows);
  int64_t d = p->d, dv = p->dv, kvh = h / p->group;
  float *qt = scratch;                       /* d x kQueryBlock, scaled */
  float *st = qt + kMaxHeadDim * kQueryBlock; /* kKeyBlock x kQueryBlock */
  float *acc = st + kKeyBlock * kQueryBlock;  /* kQueryBlock x dv */
  float row_max[kQueryBlock] __attribute__((aligned(64))),
      row_sum[kQueryBlock] __attribute__((aligned(64))),
      correction[kQueryBlock] __attribute__((aligned(64)));
  for (int64_t i = 0; i < kQueryBlock; ++i) {
    row_max[i] = -INFINITY;
    row_sum[i] = 0.0f;
  }
  memset(acc, 0, sizeof(float) * (size_t)(tile_rows * dv));

  const memref4 *q = p->q, *k = p->k, *v = p->v, *m = p->mask;
  for (int64_t i = 0; i < qcols; ++i) {
    if (i >= rows) {
      for (int64_t e = 0; e < d; ++e)
        qt[e * kQueryBlock + i] = 0.0f;
      continue;
    }
    const float *qr = q->aligned + q->offset + b * q->strides[0] +
                      h * q->strides[1] + (i0 + i) * q->strides[2];
    for (int64_t e = 0; e < d; ++e)
      qt[e * kQueryBlock + i] = qr[e] * p->scale;
  }

  /* Causal: keys after the block's last row are hidden from all its rows. */
  int64_t end = p->sk;
  if (p->causal) {
    int64_t last = i0 + rows - 1 + p->offset + 1;
    end = last < end ? last : end;
  }
  const float *kbase = k->aligned + k->offset + b * k->strides[0] +
                       kvh * k->strides[1];
  /* The mask's element (query i0 + i, key j) is at mbase + i * mq + j * mk;
   * a mask broadcast over queries (a padding mask) has mq = 0. */
  const float *mbase = NULL;
  int64_t mq = 0, mk = 0;
  if (p->has_mask) {
    mq = m->sizes[2] == 1 ? 0 : m->strides[2];
    mk = m->sizes[3] == 1 ? 0 : m->strides[3];
    mbase = m->aligned + m->offset +
            (m->sizes[0] == 1 ? 0 : b * m->strides[0]) +
            (m->sizes[1] == 1 ? 0 : h * m->strides[1]) + i0 * mq;
  }
  for (int64_t j0 = 0; j0 < end; j0 += kKeyBlock) {
    int64_t cols = end - j0 < kKeyBlock ? end - j0 : kKeyBlock;
    scores_tiles(qt, d, kbase + j0 * k->strides[2], k->strides[2], cols,
                 qcols, st, wide);

    for (int64_t j = 0; j < cols; ++j) {
      float *restrict srow = st + j * kQueryBlock;
      if (p->has_mask) {
        const float *mj = mbase + (j0 + j) * mk;
        if (mq == 0) {
          const float add = mj[0];
          for (int64_t i = 0; i < rows; ++i)
            srow[i] += add;
        } else {
          for (int64_t i = 0; i < rows; ++i)
            srow[i] += mj[i * mq];
        }
      }
      if (p->causal) {
        /* Query i0 + i sees key j0 + j once j0 + j <= i0 + i + offset. */
        int64_t first_seeing = j0 + j - p->offset - i0;
        for (int64_t i = 0; i < rows && i < first_seeing; ++i)
          srow[i] = -INFINITY;
      }
    }

    /* The online softmax, sixteen queries at a time. A query whose keys so
     * far are all hidden keeps the maximum -inf and shifts by 0 instead
     * (e^-inf = 0 for every key, and no inf - inf). */
    const v16f zero = {0};
    for (int64_t i = 0; i < qcols; i += 16) {
      v16f top;
      LOAD16(top, st + i);
      for (int64_t j = 1; j < cols; ++j) {
        v16f x;
        LOAD16(x, st + j * kQueryBlock + i);
        top = MAX16(x, top);
      }
      v16f old_max, old_sum;
      LOAD16(old_max, row_max + i);
      LOAD16(old_sum, row_sum + i);
      const v16f new_max = MAX16(top, old_max);
      const v16f shift = (v16f)((v16i)new_max & ~(new_max == zero - INFINITY));
      v16f rescale = old_max - shift;
      exp_nonpositive(&rescale);
      v16f sum = zero;
      for (int64_t j = 0; j < cols; ++j) {
        v16f x;
        LOAD16(x, st + j * kQueryBlock + i);
        x -= shift;
        exp_nonpositive(&x);
        STORE16(st + j * kQueryBlock + i, x);
        sum += x;
      }
      old_sum = old_sum * rescale + sum;
      STORE16(row_max + i, new_max);
      STORE16(row_sum + i, old_sum);
      STORE16(correction + i, rescale);
    }
    for (int64_t i = 0; i < rows; ++i)
      if (correction[i] != 1.0f)
        for (int64_t e = 0; e < dv; ++e)
          acc[i * dv + e] *= correction[i];

    const float *vbase = v->aligned + v->offset + b * v->strides[0] +
                         kvh * v->strides[1] + j0 * v->strides[2];
    const int64_t tile = wide ? kWideCols : kTileCols;
    for (int64_t e0 = 0; e0 < dv; e0 += tile)
      values_tile(st, cols, vbase, v->strides[2], tile_rows, e0,
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
    float scratch[kMaxHeadDim * kQueryBlock + kKeyBlock * kQueryBlock +
                  kQueryBlock * kMaxHeadDim] __attribute__((aligned(64)));
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t index = 0; index < blocks; ++index)
      attend(&p, index, scratch);
  }
}
