//===- ConvertGenerators.cpp - OneHot and EyeLike -------------------------===//
//
// Operators that make a tensor from positions: OneHot compares the indices
// with the positions along the new axis (a where over a constant iota, so
// that it fuses), EyeLike is a constant of the input's static shape.
// Tested by test/lit/frontend/onnx/generators.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Decomposition.h"

using namespace mlir;

namespace sinter {
namespace {

LogicalResult convertOneHot(OnnxNode &node) {
  std::optional<double> depthValue = node.constantScalar(1);
  if (!depthValue)
    return node.error() << "unsupported dynamic value: the depth of OneHot "
                           "must be a constant scalar (it sizes the output)";
  if (!(*depthValue >= 1 && *depthValue <= kMaxImportedElements))
    return node.error() << "unsupported depth " << *depthValue
                        << " of OneHot: it must be 1 to "
                        << kMaxImportedElements;
  int64_t depth = static_cast<int64_t>(*depthValue);
  RankedTensorType indicesType = node.inputType(0);
  int64_t rank = indicesType.getRank() + 1;
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  RankedTensorType valuesType = node.inputType(2);
  if (valuesType.getRank() != 1 || valuesType.getDimSize(0) != 2)
    return node.error() << "the values of OneHot must be [off, on], got "
                        << valuesType;
  OpBuilder &b = node.builder();
  Decomposition d(node, b.getI64Type());
  // Negative indices count from the end; any other out-of-range index
  // matches no position and gives a row of `off`.
  Value index = d.cast(node.input(0), b.getI64Type());
  index = d.op<WhereOp>(d.op<LessOp>(index, d.scalar(0)),
                        d.op<AddOp>(index, d.scalar(depth)), index);
  SmallVector<OpFoldResult> shape;
  for (int64_t i = 0; i < indicesType.getRank(); ++i) {
    if (i == *axis)
      shape.push_back(b.getIndexAttr(1));
    shape.push_back(node.dimSize(node.input(0), i));
  }
  if (*axis == indicesType.getRank())
    shape.push_back(b.getIndexAttr(1));
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, shape, staticSizes, dynamicSizes);
  Value unsqueezed = d.op<ReshapeOp>(index, dynamicSizes, staticSizes);
  Value mask =
      d.op<EqualOp>(unsqueezed, positionsAlong(node, rank, *axis, depth));
  auto pick = [&](int64_t which) {
    return d.op<GatherOp>(node.input(2), d.scalar(which),
                          b.getI64IntegerAttr(0));
  };
  return d.finish(d.op<WhereOp>(mask, pick(1), pick(0)));
}

LogicalResult convertEyeLike(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  if (type.getRank() != 2)
    return node.error() << "EyeLike expects a 2-D input, got " << type;
  if (!type.hasStaticShape())
    return node.error() << "unsupported dynamic shape " << type
                        << " of EyeLike's input";
  if (type.getDimSize(0) * type.getDimSize(1) > kMaxImportedElements)
    return node.error() << "unsupported shape " << type
                        << " of EyeLike: at most " << kMaxImportedElements
                        << " elements";
  Type elementType = type.getElementType();
  if (const onnx::AttributeProto *dtype = node.attribute("dtype")) {
    elementType = onnxElementType(node.context(), dtype->i());
    if (!elementType)
      return node.error() << "unsupported dtype "
                          << onnxDataTypeName(dtype->i()) << " of EyeLike";
  }
  int64_t k = node.intAttr("k", 0);
  auto resultType = type.clone(elementType);
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < type.getDimSize(0); ++i)
    for (int64_t j = 0; j < type.getDimSize(1); ++j) {
      bool one = j - i == k;
      if (isa<FloatType>(elementType))
        values.push_back(FloatAttr::get(elementType, one ? 1.0 : 0.0));
      else
        values.push_back(IntegerAttr::get(elementType, one ? 1 : 0));
    }
  return finish(node,
                node.constant(DenseElementsAttr::get(resultType, values)));
}

} // namespace

ArrayRef<OnnxConverterEntry> generatorsConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("EyeLike", convertEyeLike),
      SINTER_ONNX_OP("OneHot", convertOneHot),
  };
  return entries;
}

} // namespace sinter
