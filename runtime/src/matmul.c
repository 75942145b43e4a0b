/*===- matmul.c - Matrix products for generated code ------------------------===*
 *
 * The kernel that f32 `sinter.matmul` and `sinter.linear` lower to on the
 * CPU: C[b] = A[b] B[b] (+ bias), batched, with any strides on A and B (a
 * transposed weight is a view, not a copy).
 *
 * Products with enough rows take the GotoBLAS route: blocks of KC x NC of B
 * and MC x KC of A are packed into panels in the order the microkernel
 * reads them (B in KC x NR slivers, A in MR x KC slivers, zero-padded to
 * whole slivers), and the microkernel keeps an MR x NR block of C in
 * registers across the whole KC loop: per step one broadcast of A per row
 * and NR / 8 loads of B feed MR * NR / 8 FMAs. The block sizes keep a B
 * sliver (16 KiB) and an A sliver in L1, the packed A block (72 KiB) in
 * L2 and the packed B block (512 KiB) in L2 and L3 (the AVX-512 route's
 * deeper blocks: see kKCw; the large products' in heap scratch: kKCh).
 * The first depth block writes C, the others
 * add to it. Tiles of (batch, a range of rows, NC columns) run on the
 * OpenMP threads, each packing its own blocks.
 *
 * Products of one to three rows (batch-1 decoding: a vector times a weight
 * matrix) are bound by reading B once; packing would read it twice. They
 * stream B directly: rows of B scaled and added (B's rows contiguous), or
 * dot products (B's columns contiguous, the transposed weight layout).
 *
 * A quantized weight (sinter_qmatmul_f32, layout in qweight.h) takes the
 * same routes: its blocks are unpacked to f32 into the GEMM's B panels,
 * and one to three rows stream its integers, converted in registers, one
 * group of k at a time (per group: the integer dot product, then the
 * scale and the zero point times the sum of the group's A elements).
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/runtime.h"

#include "cpu.h"
#include "qweight.h"

#include <immintrin.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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
   * packed half as often: 4096 x 4096 x 1024 at 1 thread 196 -> 211
   * GFLOP/s (bench/NOTES.md). Too large for the thread's stack, they live
   * in heap scratch kept between calls (take_heap_scratch), from this many
   * multiply-adds. */
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

/* Floats of one thread's heap scratch: A's block, then B's. */
static const size_t kHeapScratchFloats = (size_t)kMCw * kKCh + (size_t)kKCh * kNCh;

/* The heap scratch of the last call, kept for the next: taking it and
 * giving it back are atomic exchanges, so that sessions running at once
 * each get scratch of their own (a call that finds none allocates; of two
 * given back at once, one is freed). A block starts with a header of one
 * cache line that holds its size in floats; the scratch follows it. */
enum { kHeapHeaderFloats = 64 / sizeof(float) };
static _Atomic(float *) spare_heap_scratch;

static float *take_heap_scratch(size_t floats) {
  float *block = atomic_exchange(&spare_heap_scratch, NULL);
  if (block && *(size_t *)block >= floats)
    return block + kHeapHeaderFloats;
  free(block);
  block = aligned_alloc(64, sizeof(float) * (floats + kHeapHeaderFloats));
  if (!block)
    return NULL;
  *(size_t *)block = floats;
  return block + kHeapHeaderFloats;
}

static void give_back_heap_scratch(float *scratch) {
  if (scratch)
    free(atomic_exchange(&spare_heap_scratch, scratch - kHeapHeaderFloats));
}

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int8_t v16i8 __attribute__((vector_size(16)));
typedef int64_t v2i64 __attribute__((vector_size(16)));
typedef int8_t v32i8 __attribute__((vector_size(32)));
typedef uint16_t v8u16 __attribute__((vector_size(16)));
#define LOAD8(vector, floats) memcpy(&(vector), (floats), sizeof(v8f))
#define STORE8(floats, vector) memcpy((floats), &(vector), sizeof(v8f))

typedef struct problem {
  const memref3 *a, *b, *c;
  const memref1 *bias;
  int transpose_b, has_bias, packed_b;
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
    if (p->has_bias) {
      const float *bias = p->bias->aligned + p->bias->offset;
      for (int64_t j = j0; j < j1; ++j)
        row[j] = bias[j * p->bias->strides[0]];
    } else {
      memset(row + j0, 0, sizeof(float) * (size_t)(j1 - j0));
    }
  }
}

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
       * at a time, this was a twentieth of the product's time). */
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
 * each row, one page per row for N >= 1024: a twentieth of a 1024^3
 * product); columns contiguous (an N x K weight, read transposed) are read
 * as kNR streams. */
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

/* C[0..rows) x [0..cols) += (packed A sliver) x (packed B sliver) over kc:
 * the kMR x kNR accumulators stay in registers for the whole depth. With
 * `first` (the first depth block), C is not read: it becomes the product
 * plus `row0`, the block's columns of the bias row (or zeros). */
