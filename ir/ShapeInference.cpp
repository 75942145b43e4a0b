//===- ShapeInference.cpp - Shape rules shared by sinter ops --------------===//

#include "ir/ShapeInference.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;

namespace sinter {

std::optional<SmallVector<int64_t>>
broadcastShapes(ArrayRef<ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (ArrayRef<int64_t> shape : shapes)
    rank = std::max(rank, shape.size());
  // Every result size starts as 1, the identity of broadcasting.
  SmallVector<int64_t> result(rank, 1);
  for (ArrayRef<int64_t> shape : shapes) {
    size_t offset = rank - shape.size();
    for (auto [i, size] : llvm::enumerate(shape)) {
      int64_t &out = result[offset + i];
      if (size == 1)
        continue;
      if (out == 1) {
        out = size;
        continue;
      }
      if (ShapedType::isDynamic(size))
        continue; // A static out > 1 stays; a dynamic one stays dynamic.
      if (ShapedType::isDynamic(out)) {
        out = size;
        continue;
      }
      if (out != size)
        return std::nullopt;
    }
  }
  return result;
}

bool broadcastsTo(ArrayRef<int64_t> shape, ArrayRef<int64_t> target) {
  if (shape.size() > target.size())
    return false;
  std::optional<SmallVector<int64_t>> joined = broadcastShapes({shape, target});
  return joined && llvm::all_of(llvm::zip_equal(*joined, target), [](auto p) {
           auto [j, t] = p;
           return ShapedType::isDynamic(t) || j == t;
         });
}

std::optional<int64_t> staticElementCount(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape) {
    if (ShapedType::isDynamic(size) || size < 0)
      return std::nullopt;
    if (llvm::MulOverflow(count, size, count))
      return std::nullopt;
  }
  return count;
}

int64_t slicedDimSize(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (dim <= 0)
    return 0;
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return end > start ? llvm::divideCeil(end - start, step) : 0;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  return start > end ? llvm::divideCeil(start - end, -step) : 0;
}

std::optional<int64_t> convOutputSize(int64_t input, int64_t kernel,
                                      int64_t stride, int64_t padBegin,
                                      int64_t padEnd, int64_t dilation) {
  int64_t span = input + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0)
    return std::nullopt;
  return span / stride + 1;
}

} // namespace sinter
