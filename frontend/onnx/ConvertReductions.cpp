//===- ConvertReductions.cpp - Reductions and normalization ---------------===//
//
// Reductions and normalization: Reduce*, Softmax and LogSoftmax,
// LayerNormalization, TopK and CumSum.
// Tested by test/lit/frontend/onnx/reductions.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Decomposition.h"

using namespace mlir;

namespace sinter {
namespace {

template <typename OpTy> LogicalResult convertReduce(OnnxNode &node) {
  if (node.inputType(0).getElementType().isInteger(1))
    return node.error() << "unsupported " << node.proto().op_type()
                        << " of booleans (opset 20)";
  FailureOr<std::optional<SmallVector<int64_t>>> axes = reductionAxes(node);
  if (failed(axes))
    return failure();
  if (!*axes)
    return finish(node, node.input(0));
  FailureOr<OpTy> op = node.create<OpTy>(node.input(0), **axes,
                                         node.intAttr("keepdims", 1) != 0);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertLayerNorm(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  float epsilon = node.floatAttr("epsilon", 1e-5f);
  Value x = node.input(0);
  FailureOr<LayerNormOp> op = node.create<LayerNormOp>(
      x, node.input(1), node.input(2), *axis, llvm::APFloat(epsilon));
  if (failed(op))
    return failure();
  node.setOutput(0, op->getResult());
  if (!node.outputUsed(1) && !node.outputUsed(2))
    return success();
  if (node.intAttr("stash_type", 1) != 1 ||
      !getElementTypeOrSelf(x.getType()).isF32())
    return node.error() << "unsupported Mean/InvStdDev outputs of "
                           "LayerNormalization for other than float32";
  // The statistics the training graph reads: mean and 1/sqrt(var + eps)
  // over the normalized dimensions, kept as size-1 dimensions.
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(*axis, rank));
  FailureOr<ReduceMeanOp> mean = node.create<ReduceMeanOp>(x, axes, true);
  if (failed(mean))
    return failure();
  FailureOr<SubOp> centered = node.create<SubOp>(x, mean->getResult());
  if (failed(centered))
    return failure();
  FailureOr<MulOp> squared =
      node.create<MulOp>(centered->getResult(), centered->getResult());
  if (failed(squared))
    return failure();
  FailureOr<ReduceMeanOp> variance =
      node.create<ReduceMeanOp>(squared->getResult(), axes, true);
  if (failed(variance))
    return failure();
  FailureOr<AddOp> shifted = node.create<AddOp>(
      variance->getResult(),
      scalarConstant(node, node.builder().getF32Type(), epsilon));
  if (failed(shifted))
    return failure();
  FailureOr<RsqrtOp> inverse = node.create<RsqrtOp>(shifted->getResult());
  if (failed(inverse))
    return failure();
  node.setOutput(1, mean->getResult());
  node.setOutput(2, inverse->getResult());
  return success();
}

LogicalResult convertTopK(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> k = node.constantInts(1, "K of TopK");
  if (failed(k))
    return failure();
  if (k->size() != 1)
    return node.error() << "K of TopK must hold one value";
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", -1), node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  OpBuilder &b = node.builder();
  FailureOr<TopKOp> op = node.createWithResults<TopKOp>(
      2, node.input(0), b.getI64IntegerAttr((*k)[0]),
      b.getI64IntegerAttr(*axis),
      node.intAttr("largest", 1) ? UnitAttr() : b.getUnitAttr(),
      node.intAttr("sorted", 1) ? UnitAttr() : b.getUnitAttr());
  if (failed(op))
    return failure();
  node.setOutput(0, op->getValues());
  node.setOutput(1, op->getIndices());
  return success();
}

LogicalResult convertCumSum(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> axis =
      node.constantInts(1, "the axis of CumSum");
  if (failed(axis))
    return failure();
  if (axis->size() != 1)
    return node.error() << "the axis of CumSum must be a scalar";
  FailureOr<int64_t> normalized =
      node.normalizeAxis((*axis)[0], node.inputType(0).getRank());
  if (failed(normalized))
    return failure();
  OpBuilder &b = node.builder();
  FailureOr<CumSumOp> op = node.create<CumSumOp>(
      node.input(0), b.getI64IntegerAttr(*normalized),
      node.intAttr("exclusive", 0) ? b.getUnitAttr() : UnitAttr(),
      node.intAttr("reverse", 0) ? b.getUnitAttr() : UnitAttr());
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// Softmax and LogSoftmax before opset 13 normalize over all dimensions
/// from `axis` on (the input coerced to 2-D): with the maximum and the sum
/// taken over those dimensions, no reshape is needed, whatever is dynamic.
template <typename OpTy>
LogicalResult convertCoercedSoftmax(OnnxNode &node, int64_t axis) {
  Value x = node.input(0);
  auto axes =
      llvm::to_vector(llvm::seq<int64_t>(axis, node.inputType(0).getRank()));
  FailureOr<ReduceMaxOp> max = node.create<ReduceMaxOp>(x, axes, true);
  if (failed(max))
    return failure();
  FailureOr<SubOp> shifted = node.create<SubOp>(x, max->getResult());
  if (failed(shifted))
    return failure();
  FailureOr<ExpOp> exp = node.create<ExpOp>(shifted->getResult());
  if (failed(exp))
    return failure();
  FailureOr<ReduceSumOp> sum =
      node.create<ReduceSumOp>(exp->getResult(), axes, true);
  if (failed(sum))
    return failure();
  if constexpr (std::is_same_v<OpTy, SoftmaxOp>) {
    FailureOr<DivOp> op =
        node.create<DivOp>(exp->getResult(), sum->getResult());
    return failed(op) ? failure() : finish(node, op->getResult());
  } else {
    FailureOr<LogOp> log = node.create<LogOp>(sum->getResult());
    if (failed(log))
      return failure();
    FailureOr<SubOp> op =
        node.create<SubOp>(shifted->getResult(), log->getResult());
    return failed(op) ? failure() : finish(node, op->getResult());
  }
}

template <typename OpTy> LogicalResult convertSoftmax(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  bool coerced = node.opset() < 13;
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", coerced ? 1 : -1), rank);
  if (failed(axis))
    return failure();
  if (coerced && *axis != rank - 1)
    return convertCoercedSoftmax<OpTy>(node, *axis);
  FailureOr<OpTy> op = node.create<OpTy>(node.input(0), *axis);
  return failed(op) ? failure() : finish(node, op->getResult());
}

} // namespace

FailureOr<std::optional<SmallVector<int64_t>>> reductionAxes(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  // ReduceSum reads its axes from input 1 from opset 13 on; the others from
  // the attribute until opset 18.
  SmallVector<int64_t> axes;
  bool axesFromInput =
      node.proto().op_type() == "ReduceSum" || node.opset() >= 18;
  if (axesFromInput && node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> constant =
        node.constantInts(1, "the axes of " + node.proto().op_type());
    if (failed(constant))
      return failure();
    axes = *constant;
  } else if (!axesFromInput) {
    axes = node.intsAttr("axes").value_or(SmallVector<int64_t>());
  }
  if (axes.empty()) {
    if (node.intAttr("noop_with_empty_axes", 0))
      return std::optional<SmallVector<int64_t>>();
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, axes, rank);
  if (failed(normalized))
    return failure();
  llvm::sort(*normalized);
  return std::optional<SmallVector<int64_t>>(*normalized);
}

ArrayRef<OnnxConverterEntry> reductionsConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("CumSum", convertCumSum),
      SINTER_ONNX_OP_SINCE("LayerNormalization", 17, convertLayerNorm),
      SINTER_ONNX_OP_SINCE("LogSoftmax", kOldestOpset,
                           convertSoftmax<LogSoftmaxOp>),
      SINTER_ONNX_OP("ReduceMax", convertReduce<ReduceMaxOp>),
      SINTER_ONNX_OP("ReduceMean", convertReduce<ReduceMeanOp>),
      SINTER_ONNX_OP("ReduceMin", convertReduce<ReduceMinOp>),
      SINTER_ONNX_OP("ReduceSum", convertReduce<ReduceSumOp>),
      SINTER_ONNX_OP_SINCE("Softmax", kOldestOpset, convertSoftmax<SoftmaxOp>),
      SINTER_ONNX_OP("TopK", convertTopK),
  };
  return entries;
}

} // namespace sinter
