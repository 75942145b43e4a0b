/*===- int8_matmul.c - Products of int8 activations and int8 weights -------===*
 *
 * The W8A8 kernel (sinter_qmatmul_i8): C = (a_scale (A - a_zero_point))
 * (W scale) + bias, with A int8 or uint8 activations (rounded by
 * sinter.quantize or sinter.dynamic_quantize in the generated code, or by
 * an imported QDQ model's QuantizeLinear) and W an int8 weight packed
 * by sinter_qweight_pack with one scale per output column. The products are
 * summed exactly in int32 and scaled once per block of k.
 *
 * AVX2 has no int8 dot product; `vpmaddwd` multiplies 16 pairs of int16 and
 * adds each pair into an int32, i.e. two k per instruction, exactly (no
 * saturation, unlike `vpmaddubsw`), and sustains more multiply-adds than
 * f32 FMA (bench/NOTES.md). Both operands are
 * therefore laid out as pairs of consecutive k: a row of A as int32 words
 * holding (a[k] - zero point, a[k + 1] - zero point) as int16 (within
 * [-255, 255], so the pair's sum stays far inside int32), a weight sliver of 16 columns as, per
 * pair of k, 16 columns x 2 int16 (two vectors of 8 columns).
 *
 * - One to three rows of A (decoding) stream the packed weight once: each
 *   pair of its 16-byte rows is interleaved and sign-extended in registers,
 *   the int32 sums run over up to kStreamPairs pairs of k.
 * - More rows take the GotoBLAS route of the f32 GEMM (matmul/): per block
 *   of kKC k, the block of W is unpacked into int16 pair panels and the rows
 *   of A into kMR-row slivers of pairs, and a kMR x 16 block of int32 sums
 *   stays in registers across the block; it is then scaled and added to C.
 *   With AVX-512 VNNI the same route runs on vpdpbusd.
 *
 * The kernel's parts, one translation unit: problem.h (the block sizes and
 * a product's description), tile_baseline.h (no vector extensions),
 * pack.h and stream.h (AVX2's operands and decoding's rows), tile_avx2.h
 * and tile_avx512_vnni.h (the packed route's register blocks); this file,
 * the entry point and the OpenMP team that runs the tiles.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/kernels.h"

#include "stream.h"
#include "tile_avx2.h"
#include "tile_avx512_vnni.h"
#include "tile_baseline.h"

#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/*===-------------------------------------------------------------------===*
 * The entry
 *===-------------------------------------------------------------------===*/

/* Whether the packed weight is one this kernel reads: 8 bits, one scale
 * per column, no zero points, its sizes those of the product. */
static int weight_fits(const problem *p, const sinter_memref1_i8 *weight) {
  const sinter_qweight_header *h = p->qw;
  return weight->sizes[0] >= SINTER_QWEIGHT_HEADER_SIZE &&
         memcmp(h->magic, SINTER_QWEIGHT_MAGIC, 4) == 0 && h->bits == 8 &&
         h->groups == 1 && !sinter_qweight_has_zero_points(h) && h->n == p->n &&
         h->k == p->k && (h->batch == 1 || h->batch == p->batch) &&
         weight->sizes[0] >= SINTER_QWEIGHT_HEADER_SIZE + h->batch * h->matrix_bytes;
}

void _mlir_ciface_sinter_qmatmul_i8(const sinter_memref3_i8 *a,
                                    const memref1 *a_scales,
                                    int32_t a_zero_point,
                                    const sinter_memref1_i8 *weight,
                                    const memref1 *bias, const memref3 *c,
                                    int32_t flags) {
  problem p;
  memset(&p, 0, sizeof(p));
  p.a = a;
  p.a_scales = a_scales;
  p.bias = bias;
  p.c = c;
  p.qw = (const sinter_qweight_header *)(weight->aligned + weight->offset);
  p.has_bias = (flags & SINTER_QMATMUL_HAS_BIAS) != 0;
  p.row_scales = (flags & SINTER_QMATMUL_ROW_SCALES) != 0;
  p.a_unsigned = (flags & SINTER_QMATMUL_A_UNSIGNED) != 0;
  p.a_zero_point = a_zero_point;
  p.batch = c->sizes[0];
  p.m = c->sizes[1];
  p.n = c->sizes[2];
  p.k = a->sizes[2];
  if (p.batch == 0 || p.m == 0 || p.n == 0)
    return;
  /* sinterc packs the weight and sizes the scales for this product;
   * anything else (a mismatched weights file) leaves C as NaN rather than
   * read out of bounds. */
  int64_t scales = p.row_scales ? p.batch * p.m : 1;
  const int32_t lowest = p.a_unsigned ? 0 : -128,
                highest = p.a_unsigned ? 255 : 127;
  if (!weight_fits(&p, weight) || a_scales->sizes[0] < scales ||
      a_zero_point < lowest || a_zero_point > highest) {
    for (int64_t batch = 0; batch < p.batch; ++batch)
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t j = 0; j < p.n; ++j)
          c_row(&p, batch, i)[j] = __builtin_nanf("");
    return;
  }
  const int vector = sinter_detect_isa() >= SINTER_ISA_AVX2,
            vnni = sinter_has_avx512_vnni();
  const int stream = p.m < kStreamRows;
  /* Tiles: (batch, kMC rows, kNC columns), or when streaming (batch, a
   * column range per thread). */
  int threads = 1;
#ifdef _OPENMP
  if (p.batch * p.m * p.n * p.k >= SINTER_PARALLEL_WORK)
    threads = omp_get_max_threads();
#endif
  int64_t column_width = kNC;
  if (stream) {
    column_width = (p.n + threads - 1) / threads;
    column_width = (column_width + kWidth - 1) / kWidth * kWidth;
  }
  const int64_t column_blocks = (p.n + column_width - 1) / column_width;
  const int64_t row_blocks = stream ? 1 : (p.m + kMC - 1) / kMC;
  const int64_t count = p.batch * column_blocks * row_blocks;
#ifdef _OPENMP
#pragma omp parallel if (threads > 1 && count > 1)
#endif
  {
    /* 144 KiB of A pairs and 256 KiB of W panels per thread, on its stack
     * (libomp gives its threads 4 MiB); the VNNI route's blocks (36 KiB of
     * A, 128 KiB of W) fit in the same buffers. */
    int32_t packed_a[kMC * kKC / 2] __attribute__((aligned(64)));
    int16_t panels[kKC * kNC] __attribute__((aligned(64)));
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t index = 0; index < count; ++index) {
      const int64_t batch = index / (column_blocks * row_blocks);
      const int64_t rest = index % (column_blocks * row_blocks);
      const int64_t j0 = rest / row_blocks * column_width;
      const int64_t j1 = p.n - j0 < column_width ? p.n : j0 + column_width;
      const int64_t i0 = stream ? 0 : rest % row_blocks * kMC;
      const int64_t i1 = stream || p.m - i0 < kMC ? p.m : i0 + kMC;
      if (!vector)
        tile_baseline(&p, batch, i0, i1, j0, j1);
      else if (stream)
        stream_avx2(&p, batch, j0, j1);
      else if (vnni)
        gemm_tile_vnni(&p, batch, i0, i1, j0, j1, (uint32_t *)packed_a,
                       (int8_t *)panels);
      else
        gemm_tile_avx2(&p, batch, i0, i1, j0, j1, packed_a, panels);
    }
  }
}
