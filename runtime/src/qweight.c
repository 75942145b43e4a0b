/*===- qweight.c - Packing quantized weights into the kernel's layout ------===*
 *
 * Runs at compile time (sinterc links this file) and in the kernel tests;
 * the layout is described in qweight.h.
 *
 *===-----------------------------------------------------------------------===*/
#include "qweight.h"

#include <string.h>

static int64_t align64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

int sinter_qweight_layout(const sinter_qweight_desc *desc,
                          sinter_qweight_header *header) {
  if (!desc || (desc->bits != 4 && desc->bits != 8) || desc->batch < 1 ||
      desc->n < 1 || desc->k < 1 || desc->group_size < 1 ||
      (desc->flags & ~(SINTER_QWEIGHT_SCALES_BF16 | SINTER_QWEIGHT_ZERO_POINTS)) ||
      (desc->bits == 4 && !(desc->flags & SINTER_QWEIGHT_ZERO_POINTS)))
    return -1;
  /* Guards the products below against overflow: a matrix of more than
   * 2^40 weights is not a weight. */
  if (desc->n > ((int64_t)1 << 40) / desc->k)
    return -1;
  memset(header, 0, sizeof(*header));
  memcpy(header->magic, SINTER_QWEIGHT_MAGIC, 4);
  header->bits = desc->bits;
  header->flags = desc->flags;
  header->batch = desc->batch;
  header->n = desc->n;
  header->k = desc->k;
  header->group_size = desc->group_size;
  header->groups = (desc->k + desc->group_size - 1) / desc->group_size;
  header->slivers = (desc->n + SINTER_QWEIGHT_WIDTH - 1) / SINTER_QWEIGHT_WIDTH;
  int64_t row = sinter_qweight_row_bytes(desc->bits);
  int64_t scale_bytes = (desc->flags & SINTER_QWEIGHT_SCALES_BF16) ? 2 : 4;
  int64_t blocks = header->slivers * header->groups;
  header->scales_offset = align64(header->slivers * desc->k * row);
  header->zero_points_offset =
      header->scales_offset + align64(blocks * SINTER_QWEIGHT_WIDTH * scale_bytes);
  header->matrix_bytes = header->zero_points_offset +
                         (sinter_qweight_has_zero_points(header)
                              ? align64(blocks * row)
                              : 0);
  return 0;
}

int64_t sinter_qweight_packed_size(const sinter_qweight_desc *desc) {
  sinter_qweight_header header;
  if (sinter_qweight_layout(desc, &header) != 0)
    return -1;
  return SINTER_QWEIGHT_HEADER_SIZE + header.batch * header.matrix_bytes;
}

/* bfloat16 of `value`, rounded to nearest even (NaN stays NaN). */
static uint16_t to_bfloat16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1);
  return (uint16_t)(bits >> 16);
}

/* Stores `values` (16 columns) as one packed row. */
static void pack_row(int32_t bits, const int8_t values[SINTER_QWEIGHT_WIDTH],
                     int8_t *out) {
  if (bits == 8) {
    memcpy(out, values, SINTER_QWEIGHT_WIDTH);
    return;
  }
  for (int c = 0; c < SINTER_QWEIGHT_WIDTH / 2; ++c)
    out[c] = (int8_t)(uint8_t)((values[c] & 15) | (values[c + 8] << 4));
}

int sinter_qweight_pack(const sinter_qweight_desc *desc, const int8_t *q,
                        const float *scales, const int8_t *zero_points,
                        void *out) {
  int64_t size = sinter_qweight_packed_size(desc);
  if (size < 0 || !q || !scales || !out)
    return -1;
  sinter_qweight_header h;
  sinter_qweight_layout(desc, &h);
  int has_zp = sinter_qweight_has_zero_points(&h);
  if (has_zp && !zero_points)
    return -1;
  const int lo = h.bits == 8 ? -128 : 0, hi = h.bits == 8 ? 127 : 15;
  const int64_t n = h.n, k = h.k, groups = h.groups, row = sinter_qweight_row_bytes(h.bits);
  memset(out, 0, (size_t)size);
  memcpy(out, &h, sizeof(h));
  for (int64_t b = 0; b < h.batch; ++b) {
    int8_t *matrix = (int8_t *)out + SINTER_QWEIGHT_HEADER_SIZE + b * h.matrix_bytes;
    const int8_t *qb = q + b * n * k;
    const float *sb = scales + b * n * groups;
    const int8_t *zb = has_zp ? zero_points + b * n * groups : NULL;
    for (int64_t s = 0; s < h.slivers; ++s) {
      int64_t width = n - s * SINTER_QWEIGHT_WIDTH;
      if (width > SINTER_QWEIGHT_WIDTH)
        width = SINTER_QWEIGHT_WIDTH;
      int8_t values[SINTER_QWEIGHT_WIDTH];
      for (int64_t i = 0; i < k; ++i) {
        memset(values, 0, sizeof(values));
        for (int64_t c = 0; c < width; ++c) {
          int8_t v = qb[(s * SINTER_QWEIGHT_WIDTH + c) * k + i];
          if (v < lo || v > hi)
            return -1;
          values[c] = v;
        }
        pack_row(h.bits, values, matrix + (s * k + i) * row);
      }
      for (int64_t g = 0; g < groups; ++g) {
        int64_t block = s * groups + g;
        for (int64_t c = 0; c < SINTER_QWEIGHT_WIDTH; ++c) {
          float scale = c < width ? sb[(s * SINTER_QWEIGHT_WIDTH + c) * groups + g] : 0.0f;
          if (h.flags & SINTER_QWEIGHT_SCALES_BF16) {
            uint16_t half = to_bfloat16(scale);
            memcpy(matrix + h.scales_offset + (block * SINTER_QWEIGHT_WIDTH + c) * 2,
                   &half, 2);
          } else {
            memcpy(matrix + h.scales_offset + (block * SINTER_QWEIGHT_WIDTH + c) * 4,
                   &scale, 4);
          }
        }
        if (!has_zp)
          continue;
        memset(values, 0, sizeof(values));
        for (int64_t c = 0; c < width; ++c) {
          int8_t v = zb[(s * SINTER_QWEIGHT_WIDTH + c) * groups + g];
          if (v < lo || v > hi)
            return -1;
          values[c] = v;
        }
        pack_row(h.bits, values, matrix + h.zero_points_offset + block * row);
      }
    }
  }
  return 0;
}
