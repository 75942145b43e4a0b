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
 * A 2-D convolution (sinter_conv2d_f32) is the product of its weight and
 * its input's windows, packed from the input as B's blocks (conv.h).
 *
 * The kernel's parts, one translation unit: problem.h (the block sizes
 * and a product's description), pack.h (packing A and B), conv.h (a
 * convolution's B), tile_avx2.h and
 * tile_avx512.h (the packed route's register blocks), stream.h (one to
 * three rows), plan.h (tiles for the threads); this file, the entry
 * points, the heap scratch and the OpenMP team that runs the tiles.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/kernels.h"

#include "plan.h"
#include "stream.h"
#include "tile_avx2.h"
#include "tile_avx512.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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
    if (p->epilogue)
      apply_epilogue(p, batch, 0, p->m, j0, j1);
    return;
  }
  int64_t i0 = rest % t->row_splits * t->rows_per_split;
  int64_t i1 = p->m - i0 < t->rows_per_split ? p->m : i0 + t->rows_per_split;
  if (p->wide)
    gemm_tile_wide(p, batch, i0, i1, j0, t->column_width, scratch.a,
                   scratch.b);
  else
    gemm_tile(p, batch, i0, i1, j0, t->column_width, scratch.a, scratch.b);
  if (p->epilogue)
    apply_epilogue(p, batch, i0, i1, j0, j1);
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
         !p->epilogue &&
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

void _mlir_ciface_sinter_conv2d_f32(
    const memref4 *in, const memref3 *weight, const memref1 *bias,
    const memref4 *residual, const memref4 *out, int32_t kernel_h,
    int32_t kernel_w, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
    int32_t dilation_w, int32_t pad_top, int32_t pad_left, float lo, float hi,
    int32_t flags) {
  /* C is the output as [N, M, OH OW]: one matrix per image, the output
   * positions of a channel contiguous. */
  memref3 c = {out->allocated,
               out->aligned,
               out->offset,
               {out->sizes[0], out->sizes[1], out->sizes[2] * out->sizes[3]},
               {out->strides[0], out->strides[1], 1}};
  problem p = problem_of(weight, bias, &c, 0);
  p.batch = out->sizes[0];
  p.row_bias = (flags & SINTER_CONV_HAS_BIAS) != 0;
  if (flags & SINTER_CONV_PACKED_WEIGHT) {
    /* The packed weight's descriptor gives only its start. */
    p.packed_a = 1;
    p.k = in->sizes[1] * kernel_h * kernel_w;
  }
  const conv_geometry geometry = {in,       kernel_h,   kernel_w,   stride_h,
                                  stride_w, dilation_h, dilation_w, pad_top,
                                  pad_left, out->sizes[3]};
  p.conv = &geometry;
  const conv_epilogue epilogue = {
      flags & SINTER_CONV_HAS_RESIDUAL ? residual : NULL,
      (flags & SINTER_CONV_CLAMP) != 0, lo, hi, out->sizes[3]};
  if (epilogue.residual || epilogue.clamp)
    p.epilogue = &epilogue;
  const int contiguous_out =
      out->strides[3] == 1 && out->strides[2] == out->sizes[3];
  /* The packed route's first depth block adds the bias from a contiguous
   * vector; a strided one is copied into one. */
  float *bias_copy = NULL;
  if (p.row_bias && p.m >= kStreamRows) {
    if (bias->strides[0] == 1 || p.m == 1) {
      p.bias_per_row = bias->aligned + bias->offset;
    } else if ((bias_copy = malloc(sizeof(float) * (size_t)p.m))) {
      for (int64_t m = 0; m < p.m; ++m)
        bias_copy[m] = bias->aligned[bias->offset + m * bias->strides[0]];
      p.bias_per_row = bias_copy;
    }
  }
  if (!contiguous_out || p.m < kStreamRows ||
      (p.row_bias && !p.bias_per_row)) {
    conv_direct(&p, out);
    return;
  }
  /* A pointwise convolution's B is the input itself, [C, H W] per image:
   * the plain product packs it (or streams it) with no window arithmetic. */
  memref3 b = {in->allocated,
               in->aligned,
               in->offset,
               {in->sizes[0], in->sizes[1], in->sizes[2] * in->sizes[3]},
               {in->strides[0], in->strides[1], 1}};
  if (kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 &&
      pad_top == 0 && pad_left == 0 && in->sizes[2] == out->sizes[2] &&
      in->sizes[3] == out->sizes[3] && in->strides[3] == 1 &&
      in->strides[2] == in->sizes[3]) {
    p.conv = NULL;
    p.b = &b;
    p.bk = in->strides[1];
    p.bn = 1;
  }
  run_problem(p);
  free(bias_copy);
}

static void run_problem(problem p) {
  if (p.batch == 0 || p.m == 0 || p.n == 0)
    return;
  if (p.k == 0) {
    for (int64_t batch = 0; batch < p.batch; ++batch) {
      initialize_c(&p, batch, 0, p.m, 0, p.n);
      if (p.epilogue)
        apply_epilogue(&p, batch, 0, p.m, 0, p.n);
    }
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
