/*===- problem.h - One matrix product, its blocks and its C ----------------===*
 *
 * The block sizes of the packed (GotoBLAS) route and the streaming one,
 * the vector types, and a product's description shared by every part of
 * the f32 kernel.
 *
 * Part of matmul.c's translation unit (included there once), so that its
 * static functions are inlined into each CPU-feature variant of the
 * tile functions and compiled for that variant's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_PROBLEM_H
#define SINTER_RUNTIME_SRC_MATMUL_PROBLEM_H

#include "sinter/kernels.h"

#include "cpu.h"
#include "qweight.h"

#include <stdint.h>
#include <string.h>

typedef sinter_memref1_f32 memref1;
typedef sinter_memref3_f32 memref3;

enum {
  kMR = 6,                        /* rows of the register block */
  kMRw = 12, /* rows of the AVX-512 route's block (gemm_tile_wide) */
  kMaxMR = 12,

  kNR = SINTER_MATMUL_PACK_WIDTH, /* its columns: two 8-float vectors */
  kKC = 256, /* depth of a packed block, at most */
  kMC = 72,  /* rows of a packed block of A (a multiple of kMR) */
  kNC = 512, /* columns of a packed block of B (a multiple of kNR) */
  /* The AVX-512 route's blocks: twice as deep, so that C is read and
   * written half as often (its two B slivers then outgrow L1 and stream
   * from L2 with A, which the zmm block's arithmetic intensity allows);
   * half as wide where B is packed at run time, so that the block stays
   * 512 KiB; A in blocks of 144 rows (288 KiB, in L2 with B's block), so
   * that the models' 128-row products read their B slivers once. */
  kKCw = 512,
  kNCw = 256,
  kMCw = 144,
  /* Weights packed at compile time need no B block: the scratch that
   * would hold it lets A's blocks be twice as deep again (576 KiB for 144
   * rows, still in L2 beside the two B slivers being read), and C is read
   * and written half as often once more (K = 768 in one block, not two). */
  kKCp = 1024,
  /* Large f32 products whose B is packed here, on AVX-512: blocks as deep
   * as the compile-time packed weights' and twice as wide, B's (2 MiB)
   * streamed from L3 a sliver pair at a time as a packed weight is from
   * memory, A's (576 KiB) in L2. C is written once for K <= 1024 and A
   * packed half as often (bench/NOTES.md). Too large for the thread's
   * stack, they live in heap scratch kept between calls
   * (take_heap_scratch), from this many multiply-adds. */
  kKCh = 1024,
  kNCh = 512,
  kHeapBlocksWork = 1 << 24,
  /* Below this many rows a product streams B (see above). */
  kStreamRows = 4,
};
_Static_assert(kKCw * kNCw <= kKC * kNC && kMC * kKC <= kMCw * kKCw,
               "a thread's scratch holds either route's blocks");
_Static_assert(kMCw * kKCp <= kMCw * kKCw + kKC * kNC,
               "the A block of a compile-time packed B fits both blocks' scratch");
_Static_assert(kNCh <= kNC, "a tile's bias row holds kNC columns");


typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int8_t v16i8 __attribute__((vector_size(16)));
typedef int64_t v2i64 __attribute__((vector_size(16)));
typedef int8_t v32i8 __attribute__((vector_size(32)));
typedef uint16_t v8u16 __attribute__((vector_size(16)));
#define LOAD8(vector, floats) memcpy(&(vector), (floats), sizeof(v8f))
#define STORE8(floats, vector) memcpy((floats), &(vector), sizeof(v8f))

typedef sinter_memref4_f32 memref4;

/* A convolution's B: the windows of one image as columns (conv.h). */
typedef struct conv_geometry {
  const memref4 *in;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w,
      pad_top, pad_left, out_w;
} conv_geometry;

/* What a convolution's output gets once its products are complete: a
 * residual added (null: none), then a clamp to [lo, hi]. */
typedef struct conv_epilogue {
  const memref4 *residual;
  int clamp;
  float lo, hi;
  int64_t out_w;
} conv_epilogue;