SINTER_INLINE void microkernel(int64_t kc, const float *restrict a,
                               const float *restrict b, float *c,
                               int64_t ldc, int64_t rows, int64_t cols,
                               const float *row0, int first) {
  v8f acc[kMR][2];
  const v8f zero = {0};
  /* The block of C is read and written after the depth loop: start
   * fetching it now (its 16 floats may straddle two lines). */
  if (!first)
    for (int r = 0; r < kMR; ++r) {
      __builtin_prefetch(c + r * ldc, 1, 3);
      __builtin_prefetch(c + r * ldc + kNR - 1, 1, 3);
    }
  for (int r = 0; r < kMR; ++r)
    acc[r][0] = acc[r][1] = zero;
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    v8f b0, b1;
    LOAD8(b0, b + k * kNR);
    LOAD8(b1, b + k * kNR + 8);
    for (int r = 0; r < kMR; ++r) {
      v8f ar = zero + a[k * kMR + r];
      acc[r][0] += ar * b0;
      acc[r][1] += ar * b1;
    }
  }
  if (rows == kMR && cols == kNR) {
    for (int r = 0; r < kMR; ++r) {
      v8f c0, c1;
      if (first) {
        LOAD8(c0, row0);
        LOAD8(c1, row0 + 8);
      } else {
        LOAD8(c0, c + r * ldc);
        LOAD8(c1, c + r * ldc + 8);
      }
      c0 += acc[r][0];
      c1 += acc[r][1];
      STORE8(c + r * ldc, c0);
      STORE8(c + r * ldc + 8, c1);
    }
    return;
  }
  float block[kMR][kNR];
  for (int r = 0; r < kMR; ++r) {
    STORE8(block[r], acc[r][0]);
    STORE8(block[r] + 8, acc[r][1]);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = (first ? row0[j] : c[r * ldc + j]) + block[r][j];
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
 * larger than the caches that pass cost about a tenth of the product). */
SINTER_INLINE void initial_row(const problem *p, int64_t j0, int64_t cols,
                               float *restrict row) {
  memset(row, 0, sizeof(float) * kNC);
  if (p->has_bias) {
    const float *bias = p->bias->aligned + p->bias->offset;
    for (int64_t j = 0; j < cols; ++j)
      row[j] = bias[(j0 + j) * p->bias->strides[0]];
  }
}

/* One tile: rows [i0, i1) and columns [j0, j0 + width) of one batch's C
 * (width at most p->nc).
 * Each block of p->kc x p->nc of B is packed once and serves every block of
 * kMC rows of A (GotoBLAS's loop order), so B is read from memory once per
 * tile. */
SINTER_INLINE void gemm_tile(const problem *p, int64_t batch, int64_t i0,
                             int64_t i1, int64_t j0, int64_t width,
                             float *restrict packed_a,
                             float *restrict packed_b) {
  const float *a = a_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t ldc = p->c->strides[1];
  const int64_t cols = p->n - j0 < width ? p->n - j0 : width;
  float row0[kNC] __attribute__((aligned(64)));
  initial_row(p, j0, cols, row0);
  for (int64_t k0 = 0; k0 < p->k; k0 += p->kc) {
    const int64_t kc = p->k - k0 < p->kc ? p->k - k0 : p->kc;
    int64_t sliver_stride;
    const float *slivers =
        b_block(p, batch, k0, kc, j0, cols, packed_b, &sliver_stride);
    for (int64_t ic = i0; ic < i1; ic += kMC) {
      const int64_t rows = i1 - ic < kMC ? i1 - ic : kMC;
      pack_a(p, a, ic, rows, k0, kc, packed_a, kMR);
      /* The B sliver stays in L1 while the A slivers stream from L2. */
      for (int64_t jr = 0; jr < cols; jr += kNR)
        for (int64_t ir = 0; ir < rows; ir += kMR)
          microkernel(kc, packed_a + ir * kc,
                      slivers + jr / kNR * sliver_stride,
                      c + (ic + ir) * ldc + j0 + jr, ldc,
                      rows - ir < kMR ? rows - ir : kMR,
                      cols - jr < kNR ? cols - jr : kNR, row0 + jr,
                      k0 == 0);
    }
  }
}

/* The AVX-512 route of gemm_tile: the same blocks and the same B slivers
 * (16 columns, which the compiler's packed weights fix), but a 12 x 32
 * register block of zmm: two adjacent slivers per step, 24 accumulators,
 * 12 broadcasts of A and 24 FMAs per k. The 6 x 16 ymm block of gemm_tile,
 * compiled for AVX-512, reaches at most half of a core whose FMAs are 512
 * bits wide. */
/* C[0..rows) x [0..cols) += (A sliver of kMRw rows) x (B slivers b0 and,
 * with kPair, b1: 16 or 32 columns) over kc; with `first`, C = row0 + the
 * product, as in microkernel. Only the sliver's first kRows rows (4, 8 or
 * 12, a constant after inlining; rows <= kRows) are multiplied: the last
 * block of a product whose rows are not a multiple of 12 (128 = 10 x 12 +
 * 8, 197 = 16 x 12 + 5) would otherwise spend a whole block's FMAs on
 * padding, about 3% of the models' products. */
