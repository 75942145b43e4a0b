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

#include <cpuid.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

typedef sinter_memref4_f32 memref4;

/* The scratch of one thread (kt, the scores, the accumulator) lives on its
 * stack: 176 KiB at the largest head size, well inside the 4 MiB that
 * libomp gives its threads. */
enum {
  kQueryBlock = 32,
  kKeyBlock = 128,
  kMaxHeadDim = SINTER_ATTENTION_MAX_HEAD_DIM
};

/* Inlined into each instantiation of attend_block, so that it is compiled
 * for that instantiation's vector extension. */
#define SINTER_INLINE static inline __attribute__((always_inline))

/* e^x for x <= 0 (scores minus the running max), as a polynomial the
 * compiler vectorizes: x = n ln2 + r, e^r by a degree-6 polynomial on
 * |r| <= ln2 / 2 (relative error < 2e-7), 2^n built in the exponent bits.
 * Underflows to 0 below -87.3, and -inf gives 0. */
SINTER_INLINE float exp_nonpositive(float x) {
  if (!(x > -87.3f))
    return 0.0f;
  /* n = round(x / ln2) by truncating x / ln2 - 1/2 toward zero (x <= 0):
   * a conversion SSE2 vectorizes, unlike floorf, and that reassociation
   * cannot fold away, unlike the 1.5 * 2^23 trick. */
  float n = (float)(int32_t)(x * 1.44269504f - 0.5f);
  float r = x - n * 0.693145752f - n * 1.42860677e-6f;
  float p = 1.38888889e-3f;
  p = p * r + 8.33333333e-3f;
  p = p * r + 4.16666667e-2f;
  p = p * r + 1.66666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

typedef struct problem {
  const memref4 *q, *k, *v, *mask, *out;
  float scale;
  int causal, has_mask;
  int64_t batch, heads, group, sq, sk, d, dv, offset, query_blocks;
} problem;

/* Scores of query rows [i0, i0 + rows) against keys [j0, j0 + cols) of one
 * (b, h): s = scale * q k^T + mask, -inf where causal hides the key. The
 * K block is first transposed into kt so that the inner loop runs over
 * contiguous keys for every query element (no reductions to vectorize). */
SINTER_INLINE void block_scores(const problem *p, int64_t b, int64_t h, int64_t i0,
                         int64_t rows, int64_t j0, int64_t cols,
                         float *restrict kt, float *restrict s) {
  const memref4 *q = p->q, *k = p->k;
  int64_t kvh = h / p->group, d = p->d;
  const float *kbase = k->aligned + k->offset + b * k->strides[0] +
                       kvh * k->strides[1] + j0 * k->strides[2];
  for (int64_t j = 0; j < cols; ++j) {
    const float *kr = kbase + j * k->strides[2];
    for (int64_t e = 0; e < d; ++e)
      kt[e * kKeyBlock + j] = kr[e];
  }
  for (int64_t i = 0; i < rows; ++i) {
    float *restrict srow = s + i * kKeyBlock;
    const float *qr = q->aligned + q->offset + b * q->strides[0] +
                      h * q->strides[1] + (i0 + i) * q->strides[2];
    for (int64_t j = 0; j < cols; ++j)
      srow[j] = 0.0f;
    for (int64_t e = 0; e < d; ++e) {
      float qe = qr[e] * p->scale;
      const float *restrict krow = kt + e * kKeyBlock;
      for (int64_t j = 0; j < cols; ++j)
        srow[j] += qe * krow[j];
    }
    if (p->has_mask) {
      const memref4 *m = p->mask;
      const float *mr = m->aligned + m->offset +
                        (m->sizes[0] == 1 ? 0 : b * m->strides[0]) +
                        (m->sizes[1] == 1 ? 0 : h * m->strides[1]) +
                        (m->sizes[2] == 1 ? 0 : (i0 + i) * m->strides[2]);
      int64_t ms = m->sizes[3] == 1 ? 0 : m->strides[3];
      for (int64_t j = 0; j < cols; ++j)
        srow[j] += mr[(j0 + j) * ms];
    }
    if (p->causal) {
      int64_t last = i0 + i + p->offset; /* the last key this row sees */
      for (int64_t j = last + 1 - j0; j < cols; ++j)
        if (j >= 0)
          srow[j] = -INFINITY;
    }
  }
}

/* One (b, h, query block): the online softmax over every key block.
 * Instantiated below for AVX-512, AVX2 and the baseline. */
SINTER_INLINE void attend_block(const problem *p, int64_t index,
                                float *scratch) {
  int64_t qb = index % p->query_blocks;
  int64_t h = (index / p->query_blocks) % p->heads;
  int64_t b = index / (p->query_blocks * p->heads);
  int64_t i0 = qb * kQueryBlock;
  int64_t rows = p->sq - i0 < kQueryBlock ? p->sq - i0 : kQueryBlock;
  int64_t dv = p->dv, kvh = h / p->group;
  float *kt = scratch;                           /* d x kKeyBlock */
  float *s = kt + kMaxHeadDim * kKeyBlock;       /* rows x kKeyBlock */
  float *acc = s + kQueryBlock * kKeyBlock;      /* rows x dv */
  float row_max[kQueryBlock], row_sum[kQueryBlock];
  for (int64_t i = 0; i < rows; ++i) {
    row_max[i] = -INFINITY;
    row_sum[i] = 0.0f;
  }
  memset(acc, 0, sizeof(float) * (size_t)(rows * dv));

  /* Causal: keys after the block's last row are hidden from all its rows. */
  int64_t end = p->sk;
  if (p->causal) {
    int64_t last = i0 + rows - 1 + p->offset + 1;
    end = last < end ? last : end;
  }
  const memref4 *v = p->v;
  for (int64_t j0 = 0; j0 < end; j0 += kKeyBlock) {
    int64_t cols = end - j0 < kKeyBlock ? end - j0 : kKeyBlock;
    block_scores(p, b, h, i0, rows, j0, cols, kt, s);
    const float *vbase = v->aligned + v->offset + b * v->strides[0] +
                         kvh * v->strides[1] + j0 * v->strides[2];
    for (int64_t i = 0; i < rows; ++i) {
      float *restrict srow = s + i * kKeyBlock;
      float block_max = -INFINITY;
      for (int64_t j = 0; j < cols; ++j)
        block_max = srow[j] > block_max ? srow[j] : block_max;
      float new_max = block_max > row_max[i] ? block_max : row_max[i];
      /* Every key so far hidden: nothing to add (and no inf - inf). */
      if (new_max == -INFINITY)
        continue;
      float correction = exp_nonpositive(row_max[i] - new_max);
      float sum = 0.0f;
      for (int64_t j = 0; j < cols; ++j) {
        srow[j] = exp_nonpositive(srow[j] - new_max);
        sum += srow[j];
      }
      row_sum[i] = row_sum[i] * correction + sum;
      row_max[i] = new_max;
      float *restrict arow = acc + i * dv;
      if (correction != 1.0f)
        for (int64_t e = 0; e < dv; ++e)
          arow[e] *= correction;
      for (int64_t j = 0; j < cols; ++j) {
        float pj = srow[j];
        if (pj == 0.0f)
          continue;
        const float *restrict vr = vbase + j * v->strides[2];
        for (int64_t e = 0; e < dv; ++e)
          arow[e] += pj * vr[e];
      }
    }
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

__attribute__((target("avx512f,avx512vl,avx2,fma"))) static void
attend_block_avx512(const problem *p, int64_t index, float *scratch) {
  attend_block(p, index, scratch);
}

__attribute__((target("avx2,fma"))) static void
attend_block_avx2(const problem *p, int64_t index, float *scratch) {
  attend_block(p, index, scratch);
}

static void attend_block_baseline(const problem *p, int64_t index,
                                  float *scratch) {
  attend_block(p, index, scratch);
}

typedef void (*block_fn)(const problem *, int64_t, float *);

static block_fn detect_block_fn(void);

/* Detected on the first call: CPUID traps to the hypervisor in a virtual
 * machine, which every layer of every run should not pay for. Threads that
 * race here store the same value. */
static block_fn select_block_fn(void) {
  static _Atomic(block_fn) selected;
  block_fn fn = atomic_load_explicit(&selected, memory_order_relaxed);
  if (!fn) {
    fn = detect_block_fn();
    atomic_store_explicit(&selected, fn, memory_order_relaxed);
  }
  return fn;
}

/* The widest instantiation this CPU and OS run: CPUID for the features,
 * XGETBV for the OS saving the vector registers. Read here rather than
 * with GCC's target_clones, whose resolver needs libgcc's __cpu_model,
 * which model.so does not link. */
static block_fn detect_block_fn(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return attend_block_baseline;
  int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !fma || __get_cpuid_max(0, 0) < 7)
    return attend_block_baseline;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  __cpuid_count(7, 0, a, b, c, d);
  int ymm = (xcr0_lo & 0x6) == 0x6, zmm = (xcr0_lo & 0xe6) == 0xe6;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512vl = (b >> 31) & 1;
  if (zmm && avx512f && avx512vl && avx2)
    return attend_block_avx512;
  if (ymm && avx2)
    return attend_block_avx2;
  return attend_block_baseline;
}

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
  block_fn attend = select_block_fn();
  /* Blocks late in a causal sequence see more keys: hand them out one at a
   * time. */
#ifdef _OPENMP
#pragma omp parallel
#endif
  {
    float scratch[kMaxHeadDim * kKeyBlock + kQueryBlock * kKeyBlock +
                  kQueryBlock * kMaxHeadDim];
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t index = 0; index < blocks; ++index)
      attend(&p, index, scratch);
  }
}
