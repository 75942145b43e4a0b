//===- ConvertElementwise.cpp - Elementwise ONNX operators ----------------===//
//
// Elementwise operators: one sinter op each, numpy broadcasting; the integer
// ones (Add, Sub, Mul, Div, Neg, Equal, Where) also evaluate the known sizes
// that exporters compute with them. Tested by
// test/lit/frontend/onnx/elementwise.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

using namespace mlir;

namespace sinter {
namespace {

template <typename OpTy> LogicalResult convertUnary(OnnxNode &node) {
  FailureOr<OpTy> op = node.create<OpTy>(node.input(0));
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// Neg keeps known sizes known (exporters negate axes and counts).
LogicalResult convertNeg(OnnxNode &node) {
  FailureOr<NegOp> op = node.create<NegOp>(node.input(0));
  if (failed(op))
    return failure();
  std::optional<Known> known = node.knownInts(0);
  if (!known || !isa<IntegerType>(getElementTypeOrSelf(op->getType())))
    return finish(node, op->getResult());
  Known negated;
  for (OpFoldResult value : *known) {
    std::optional<int64_t> c = getConstantIntValue(value);
    if (c && *c != std::numeric_limits<int64_t>::min()) {
      negated.push_back(node.builder().getIndexAttr(-*c));
      continue;
    }
    Value zero = arith::ConstantIndexOp::create(node.builder(), node.loc(), 0);
    negated.push_back(arith::SubIOp::create(node.builder(), node.loc(), zero,
                                            node.indexValue(value))
                          .getResult());
  }
  return finish(node, op->getResult(), negated);
}

LogicalResult convertIdentity(OnnxNode &node) {
  return finish(node, node.input(0), node.knownInts(0));
}

LogicalResult convertDropout(OnnxNode &node) {
  if (node.hasInput(2)) {
    std::optional<double> training = node.constantScalar(2);
    if (!training || *training != 0.0)
      return node.error() << "unsupported training_mode: it must be a "
                             "constant false, sinter compiles models for "
                             "inference";
  }
  if (node.outputUsed(1))
    return node.error() << "unsupported output: the mask of Dropout";
  return finish(node, node.input(0));
}

/// Evaluates an integer binary op on known sizes (scalar or 1-D, with the
/// broadcasting of a single element), when both sides are known.
/// Evaluates a binary op on two constants; nullopt where it overflows.
using Evaluator = std::optional<int64_t> (*)(int64_t, int64_t);

std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t r;
  return llvm::AddOverflow(a, b, r) ? std::nullopt : std::optional(r);
}
std::optional<int64_t> checkedSub(int64_t a, int64_t b) {
  int64_t r;
  return llvm::SubOverflow(a, b, r) ? std::nullopt : std::optional(r);
}
std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t r;
  return llvm::MulOverflow(a, b, r) ? std::nullopt : std::optional(r);
}
/// C division (ONNX's for integers); callers exclude a zero divisor.
std::optional<int64_t> checkedDiv(int64_t a, int64_t b) {
  if (a == std::numeric_limits<int64_t>::min() && b == -1)
    return std::nullopt;
  return a / b;
}

template <typename ArithOp>
std::optional<Known> knownBinary(OnnxNode &node, Evaluator evaluate) {
  std::optional<Known> lhs = node.knownInts(0), rhs = node.knownInts(1);
  if (!lhs || !rhs ||
      (lhs->size() != rhs->size() && lhs->size() != 1 && rhs->size() != 1))
    return std::nullopt;
  Known result;
  for (size_t i = 0, e = std::max(lhs->size(), rhs->size()); i < e; ++i) {
    OpFoldResult a = (*lhs)[lhs->size() == 1 ? 0 : i];
    OpFoldResult b = (*rhs)[rhs->size() == 1 ? 0 : i];
    std::optional<int64_t> x = getConstantIntValue(a),
                           y = getConstantIntValue(b);
    if (x && y && evaluate) {
      std::optional<int64_t> value = evaluate(*x, *y);
      if (!value)
        return std::nullopt;
      result.push_back(node.builder().getIndexAttr(*value));
    } else {
      result.push_back(ArithOp::create(node.builder(), node.loc(),
                                       node.indexValue(a), node.indexValue(b))
                           .getResult());
    }
  }
  return result;
}

template <typename OpTy, typename ArithOp = void>
LogicalResult convertBinary(OnnxNode &node) {
  FailureOr<OpTy> op = node.create<OpTy>(node.input(0), node.input(1));
  if (failed(op))
    return failure();
  std::optional<Known> known;
  if constexpr (!std::is_void_v<ArithOp>) {
    if (isa<IntegerType>(getElementTypeOrSelf(op->getType()))) {
      Evaluator evaluate = nullptr;
      if constexpr (std::is_same_v<ArithOp, arith::AddIOp>)
        evaluate = checkedAdd;
      else if constexpr (std::is_same_v<ArithOp, arith::SubIOp>)
        evaluate = checkedSub;
      else if constexpr (std::is_same_v<ArithOp, arith::MulIOp>)
        evaluate = checkedMul;
      known = knownBinary<ArithOp>(node, evaluate);
    }
  }
  return finish(node, op->getResult(), known);
}

LogicalResult convertDiv(OnnxNode &node) {
  FailureOr<DivOp> op = node.create<DivOp>(node.input(0), node.input(1));
  if (failed(op))
    return failure();
  std::optional<Known> known;
  if (isa<IntegerType>(getElementTypeOrSelf(op->getType()))) {
    std::optional<Known> divisor = node.knownInts(1);
    bool safe = divisor && llvm::all_of(*divisor, [](OpFoldResult d) {
                  std::optional<int64_t> c = getConstantIntValue(d);
                  return c && *c != 0;
                });
    if (safe)
      known = knownBinary<arith::DivSIOp>(node, checkedDiv);
  }
  return finish(node, op->getResult(), known);
}

/// Variadic Max and Min: folded pairwise.
template <typename OpTy> LogicalResult convertVariadic(OnnxNode &node) {
  Value result = node.input(0);
  for (size_t i = 1; i < node.numInputs(); ++i) {
    FailureOr<OpTy> op = node.create<OpTy>(result, node.input(i));
    if (failed(op))
      return failure();
    result = op->getResult();
  }
  return finish(node, result);
}

/// Pow: ONNX allows an exponent of another type. A float exponent of an
/// integer base is applied in float and the result cast back (as numpy and
/// the ONNX reference do); an integer exponent of a float base is cast.
LogicalResult convertPow(OnnxNode &node) {
  Value base = node.input(0), exponent = node.input(1);
  Type baseType = getElementTypeOrSelf(base.getType());
  Type exponentType = getElementTypeOrSelf(exponent.getType());
  auto castTo = [&](Value value, Type type) -> FailureOr<Value> {
    auto tensorType = cast<RankedTensorType>(value.getType()).clone(type);
    FailureOr<CastOp> cast = node.createTyped<CastOp>(tensorType, value);
    if (failed(cast))
      return failure();
    return cast->getResult();
  };
  bool floatExponentOfInt =
      isa<IntegerType>(baseType) && isa<FloatType>(exponentType);
  FailureOr<Value> lhs = base, rhs = exponent;
  if (floatExponentOfInt)
    lhs = castTo(base, exponentType);
  else if (exponentType != baseType)
    rhs = castTo(exponent, baseType);
  if (failed(lhs) || failed(rhs))
    return failure();
  FailureOr<PowOp> op = node.create<PowOp>(*lhs, *rhs);
  if (failed(op))
    return failure();
  if (!floatExponentOfInt)
    return finish(node, op->getResult());
  FailureOr<Value> result = castTo(op->getResult(), baseType);
  return failed(result) ? failure() : finish(node, *result);
}

/// Element `i` of a known list that broadcasts (one element, or `i`-th).
OpFoldResult broadcastElement(const Known &list, size_t i) {
  return list[list.size() == 1 ? 0 : i];
}

/// The common length of known lists under broadcasting, or nullopt.
std::optional<size_t> broadcastLength(ArrayRef<const Known *> lists) {
  size_t length = 1;
  for (const Known *list : lists) {
    if (list->size() == 1)
      continue;
    if (length != 1 && list->size() != length)
      return std::nullopt;
    length = list->size();
  }
  return length;
}

/// Equal on known sizes, as exporters use it to find -1 entries of a shape
/// (Where(Equal(shape, -1), ones, shape) before Expand). A dynamic size is
/// never negative, so comparing it with a negative constant is false.
LogicalResult convertEqual(OnnxNode &node) {
  FailureOr<EqualOp> op = node.create<EqualOp>(node.input(0), node.input(1));
  if (failed(op))
    return failure();
  std::optional<Known> lhs = node.knownInts(0), rhs = node.knownInts(1);
  std::optional<size_t> length;
  if (lhs && rhs)
    length = broadcastLength({&*lhs, &*rhs});
  if (!length)
    return finish(node, op->getResult());
  Known result;
  for (size_t i = 0; i < *length; ++i) {
    std::optional<int64_t> a = getConstantIntValue(broadcastElement(*lhs, i)),
                           b = getConstantIntValue(broadcastElement(*rhs, i));
    if (a && b)
      result.push_back(node.builder().getIndexAttr(*a == *b));
    else if ((a && *a < 0) || (b && *b < 0))
      result.push_back(node.builder().getIndexAttr(0));
    else
      return finish(node, op->getResult());
  }
  return finish(node, op->getResult(), result);
}

LogicalResult convertWhere(OnnxNode &node) {
  FailureOr<WhereOp> op =
      node.create<WhereOp>(node.input(0), node.input(1), node.input(2));
  if (failed(op))
    return failure();
  std::optional<Known> cond = node.knownInts(0), x = node.knownInts(1),
                       y = node.knownInts(2);
  std::optional<size_t> length;
  if (cond && x && y && isa<IntegerType>(getElementTypeOrSelf(op->getType())))
    length = broadcastLength({&*cond, &*x, &*y});
  if (!length)
    return finish(node, op->getResult());
  Known result;
  for (size_t i = 0; i < *length; ++i) {
    std::optional<int64_t> c = getConstantIntValue(broadcastElement(*cond, i));
    if (!c)
      return finish(node, op->getResult());
    result.push_back(broadcastElement(*c ? *x : *y, i));
  }
  return finish(node, op->getResult(), result);
}

LogicalResult convertLeakyRelu(OnnxNode &node) {
  FailureOr<LeakyReluOp> op = node.create<LeakyReluOp>(
      node.input(0),
      node.builder().getF32FloatAttr(node.floatAttr("alpha", 0.01f)));
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// Clip with bounds computed at run time: max(x, min), then min(.., max),
/// each bound a 0-D tensor (ONNX allows no other shape).
LogicalResult convertDynamicClip(OnnxNode &node) {
  Value result = node.input(0);
  for (int i = 0; i < 2; ++i) {
    if (!node.hasInput(i + 1))
      continue;
    RankedTensorType boundType = node.inputType(i + 1);
    if (!boundType.hasStaticShape() || boundType.getNumElements() != 1)
      return node.error() << "the " << (i ? "max" : "min")
                          << " of Clip must be a scalar, got "
                          << boundType;
    FailureOr<Value> bounded = failure();
    if (i == 0) {
      if (FailureOr<MaxOp> op = node.create<MaxOp>(result, node.input(1));
          succeeded(op))
        bounded = op->getResult();
    } else if (FailureOr<MinOp> op = node.create<MinOp>(result, node.input(2));
               succeeded(op)) {
      bounded = op->getResult();
    }
    if (failed(bounded))
      return failure();
    result = *bounded;
  }
  return finish(node, result);
}

LogicalResult convertClip(OnnxNode &node) {
  FloatAttr bounds[2];
  for (int i = 0; i < 2; ++i) {
    if (!node.hasInput(i + 1))
      continue;
    std::optional<double> value = node.constantScalar(i + 1);
    if (!value)
      return convertDynamicClip(node);
    bounds[i] = node.builder().getF64FloatAttr(*value);
  }
  FailureOr<ClipOp> op =
      node.create<ClipOp>(node.input(0), bounds[0], bounds[1]);
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// Cast to `elementType` (saturate, opset 19, concerns float8 types only,
/// which sinter refuses).
LogicalResult castTo(OnnxNode &node, Type elementType) {
  Value input = node.input(0);
  auto type = cast<RankedTensorType>(input.getType());
  std::optional<Known> known;
  if (isa<IntegerType>(elementType) && !elementType.isInteger(1) &&
      isa<IntegerType>(type.getElementType()))
    known = node.knownInts(0);
  if (type.getElementType() == elementType)
    return finish(node, input, known);
  FailureOr<CastOp> op =
      node.createTyped<CastOp>(type.clone(elementType), input);
  return failed(op) ? failure() : finish(node, op->getResult(), known);
}

LogicalResult convertCast(OnnxNode &node) {
  int32_t to = node.intAttr("to", 0);
  Type elementType = onnxElementType(node.context(), to);
  if (!elementType)
    return node.error() << "unsupported Cast to " << onnxDataTypeName(to);
  return castTo(node, elementType);
}

LogicalResult convertCastLike(OnnxNode &node) {
  return castTo(node, node.inputType(1).getElementType());
}

} // namespace

ArrayRef<OnnxConverterEntry> elementwiseConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Abs", convertUnary<AbsOp>),
      SINTER_ONNX_OP("Add", (convertBinary<AddOp, arith::AddIOp>)),
      SINTER_ONNX_OP("And", convertBinary<AndOp>),
      SINTER_ONNX_OP("Cast", convertCast),
      SINTER_ONNX_OP_SINCE("CastLike", 15, convertCastLike),
      SINTER_ONNX_OP("Ceil", convertUnary<CeilOp>),
      SINTER_ONNX_OP("Clip", convertClip),
      SINTER_ONNX_OP("Cos", convertUnary<CosOp>),
      SINTER_ONNX_OP("Div", convertDiv),
      SINTER_ONNX_OP("Dropout", convertDropout),
      SINTER_ONNX_OP("Equal", convertEqual),
      SINTER_ONNX_OP("Erf", convertUnary<ErfOp>),
      SINTER_ONNX_OP("Exp", convertUnary<ExpOp>),
      SINTER_ONNX_OP("Floor", convertUnary<FloorOp>),
      SINTER_ONNX_OP("Greater", convertBinary<GreaterOp>),
      SINTER_ONNX_OP("GreaterOrEqual", convertBinary<GreaterEqualOp>),
      SINTER_ONNX_OP("Identity", convertIdentity),
      SINTER_ONNX_OP("LeakyRelu", convertLeakyRelu),
      SINTER_ONNX_OP("Less", convertBinary<LessOp>),
      SINTER_ONNX_OP("LessOrEqual", convertBinary<LessEqualOp>),
      SINTER_ONNX_OP("Log", convertUnary<LogOp>),
      SINTER_ONNX_OP("Max", convertVariadic<MaxOp>),
      SINTER_ONNX_OP("Min", convertVariadic<MinOp>),
      SINTER_ONNX_OP("Mul", (convertBinary<MulOp, arith::MulIOp>)),
      SINTER_ONNX_OP("Neg", convertNeg),
      SINTER_ONNX_OP("Not", convertUnary<NotOp>),
      SINTER_ONNX_OP("Or", convertBinary<OrOp>),
      SINTER_ONNX_OP("Pow", convertPow),
      SINTER_ONNX_OP("Reciprocal", convertUnary<ReciprocalOp>),
      SINTER_ONNX_OP("Relu", convertUnary<ReluOp>),
      SINTER_ONNX_OP("Round", convertUnary<RoundOp>),
      SINTER_ONNX_OP("Sigmoid", convertUnary<SigmoidOp>),
      SINTER_ONNX_OP("Sin", convertUnary<SinOp>),
      SINTER_ONNX_OP("Sqrt", convertUnary<SqrtOp>),
      SINTER_ONNX_OP("Sub", (convertBinary<SubOp, arith::SubIOp>)),
      SINTER_ONNX_OP("Tanh", convertUnary<TanhOp>),
      SINTER_ONNX_OP("Where", convertWhere),
      SINTER_ONNX_OP("Xor", convertBinary<XorOp>),
  };
  return entries;
}

} // namespace sinter
