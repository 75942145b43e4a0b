//===- ConvertNormalization.cpp - The normalizations of vision models -----===//
//
// BatchNormalization (inference), InstanceNormalization,
// GroupNormalization, LpNormalization and LRN, each as the sinter
// arithmetic it means. BatchNormalization with constant statistics becomes
// one multiply and one add by per-channel constants computed here (the
// form a fold into the preceding conv's weights would match).
// Tested by test/lit/frontend/onnx/normalization.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"
#include "frontend/onnx/Decomposition.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <vector>

using namespace mlir;

namespace sinter {
namespace {

/// The values of a constant float input, or std::nullopt.
std::optional<SmallVector<double>> constantValues(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  Attribute attr = constant.getValue();
  SmallVector<double> values;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!isa<FloatType>(dense.getElementType()))
      return std::nullopt;
    for (const APFloat &v : dense.getValues<APFloat>())
      values.push_back(v.convertToDouble());
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  const AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || !resource.getElementType().isF32())
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  int64_t count = resource.getNumElements();
  if (static_cast<int64_t>(data.size()) != count * 4)
    return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    float v;
    std::memcpy(&v, data.data() + 4 * i, 4);
    values.push_back(v);
  }
  return values;
}

/// [C] -> [C, 1, ...] so that it broadcasts along dimension 1 of a tensor
/// of `rank`.
SmallVector<int64_t> channelShape(int64_t channels, int64_t rank) {
  SmallVector<int64_t> shape(rank - 1, 1);
  shape[0] = channels;
  return shape;
}

/// BatchNormalization in inference mode: y = x * a + b with
/// a = scale / sqrt(var + epsilon), b = bias - mean * a per channel.
LogicalResult convertBatchNorm(OnnxNode &node) {
  if (node.intAttr("training_mode", 0) != 0)
    return node.error() << "unsupported training_mode 1 of "
                           "BatchNormalization: sinter compiles inference "
                           "graphs (export the model in eval mode)";
  if (node.outputUsed(1) || node.outputUsed(2))
    return node.error() << "unsupported running mean and variance outputs "
                           "of BatchNormalization (training only)";
  RankedTensorType type = node.inputType(0);
  if (type.getRank() < 2 || ShapedType::isDynamic(type.getDimSize(1)))
    return node.error() << "expects an N x C x ... input with a static C, got "
                        << type;
  int64_t channels = type.getDimSize(1);
  for (size_t i = 1; i < 5; ++i)
    if (node.inputType(i).getRank() != 1 ||
        node.inputType(i).getDimSize(0) != channels)
      return node.error() << "input " << i << " must have " << channels
                          << " elements, got " << node.inputType(i);
  Type elementType = type.getElementType();
  double epsilon = node.floatAttr("epsilon", 1e-5f);
  SmallVector<int64_t> shape = channelShape(channels, type.getRank());
  auto shapedType = RankedTensorType::get(shape, elementType);
  Decomposition ops(node);
  Value a, b;
  std::optional<SmallVector<double>> scale = constantValues(node.input(1)),
                                     bias = constantValues(node.input(2)),
                                     mean = constantValues(node.input(3)),
                                     var = constantValues(node.input(4));
  if (scale && bias && mean && var && isa<FloatType>(elementType)) {
    SmallVector<APFloat> as, bs;
    const llvm::fltSemantics &semantics =
        cast<FloatType>(elementType).getFloatSemantics();
    auto toFloat = [&](double v) {
      APFloat f(v);
      bool lost;
      f.convert(semantics, APFloat::rmNearestTiesToEven, &lost);
      return f;
    };
    for (int64_t c = 0; c < channels; ++c) {
      double factor = (*scale)[c] / std::sqrt((*var)[c] + epsilon);
      as.push_back(toFloat(factor));
      bs.push_back(toFloat((*bias)[c] - (*mean)[c] * factor));
    }
    a = node.constant(DenseElementsAttr::get(shapedType, as));
    b = node.constant(DenseElementsAttr::get(shapedType, bs));
  } else {
    auto param = [&](size_t i) { return ops.cast(node.input(i), elementType); };
    Value shifted = ops.op<AddOp>(param(4), ops.scalar(epsilon));
    Value inverse = ops.op<RsqrtOp>(shifted);
    Value factor = ops.op<MulOp>(param(1), inverse);
    Value offset = ops.op<SubOp>(param(2), ops.op<MulOp>(param(3), factor));
    a = ops.op<ReshapeOp>(factor, ValueRange(), shape);
    b = ops.op<ReshapeOp>(offset, ValueRange(), shape);
  }
  Value scaled = ops.op<MulOp>(node.input(0), a);
  return ops.finish(ops.op<AddOp>(scaled, b));
}

