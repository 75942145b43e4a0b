//===- ConverterUtils.h - What the ONNX converters share --------*- C++ -*-===//
//
// Not installed: included by the Convert<Family>.cpp files only. Each
// converter turns one ONNX node into sinter ops (and the upstream arith and
// tensor ops that dynamic sizes need). Converters validate attributes and
// report what they cannot express at the node; shape errors come from the
// ops' own inference through OnnxNode::create.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_ONNX_CONVERTERUTILS_H
#define SINTER_FRONTEND_ONNX_CONVERTERUTILS_H

#include "frontend/onnx/ConverterTable.h"
#include "frontend/onnx/OnnxImporterImpl.h"
#include "ir/SinterOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <limits>
#include <optional>

namespace sinter {

/// The opsets of the default domain that every converter handles; an
/// operator whose semantics changed inside the range starts later.
constexpr int64_t kMinOpset = 13, kMaxOpset = 22;
/// The oldest opset sinter accepts (ONNX's first): models from kOldestOpset
/// to kMinOpset - 1 are upgraded to kMinOpset node by node with ONNX's
/// version converter (OpsetUpgrade.cpp), except the nodes whose converter
/// reads the old form itself (an entry starting earlier, see
/// SINTER_ONNX_OP_SINCE).
constexpr int64_t kOldestOpset = 1;

/// An entry of the default domain, for opsets kMinOpset to kMaxOpset.
#define SINTER_ONNX_OP(NAME, CONVERTER)                                        \
  SINTER_ONNX_OP_SINCE(NAME, kMinOpset, CONVERTER)
/// An entry of the default domain, for opsets SINCE to kMaxOpset.
#define SINTER_ONNX_OP_SINCE(NAME, SINCE, CONVERTER)                           \
  OnnxConverterEntry { {"", NAME, SINCE, kMaxOpset}, CONVERTER }

/// Sizes known at import time: constants, or index values (see
/// OnnxNode::knownInts).
using Known = llvm::SmallVector<mlir::OpFoldResult>;

/// Sets output 0 to `value`. When `known` is set and fully constant, the
/// value is replaced by a constant of the same type, so that shape
/// computations evaluated at import time leave no ops behind.
mlir::LogicalResult finish(OnnxNode &node, mlir::Value value,
                           std::optional<Known> known = std::nullopt);

/// Splits sizes into the static shape attribute and the dynamic operands of
/// sinter.reshape / sinter.expand.
void splitSizes(OnnxNode &node, llvm::ArrayRef<mlir::OpFoldResult> sizes,
                llvm::SmallVectorImpl<int64_t> &staticSizes,
                llvm::SmallVectorImpl<mlir::Value> &dynamicSizes);

/// Normalizes a list of axes for `rank` (ONNX allows negative axes).
mlir::FailureOr<llvm::SmallVector<int64_t>>
normalizeAxes(OnnxNode &node, llvm::ArrayRef<int64_t> axes, int64_t rank);

/// A 0-D constant of `elementType` (float or integer) holding `value`.
mlir::Value scalarConstant(OnnxNode &node, mlir::Type elementType,
                           double value);

} // namespace sinter

#endif // SINTER_FRONTEND_ONNX_CONVERTERUTILS_H
