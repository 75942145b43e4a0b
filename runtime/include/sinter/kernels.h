/*===- kernels.h - The kernels generated code calls -------------*- C -*-===*
 *
 * The C kernels that sinterc's generated code calls through MLIR's C
 * interface (`_mlir_ciface_<name>`): their names as codegen emits them,
 * their flags and constants, their memref descriptors and their
 * prototypes, and the packing of quantized weights that sinterc runs at
 * compile time. The session API that loads and runs a model is in
 * runtime.h, which includes this header. docs/runtime-abi.md describes the
 * whole contract.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_KERNELS_H
#define SINTER_KERNELS_H

#include "sinter/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime is linked into each model.so with hidden symbols (two models in
 * one process never share or clash); the stand-alone libsinter_rt.so exports
 * them. */
#if defined(SINTER_RT_EMBEDDED)
#define SINTER_RT_API __attribute__((visibility("hidden")))
#else
#define SINTER_RT_API __attribute__((visibility("default")))
#endif

/* Flash attention on f32 (src/attention/), what `sinter.attention` lowers to
 * when its head sizes are at most SINTER_ATTENTION_MAX_HEAD_DIM. Called
 * through MLIR's C interface (`_mlir_ciface_` + SINTER_ATTENTION_KERNEL) with
 * rank-4 descriptors of Q [B, Hq, Sq, D], K [B, Hkv, Sk, D], V [B, Hkv, Sk,
 * Dv], the additive mask (broadcast dimensions of size 1; any descriptor when
 * there is none) and the result [B, Hq, Sq, Dv]; the last dimension of Q, K
 * and V is contiguous. */
#define SINTER_ATTENTION_KERNEL "sinter_attention_f32"
#define SINTER_ATTENTION_MAX_HEAD_DIM 256
enum { SINTER_ATTENTION_CAUSAL = 1, SINTER_ATTENTION_HAS_MASK = 2 };

typedef struct sinter_memref4_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
} sinter_memref4_f32;

SINTER_RT_API void _mlir_ciface_sinter_attention_f32(
    const sinter_memref4_f32 *q, const sinter_memref4_f32 *k,
    const sinter_memref4_f32 *v, const sinter_memref4_f32 *mask,
    const sinter_memref4_f32 *out, float scale, int32_t flags);

/* Layer and RMS normalization on f32 (src/norm/), what `sinter.layer_norm`,
 * `sinter.rms_norm` and `sinter.add_norm` lower to, over the rows of a 2-D
 * view [rows, cols] (the normalized dimensions flattened into cols):
 *   s = x + residual          (with SINTER_NORM_HAS_RESIDUAL, stored in sum)
 *   out = (s - mean(s)) / sqrt(mean((s - mean(s))^2) + epsilon) * scale + bias
 * where SINTER_NORM_RMS drops the mean (out = s / sqrt(mean(s^2) + epsilon)
 * * scale) and the bias is added only with SINTER_NORM_HAS_BIAS. scale and
 * bias have cols elements. Descriptors that a flag leaves unused may be any
 * descriptor. */
#define SINTER_NORM_KERNEL "sinter_norm_f32"
enum {
  SINTER_NORM_RMS = 1,
  SINTER_NORM_HAS_BIAS = 2,
  SINTER_NORM_HAS_RESIDUAL = 4
};

typedef struct sinter_memref1_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} sinter_memref1_f32;

typedef struct sinter_memref2_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} sinter_memref2_f32;

SINTER_RT_API void _mlir_ciface_sinter_norm_f32(
    const sinter_memref2_f32 *x, const sinter_memref2_f32 *residual,
    const sinter_memref1_f32 *scale, const sinter_memref1_f32 *bias,
    const sinter_memref2_f32 *out, const sinter_memref2_f32 *sum,
    float epsilon, int32_t flags);