/// (x - mean) / sqrt(var + epsilon) over `axes`, statistics kept as size
/// 1 dimensions.
Value standardize(Decomposition &ops, Value x, ArrayRef<int64_t> axes,
                  double epsilon) {
  Value mean = ops.op<ReduceMeanOp>(x, axes, true);
  Value centered = ops.op<SubOp>(x, mean);
  Value variance =
      ops.op<ReduceMeanOp>(ops.op<MulOp>(centered, centered), axes, true);
  Value inverse =
      ops.op<RsqrtOp>(ops.op<AddOp>(variance, ops.scalar(epsilon)));
  return ops.op<MulOp>(centered, inverse);
}

/// `normalized` * scale + bias, with 1-D scale and bias reshaped to
/// `shape`.
Value affine(Decomposition &ops, OnnxNode &node, Value normalized,
             ArrayRef<int64_t> shape) {
  Value scale = ops.op<ReshapeOp>(node.input(1), ValueRange(), shape);
  Value bias = ops.op<ReshapeOp>(node.input(2), ValueRange(), shape);
  return ops.op<AddOp>(ops.op<MulOp>(normalized, scale), bias);
}

LogicalResult checkScaleBias(OnnxNode &node, int64_t size) {
  for (size_t i = 1; i < 3; ++i)
    if (node.inputType(i).getRank() != 1 ||
        node.inputType(i).getDimSize(0) != size)
      return node.error() << "input " << i << " must have " << size
                          << " elements, got " << node.inputType(i);
  return success();
}

LogicalResult convertInstanceNorm(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  if (type.getRank() < 3 || ShapedType::isDynamic(type.getDimSize(1)))
    return node.error() << "expects an N x C x spatial input with a static "
                           "C, got "
                        << type;
  int64_t channels = type.getDimSize(1);
  if (failed(checkScaleBias(node, channels)))
    return failure();
  Decomposition ops(node);
  SmallVector<int64_t> axes =
      llvm::to_vector(llvm::seq<int64_t>(2, type.getRank()));
  Value normalized =
      standardize(ops, node.input(0), axes, node.floatAttr("epsilon", 1e-5f));
  return ops.finish(
      affine(ops, node, normalized, channelShape(channels, type.getRank())));
}

/// GroupNormalization: statistics over each group of channels. Its scale
/// and bias have one element per group at opset 18 and one per channel
/// from opset 21 on.
LogicalResult convertGroupNorm(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  int64_t groups = node.intAttr("num_groups", 0);
  if (type.getRank() < 3 ||
      llvm::any_of(type.getShape().drop_front(), ShapedType::isDynamic))
    return node.error() << "unsupported GroupNormalization input " << type
                        << " (N x C x spatial with static C and spatial "
                           "sizes)";
  int64_t channels = type.getDimSize(1);
  if (groups < 1 || channels % groups != 0)
    return node.error() << "num_groups " << groups << " must divide the "
                        << channels << " channels";
  bool perChannel = node.opset() >= 21;
  if (failed(checkScaleBias(node, perChannel ? channels : groups)))
    return failure();
  int64_t rest =
      channels / groups * llvm::product_of(type.getShape().drop_front(2));
  Decomposition ops(node);
  Value x = node.input(0);
  Value grouped = ops.reshape(x, {type.getDimSize(0), groups, rest}, x);
  Value normalized =
      standardize(ops, grouped, {2}, node.floatAttr("epsilon", 1e-5f));
  if (!perChannel)
    normalized = affine(ops, node, normalized, {groups, 1});
  normalized = ops.reshape(normalized, type.getShape(), x);
  if (perChannel)
    normalized =
        affine(ops, node, normalized, channelShape(channels, type.getRank()));
  return ops.finish(normalized);
}

