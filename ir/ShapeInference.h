//===- ShapeInference.h - Shape rules shared by sinter ops ------*- C++ -*-===//
//
// The shape arithmetic behind the ops' result type inference, kept apart from
// the ops so that importers and passes compute shapes by the same rules.
// Sizes use mlir::ShapedType::kDynamic for unknown dimensions.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_SHAPEINFERENCE_H
#define SINTER_IR_SHAPEINFERENCE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace sinter {

/// The numpy broadcast of `shapes`, or std::nullopt where two static sizes
/// differ and neither is 1. A dynamic size against a static N > 1 gives N
/// (the program is only valid if the dynamic size is N or 1); a dynamic size
/// against 1 or another dynamic size stays dynamic.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes);

/// Whether `shape` broadcasts to `target` without widening it: the broadcast
/// of the two is `target` (dynamic sizes in `target` accept anything).
bool broadcastsTo(llvm::ArrayRef<int64_t> shape,
                  llvm::ArrayRef<int64_t> target);

/// The number of elements of `shape`, or std::nullopt when a size is dynamic
/// or the product overflows int64_t.
std::optional<int64_t> staticElementCount(llvm::ArrayRef<int64_t> shape);

/// The size of one sliced dimension of static size `dim` under ONNX Slice
/// semantics (negative indices count from the end, out-of-range clamped).
int64_t slicedDimSize(int64_t dim, int64_t start, int64_t end, int64_t step);

/// The size of one convolution output dimension, or std::nullopt when the
/// window does not fit the padded input.
std::optional<int64_t> convOutputSize(int64_t input, int64_t kernel,
                                      int64_t stride, int64_t padBegin,
                                      int64_t padEnd, int64_t dilation);

} // namespace sinter

#endif // SINTER_IR_SHAPEINFERENCE_H