/* Batched matrix product on f32 (src/matmul/), what `sinter.matmul` and
 * `sinter.linear` lower to: for each b of C's batch,
 *   C[b] = A[b] B[b] (+ bias broadcast over the rows)
 * with A [batch or 1, M, K], B [batch or 1, K, N] (or [.., N, K] read
 * transposed with SINTER_MATMUL_TRANSPOSE_B), bias [N] (used with
 * SINTER_MATMUL_HAS_BIAS; otherwise any descriptor) and C [batch, M, N],
 * whose last dimension is contiguous. A and B take any strides.
 *
 * With SINTER_MATMUL_PACKED_B, B is a constant weight that sinterc packed
 * into the kernel's layout at compile time: each matrix of the batch is
 * ceil(N / 16) slivers of K x 16 floats, column j of sliver s at
 * s * K * 16 + k * 16 + (j - 16 s), zero beyond N; B's descriptor then only
 * gives the matrices' start and batch stride (sizes[0], strides[0]). */
#define SINTER_MATMUL_KERNEL "sinter_matmul_f32"
#define SINTER_MATMUL_PACK_WIDTH 16
enum {
  SINTER_MATMUL_TRANSPOSE_B = 1,
  SINTER_MATMUL_HAS_BIAS = 2,
  SINTER_MATMUL_PACKED_B = 4
};

typedef struct sinter_memref3_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} sinter_memref3_f32;

SINTER_RT_API void _mlir_ciface_sinter_matmul_f32(
    const sinter_memref3_f32 *a, const sinter_memref3_f32 *b,
    const sinter_memref1_f32 *bias, const sinter_memref3_f32 *c,
    int32_t flags);

/* 2-D convolution of one group on f32 (src/matmul/conv.h), what an f32
 * `sinter.conv` of one group and one or two spatial dimensions lowers to:
 *   out[n][m][y][x] = bias[m] + sum over c, i, j of
 *     w[m][(c KH + i) KW + j] * in[n][c][y SH - PT + i DH][x SW - PL + j DW]
 * where the input reads as zero outside its bounds (the padding is never
 * materialized). in is [N, C, H, W] (any strides), the weight [1, M, C KH
 * KW] (any strides), bias [M] (with SINTER_CONV_HAS_BIAS; otherwise any
 * descriptor), out [N, M, OH, OW] with its last two dimensions contiguous.
 * It runs as the matrix products out[n] = W cols[n] on the matmul kernel's
 * blocks, the windows packed from the input straight into B's slivers (an
 * implicit im2col), so that the output is written in place, channels first.
 *
 * The epilogue a CNN puts after a convolution is applied to each block of
 * the output while it is in cache: with SINTER_CONV_HAS_RESIDUAL, the
 * residual [N, M, OH, OW] (any strides; otherwise any descriptor) is added,
 * then with SINTER_CONV_CLAMP each element is clamped to [lo, hi] (ReLU is
 * [0, inf], ReLU6 [0, 6]).
 *
 * With SINTER_CONV_PACKED_WEIGHT, the weight is a constant that sinterc
 * packed into the kernel's layout for A at compile time, so that no call
 * packs it again: ceil(M / 12) slivers of 12 rows by the whole depth K = C
 * KH KW, element (m, k) at (m / 12) * 12 K + k * 12 + m % 12, zero beyond
 * M; the weight's descriptor then only gives its start. */
#define SINTER_CONV_KERNEL "sinter_conv2d_f32"
#define SINTER_CONV_PACK_ROWS 12
enum {
  SINTER_CONV_HAS_BIAS = 1,
  SINTER_CONV_HAS_RESIDUAL = 2,
  SINTER_CONV_CLAMP = 4,
  SINTER_CONV_PACKED_WEIGHT = 8
};