SINTER_TARGET_AVX512 __attribute__((always_inline)) static inline void
microkernel_wide(int64_t kc, const float *restrict a, const float *restrict b0,
                 const float *restrict b1, float *c, int64_t ldc, int64_t rows,
                 int64_t cols, const float *row0, int first,
                 const char *prefetch, int64_t prefetch_lines,
                 const int kPair, const int kRows) {
  __m512 acc[kMRw][2];
  if (!first)
    for (int r = 0; r < kRows; ++r) {
      __builtin_prefetch(c + r * ldc, 1, 3);
      __builtin_prefetch(c + r * ldc + kNR, 1, 3);
      __builtin_prefetch(c + r * ldc + 2 * kNR - 1, 1, 3);
    }
  for (int r = 0; r < kRows; ++r)
    acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += kMRw) {
    if (k < prefetch_lines)
      _mm_prefetch(prefetch + 64 * k, _MM_HINT_T1);
    const __m512 x0 = _mm512_loadu_ps(b0 + k * kNR);
    const __m512 x1 = kPair ? _mm512_loadu_ps(b1 + k * kNR) : x0;
    for (int r = 0; r < kRows; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, x0, acc[r][0]);
      if (kPair)
        acc[r][1] = _mm512_fmadd_ps(ar, x1, acc[r][1]);
    }
  }
  const int64_t width = kPair ? 2 * kNR : kNR;
  if (rows == kRows && cols == width) {
    for (int r = 0; r < kRows; ++r) {
      float *row = c + r * ldc;
      const float *from = first ? row0 : row;
      _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(from), acc[r][0]));
      if (kPair)
        _mm512_storeu_ps(row + kNR, _mm512_add_ps(_mm512_loadu_ps(from + kNR),
                                                  acc[r][1]));
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float block[2 * kNR];
    _mm512_storeu_ps(block, acc[r][0]);
    _mm512_storeu_ps(block + kNR, acc[r][1]);
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = (first ? row0[j] : c[r * ldc + j]) + block[j];
  }
}

SINTER_TARGET_AVX512 static void gemm_tile_wide(const problem *p,
                                                int64_t batch, int64_t i0,
                                                int64_t i1, int64_t j0,
                                                int64_t width,
                                                float *restrict packed_a,
                                                float *restrict packed_b) {
  const float *a = a_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t ldc = p->c->strides[1];
  const int64_t cols = p->n - j0 < width ? p->n - j0 : width;
  float row0[kNC] __attribute__((aligned(64)));
  initial_row(p, j0, cols, row0);
  for (int64_t k0 = 0; k0 < p->k; k0 += p->kc) {
    const int64_t kc = p->k - k0 < p->kc ? p->k - k0 : p->kc;
    int64_t sliver_stride;
    const float *slivers =
        b_block(p, batch, k0, kc, j0, cols, packed_b, &sliver_stride);
    for (int64_t ic = i0; ic < i1; ic += kMCw) {
      const int64_t rows = i1 - ic < kMCw ? i1 - ic : kMCw;
      pack_a(p, a, ic, rows, k0, kc, packed_a, kMRw);
      /* The register blocks of one pair of B slivers fetch the next
       * pair into L2, a part each: a weight comes from memory once, and
       * fetched all by the pair's first block (12 rows, 10 bytes a cycle)
       * it stalls that block. Each sliver is kc lines. */
      const int64_t blocks = (rows + kMRw - 1) / kMRw,
                    parts = (blocks + 1) / 2,
                    part_lines = (kc + parts - 1) / parts;
      for (int64_t jr = 0; jr < cols; jr += 2 * kNR) {
        const float *b0 = slivers + jr / kNR * sliver_stride;
        const int64_t left = cols - jr;
        const int64_t next_slivers =
            left <= 2 * kNR ? 0 : left <= 3 * kNR ? 1 : 2;
        for (int64_t ir = 0, q = 0; ir < rows; ir += kMRw, ++q) {
          const int64_t height = rows - ir < kMRw ? rows - ir : kMRw;
          float *block = c + (ic + ir) * ldc + j0 + jr;
          /* Block q fetches part q / 2 of the next pair's sliver q % 2. */
          const int64_t sliver = q % 2, first_line = q / 2 * part_lines;
          int64_t lines = sliver < next_slivers ? kc - first_line : 0;
          if (lines > part_lines)
            lines = part_lines;
          const char *ahead =
              lines > 0 ? (const char *)(b0 + (2 + sliver) * sliver_stride) +
                              64 * first_line
                        : (const char *)b0;
          const float *sliver_a = packed_a + ir * kc;
          const int64_t block_cols = left < 2 * kNR ? left : 2 * kNR;
          const int pair = left > kNR;
#define SINTER_WIDE_BLOCK(PAIR, ROWS)                                          \
  microkernel_wide(kc, sliver_a, b0, PAIR ? b0 + sliver_stride : b0, block,   \
                   ldc, height, block_cols, row0 + jr, k0 == 0, ahead, lines, \
                   PAIR, ROWS)
          if (height > 8)
            pair ? SINTER_WIDE_BLOCK(1, 12) : SINTER_WIDE_BLOCK(0, 12);
          else if (height > 4)
            pair ? SINTER_WIDE_BLOCK(1, 8) : SINTER_WIDE_BLOCK(0, 8);
          else
            pair ? SINTER_WIDE_BLOCK(1, 4) : SINTER_WIDE_BLOCK(0, 4);
#undef SINTER_WIDE_BLOCK
        }
      }
    }
  }
}