/// LpNormalization: x / ||x||_p along the axis, p 1 or 2.
LogicalResult convertLpNorm(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  int64_t p = node.intAttr("p", 2);
  if (p != 1 && p != 2)
    return node.error() << "unsupported p " << p
                        << " of LpNormalization (1 or 2)";
  Decomposition ops(node);
  Value x = node.input(0);
  SmallVector<int64_t> axes = {*axis};
  Value norm = p == 1 ? ops.op<ReduceSumOp>(ops.op<AbsOp>(x), axes, true)
                      : ops.op<SqrtOp>(ops.op<ReduceSumOp>(
                            ops.op<MulOp>(x, x), axes, true));
  return ops.finish(ops.op<DivOp>(x, norm));
}

/// LRN: x / (bias + alpha / size * sum of x^2 over `size` neighbouring
/// channels)^beta; the sum is an average pool with the padding counted,
/// over the channels laid out as a spatial dimension.
LogicalResult convertLrn(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  if (type.getRank() < 3 ||
      llvm::any_of(type.getShape().drop_front(), ShapedType::isDynamic))
    return node.error() << "unsupported LRN input " << type
                        << " (N x C x spatial with static C and spatial "
                           "sizes)";
  int64_t size = node.intAttr("size", 0);
  if (size < 1)
    return node.error() << "LRN needs a size >= 1, got " << size;
  int64_t channels = type.getDimSize(1);
  int64_t positions = llvm::product_of(type.getShape().drop_front(2));
  Decomposition ops(node);
  Value x = node.input(0);
  Value squares = ops.op<MulOp>(x, x);
  Value planes =
      ops.reshape(squares, {type.getDimSize(0), 1, channels, positions}, x);
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value averaged = ops.op<PoolOp>(
      planes, PoolKind::Avg, ArrayRef<int64_t>{size, 1},
      ArrayRef<int64_t>{1, 1}, ArrayRef<int64_t>{before, 0, after, 0},
      ArrayRef<int64_t>{1, 1}, /*ceil_mode=*/false,
      /*count_include_pad=*/true, /*p=*/2);
  Value sums = ops.reshape(averaged, type.getShape(), x);
  Value base = ops.op<AddOp>(
      ops.op<MulOp>(sums,
                      ops.scalar(node.floatAttr("alpha", 1e-4f))),
      ops.scalar(node.floatAttr("bias", 1.0f)));
  Value denominator = ops.op<PowOp>(
      base, ops.scalar(node.floatAttr("beta", 0.75f)));
  return ops.finish(ops.op<DivOp>(x, denominator));
}

} // namespace

ArrayRef<OnnxConverterEntry> normalizationConverters() {
  static const std::vector<OnnxConverterEntry> entries = [] {
    std::vector<OnnxConverterEntry> list = {
        SINTER_ONNX_OP("BatchNormalization", convertBatchNorm),
        SINTER_ONNX_OP("InstanceNormalization", convertInstanceNorm),
        SINTER_ONNX_OP("LRN", convertLrn),
        SINTER_ONNX_OP("LpNormalization", convertLpNorm),
    };
    // GroupNormalization exists from opset 18 on: listed once the importer
    // reads opset 18.
    if (kMaxOpset >= 18)
      list.push_back(
          SINTER_ONNX_OP_SINCE("GroupNormalization", 18, convertGroupNorm));
    return list;
  }();
  return entries;
}

} // namespace sinter
