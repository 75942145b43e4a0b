//===- Decomposition.h - Converters that build sinter ops --*- C++ -*-===//
//
// Not installed: included by the converters that decompose an ONNX operator
// into existing sinter ops (ConvertActivations.cpp, ConvertMath.cpp,
// ConvertReductionForms.cpp, ConvertGenerators.cpp,
// ConvertNormalization.cpp). A Decomposition creates
// the ops one by one; the first op that fails (shape or type error, reported at
// the node) makes every later step a no-op, so a converter reads as its formula
// and checks for failure once, at the end.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_ONNX_DECOMPOSITION_H
#define SINTER_FRONTEND_ONNX_DECOMPOSITION_H

#include "frontend/onnx/ConverterUtils.h"

namespace sinter {

class Decomposition {
public:
  /// Scalars are made of `elementType` (the type of the node's input 0 by
  /// default).
  explicit Decomposition(OnnxNode &node, mlir::Type elementType = {})
      : node(node),
        elementType(elementType ? elementType
                                : node.inputType(0).getElementType()) {}

  /// A sinter op of one result whose type is inferred; null after a failure.
  template <typename OpTy, typename... Args> mlir::Value op(Args &&...args) {
    if (failed)
      return {};
    mlir::FailureOr<OpTy> created =
        node.create<OpTy>(std::forward<Args>(args)...);
    if (mlir::failed(created)) {
      failed = true;
      return {};
    }
    return created->getResult();
  }

  /// A sinter.cast of `value` to `type`'s element type.
  mlir::Value cast(mlir::Value value, mlir::Type type) {
    if (failed)
      return {};
    auto tensorType = llvm::cast<mlir::RankedTensorType>(value.getType());
    if (tensorType.getElementType() == type)
      return value;
    mlir::FailureOr<CastOp> created =
        node.createTyped<CastOp>(tensorType.clone(type), value);
    if (mlir::failed(created)) {
      failed = true;
      return {};
    }
    return created->getResult();
  }

  /// `value` reshaped to `shape`, whose first size may be dynamic (then
  /// read from dimension 0 of `like`).
  mlir::Value reshape(mlir::Value value, llvm::ArrayRef<int64_t> shape,
                      mlir::Value like) {
    if (failed)
      return {};
    llvm::SmallVector<mlir::Value> dynamic;
    if (mlir::ShapedType::isDynamic(shape[0]))
      dynamic.push_back(
          mlir::tensor::DimOp::create(node.builder(), node.loc(), like, 0));
    return op<ReshapeOp>(value, dynamic, shape);
  }

  /// A 0-D constant of the decomposition's element type.
  mlir::Value scalar(double value) {
    return failed ? mlir::Value() : scalarConstant(node, elementType, value);
  }

  mlir::Type type() const { return elementType; }
  bool ok() const { return !failed; }

  /// Sets the node's output 0, or fails if any step failed.
  mlir::LogicalResult finish(mlir::Value value) {
    return failed || !value ? mlir::failure() : sinter::finish(node, value);
  }

private:
  OnnxNode &node;
  mlir::Type elementType;
  bool failed = false;
};

/// The axes of a ReduceX node, read from input 1 (ReduceSum from opset 13,
/// every ReduceX from opset 18) or from the `axes` attribute, normalized
/// and sorted; nullopt when the node reduces nothing (empty axes with
/// noop_with_empty_axes), which makes it the identity.
mlir::FailureOr<std::optional<llvm::SmallVector<int64_t>>>
reductionAxes(OnnxNode &node);

/// The most elements a constant built at import (positions, EyeLike) may
/// hold; a larger size (a corrupt model) is an error, not an allocation.
constexpr int64_t kMaxImportedElements = int64_t(1) << 24;

/// 0, 1, ..., size - 1 along `axis` of a constant i64 tensor of `rank`
/// whose other dimensions are 1 (to compare with indices); size is at most
/// kMaxImportedElements.
mlir::Value positionsAlong(OnnxNode &node, int64_t rank, int64_t axis,
                           int64_t size);

} // namespace sinter

#endif // SINTER_FRONTEND_ONNX_DECOMPOSITION_H