/* out[i][j] += sum over k in [k0, k1) of A[i][k] B[k][j], for rows [0, m)
 * and columns [j0, j1), B's rows contiguous: one scaled row of B added per
 * row of A and step of depth. */
SINTER_INLINE void add_rows_of_b(const problem *p, const float *a,
                                 const float *b, int64_t k0, int64_t k1,
                                 int64_t j0, int64_t j1, float *out,
                                 int64_t ldo) {
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  for (int64_t k = k0; k < k1; ++k) {
    const float *restrict row = b + k * p->bk;
    for (int64_t i = 0; i < p->m; ++i) {
      const float scale = a[i * am + k * ak];
      float *restrict to = out + i * ldo;
      for (int64_t j = j0; j < j1; ++j)
        to[j] += scale * row[j];
    }
  }
}

/* Rows [0, m) of one batch's C, columns [j0, j1), by streaming B once for
 * all the rows. */
SINTER_INLINE void stream_rows(const problem *p, int64_t batch, int64_t j0,
                               int64_t j1) {
  const float *a = a_matrix(p, batch), *b = b_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  const int64_t ldc = p->c->strides[1];
  if (p->bn == 1) {
    add_rows_of_b(p, a, b, 0, p->k, j0, j1, c, ldc);
    return;
  }
  for (int64_t j = j0; j < j1; ++j) {
    const float *restrict column = b + j * p->bn;
    for (int64_t i = 0; i < p->m; ++i) {
      float total = 0.0f;
      if (p->bk == 1 && ak == 1) {
        /* Dot products along k, both contiguous (a transposed weight). */
        const float *restrict x = a + i * am;
        for (int64_t k = 0; k < p->k; ++k)
          total += x[k] * column[k];
      } else {
        for (int64_t k = 0; k < p->k; ++k)
          total += a[i * am + k * ak] * column[k * p->bk];
      }
      c[i * ldc + j] += total;
    }
  }
}

/* Rows [0, m) (m < kStreamRows) of one batch's C, columns [j0, j1), from
 * a B the compiler packed: each sliver is K x kNR contiguous floats, read
 * once for all the rows. Two slivers at a time: one sequential stream per
 * core leaves memory bandwidth unused (too few misses in flight). */
SINTER_INLINE void stream_packed(const problem *p, int64_t batch, int64_t j0,
                                 int64_t j1) {
  const float *a = a_matrix(p, batch), *b = b_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  const int64_t ldc = p->c->strides[1], rows = p->m, depth = p->k;
  const v8f zero = {0};
  for (int64_t j = j0; j < j1; j += 2 * kNR) {
    const int pair = j + kNR < j1;
    const float *restrict first = b + j * depth;
    /* Without a second sliver, the first is read twice (and dropped). */
    const float *restrict second = pair ? first + depth * kNR : first;
    v8f acc[kStreamRows][4];
    for (int r = 0; r < kStreamRows; ++r)
      acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = zero;
    for (int64_t k = 0; k < depth; ++k) {
      v8f b0, b1, b2, b3;
      LOAD8(b0, first + k * kNR);
      LOAD8(b1, first + k * kNR + 8);
      LOAD8(b2, second + k * kNR);
      LOAD8(b3, second + k * kNR + 8);
      for (int64_t r = 0; r < rows; ++r) {
        v8f ar = zero + a[r * am + k * ak];
        acc[r][0] += ar * b0;
        acc[r][1] += ar * b1;
        acc[r][2] += ar * b2;
        acc[r][3] += ar * b3;
      }
    }
    int64_t width = j1 - j < 2 * kNR ? j1 - j : 2 * kNR;
    for (int64_t r = 0; r < rows; ++r) {
      float block[2 * kNR];
      STORE8(block, acc[r][0]);
      STORE8(block + 8, acc[r][1]);
      STORE8(block + 16, acc[r][2]);
      STORE8(block + 24, acc[r][3]);
      for (int64_t e = 0; e < width; ++e)
        c[r * ldc + j + e] += block[e];
    }
  }
}

/* Rows [0, kRows) (kRows < kStreamRows) of one batch's C, columns [j0, j1)
 * (j0 a multiple of 16), from a quantized B read once: per sliver and group
 * of k, the dot products of the rows with the group's integers, then
 * scale * (dot - zero point * sum of the rows' elements in the group). The
 * sums are the same for every sliver: they are taken once per chunk of
 * kGroupChunk groups, before the slivers. kUnroll consecutive k accumulate
 * into separate registers: one chain of dependent FMAs per row would stall
 * on their latency, not on memory. kRows, kUnroll and bits are constants
 * after inlining. */
enum { kGroupChunk = 256 };

typedef void (*q_row_loader)(const int8_t *row, int bits, v8f *lo, v8f *hi);

