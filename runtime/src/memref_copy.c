/*===- memref_copy.c - Strided copies for generated code -------------------===*
 *
 * MLIR lowers a memref.copy between buffers that are not both contiguous to a
 * call of `memrefCopy` (upstream provides it in libmlir_c_runner_utils, which
 * a deployed model must not need). Same signature and meaning: copy
 * `element_size`-byte elements between two ranked descriptors passed as
 * unranked ones.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/kernels.h"

#include <string.h>

typedef struct unranked_memref {
  int64_t rank;
  void *descriptor;
} unranked_memref;

/* A ranked descriptor viewed as words: allocated, aligned, offset, sizes,
 * strides. */
typedef struct ranked_view {
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
} ranked_view;

static ranked_view view_of(const unranked_memref *m) {
  const int64_t *words = (const int64_t *)m->descriptor;
  ranked_view v;
  memcpy(&v.aligned, &words[1], sizeof v.aligned);
  v.offset = words[2];
  v.sizes = words + 3;
  v.strides = words + 3 + m->rank;
  return v;
}

static void copy_dim(int64_t rank, int64_t d, int64_t element_size,
                     const ranked_view *src, const ranked_view *dst, char *from,
                     char *to) {
  if (d == rank) {
    memcpy(to, from, (size_t)element_size);
    return;
  }
  /* Rows contiguous on both sides (slices of the last dimensions, the
   * pieces of a split): one memcpy per row, not per element. */
  if (d == rank - 1 && src->strides[d] == 1 && dst->strides[d] == 1) {
    memcpy(to, from, (size_t)(src->sizes[d] * element_size));
    return;
  }
  for (int64_t i = 0; i < src->sizes[d]; ++i)
    copy_dim(rank, d + 1, element_size, src, dst,
             from + i * src->strides[d] * element_size,
             to + i * dst->strides[d] * element_size);
}

SINTER_RT_API void memrefCopy(int64_t element_size, unranked_memref *src,
                              unranked_memref *dst);

void memrefCopy(int64_t element_size, unranked_memref *src,
                unranked_memref *dst) {
  ranked_view s = view_of(src), d = view_of(dst);
  for (int64_t i = 0; i < src->rank; ++i)
    if (s.sizes[i] == 0)
      return;
  copy_dim(src->rank, 0, element_size, &s, &d,
           s.aligned + s.offset * element_size,
           d.aligned + d.offset * element_size);
}
