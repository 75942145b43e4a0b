//===- ConvertReductionForms.cpp - Reductions built on reduce_sum ---------===//
//
// The Reduce operators that are a sum or a maximum with an elementwise step
// before or after (ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp with
// the maximum subtracted, ReduceSumSquare), ReduceProd, ArgMax and ArgMin,
// Hardmax (ArgMax compared with the positions along the axis) and
// MeanVarianceNormalization. Every ReduceX flag (keepdims,
// noop_with_empty_axes, negative axes, axes as input from opset 18) is read
// by reductionAxes (ConvertReductions.cpp). Tested by
// test/lit/frontend/onnx/reduction-forms.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Decomposition.h"

using namespace mlir;

namespace sinter {
namespace {

enum class Form { L1, L2, LogSum, LogSumExp, SumSquare, Prod };

/// With noop_with_empty_axes and no axes, the reduction is over no axis:
/// the elementwise steps still apply (ReduceSumSquare squares, as ONNX's
/// reference does).
template <Form form> LogicalResult convertReduceForm(OnnxNode &node) {
  FailureOr<std::optional<SmallVector<int64_t>>> axes = reductionAxes(node);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> reduced = axes->value_or(SmallVector<int64_t>());
  bool keepdims = node.intAttr("keepdims", 1) != 0;
  Decomposition d(node);
  Value x = node.input(0);
  // A reduction over no axis is the identity: no op for it.
  auto reduce = [&](auto tag, Value value, bool keep) -> Value {
    if (!*axes)
      return value;
    return d.op<typename decltype(tag)::type>(value, reduced, keep);
  };
  auto sum = [&](Value value, bool keep) {
    return reduce(llvm::type_identity<ReduceSumOp>(), value, keep);
  };
  auto max = [&](bool keep) {
    return reduce(llvm::type_identity<ReduceMaxOp>(), x, keep);
  };
  switch (form) {
  case Form::L1:
    return d.finish(sum(d.op<AbsOp>(x), keepdims));
  case Form::L2:
    return d.finish(d.op<SqrtOp>(sum(d.op<MulOp>(x, x), keepdims)));
  case Form::LogSum:
    return d.finish(d.op<LogOp>(sum(x, keepdims)));
  case Form::SumSquare:
    return d.finish(sum(d.op<MulOp>(x, x), keepdims));
  case Form::Prod:
    return d.finish(reduce(llvm::type_identity<ReduceProdOp>(), x, keepdims));
  case Form::LogSumExp: {
    // log(sum(exp(x - m))) + m with m the maximum: no exp overflows.
    Value shift = max(true);
    Value logSum =
        d.op<LogOp>(sum(d.op<ExpOp>(d.op<SubOp>(x, shift)), keepdims));
    return d.finish(d.op<AddOp>(logSum, keepdims ? shift : max(false)));
  }
  }
  llvm_unreachable("unknown reduction form");
}

/// ArgMax or ArgMin of `input` along `axis` (normalized).
template <typename OpTy>
Value argReduce(OnnxNode &node, Decomposition &d, Value input, int64_t axis,
                bool keepdims) {
  OpBuilder &b = node.builder();
  return d.op<OpTy>(input, b.getI64IntegerAttr(axis),
                    keepdims ? b.getUnitAttr() : UnitAttr(),
                    node.intAttr("select_last_index", 0) ? b.getUnitAttr()
                                                         : UnitAttr());
}

template <typename OpTy> LogicalResult convertArgReduce(OnnxNode &node) {
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  Decomposition d(node);
  return d.finish(
      argReduce<OpTy>(node, d, node.input(0), *axis,
                      node.intAttr("keepdims", 1) != 0));
}

/// 1 where the first maximum along the axis is, 0 elsewhere. Below opset
/// 13 (default axis 1) the input is read as a matrix, the dimensions before
/// the axis as rows and the others as the columns, as old Softmax did.
LogicalResult convertHardmax(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  bool coerced = node.opset() < 13;
  FailureOr<int64_t> axis = node.normalizeAxis(
      node.intAttr("axis", coerced ? 1 : -1), type.getRank());
  if (failed(axis))
    return failure();
  Decomposition d(node);
  Value x = node.input(0);
  if (coerced && *axis != type.getRank() - 1) {
    if (!type.hasStaticShape())
      return node.error() << "unsupported Hardmax below opset 13 over "
                             "several dimensions of dynamic input "
                          << type;
    int64_t rows = 1, columns = 1;
    for (int64_t k = 0; k < type.getRank(); ++k)
      (k < *axis ? rows : columns) *= type.getDimSize(k);
    x = d.op<ReshapeOp>(x, ValueRange(), ArrayRef<int64_t>{rows, columns});
    type = RankedTensorType::get({rows, columns}, type.getElementType());
    axis = 1;
  }
  if (type.isDynamicDim(*axis))
    return node.error() << "unsupported dynamic size of the axis of Hardmax";
  if (type.getDimSize(*axis) > kMaxImportedElements)
    return node.error() << "unsupported axis size " << type.getDimSize(*axis)
                        << " of Hardmax: at most " << kMaxImportedElements;
  Value index = argReduce<ArgMaxOp>(node, d, x, *axis, true);
  Value positions =
      positionsAlong(node, type.getRank(), *axis, type.getDimSize(*axis));
  Value result =
      d.cast(d.op<EqualOp>(positions, index), type.getElementType());
  if (result && x != node.input(0))
    result = d.op<ReshapeOp>(result, ValueRange(),
                             node.inputType(0).getShape());
  return d.finish(result);
}

/// (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9): ONNX's function body.
LogicalResult convertMeanVarianceNormalization(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  SmallVector<int64_t> axes =
      node.intsAttr("axes").value_or(SmallVector<int64_t>{0, 2, 3});
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, axes, rank);
  if (failed(normalized))
    return failure();
  llvm::sort(*normalized);
  Decomposition d(node);
  Value x = node.input(0);
  Value mean = d.op<ReduceMeanOp>(x, *normalized, true);
  Value meanOfSquares =
      d.op<ReduceMeanOp>(d.op<MulOp>(x, x), *normalized, true);
  Value variance = d.op<SubOp>(meanOfSquares, d.op<MulOp>(mean, mean));
  Value deviation = d.op<AddOp>(d.op<SqrtOp>(variance), d.scalar(1e-9));
  return d.finish(d.op<DivOp>(d.op<SubOp>(x, mean), deviation));
}

} // namespace

