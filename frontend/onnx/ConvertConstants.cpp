//===- ConvertConstants.cpp - Constant, ConstantOfShape, Range ------------===//
//
// Constants: Constant, ConstantOfShape and Range, folded to constants where
// their inputs are known.
// Tested by test/lit/frontend/onnx/constants.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include <cmath>

using namespace mlir;

namespace sinter {
namespace {

LogicalResult convertConstant(OnnxNode &node) {
  OpBuilder &b = node.builder();
  const onnx::AttributeProto *attr =
      node.proto().attribute_size() == 1 ? &node.proto().attribute(0) : nullptr;
  if (!attr)
    return node.error() << "Constant must have exactly one value attribute";
  StringRef kind = attr->name();
  if (kind == "value") {
    FailureOr<ElementsAttr> value = node.tensorAttribute("value");
    if (failed(value))
      return failure();
    return finish(node, ConstantOp::create(b, node.loc(), *value));
  }
  auto scalarOrList = [&](Type type, auto values, bool scalar) {
    SmallVector<int64_t> shape;
    if (!scalar)
      shape.push_back(values.size());
    return node.constant(DenseElementsAttr::get(
        RankedTensorType::get(shape, type), ArrayRef(values)));
  };
  if (kind == "value_float")
    return finish(node, scalarOrList(b.getF32Type(),
                                     SmallVector<float>{attr->f()}, true));
  if (kind == "value_floats")
    return finish(node, scalarOrList(b.getF32Type(),
                                     SmallVector<float>(attr->floats().begin(),
                                                        attr->floats().end()),
                                     false));
  if (kind == "value_int") {
    SmallVector<int64_t> values{attr->i()};
    return finish(node, scalarOrList(b.getI64Type(), values, true));
  }
  if (kind == "value_ints") {
    SmallVector<int64_t> values(attr->ints().begin(), attr->ints().end());
    return finish(node, scalarOrList(b.getI64Type(), values, false));
  }
  return node.error() << "unsupported Constant attribute '" << kind
                      << "' (strings and sparse tensors)";
}

LogicalResult convertConstantOfShape(OnnxNode &node) {
  std::optional<Known> shape = node.knownInts(0);
  if (!shape)
    return node.error() << "unsupported dynamic value: the shape of "
                           "ConstantOfShape is not known when the model is "
                           "imported";
  OpBuilder &b = node.builder();
  DenseElementsAttr fill =
      DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()), 0.0f);
  if (node.attribute("value")) {
    FailureOr<ElementsAttr> value = node.tensorAttribute("value");
    if (failed(value))
      return failure();
    auto dense = dyn_cast<DenseElementsAttr>(*value);
    if (!dense || dense.getNumElements() != 1)
      return node.error() << "the value of ConstantOfShape must hold one "
                             "element";
    fill = dense.reshape(RankedTensorType::get({}, dense.getElementType()));
  }
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, *shape, staticSizes, dynamicSizes);
  auto type = RankedTensorType::get(staticSizes, fill.getElementType());
  if (dynamicSizes.empty())
    return finish(node, node.constant(fill.resizeSplat(type)));
  Value scalar = arith::ConstantOp::create(
      b, node.loc(), cast<TypedAttr>(*fill.getValues<Attribute>().begin()));
  Value splat =
      tensor::SplatOp::create(b, node.loc(), type, scalar, dynamicSizes);
  return finish(node, splat);
}

LogicalResult convertRange(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  std::optional<double> start = node.constantScalar(0),
                        limit = node.constantScalar(1),
                        delta = node.constantScalar(2);
  Type elementType = type.getElementType();
  if (start && limit && delta) {
    if (*delta == 0)
      return node.error() << "the delta of Range is 0";
    double count = std::ceil((*limit - *start) / *delta);
    if (!std::isfinite(count) ||
        count > static_cast<double>(kMaxTensorElements))
      return node.error() << "Range would produce " << count << " elements";
    int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
    auto resultType = RankedTensorType::get({n}, elementType);
    if (isa<FloatType>(elementType)) {
      SmallVector<APFloat> values;
      for (int64_t i = 0; i < n; ++i)
        values.push_back(
            FloatAttr::get(elementType, *start + i * *delta).getValue());
      return finish(node,
                    node.constant(DenseElementsAttr::get(resultType, values)));
    }
    SmallVector<APInt> values;
    Known known;
    for (int64_t i = 0; i < n; ++i) {
      int64_t v =
          static_cast<int64_t>(*start) + i * static_cast<int64_t>(*delta);
      values.push_back(APInt(elementType.getIntOrFloatBitWidth(), v,
                             /*isSigned=*/true, /*implicitTrunc=*/true));
      known.push_back(node.builder().getIndexAttr(v));
    }
    return finish(
        node, node.constant(DenseElementsAttr::get(resultType, values)), known);
  }
  FailureOr<RangeOp> op = node.createTyped<RangeOp>(
      RankedTensorType::get({ShapedType::kDynamic}, elementType), node.input(0),
      node.input(1), node.input(2));
  return failed(op) ? failure() : finish(node, op->getResult());
}

} // namespace

ArrayRef<OnnxConverterEntry> constantsConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Constant", convertConstant),
      SINTER_ONNX_OP("ConstantOfShape", convertConstantOfShape),
      SINTER_ONNX_OP("Range", convertRange),
  };
  return entries;
}

} // namespace sinter