SINTER_INLINE void stream_q(const problem *p, int64_t batch, int bits,
                            int64_t j0, int64_t j1, const int kRows,
                            const int kUnroll, q_row_loader load) {
  const sinter_qweight_header *h = p->qw;
  const float *a = a_matrix(p, batch);
  const int8_t *matrix = q_matrix(p, batch);
  float *c = c_matrix(p, batch);
  const int64_t am = p->a->strides[1], ak = p->a->strides[2];
  const int64_t ldc = p->c->strides[1];
  const int64_t row = sinter_qweight_row_bytes(bits), group = h->group_size;
  const int zero_points = (h->flags & SINTER_QWEIGHT_ZERO_POINTS) != 0;
  const v8f zero = {0};
  float sums[kStreamRows][kGroupChunk];
  for (int64_t g0 = 0; g0 < h->groups; g0 += kGroupChunk) {
    const int64_t g1 = h->groups - g0 < kGroupChunk ? h->groups : g0 + kGroupChunk;
    for (int64_t g = g0; zero_points && g < g1; ++g) {
      const int64_t k0 = g * group, k1 = h->k - k0 < group ? h->k : k0 + group;
      for (int r = 0; r < kRows; ++r) {
        float total = 0.0f;
        for (int64_t k = k0; k < k1; ++k)
          total += a[r * am + k * ak];
        sums[r][g - g0] = total;
      }
    }
    for (int64_t j = j0; j < j1; j += kNR) {
      const int64_t sliver = j / kNR;
      const int8_t *q = matrix + (sliver * h->k + g0 * group) * row;
      v8f acc[kStreamRows][2];
      for (int r = 0; r < kRows; ++r)
        acc[r][0] = acc[r][1] = zero;
      for (int64_t g = g0; g < g1; ++g) {
        const int64_t k0 = g * group,
                      k1 = h->k - k0 < group ? h->k : k0 + group;
        v8f dot[kStreamRows][4][2];
        for (int r = 0; r < kRows; ++r)
          for (int u = 0; u < kUnroll; ++u)
            dot[r][u][0] = dot[r][u][1] = zero;
        int64_t k = k0;
        for (; k + kUnroll <= k1; k += kUnroll)
          for (int u = 0; u < kUnroll; ++u, q += row) {
            v8f lo, hi;
            load(q, bits, &lo, &hi);
            for (int r = 0; r < kRows; ++r) {
              const float x = a[r * am + (k + u) * ak];
              dot[r][u][0] += x * lo;
              dot[r][u][1] += x * hi;
            }
          }
        for (; k < k1; ++k, q += row) {
          v8f lo, hi;
          load(q, bits, &lo, &hi);
          for (int r = 0; r < kRows; ++r) {
            const float x = a[r * am + k * ak];
            dot[r][0][0] += x * lo;
            dot[r][0][1] += x * hi;
          }
        }
        v8f scale[2], zero_point[2];
        load_q_block(h, matrix, sliver * h->groups + g, bits, scale,
                     zero_point);
        for (int r = 0; r < kRows; ++r) {
          for (int u = 1; u < kUnroll; ++u) {
            dot[r][0][0] += dot[r][u][0];
            dot[r][0][1] += dot[r][u][1];
          }
          if (zero_points) {
            dot[r][0][0] -= zero_point[0] * sums[r][g - g0];
            dot[r][0][1] -= zero_point[1] * sums[r][g - g0];
          }
          acc[r][0] += scale[0] * dot[r][0][0];
          acc[r][1] += scale[1] * dot[r][0][1];
        }
      }
      const int64_t width = j1 - j < kNR ? j1 - j : kNR;
      for (int r = 0; r < kRows; ++r) {
        float block[kNR];
        STORE8(block, acc[r][0]);
        STORE8(block + 8, acc[r][1]);
        for (int64_t e = 0; e < width; ++e)
          c[r * ldc + j + e] += block[e];
      }
    }
  }
}

/* stream_q with its constants: the bit width and the row count (1 to
 * kStreamRows - 1), unrolled as far as the 16 vector registers allow. */
SINTER_INLINE void stream_q_rows(const problem *p, int64_t batch, int64_t j0,
                                 int64_t j1, q_row_loader load) {
  const int bits = p->qw->bits;
#define SINTER_STREAM_Q(BITS)                                                  \
  switch (p->m) {                                                              \
  case 1:                                                                      \
    stream_q(p, batch, BITS, j0, j1, 1, 4, load);                              \
    break;                                                                     \
  case 2:                                                                      \
    stream_q(p, batch, BITS, j0, j1, 2, 2, load);                              \
    break;                                                                     \
  default:                                                                     \
    stream_q(p, batch, BITS, j0, j1, 3, 1, load);                              \
  }
  if (bits == 8) {
    SINTER_STREAM_Q(8)
  } else {
    SINTER_STREAM_Q(4)
  }
#undef SINTER_STREAM_Q
}

/* load_q_row with AVX2's widening loads (vpmovsxbd / vpmovzxbd from
 * memory: one instruction per 8 columns), which GCC does not derive from
 * vector-extension code. */
SINTER_TARGET_AVX2 __attribute__((always_inline)) static inline void
load_q_row_avx2(const int8_t *row, int bits, v8f *lo, v8f *hi) {
  if (bits == 8) {
    __m256i first = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)row));
    __m256i second =
        _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(row + 8)));
    *lo = (v8f)_mm256_cvtepi32_ps(first);
    *hi = (v8f)_mm256_cvtepi32_ps(second);
    return;
  }
  __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)row));
  *lo = (v8f)_mm256_cvtepi32_ps(_mm256_and_si256(wide, _mm256_set1_epi32(15)));
  *hi = (v8f)_mm256_cvtepi32_ps(_mm256_srli_epi32(wide, 4));
}

