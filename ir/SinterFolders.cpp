//===- SinterFolders.cpp - Folders of sinter ops --------------------------===//
//
// Folders that remove ops which do nothing (identity reshapes, transposes,
// broadcasts, slices, casts), merge chains of the same op, and evaluate
// elementwise arithmetic on small constants (the shape computations that
// exporters leave in graphs). Constants held as dense resources (weights) are
// never folded: that would copy them into attributes.
//
//===----------------------------------------------------------------------===//

#include "ir/SinterOps.h"

#include "mlir/Dialect/CommonFolders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APSInt.h"

#include <limits>

using namespace mlir;
using namespace sinter;

namespace {

/// Whether `value` is a splat constant equal to `identity` (0 for add, 1 for
/// mul), as float or integer.
bool isSplatOf(Attribute value, int64_t identity) {
  auto splat = dyn_cast_if_present<SplatElementsAttr>(value);
  if (!splat)
    return false;
  Type type = splat.getElementType();
  if (isa<FloatType>(type))
    return splat.getSplatValue<APFloat>().isExactlyValue(identity);
  if (isa<IntegerType>(type))
    return splat.getSplatValue<APInt>().getSExtValue() == identity;
  return false;
}

/// Folds `lhs op rhs` when `rhs` is the identity of op and broadcasting does
/// not change `lhs`'s type, or evaluates the op when both are constants of
/// the result's shape.
template <typename Op, typename FloatFn, typename IntFn>
OpFoldResult foldArithmetic(Op op, ArrayRef<Attribute> operands,
                            std::optional<int64_t> rightIdentity,
                            FloatFn floatFn, IntFn intFn) {
  Type resultType = op.getType();
  if (rightIdentity && isSplatOf(operands[1], *rightIdentity) &&
      op.getLhs().getType() == resultType)
    return op.getLhs();
  if (op.getLhs().getType() != resultType ||
      op.getRhs().getType() != resultType)
    return {};
  Type elementType = getElementTypeOrSelf(resultType);
  if (isa<FloatType>(elementType))
    return constFoldBinaryOp<FloatAttr, APFloat, /*PoisonAttr=*/void>(operands,
                                                                      floatFn);
  if (isa<IntegerType>(elementType))
    return constFoldBinaryOp<IntegerAttr, APInt, /*PoisonAttr=*/void>(operands,
                                                                      intFn);
  return {};
}

} // namespace

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(), /*rightIdentity=*/0,
      [](const APFloat &a, const APFloat &b) { return a + b; },
      [](const APInt &a, const APInt &b) { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(), /*rightIdentity=*/0,
      [](const APFloat &a, const APFloat &b) { return a - b; },
      [](const APInt &a, const APInt &b) { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(), /*rightIdentity=*/1,
      [](const APFloat &a, const APFloat &b) { return a * b; },
      [](const APInt &a, const APInt &b) { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  ArrayRef<Attribute> operands = adaptor.getOperands();
  Type resultType = getType();
  if (isSplatOf(operands[1], 1) && getLhs().getType() == resultType)
    return getLhs();
  if (getLhs().getType() != resultType || getRhs().getType() != resultType)
    return {};
  Type elementType = getElementTypeOrSelf(resultType);
  if (isa<FloatType>(elementType))
    return constFoldBinaryOp<FloatAttr, APFloat, /*PoisonAttr=*/void>(
        operands, [](const APFloat &a, const APFloat &b) { return a / b; });
  // Integers as the lowering divides them (toward zero, by signedness); no
  // fold where the division is undefined.
  bool isUnsigned = elementType.isUnsignedInteger();
  return constFoldBinaryOpConditional<IntegerAttr, APInt, /*PoisonAttr=*/void>(
      operands, [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
        if (b.isZero() ||
            (!isUnsigned && a.isMinSignedValue() && b.isAllOnes()))
          return std::nullopt;
        return isUnsigned ? a.udiv(b) : a.sdiv(b);
      });
}

namespace {
/// `x` rounded to an integer in `mode` (Floor, Ceil).
OpFoldResult foldRounding(ArrayRef<Attribute> operands,
                          APFloat::roundingMode mode) {
  return constFoldUnaryOp<FloatAttr, APFloat, /*PoisonAttr=*/void>(
      operands, [mode](APFloat x) {
        x.roundToIntegral(mode);
        return x;
      });
}
} // namespace

OpFoldResult FloorOp::fold(FoldAdaptor adaptor) {
  return foldRounding(adaptor.getOperands(), APFloat::rmTowardNegative);
}

OpFoldResult CeilOp::fold(FoldAdaptor adaptor) {
  return foldRounding(adaptor.getOperands(), APFloat::rmTowardPositive);
}

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  // As the lowering computes it: maximumf(x, +0) (NaN stays NaN, -0 becomes
  // +0), and a signed max for integers.
  if (isa<FloatType>(getElementTypeOrSelf(getType())))
    return constFoldUnaryOp<FloatAttr, APFloat, /*PoisonAttr=*/void>(
        adaptor.getOperands(), [](const APFloat &x) {
          return x.isNegative() && !x.isNaN() ? APFloat::getZero(x.getSemantics())
                                             : x;
        });
  return constFoldUnaryOp<IntegerAttr, APInt, /*PoisonAttr=*/void>(
      adaptor.getOperands(), [](const APInt &x) {
        return x.isNegative() ? APInt::getZero(x.getBitWidth()) : x;
      });
}

namespace {
/// ONNX Cast of one constant element: floats to integers truncate toward
/// zero, integers widen by their signedness, anything to bool is != 0.
/// Nothing where the result is not defined (NaN, out of range).
std::optional<Attribute> castElement(Attribute value, Type to) {
  if (auto floatValue = dyn_cast<FloatAttr>(value)) {
    APFloat x = floatValue.getValue();
    if (auto floatType = dyn_cast<FloatType>(to)) {
      bool lost = false;
      x.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                &lost);
      return FloatAttr::get(to, x);
    }
    auto intType = cast<IntegerType>(to);
    if (intType.getWidth() == 1)
      return IntegerAttr::get(to, APInt(1, !x.isZero()));
    APSInt result(intType.getWidth(), intType.isUnsigned());
    bool exact = false;
    if (x.convertToInteger(result, APFloat::rmTowardZero, &exact) !=
            APFloat::opOK &&
        !(x.isFinite() && !exact))
      return std::nullopt;
    return IntegerAttr::get(to, result);
  }
  auto intValue = cast<IntegerAttr>(value);
  auto fromType = cast<IntegerType>(intValue.getType());
  APInt x = intValue.getValue();
  bool isSigned = !fromType.isUnsigned() && fromType.getWidth() != 1;
  if (auto floatType = dyn_cast<FloatType>(to)) {
    APFloat result(floatType.getFloatSemantics());
    result.convertFromAPInt(x, isSigned, APFloat::rmNearestTiesToEven);
    return FloatAttr::get(to, result);
  }
  auto intType = cast<IntegerType>(to);
  if (intType.getWidth() == 1)
    return IntegerAttr::get(to, APInt(1, !x.isZero()));
  return IntegerAttr::get(to, isSigned ? x.sextOrTrunc(intType.getWidth())
                                       : x.zextOrTrunc(intType.getWidth()));
}
} // namespace

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // Small constants (sizes and scalars that exporters compute in graphs).
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  Type from = getInput().getType().getElementType(),
       to = getType().getElementType();
  if (!input || input.getNumElements() > 1024 ||
      !(isa<FloatType>(from) || isa<IntegerType>(from)) ||
      !(isa<FloatType>(to) || isa<IntegerType>(to)))
    return {};
  SmallVector<Attribute> elements;
  for (Attribute element : input.getValues<Attribute>()) {
    std::optional<Attribute> converted = castElement(element, to);
    if (!converted)
      return {};
    elements.push_back(*converted);
  }
  return DenseElementsAttr::get(getType(), elements);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  // reshape(reshape(x)) is reshape(x): only the final shape matters.
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult ExpandOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return getInput();
  // transpose(transpose(x, inner), outer) is transpose(x, inner o outer).
  if (auto producer = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> inner = producer.getPerm();
    SmallVector<int64_t> composed;
    for (int64_t dim : perm)
      composed.push_back(inner[dim]);
    if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
      return producer.getInput();
    setPerm(composed);
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  // A slice that keeps every element in order is the identity. A dynamic
  // dimension is only known to be kept whole by the canonical 0:MAX:1.
  RankedTensorType inputType = getInput().getType();
  if (inputType != getType())
    return {};
  for (int64_t dim = 0; dim < inputType.getRank(); ++dim) {
    if (getSteps()[dim] != 1)
      return {};
    if (inputType.isDynamicDim(dim) &&
        (getStarts()[dim] != 0 ||
         getEnds()[dim] != std::numeric_limits<int64_t>::max()))
      return {};
  }
  return getInput();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  return {};
}

namespace {
/// Reducing over no axes is the identity.
template <typename ReduceOp> OpFoldResult foldReduction(ReduceOp op) {
  if (op.getAxes().empty() && op.getInput().getType() == op.getType())
    return op.getInput();
  return {};
}
} // namespace

OpFoldResult ReduceSumOp::fold(FoldAdaptor) { return foldReduction(*this); }
OpFoldResult ReduceMeanOp::fold(FoldAdaptor) { return foldReduction(*this); }
OpFoldResult ReduceMaxOp::fold(FoldAdaptor) { return foldReduction(*this); }
OpFoldResult ReduceMinOp::fold(FoldAdaptor) { return foldReduction(*this); }
