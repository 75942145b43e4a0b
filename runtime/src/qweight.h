/*===- qweight.h - The packed layout of quantized weights ------------------===*
 *
 * Internal to the runtime: how sinter_qweight_pack lays a quantized weight
 * out and how the kernels read it back.
 *
 * The buffer starts with a 128-byte header, followed by `batch` matrices of
 * `matrix_bytes` each. A matrix is cut, like the f32 GEMM's packed B, into
 * slivers of 16 output columns (n), zero-padded past N:
 *   q            slivers x K rows x 16 columns: a row is 16 int8 (8 bits) or
 *                8 bytes holding column c in the low nibble of byte c and
 *                column c + 8 in its high nibble (4 bits);
 *   scales       slivers x groups x 16: f32, or bfloat16
 *                (SINTER_QWEIGHT_SCALES_BF16);
 *   zero points  slivers x groups x one row (the layout of q's rows), with
 *                SINTER_QWEIGHT_ZERO_POINTS (always set for 4 bits).
 * Each section starts at a multiple of 64 bytes. Reading a sliver's rows
 * walks one contiguous stream, and one row's 16 columns become two
 * vectors of 8 floats with a widening load and a conversion.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_QWEIGHT_H
#define SINTER_RUNTIME_SRC_QWEIGHT_H

#include "sinter/kernels.h"

#include <stdint.h>

#define SINTER_QWEIGHT_MAGIC "SQW1"
#define SINTER_QWEIGHT_HEADER_SIZE 128
#define SINTER_QWEIGHT_WIDTH 16 /* columns of a sliver */

typedef struct sinter_qweight_header {
  char magic[4];
  int32_t bits, flags, reserved;
  int64_t batch, n, k, group_size, groups, slivers;
  /* Byte offsets within one matrix, and its size. */
  int64_t scales_offset, zero_points_offset, matrix_bytes;
} sinter_qweight_header;

/* Bytes of one packed row of 16 columns. */
static inline int64_t sinter_qweight_row_bytes(int32_t bits) {
  return bits == 8 ? 16 : 8;
}

static inline int sinter_qweight_has_zero_points(const sinter_qweight_header *h) {
  return (h->flags & SINTER_QWEIGHT_ZERO_POINTS) != 0;
}

/* Fills `header` for `desc`; -1 when the description is invalid. */
int sinter_qweight_layout(const sinter_qweight_desc *desc,
                          sinter_qweight_header *header);

#endif /* SINTER_RUNTIME_SRC_QWEIGHT_H */