SINTER_TARGET_AVX2 static void stream_q_avx2(const problem *p, int64_t batch,
                                             int64_t j0, int64_t j1) {
  stream_q_rows(p, batch, j0, j1, load_q_row_avx2);
}

static void stream_q_baseline(const problem *p, int64_t batch, int64_t j0,
                              int64_t j1) {
  stream_q_rows(p, batch, j0, j1, load_q_row);
}

typedef struct tile_scratch {
  float *a, *b;
} tile_scratch;

/* The work is cut into tiles of (batch, a range of rows, up to p->nc
 * columns);
 * the rows are split only as far as needed for every thread to have a few
 * tiles, since each split packs its B blocks again. */
typedef struct tiling {
  int64_t column_width, column_blocks, row_splits, rows_per_split, count;
} tiling;

/* Cuts the columns into `blocks` blocks of equal width in whole `unit`s
 * (the last may be narrower, and rounding may leave fewer of them). */
static void cut_columns(const problem *p, int64_t blocks, int64_t unit,
                        tiling *t) {
  t->column_width = (p->n + blocks - 1) / blocks;
  t->column_width = (t->column_width + unit - 1) / unit * unit;
  t->column_blocks = (p->n + t->column_width - 1) / t->column_width;
}

static tiling plan_tiles(const problem *p, int threads) {
  tiling t;
  /* Streaming B: one long column range per thread, so that each row of B
   * is read in long runs. */
  /* Packing: blocks of at most p->nc columns, of equal widths so that the
   * threads' shares balance. */
  int64_t blocks = p->m < kStreamRows ? threads : (p->n + p->nc - 1) / p->nc;
  /* Rows split in whole packed blocks of A (or, for a packed weight, in
   * two register blocks), into enough tiles for the threads' shares to
   * even out: 2 per thread. Each tile packs its rows of A again and
   * reads its columns of B again, which on the models' products (0.3 to
   * 3 ms at 2 threads) costs more than the balance that more tiles buy: 4
   * per thread ran 197 x 1152 x 384 at 275 GFLOP/s against 320 for 2, and
   * vit-base 5% slower (bench/NOTES.md); 8 slower still, 1 unevenly. One
   * thread needs no split. */
  int64_t row_unit = p->packed_b ? 2 * kMR : p->wide ? kMCw : kMC;
  int64_t row_blocks =
      p->m < kStreamRows ? 1 : (p->m + row_unit - 1) / row_unit;
  int64_t wanted = threads == 1 ? 1 : 2 * (int64_t)threads;
  /* The heap scratch's B blocks are 2 MiB: a second tile per thread would
   * split the rows and pack every block twice (512 x 1536 x 1024 at 2
   * threads: 337 GFLOP/s as 4 tiles, 365 as 2). */
  if (p->heap_blocks)
    wanted = threads;
  /* Column blocks are whole slivers (pairs of them on AVX-512). */
  int64_t unit = kNR, splits = 0;
  if (p->packed_b && p->m >= kStreamRows) {
    /* A packed weight can be cut either way: each further split of the
     * rows reads all of B again, each further block of columns packs A
     * again. Of the cuts into enough tiles, take the one that reads and
     * packs least, splits * N + blocks * M (the models' products have few
     * rows and wide weights: gpt-base's 128 x 768 x 768 ran as 6 x 2
     * tiles, 6 reads of B, and runs as 2 x 8); if no cut gives enough
     * tiles, the one that gives most. */
    unit = p->wide ? 2 * kNR : kNR;
    const int64_t most_blocks = (p->n + unit - 1) / unit,
                  per_batch = (wanted + p->batch - 1) / p->batch;
    int64_t best_blocks = blocks, best_cost = 0, best_tiles = 0;
    for (int64_t s = 1; s <= row_blocks; ++s) {
      int64_t cut = (per_batch + s - 1) / s;
      cut = cut < blocks ? blocks : cut > most_blocks ? most_blocks : cut;
      int64_t tiles = s * cut, cost = s * p->n + cut * p->m;
      int enough = tiles >= per_batch, had_enough = best_tiles >= per_batch;
      int better = splits == 0 || (enough ? !had_enough || cost < best_cost
                                          : !had_enough && tiles > best_tiles);
      if (better) {
        splits = s;
        best_blocks = cut;
        best_cost = cost;
        best_tiles = tiles;
      }
    }
    blocks = best_blocks;
  }
  cut_columns(p, blocks, unit, &t);
  if (splits == 0) {
    int64_t have = p->batch * t.column_blocks;
    splits = have >= wanted ? 1 : (wanted + have - 1) / have;
    if (splits > row_blocks)
      splits = row_blocks;
  }
  t.row_splits = splits;
  t.rows_per_split =
      (row_blocks + t.row_splits - 1) / t.row_splits * row_unit;
  t.row_splits = (p->m + t.rows_per_split - 1) / t.rows_per_split;
  if (t.row_splits < 1)
    t.row_splits = 1;
  t.count = p->batch * t.column_blocks * t.row_splits;
  /* Tiles of equal size in a count that is not a multiple of the threads
   * leave a thread idle at the end: gpt-base's 128 x 2304 x 768 ran as 5
   * tiles on 2 threads, 3 + 2 (367 GFLOP/s, 422 as 4 tiles). A few more,
   * narrower column blocks, where they divide. */
  if (threads > 1 && p->m >= kStreamRows && t.count % threads != 0) {
    const int64_t most_blocks = (p->n + unit - 1) / unit;
    for (int64_t more = t.column_blocks + 1;
         more <= most_blocks && more <= t.column_blocks + threads; ++more) {
      tiling narrower = t;
      cut_columns(p, more, unit, &narrower);
      narrower.count = p->batch * narrower.column_blocks * t.row_splits;
      if (narrower.count % threads == 0) {
        t = narrower;
        break;
      }
    }
  }
  return t;
}

