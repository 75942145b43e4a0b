//===- ConvertQuantization.cpp - QuantizeLinear, DequantizeLinear ---------===//
//
// Quantization: QuantizeLinear and DequantizeLinear (per tensor or per axis).
// Tested by test/lit/frontend/onnx/quantization.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

using namespace mlir;

namespace sinter {
namespace {

/// The axis of a DequantizeLinear/QuantizeLinear with a 1-D scale of more
/// than one element (per axis), normalized; 0 otherwise (per tensor).
FailureOr<int64_t> quantizationAxis(OnnxNode &node, int64_t rank) {
  RankedTensorType scale = node.inputType(1);
  if (int64_t block = node.intAttr("block_size", 0))
    return node.error() << "unsupported blocked quantization (block_size "
                        << block << ", opset 21)";
  if (scale.getRank() > 1)
    return node.error() << "the scale must be a scalar or 1-D (opset "
                        << node.opset() << " has no blocked quantization), got "
                        << scale;
  if (scale.getRank() == 0 || scale.getDimSize(0) == 1)
    return int64_t(0);
  return node.normalizeAxis(node.intAttr("axis", 1), rank);
}

LogicalResult convertDequantizeLinear(OnnxNode &node) {
  RankedTensorType input = node.inputType(0), scale = node.inputType(1);
  FailureOr<int64_t> axis = quantizationAxis(node, input.getRank());
  if (failed(axis))
    return failure();
  FailureOr<DequantizeOp> op = node.createTyped<DequantizeOp>(
      input.clone(scale.getElementType()), node.input(0), node.input(1),
      node.input(2), *axis, int64_t(0));
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertQuantizeLinear(OnnxNode &node) {
  RankedTensorType input = node.inputType(0);
  FailureOr<int64_t> axis = quantizationAxis(node, input.getRank());
  if (failed(axis))
    return failure();
  // The zero point's type is the result's; without one, output_dtype's
  // (opset 21), else uint8.
  Type resultElement =
      node.hasInput(2)
          ? node.inputType(2).getElementType()
          : Type(IntegerType::get(node.context(), 8, IntegerType::Unsigned));
  if (int32_t dtype = node.intAttr("output_dtype", 0)) {
    Type requested = onnxElementType(node.context(), dtype);
    if (!requested)
      return node.error() << "unsupported output_dtype "
                          << onnxDataTypeName(dtype) << " of QuantizeLinear";
    if (node.hasInput(2) && requested != resultElement)
      return node.error() << "output_dtype " << onnxDataTypeName(dtype)
                          << " differs from the zero point's type";
    resultElement = requested;
  }
  FailureOr<QuantizeOp> op = node.createTyped<QuantizeOp>(
      input.clone(resultElement), node.input(0), node.input(1), node.input(2),
      *axis, int64_t(0));
  return failed(op) ? failure() : finish(node, op->getResult());
}

} // namespace

ArrayRef<OnnxConverterEntry> quantizationConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("DequantizeLinear", convertDequantizeLinear),
      SINTER_ONNX_OP("QuantizeLinear", convertQuantizeLinear),
  };
  return entries;
}

} // namespace sinter
