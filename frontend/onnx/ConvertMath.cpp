//===- ConvertMath.cpp - Math operators of the default domain -------------===//
//
// Trigonometric and hyperbolic functions (one sinter op each), Mod (C's
// fmod, or with fmod=0 the integer remainder that takes the divisor's
// sign), BitShift, IsNaN and IsInf as comparisons, variadic Sum and Mean
// with numpy broadcasting. Tested by
// test/lit/frontend/onnx/math.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Decomposition.h"

using namespace mlir;

namespace sinter {
namespace {

template <typename OpTy> LogicalResult convertFunction(OnnxNode &node) {
  Decomposition d(node);
  return d.finish(d.op<OpTy>(node.input(0)));
}

LogicalResult convertMod(OnnxNode &node) {
  Decomposition d(node);
  Value a = node.input(0), b = node.input(1);
  bool isFloat = isa<FloatType>(d.type());
  int64_t fmod = node.intAttr("fmod", 0);
  if (fmod != 0 && fmod != 1)
    return node.error() << "unsupported fmod " << fmod
                        << " of Mod: it must be 0 or 1";
  if (isFloat && fmod == 0)
    return node.error() << "unsupported fmod 0 of Mod on floating-point "
                           "inputs: ONNX requires fmod=1 for them";
  Value remainder = d.op<RemOp>(a, b);
  if (fmod == 1 || d.type().isUnsignedInteger())
    return d.finish(remainder);
  // The remainder takes the divisor's sign (Python's %): a non-zero
  // remainder whose sign differs from the divisor's moves by one divisor.
  Value zero = d.scalar(0);
  Value nonZero = d.op<NotOp>(d.op<EqualOp>(remainder, zero));
  Value signsDiffer =
      d.op<XorOp>(d.op<LessOp>(remainder, zero), d.op<LessOp>(b, zero));
  return d.finish(d.op<WhereOp>(d.op<AndOp>(nonZero, signsDiffer),
                                d.op<AddOp>(remainder, b), remainder));
}

LogicalResult convertBitShift(OnnxNode &node) {
  Decomposition d(node);
  std::string direction = node.stringAttr("direction", "");
  if (direction == "LEFT")
    return d.finish(d.op<ShiftLeftOp>(node.input(0), node.input(1)));
  if (direction == "RIGHT")
    return d.finish(d.op<ShiftRightOp>(node.input(0), node.input(1)));
  return node.error() << "unsupported direction '" << direction
                      << "' of BitShift: it must be LEFT or RIGHT";
}

/// NaN is the one value that differs from itself.
LogicalResult convertIsNaN(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  return d.finish(d.op<NotOp>(d.op<EqualOp>(x, x)));
}

LogicalResult convertIsInf(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  double inf = std::numeric_limits<double>::infinity();
  bool positive = node.intAttr("detect_positive", 1) != 0;
  bool negative = node.intAttr("detect_negative", 1) != 0;
  Value isPositive = d.op<EqualOp>(x, d.scalar(inf));
  Value isNegative = d.op<EqualOp>(x, d.scalar(-inf));
  if (positive && negative)
    return d.finish(d.op<OrOp>(isPositive, isNegative));
  if (positive || negative)
    return d.finish(positive ? isPositive : isNegative);
  // Neither sign: false everywhere, still of X's shape.
  return d.finish(d.op<AndOp>(isPositive, isNegative));
}

/// Sum and Mean: added pairwise with numpy broadcasting.
template <bool mean> LogicalResult convertSum(OnnxNode &node) {
  Decomposition d(node);
  Value result = node.input(0);
  for (size_t i = 1; i < node.numInputs(); ++i)
    result = d.op<AddOp>(result, node.input(i));
  if (mean && node.numInputs() > 1)
    result = d.op<DivOp>(result, d.scalar(node.numInputs()));
  return d.finish(result);
}

} // namespace

ArrayRef<OnnxConverterEntry> mathConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Acos", convertFunction<AcosOp>),
      SINTER_ONNX_OP("Acosh", convertFunction<AcoshOp>),
      SINTER_ONNX_OP("Asin", convertFunction<AsinOp>),
      SINTER_ONNX_OP("Asinh", convertFunction<AsinhOp>),
      SINTER_ONNX_OP("Atan", convertFunction<AtanOp>),
      SINTER_ONNX_OP("Atanh", convertFunction<AtanhOp>),
      SINTER_ONNX_OP("BitShift", convertBitShift),
      SINTER_ONNX_OP("Cosh", convertFunction<CoshOp>),
      SINTER_ONNX_OP("IsInf", convertIsInf),
      SINTER_ONNX_OP("IsNaN", convertIsNaN),
      SINTER_ONNX_OP("Mean", convertSum<true>),
      SINTER_ONNX_OP("Mod", convertMod),
      SINTER_ONNX_OP("Sinh", convertFunction<SinhOp>),
      SINTER_ONNX_OP("Sum", convertSum<false>),
      SINTER_ONNX_OP("Tan", convertFunction<TanOp>),
  };
  return entries;
}

} // namespace sinter