SINTER_INLINE void run_tile(const problem *p, const tiling *t, int64_t index,
                            tile_scratch scratch) {
  int64_t batch = index / (t->column_blocks * t->row_splits);
  int64_t rest = index % (t->column_blocks * t->row_splits);
  int64_t j0 = rest / t->row_splits * t->column_width;
  int64_t j1 = p->n - j0 < t->column_width ? p->n : j0 + t->column_width;
  if (p->m < kStreamRows) {
    initialize_c(p, batch, 0, p->m, j0, j1);
    if (p->qw)
      p->stream_q(p, batch, j0, j1);
    else if (p->packed_b)
      stream_packed(p, batch, j0, j1);
    else
      stream_rows(p, batch, j0, j1);
    return;
  }
  int64_t i0 = rest % t->row_splits * t->rows_per_split;
  int64_t i1 = p->m - i0 < t->rows_per_split ? p->m : i0 + t->rows_per_split;
  if (p->wide)
    gemm_tile_wide(p, batch, i0, i1, j0, t->column_width, scratch.a,
                   scratch.b);
  else
    gemm_tile(p, batch, i0, i1, j0, t->column_width, scratch.a, scratch.b);
}

SINTER_ISA_VARIANTS(run_tile,
                    (const problem *p, const tiling *t, int64_t index,
                     tile_scratch scratch),
                    (p, t, index, scratch))

typedef void (*tile_fn)(const problem *, const tiling *, int64_t,
                        tile_scratch);

/* One to three rows by a K x N B that is not packed (B's rows contiguous),
 * on several threads: split by columns, each thread would read a piece of
 * every row of B (one page or two, then a jump), which the hardware
 * prefetchers follow badly (at 2 threads slower than at 1 on the machine
 * of bench/NOTES.md). Split by depth instead, each thread reads one
 * contiguous part of B into its own partial C (m x n, zeroed here); the
 * partials are summed after. */
#ifdef _OPENMP
SINTER_INLINE void depth_part(const problem *p, int64_t k0, int64_t k1,
                              float *partial) {
  memset(partial, 0, sizeof(float) * (size_t)(p->m * p->n));
  add_rows_of_b(p, a_matrix(p, 0), b_matrix(p, 0), k0, k1, 0, p->n, partial,
                p->n);
}

SINTER_ISA_VARIANTS(depth_part,
                    (const problem *p, int64_t k0, int64_t k1,
                     float *partial),
                    (p, k0, k1, partial))
#endif

/* Whether run_problem splits the depth (see depth_part): a partial C must
 * fit the thread's B scratch. */
static int splits_depth(const problem *p, int threads) {
  return threads > 1 && p->batch == 1 && p->m < kStreamRows && !p->qw &&
         !p->packed_b && p->bn == 1 && p->m * p->n <= kKC * kNC &&
         p->k >= 4 * threads;
}

static void run_problem(problem p);

/* What both entries share: C = A B [+ bias] with C's sizes and A's depth;
 * the caller describes B. */
static problem problem_of(const memref3 *a, const memref1 *bias,
                          const memref3 *c, int has_bias) {
  problem p;
  memset(&p, 0, sizeof(p));
  p.a = a;
  p.c = c;
  p.bias = bias;
  p.has_bias = has_bias;
  p.batch = c->sizes[0];
  p.m = c->sizes[1];
  p.n = c->sizes[2];
  p.k = a->sizes[2];
  return p;
}

void _mlir_ciface_sinter_matmul_f32(const memref3 *a, const memref3 *b,
                                    const memref1 *bias, const memref3 *c,
                                    int32_t flags) {
  problem p = problem_of(a, bias, c, (flags & SINTER_MATMUL_HAS_BIAS) != 0);
  p.b = b;
  p.transpose_b = (flags & SINTER_MATMUL_TRANSPOSE_B) != 0;
  p.packed_b = (flags & SINTER_MATMUL_PACKED_B) != 0;
  /* B is [batch, K, N], or [batch, N, K] read transposed (or packed, where
   * these strides are unused). */
  p.bk = p.transpose_b ? b->strides[2] : b->strides[1];
  p.bn = p.transpose_b ? b->strides[1] : b->strides[2];
  run_problem(p);
}