SINTER_RT_API void _mlir_ciface_sinter_conv2d_f32(
    const sinter_memref4_f32 *in, const sinter_memref3_f32 *weight,
    const sinter_memref1_f32 *bias, const sinter_memref4_f32 *residual,
    const sinter_memref4_f32 *out, int32_t kernel_h, int32_t kernel_w,
    int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
    int32_t pad_top, int32_t pad_left, float lo, float hi, int32_t flags);

/* Depthwise 2-D convolution on f32 (src/depthwise/), what an f32
 * `sinter.conv` whose groups each read one input channel lowers to:
 *   out[n][m][y][x] = bias[m] + sum over i, j of
 *     w[m][i KW + j] * in[n][m / (M / C)][y SH - PT + i DH][x SW - PL + j DW]
 * where the input reads as zero outside its bounds; in is [N, C, H, W],
 * the weight [M, KH KW], bias [M] (with SINTER_CONV_HAS_BIAS; otherwise any
 * descriptor), out [N, M, OH, OW], all with any strides. With
 * SINTER_CONV_CLAMP each output is then clamped to [lo, hi]. The other
 * SINTER_CONV_ flags are not read. */
#define SINTER_DEPTHWISE_KERNEL "sinter_depthwise2d_f32"

SINTER_RT_API void _mlir_ciface_sinter_depthwise2d_f32(
    const sinter_memref4_f32 *in, const sinter_memref2_f32 *weight,
    const sinter_memref1_f32 *bias, const sinter_memref4_f32 *out,
    int32_t kernel_h, int32_t kernel_w, int32_t stride_h, int32_t stride_w,
    int32_t dilation_h, int32_t dilation_w, int32_t pad_top, int32_t pad_left,
    float lo, float hi, int32_t flags);

/* Weight-only quantized matrix product on f32 activations (src/matmul/),
 * what `sinter.linear` of a `sinter.dequantize`d constant weight lowers to:
 * for each b of C's batch,
 *   C[b][m][n] = sum_k A[b][m][k] W[b][n][k] (+ bias[n])
 *   W[b][n][k] = (q[b][n][k] - zero_point[b][n][g]) * scale[b][n][g],
 *                g = k / group_size
 * with A [batch or 1, M, K] (any strides), C [batch, M, N] (last dimension
 * contiguous) and the quantized weight packed by sinter_qweight_pack into an
 * i8 buffer (its batch is 1 or C's). The weights never become f32 in memory:
 * one to three rows of A (decoding) read them once, converting in registers;
 * more rows unpack blocks of them into the f32 GEMM's panels. */
#define SINTER_QMATMUL_KERNEL "sinter_qmatmul_f32"
enum { SINTER_QMATMUL_HAS_BIAS = 2 };

typedef struct sinter_memref1_i8 {
  int8_t *allocated;
  int8_t *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} sinter_memref1_i8;

SINTER_RT_API void _mlir_ciface_sinter_qmatmul_f32(
    const sinter_memref3_f32 *a, const sinter_memref1_i8 *weight,
    const sinter_memref1_f32 *bias, const sinter_memref3_f32 *c,
    int32_t flags);

/* W8A8 matrix product (src/int8/), what `sinter.linear` lowers to
 * when both its input and its weight are dequantized 8-bit integers (an
 * input rounded by sinter.quantize or sinter.dynamic_quantize, a constant
 * weight with one scale per output column and no zero points): for each b,
 *   C[b][m][n] = a_scale[b][m] * scale[n]
 *                * sum_k (A[b][m][k] - a_zero_point) q[n][k] (+ bias[n])
 * with A [batch or 1, M, K] int8, or uint8 with SINTER_QMATMUL_A_UNSIGNED
 * (any strides), a_zero_point in A's range, a_scale one element, or one
 * per row of C with SINTER_QMATMUL_ROW_SCALES (index b * M + m), the weight
 * packed by sinter_qweight_pack (8 bits, one group, no zero points) and C
 * [batch, M, N] (last dimension contiguous). The sums are exact in int32
 * over blocks of k. */