Value positionsAlong(OnnxNode &node, int64_t rank, int64_t axis, int64_t size) {
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = size;
  auto type = RankedTensorType::get(shape, node.builder().getI64Type());
  SmallVector<int64_t> values = llvm::to_vector(llvm::seq<int64_t>(0, size));
  return node.constant(DenseElementsAttr::get(type, ArrayRef(values)));
}

ArrayRef<OnnxConverterEntry> reductionFormsConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("ArgMax", convertArgReduce<ArgMaxOp>),
      SINTER_ONNX_OP("ArgMin", convertArgReduce<ArgMinOp>),
      SINTER_ONNX_OP_SINCE("Hardmax", kOldestOpset, convertHardmax),
      SINTER_ONNX_OP("MeanVarianceNormalization",
                     convertMeanVarianceNormalization),
      SINTER_ONNX_OP("ReduceL1", convertReduceForm<Form::L1>),
      SINTER_ONNX_OP("ReduceL2", convertReduceForm<Form::L2>),
      SINTER_ONNX_OP("ReduceLogSum", convertReduceForm<Form::LogSum>),
      SINTER_ONNX_OP("ReduceLogSumExp", convertReduceForm<Form::LogSumExp>),
      SINTER_ONNX_OP("ReduceProd", convertReduceForm<Form::Prod>),
      SINTER_ONNX_OP("ReduceSumSquare", convertReduceForm<Form::SumSquare>),
  };
  return entries;
}

} // namespace sinter