void _mlir_ciface_sinter_qmatmul_f32(const memref3 *a,
                                     const sinter_memref1_i8 *weight,
                                     const memref1 *bias, const memref3 *c,
                                     int32_t flags) {
  problem p = problem_of(a, bias, c, (flags & SINTER_QMATMUL_HAS_BIAS) != 0);
  p.qw = (const sinter_qweight_header *)(weight->aligned + weight->offset);
  p.stream_q = sinter_detect_isa() >= SINTER_ISA_AVX2 ? stream_q_avx2
                                                      : stream_q_baseline;
  /* sinterc packs the weight for this product; a buffer that does not
   * describe it (a mismatched weights file passes the checksum only when
   * rebuilt with it) leaves C as NaN rather than read out of bounds. */
  const sinter_qweight_header *h = p.qw;
  if (weight->sizes[0] < SINTER_QWEIGHT_HEADER_SIZE ||
      memcmp(h->magic, SINTER_QWEIGHT_MAGIC, 4) != 0 || h->n != p.n ||
      h->k != p.k || (h->batch != 1 && h->batch != p.batch) ||
      weight->sizes[0] < SINTER_QWEIGHT_HEADER_SIZE + h->batch * h->matrix_bytes) {
    for (int64_t batch = 0; batch < p.batch; ++batch)
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t j = 0; j < p.n; ++j)
          c_matrix(&p, batch)[i * c->strides[1] + j] = __builtin_nanf("");
    return;
  }
  run_problem(p);
}

static void run_problem(problem p) {
  if (p.batch == 0 || p.m == 0 || p.n == 0)
    return;
  if (p.k == 0) {
    for (int64_t batch = 0; batch < p.batch; ++batch)
      initialize_c(&p, batch, 0, p.m, 0, p.n);
    return;
  }
  p.wide = sinter_detect_isa() == SINTER_ISA_AVX512;
  const int64_t work = p.batch * p.m * p.n * p.k;
  int parallel = work >= SINTER_PARALLEL_WORK;
  int threads = 1;
#ifdef _OPENMP
  if (parallel)
    threads = omp_get_max_threads();
#endif
  /* Without heap scratch (none taken, or none to be had), the blocks that
   * fit the stack. */
  float *heap_scratch = NULL;
  if (p.wide && !p.packed_b && !p.qw && p.m >= kStreamRows &&
      work >= kHeapBlocksWork)
    heap_scratch = take_heap_scratch((size_t)threads * kHeapScratchFloats);
  const int64_t depth = heap_scratch ? kKCh
                        : !p.wide    ? kKC
                        : p.packed_b ? kKCp
                                     : kKCw,
                blocks = (p.k + depth - 1) / depth;
  p.kc = (p.k + blocks - 1) / blocks;
  p.nc = heap_scratch ? kNCh : p.wide && !p.packed_b ? kNCw : kNC;
  p.heap_blocks = heap_scratch != NULL;
  tiling t = plan_tiles(&p, threads);
  const int by_depth = parallel && splits_depth(&p, threads);
  parallel = parallel && threads > 1 && (t.count > 1 || by_depth);
  tile_fn run = SINTER_PICK_ISA(run_tile);
#ifdef _OPENMP
  void (*part)(const problem *, int64_t, int64_t, float *) =
      SINTER_PICK_ISA(depth_part);
  float *partials[by_depth ? threads : 1];
#endif
#ifdef _OPENMP
#pragma omp parallel if (parallel)
#endif
  {
    /* 288 KiB of A and 512 KiB of B per thread (either route; 576 KiB of
     * A alone for a compile-time packed B), on its stack (libomp gives its
     * threads 4 MiB; docs/compiling.md asks 1 MiB of a thread that calls a
     * model); aligned for the vector loads. */
    float blocks_scratch[kMCw * kKCw + kKC * kNC] __attribute__((aligned(64)));
    float *packed_a = blocks_scratch, *packed_b = blocks_scratch + kMCw * kKCw;
    if (heap_scratch) {
      int64_t id = 0;
#ifdef _OPENMP
      id = omp_get_thread_num();
#endif
      packed_a = heap_scratch + (size_t)id * kHeapScratchFloats;
      packed_b = packed_a + kMCw * kKCh;
    }
    tile_scratch scratch = {packed_a, packed_b};
#ifdef _OPENMP
    if (by_depth) {
      const int64_t id = omp_get_thread_num(), team = omp_get_num_threads();
      part(&p, p.k * id / team, p.k * (id + 1) / team, packed_b);
      partials[id] = packed_b;
#pragma omp barrier
      /* Each thread sums its columns of the partials into C. */
      const int64_t j0 = p.n * id / team, j1 = p.n * (id + 1) / team;
      initialize_c(&p, 0, 0, p.m, j0, j1);
      float *c = c_matrix(&p, 0);
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t from = 0; from < team; ++from)
          for (int64_t j = j0; j < j1; ++j)
            c[i * p.c->strides[1] + j] += partials[from][i * p.n + j];
      /* The partials live on the threads' stacks until all have read. */
#pragma omp barrier
    } else
#endif
    {
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (int64_t index = 0; index < t.count; ++index)
        run(&p, &t, index, scratch);
    }
  }
  give_back_heap_scratch(heap_scratch);
}