typedef struct problem {
  const memref3 *a, *b, *c;
  const memref1 *bias;
  int transpose_b, has_bias, packed_b;
  /* The bias is one value per row of C (a convolution's, per output
   * channel) rather than per column; bias_per_row holds it contiguous
   * for the packed route, whose first depth block adds it. */
  int row_bias;
  const float *bias_per_row;
  /* A is a convolution's weight packed by sinterc
   * (SINTER_CONV_PACKED_WEIGHT): slivers of kMaxMR rows by the whole depth,
   * read in place (see packed_a_rows). */
  int packed_a;
  /* A convolution: B is not in memory but packed from the input's windows
   * (b is unused); null for a matrix product. */
  const conv_geometry *conv;
  /* Applied to each tile of C after its last depth block; null for none. */
  const conv_epilogue *epilogue;
  int64_t batch, m, n, k;
  /* B[k][n] is at b + k * bk + n * bn in the batch's matrix. */
  int64_t bk, bn;
  /* A quantized B (sinter_qmatmul_f32): its header, which the packed
   * matrices follow; null for f32. */
  const sinter_qweight_header *qw;
  /* Whether the packed route runs gemm_tile_wide (AVX-512), and its
   * blocks' depth (K in equal parts) and width. */
  int wide;
  int64_t kc, nc;
  /* Whether the blocks are the heap scratch's (kKCh x kNCh). */
  int heap_blocks;
  /* How one to three rows stream it, for this CPU (see stream_q). */
  void (*stream_q)(const struct problem *p, int64_t batch, int64_t j0,
                   int64_t j1);
} problem;

static inline const float *a_matrix(const problem *p, int64_t batch) {
  const memref3 *a = p->a;
  return a->aligned + a->offset + (a->sizes[0] == 1 ? 0 : batch * a->strides[0]);
}

_Static_assert(kMaxMR == SINTER_CONV_PACK_ROWS && kMaxMR % kMR == 0 &&
                   kMRw == kMaxMR,
               "a weight packed at compile time serves both register blocks");

/* Rows [i, i + mr) of a packed A (p->packed_a; i a multiple of mr, mr
 * dividing kMaxMR) from depth k0: one step of depth every kMaxMR floats. */
static inline const float *packed_a_rows(const problem *p, int64_t i,
                                         int64_t k0) {
  return p->a->aligned + p->a->offset + i / kMaxMR * kMaxMR * p->k +
         k0 * kMaxMR + i % kMaxMR;
}

/* Element (i, k) of A, packed or not. */
static inline float a_element(const problem *p, int64_t i, int64_t k) {
  if (p->packed_a)
    return packed_a_rows(p, i - i % kMaxMR, k)[i % kMaxMR];
  const memref3 *a = p->a;
  return a->aligned[a->offset + i * a->strides[1] + k * a->strides[2]];
}

static inline const float *b_matrix(const problem *p, int64_t batch) {
  const memref3 *b = p->b;
  return b->aligned + b->offset + (b->sizes[0] == 1 ? 0 : batch * b->strides[0]);
}

static inline const int8_t *q_matrix(const problem *p, int64_t batch) {
  const sinter_qweight_header *h = p->qw;
  return (const int8_t *)h + SINTER_QWEIGHT_HEADER_SIZE +
         (h->batch == 1 ? 0 : batch * h->matrix_bytes);
}

static inline float *c_matrix(const problem *p, int64_t batch) {
  return p->c->aligned + p->c->offset + batch * p->c->strides[0];
}

/* Rows [i0, i1) x columns [j0, j1) of C start as the bias broadcast over
 * the rows, or zeros, where B is streamed (or K is 0); the products then
 * accumulate into them. Each tile initializes its own part, on its own
 * thread. (The packed route writes C from its first depth block instead:
 * see initial_row.) */
static void initialize_c(const problem *p, int64_t batch, int64_t i0,
                         int64_t i1, int64_t j0, int64_t j1) {
  float *c = c_matrix(p, batch);
  const int64_t ldc = p->c->strides[1];
  for (int64_t i = i0; i < i1; ++i) {
    float *row = c + i * ldc;
    if (p->row_bias) {
      const float value = p->bias->aligned[p->bias->offset + i * p->bias->strides[0]];
      for (int64_t j = j0; j < j1; ++j)
        row[j] = value;
    } else if (p->has_bias) {
      const float *bias = p->bias->aligned + p->bias->offset;
      for (int64_t j = j0; j < j1; ++j)
        row[j] = bias[j * p->bias->strides[0]];
    } else {
      memset(row + j0, 0, sizeof(float) * (size_t)(j1 - j0));
    }
  }
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_PROBLEM_H */