#define SINTER_QMATMUL_I8_KERNEL "sinter_qmatmul_i8"
enum { SINTER_QMATMUL_ROW_SCALES = 4, SINTER_QMATMUL_A_UNSIGNED = 8 };

typedef struct sinter_memref3_i8 {
  int8_t *allocated;
  int8_t *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} sinter_memref3_i8;

SINTER_RT_API void _mlir_ciface_sinter_qmatmul_i8(
    const sinter_memref3_i8 *a, const sinter_memref1_f32 *a_scales,
    int32_t a_zero_point, const sinter_memref1_i8 *weight, const sinter_memref1_f32 *bias,
    const sinter_memref3_f32 *c, int32_t flags);

/* Calibration probes (src/probe.c), what `sinter.probe_*` lower to in the
 * instrumented build: each records into probe `id` of the instrumented
 * session whose run is in progress (one at a time per process; ignored
 * outside a run). The
 * tensor probe takes a [outer, channels, inner] view; the attention probe
 * takes the attention's Q, K, mask (any descriptor without
 * SINTER_ATTENTION_HAS_MASK) and result, its scale and its flags; the
 * routing probe takes the chosen experts' indices as a 1-D view. */
#define SINTER_PROBE_TENSOR_KERNEL "sinter_probe_tensor_f32"
#define SINTER_PROBE_ATTENTION_KERNEL "sinter_probe_attention_f32"
#define SINTER_PROBE_ROUTING_KERNEL "sinter_probe_routing"

typedef struct sinter_memref1_i64 {
  int64_t *allocated;
  int64_t *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} sinter_memref1_i64;

SINTER_RT_API void _mlir_ciface_sinter_probe_tensor_f32(
    int64_t id, const sinter_memref3_f32 *x);
SINTER_RT_API void _mlir_ciface_sinter_probe_attention_f32(
    int64_t id, const sinter_memref4_f32 *q, const sinter_memref4_f32 *k,
    const sinter_memref4_f32 *mask, const sinter_memref4_f32 *out,
    float scale, int32_t flags);
SINTER_RT_API void _mlir_ciface_sinter_probe_routing(
    int64_t id, const sinter_memref1_i64 *indices, int64_t experts);

/* A quantized weight before packing: `batch` matrices of N x K integers, in
 * groups of `group_size` consecutive k (the last group may be shorter)
 * that share a scale and a zero point per n. `bits` is 8 (q and zero
 * points in [-128, 127]) or 4 (q and zero points in [0, 15]). */
enum {
  /* Scales are stored as bfloat16 (rounded to nearest even; exact for the
   * scales the quantization pass chooses, which it rounds so). */
  SINTER_QWEIGHT_SCALES_BF16 = 1,
  /* The weight has zero points: optional for 8 bits, required for 4. */
  SINTER_QWEIGHT_ZERO_POINTS = 2
};

typedef struct sinter_qweight_desc {
  int32_t bits;
  int32_t flags;
  int64_t batch, n, k, group_size;
} sinter_qweight_desc;

/* The packed size in bytes, or -1 when the description is invalid (bits
 * not 4 or 8, a size below 1, zero points missing for 4 bits). */
SINTER_RT_API int64_t sinter_qweight_packed_size(const sinter_qweight_desc *desc);

/* Packs q [batch][n][k], scales [batch][n][groups] and zero_points
 * [batch][n][groups] (NULL without SINTER_QWEIGHT_ZERO_POINTS)
 * into `out` (sinter_qweight_packed_size bytes, 64-byte aligned). Returns
 * 0, or -1 when the description is invalid or a value is out of range. */
SINTER_RT_API int sinter_qweight_pack(const sinter_qweight_desc *desc,
                                      const int8_t *q, const float *scales,
                                      const int8_t *zero_points, void *out);

#ifdef __cplusplus
}
#endif

#endif /* SINTER_KERNELS_H */
