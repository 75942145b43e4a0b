//===- ConverterUtils.cpp - What the ONNX converters share ----------------===//
//
// The helpers declared in ConverterUtils.h.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include <cmath>

using namespace mlir;

namespace sinter {

LogicalResult finish(OnnxNode &node, Value value, std::optional<Known> known) {
  auto type = cast<RankedTensorType>(value.getType());
  if (known && type.getRank() <= 1 && type.hasStaticShape() &&
      isa<IntegerType>(type.getElementType()) &&
      type.getNumElements() == static_cast<int64_t>(known->size())) {
    SmallVector<APInt> constants;
    unsigned width = type.getElementType().getIntOrFloatBitWidth();
    for (OpFoldResult element : *known) {
      std::optional<int64_t> c = getConstantIntValue(element);
      if (!c)
        break;
      constants.push_back(APInt(width, *c, /*isSigned=*/true,
                                /*implicitTrunc=*/true));
    }
    if (constants.size() == known->size())
      value = node.constant(DenseElementsAttr::get(type, constants));
  }
  node.setOutput(0, value, std::move(known));
  return success();
}

void splitSizes(OnnxNode &node, ArrayRef<OpFoldResult> sizes,
                SmallVectorImpl<int64_t> &staticSizes,
                SmallVectorImpl<Value> &dynamicSizes) {
  for (OpFoldResult size : sizes) {
    if (std::optional<int64_t> c = getConstantIntValue(size)) {
      staticSizes.push_back(*c);
    } else {
      staticSizes.push_back(ShapedType::kDynamic);
      dynamicSizes.push_back(node.indexValue(size));
    }
  }
}

FailureOr<SmallVector<int64_t>>
normalizeAxes(OnnxNode &node, ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    FailureOr<int64_t> normalized = node.normalizeAxis(axis, rank);
    if (failed(normalized))
      return failure();
    if (llvm::is_contained(result, *normalized))
      return node.error() << "axis " << axis << " is listed twice";
    result.push_back(*normalized);
  }
  return result;
}

Value scalarConstant(OnnxNode &node, Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  if (isa<FloatType>(elementType))
    return node.constant(DenseElementsAttr::get(
        type, FloatAttr::get(elementType, value).getValue()));
  // A float attribute (an alpha, a clip bound) can lie outside int64, where
  // a plain cast is undefined: saturate, and take NaN as 0.
  int64_t integer = std::isnan(value)         ? 0
                    : value >= 0x1p63         ? INT64_MAX
                    : value < -0x1p63         ? INT64_MIN
                                              : static_cast<int64_t>(value);
  return node.constant(DenseElementsAttr::get(
      type, APInt(elementType.getIntOrFloatBitWidth(), integer,
                  /*isSigned=*/true, /*implicitTrunc=*/true)));
}

} // namespace sinter
