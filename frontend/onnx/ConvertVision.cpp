//===- ConvertVision.cpp - Conv, ConvTranspose and the pools --------------===//
//
// Convolutions and window pooling in N x C x spatial layout: Conv,
// ConvTranspose, MaxPool (with its Indices), AveragePool, LpPool and the
// global pools. auto_pad is resolved here into explicit pads, so that the
// ops carry ONNX's NOTSET form only. The normalizations are in
// ConvertNormalization.cpp.
// Tested by test/lit/frontend/onnx/vision.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

using namespace mlir;

namespace sinter {
namespace {

/// The window attributes of a Conv or pool node, auto_pad resolved.
struct Window {
  SmallVector<int64_t> kernel, strides, pads, dilations;
  bool ceilMode = false;
};

/// Reads strides, dilations, pads and auto_pad for `kernel` over the
/// spatial dimensions of `input`. SAME_UPPER puts the odd padding at the
/// end, SAME_LOWER at the beginning; both give ceil(size / stride) outputs.
FailureOr<Window> readWindow(OnnxNode &node, RankedTensorType input,
                             ArrayRef<int64_t> kernel) {
  int64_t spatial = input.getRank() - 2;
  Window window;
  window.kernel.assign(kernel.begin(), kernel.end());
  auto orOnes = [&](StringRef name) {
    return node.intsAttr(name).value_or(SmallVector<int64_t>(spatial, 1));
  };
  window.strides = orOnes("strides");
  window.dilations = orOnes("dilations");
  window.pads =
      node.intsAttr("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  window.ceilMode = node.intAttr("ceil_mode", 0) != 0;
  if (window.strides.size() != static_cast<size_t>(spatial) ||
      window.dilations.size() != static_cast<size_t>(spatial) ||
      window.pads.size() != static_cast<size_t>(2 * spatial) ||
      window.kernel.size() != static_cast<size_t>(spatial))
    return node.error() << "strides, dilations and kernel_shape need "
                        << spatial << " entries and pads " << 2 * spatial
                        << " for input " << input;
  if (llvm::any_of(window.strides, [](int64_t v) { return v < 1; }) ||
      llvm::any_of(window.dilations, [](int64_t v) { return v < 1; }) ||
      llvm::any_of(window.kernel, [](int64_t v) { return v < 1; }))
    return node.error() << "strides, dilations and kernel sizes must be >= 1";
  if (llvm::any_of(window.pads, [](int64_t v) { return v < 0; }))
    return node.error() << "unsupported negative pads";
  std::string autoPad = node.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return window;
  if (autoPad != "VALID" && autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return node.error() << "invalid auto_pad '" << autoPad << "'";
  // The output sizes of auto_pad are fixed; ceil_mode does not apply.
  window.ceilMode = false;
  window.pads.assign(2 * spatial, 0);
  if (autoPad == "VALID")
    return window;
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t size = input.getDimSize(2 + i);
    if (ShapedType::isDynamic(size))
      return node.error() << "unsupported auto_pad " << autoPad
                          << " with a dynamic spatial size";
    int64_t stride = window.strides[i];
    int64_t out = (size + stride - 1) / stride;
    int64_t total = std::max<int64_t>(
        0, (out - 1) * stride + window.dilations[i] * (window.kernel[i] - 1) +
               1 - size);
    int64_t small = total / 2, large = total - small;
    window.pads[i] = autoPad == "SAME_UPPER" ? small : large;
    window.pads[spatial + i] = autoPad == "SAME_UPPER" ? large : small;
  }
  return window;
}

/// Checks that input `i` is N x C x at least one spatial dimension.
LogicalResult checkImage(OnnxNode &node, size_t i) {
  if (node.inputType(i).getRank() < 3)
    return node.error() << "expects an N x C x spatial input, got "
                        << node.inputType(i);
  return success();
}

LogicalResult convertConv(OnnxNode &node) {
  RankedTensorType inputType = node.inputType(0),
                   weightType = node.inputType(1);
  if (failed(checkImage(node, 0)))
    return failure();
  if (weightType.getRank() != inputType.getRank())
    return node.error() << "Conv expects a weight of the input's rank, got "
                        << inputType << " and " << weightType;
  ArrayRef<int64_t> kernel = weightType.getShape().drop_front(2);
  if (std::optional<SmallVector<int64_t>> attr = node.intsAttr("kernel_shape"))
    if (ArrayRef<int64_t>(*attr) != kernel)
      return node.error() << "kernel_shape does not match the weight's "
                             "spatial sizes";
  if (llvm::any_of(kernel, ShapedType::isDynamic))
    return node.error() << "unsupported dynamic kernel size in " << weightType;
  FailureOr<Window> window = readWindow(node, inputType, kernel);
  if (failed(window))
    return failure();
  FailureOr<ConvOp> op = node.create<ConvOp>(
      node.input(0), node.input(1), node.input(2), window->strides,
      window->pads, window->dilations, node.intAttr("group", 1));
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// ConvTranspose. output_shape, when given, sets the pads (its total
/// padding split as ONNX specifies, the larger half at the beginning
/// unless auto_pad is SAME_UPPER); a larger output than the input gives
/// extends output_padding.
LogicalResult convertConvTranspose(OnnxNode &node) {
  RankedTensorType inputType = node.inputType(0),
                   weightType = node.inputType(1);
  if (failed(checkImage(node, 0)))
    return failure();
  if (weightType.getRank() != inputType.getRank() ||
      !weightType.hasStaticShape())
    return node.error() << "ConvTranspose expects a static weight of the "
                           "input's rank, got "
                        << weightType;
  int64_t spatial = inputType.getRank() - 2;
  ArrayRef<int64_t> kernel = weightType.getShape().drop_front(2);
  if (std::optional<SmallVector<int64_t>> attr = node.intsAttr("kernel_shape"))
    if (ArrayRef<int64_t>(*attr) != kernel)
      return node.error() << "kernel_shape does not match the weight's "
                             "spatial sizes";
  std::string autoPad = node.stringAttr("auto_pad", "NOTSET");
  std::optional<SmallVector<int64_t>> outputShape =
      node.intsAttr("output_shape");
  Window window;
  {
    // auto_pad of ConvTranspose aims at input * stride, not at
    // ceil(input / stride): read the attributes without it.
    FailureOr<Window> read = readWindow(node, inputType, kernel);
    if (failed(read))
      return failure();
    window = *read;
  }
  SmallVector<int64_t> outputPadding =
      node.intsAttr("output_padding")
          .value_or(SmallVector<int64_t>(spatial, 0));
  if (outputPadding.size() != static_cast<size_t>(spatial) ||
      llvm::any_of(outputPadding, [](int64_t v) { return v < 0; }))
    return node.error() << "output_padding needs " << spatial
                        << " entries, each >= 0";
  if (outputShape && outputShape->size() == static_cast<size_t>(spatial + 2))
    outputShape->erase(outputShape->begin(), outputShape->begin() + 2);
  if (outputShape && outputShape->size() != static_cast<size_t>(spatial))
    return node.error() << "output_shape needs " << spatial << " entries";
  if (!outputShape && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")) {
    outputShape.emplace();
    for (int64_t i = 0; i < spatial; ++i)
      outputShape->push_back(inputType.getDimSize(2 + i) * window.strides[i]);
  }
  if (outputShape) {
    window.pads =
        node.intsAttr("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t size = inputType.getDimSize(2 + i);
      if (ShapedType::isDynamic(size))
        return node.error() << "unsupported output_shape or auto_pad with a "
                               "dynamic spatial size";
      int64_t total = window.strides[i] * (size - 1) + outputPadding[i] +
                      (kernel[i] - 1) * window.dilations[i] + 1 -
                      (*outputShape)[i];
      if (total < 0) {
        outputPadding[i] -= total;
        total = 0;
      }
      int64_t half = total / 2;
      window.pads[i] = autoPad == "SAME_UPPER" ? half : total - half;
      window.pads[spatial + i] = total - window.pads[i];
    }
  }
  FailureOr<ConvTransposeOp> op = node.create<ConvTransposeOp>(
      node.input(0), node.input(1), node.input(2), window.strides, window.pads,
      window.dilations, outputPadding, node.intAttr("group", 1));
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// The window of a pool from its kernel_shape attribute.
FailureOr<Window> poolWindow(OnnxNode &node) {
  if (failed(checkImage(node, 0)))
    return failure();
  std::optional<SmallVector<int64_t>> kernel = node.intsAttr("kernel_shape");
  if (!kernel)
    return node.error() << "missing kernel_shape";
  return readWindow(node, node.inputType(0), *kernel);
}

FailureOr<Value> pool(OnnxNode &node, Value input, PoolKind kind,
                      const Window &window, bool countIncludePad, int64_t p) {
  FailureOr<PoolOp> op = node.create<PoolOp>(
      input, kind, window.kernel, window.strides, window.pads, window.dilations,
      window.ceilMode, countIncludePad, p);
  if (failed(op))
    return failure();
  return op->getResult();
}

/// MaxPool. Unsigned inputs are pooled as i32 (exact) and cast back, as
/// arith's signless maximum would read their top bit as a sign.
LogicalResult convertMaxPool(OnnxNode &node) {
  FailureOr<Window> window = poolWindow(node);
  if (failed(window))
    return failure();
  Value input = node.input(0);
  Type elementType = node.inputType(0).getElementType();
  auto integer = dyn_cast<IntegerType>(elementType);
  bool widen = integer && integer.isUnsigned();
  if (widen) {
    if (integer.getWidth() > 16)
      return node.error() << "unsupported MaxPool of " << elementType;
    auto wide = node.inputType(0).clone(node.builder().getI32Type());
    FailureOr<CastOp> widened = node.createTyped<CastOp>(wide, input);
    if (failed(widened))
      return failure();
    input = widened->getResult();
  }
  FailureOr<Value> pooled = pool(node, input, PoolKind::Max, *window, false, 2);
  if (failed(pooled))
    return failure();
  Value result = *pooled;
  if (widen) {
    FailureOr<CastOp> narrowed = node.createTyped<CastOp>(
        cast<RankedTensorType>(result.getType()).clone(elementType), result);
    if (failed(narrowed))
      return failure();
    result = narrowed->getResult();
  }
  node.setOutput(0, result);
  if (!node.outputUsed(1))
    return success();
  int64_t storageOrder = node.intAttr("storage_order", 0);
  if (storageOrder != 0 && storageOrder != 1)
    return node.error() << "invalid storage_order " << storageOrder;
  if (!node.inputType(0).hasStaticShape())
    return node.error() << "unsupported Indices output of MaxPool with a "
                           "dynamic input shape";
  FailureOr<MaxPoolIndicesOp> indices = node.create<MaxPoolIndicesOp>(
      input, window->kernel, window->strides, window->pads, window->dilations,
      window->ceilMode, storageOrder != 0);
  if (failed(indices))
    return failure();
  node.setOutput(1, indices->getResult());
  return success();
}

LogicalResult convertAveragePool(OnnxNode &node) {
  FailureOr<Window> window = poolWindow(node);
  if (failed(window))
    return failure();
  FailureOr<Value> pooled = pool(node, node.input(0), PoolKind::Avg, *window,
                                 node.intAttr("count_include_pad", 0) != 0, 2);
  return failed(pooled) ? failure() : finish(node, *pooled);
}

LogicalResult convertLpPool(OnnxNode &node) {
  FailureOr<Window> window = poolWindow(node);
  if (failed(window))
    return failure();
  int64_t p = node.intAttr("p", 2);
  if (p < 1)
    return node.error() << "unsupported p " << p << " of LpPool (p >= 1)";
  FailureOr<Value> pooled =
      pool(node, node.input(0), PoolKind::Lp, *window, false, p);
  return failed(pooled) ? failure() : finish(node, *pooled);
}

/// GlobalAveragePool and GlobalMaxPool: a reduction over the spatial
/// dimensions, kept as size 1.
template <typename ReduceOpTy> LogicalResult convertGlobalPool(OnnxNode &node) {
  if (failed(checkImage(node, 0)))
    return failure();
  SmallVector<int64_t> axes =
      llvm::to_vector(llvm::seq<int64_t>(2, node.inputType(0).getRank()));
  FailureOr<ReduceOpTy> op = node.create<ReduceOpTy>(node.input(0), axes, true);
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// GlobalLpPool: an Lp pool whose window is the whole (static) image.
LogicalResult convertGlobalLpPool(OnnxNode &node) {
  if (failed(checkImage(node, 0)))
    return failure();
  RankedTensorType type = node.inputType(0);
  ArrayRef<int64_t> sizes = type.getShape().drop_front(2);
  if (llvm::any_of(sizes, ShapedType::isDynamic))
    return node.error() << "unsupported GlobalLpPool of dynamic spatial sizes "
                        << type;
  int64_t p = node.intAttr("p", 2);
  if (p < 1)
    return node.error() << "unsupported p " << p << " of GlobalLpPool";
  Window window;
  window.kernel.assign(sizes.begin(), sizes.end());
  window.strides.assign(sizes.size(), 1);
  window.dilations.assign(sizes.size(), 1);
  window.pads.assign(2 * sizes.size(), 0);
  FailureOr<Value> pooled =
      pool(node, node.input(0), PoolKind::Lp, window, false, p);
  return failed(pooled) ? failure() : finish(node, *pooled);
}

} // namespace

ArrayRef<OnnxConverterEntry> visionConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("AveragePool", convertAveragePool),
      SINTER_ONNX_OP("Conv", convertConv),
      SINTER_ONNX_OP("ConvTranspose", convertConvTranspose),
      SINTER_ONNX_OP("GlobalAveragePool", convertGlobalPool<ReduceMeanOp>),
      SINTER_ONNX_OP("GlobalLpPool", convertGlobalLpPool),
      SINTER_ONNX_OP("GlobalMaxPool", convertGlobalPool<ReduceMaxOp>),
      SINTER_ONNX_OP("LpPool", convertLpPool),
      SINTER_ONNX_OP("MaxPool", convertMaxPool),
  };
  return entries;
}

} // namespace sinter
