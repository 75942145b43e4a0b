//===- OnnxConverters.cpp - One converter per ONNX operator ---------------===//
//
// Each converter turns one ONNX node into sinter ops (and the upstream arith
// and tensor ops that dynamic sizes need). Converters validate attributes
// and report what they cannot express at the node; shape errors come from
// the ops' own inference through OnnxNode::create.
//
// Shape computations that exporters leave in graphs (Shape, Gather, Concat,
// Unsqueeze, arithmetic on sizes) are tracked as "known integers" so that
// Reshape, Expand and friends get static sizes where they are static and
// index values where a symbolic dimension is involved.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImporterImpl.h"
#include "ir/ShapeInference.h"
#include "ir/SinterOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace sinter {
namespace {

using Known = SmallVector<OpFoldResult>;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Sets output 0 to `value`. When `known` is set and fully constant, the
/// value is replaced by a constant of the same type, so that shape
/// computations evaluated at import time leave no ops behind.
LogicalResult finish(OnnxNode &node, Value value,
                     std::optional<Known> known = std::nullopt) {
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

/// a * b on sizes, folded when both are constant.
OpFoldResult multiply(OnnxNode &node, OpFoldResult a, OpFoldResult b) {
  std::optional<int64_t> x = getConstantIntValue(a), y = getConstantIntValue(b);
  int64_t product;
  if (x && y && !llvm::MulOverflow(*x, *y, product))
    return node.builder().getIndexAttr(product);
  if (x == 1)
    return b;
  if (y == 1)
    return a;
  return arith::MulIOp::create(node.builder(), node.loc(), node.indexValue(a),
                               node.indexValue(b))
      .getResult();
}

/// The sizes of `value` as known integers.
Known shapeOf(OnnxNode &node, Value value) {
  Known dims;
  for (int64_t d = 0; d < cast<RankedTensorType>(value.getType()).getRank();
       ++d)
    dims.push_back(node.dimSize(value, d));
  return dims;
}

/// Splits sizes into the static shape attribute and the dynamic operands of
/// sinter.reshape / sinter.expand.
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

/// Reshapes `value` to `sizes`; known integers pass through unchanged when
/// the result is still a 0-D or 1-D integer tensor.
FailureOr<Value> reshapeTo(OnnxNode &node, Value value,
                           ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, sizes, staticSizes, dynamicSizes);
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == ArrayRef<int64_t>(staticSizes) &&
      dynamicSizes.empty())
    return value;
  FailureOr<ReshapeOp> op =
      node.create<ReshapeOp>(value, dynamicSizes, staticSizes);
  if (failed(op))
    return failure();
  return op->getResult();
}

/// Output 0 := reshape(input 0, sizes), forwarding known integers.
LogicalResult finishReshape(OnnxNode &node, ArrayRef<OpFoldResult> sizes) {
  FailureOr<Value> result = reshapeTo(node, node.input(0), sizes);
  if (failed(result))
    return failure();
  std::optional<Known> known = node.knownInts(0);
  if (sizes.size() > 1)
    known.reset();
  return finish(node, *result, known);
}

/// Normalizes a list of axes for `rank` (ONNX allows negative axes).
FailureOr<SmallVector<int64_t>> normalizeAxes(OnnxNode &node,
                                              ArrayRef<int64_t> axes,
                                              int64_t rank) {
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
  return node.constant(DenseElementsAttr::get(
      type, APInt(elementType.getIntOrFloatBitWidth(),
                  static_cast<int64_t>(value), /*isSigned=*/true)));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpTy>
LogicalResult convertUnary(OnnxNode &node) {
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
  if (!lhs || !rhs || (lhs->size() != rhs->size() && lhs->size() != 1 &&
                       rhs->size() != 1))
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
template <typename OpTy>
LogicalResult convertVariadic(OnnxNode &node) {
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
      node.input(0), node.builder().getF32FloatAttr(node.floatAttr("alpha",
                                                                   0.01f)));
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertClip(OnnxNode &node) {
  FloatAttr bounds[2];
  for (int i = 0; i < 2; ++i) {
    if (!node.hasInput(i + 1))
      continue;
    std::optional<double> value = node.constantScalar(i + 1);
    if (!value)
      return node.error() << "unsupported dynamic value: the "
                          << (i ? "max" : "min")
                          << " of Clip must be a constant scalar";
    bounds[i] = node.builder().getF64FloatAttr(*value);
  }
  FailureOr<ClipOp> op = node.create<ClipOp>(node.input(0), bounds[0],
                                             bounds[1]);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertCast(OnnxNode &node) {
  int32_t to = node.intAttr("to", 0);
  Type elementType = onnxElementType(node.context(), to);
  if (!elementType)
    return node.error() << "unsupported Cast to " << onnxDataTypeName(to);
  Value input = node.input(0);
  auto type = cast<RankedTensorType>(input.getType());
  std::optional<Known> known;
  if (isa<IntegerType>(elementType) && !elementType.isInteger(1) &&
      isa<IntegerType>(type.getElementType()))
    known = node.knownInts(0);
  if (type.getElementType() == elementType)
    return finish(node, input, known);
  FailureOr<CastOp> op = node.createTyped<CastOp>(type.clone(elementType), input);
  return failed(op) ? failure() : finish(node, op->getResult(), known);
}

template <typename OpTy>
LogicalResult convertSoftmax(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  FailureOr<OpTy> op = node.create<OpTy>(node.input(0), *axis);
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

LogicalResult convertMatMul(OnnxNode &node) {
  FailureOr<MatmulOp> op = node.create<MatmulOp>(node.input(0), node.input(1));
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertGemm(OnnxNode &node) {
  Value a = node.input(0), b = node.input(1);
  if (node.inputType(0).getRank() != 2 || node.inputType(1).getRank() != 2)
    return node.error() << "Gemm expects 2-D A and B, got "
                        << a.getType() << " and " << b.getType();
  if (node.intAttr("transA", 0)) {
    FailureOr<TransposeOp> t =
        node.create<TransposeOp>(a, ArrayRef<int64_t>{1, 0});
    if (failed(t))
      return failure();
    a = t->getResult();
  }
  bool transB = node.intAttr("transB", 0) != 0;
  float alpha = node.floatAttr("alpha", 1.0f), beta = node.floatAttr("beta", 1.0f);
  Value c = node.input(2);
  Type elementType = getElementTypeOrSelf(a.getType());
  // The common case, y = x W^T + b, is one sinter.linear.
  int64_t n = cast<RankedTensorType>(b.getType()).getDimSize(transB ? 0 : 1);
  auto cType = c ? cast<RankedTensorType>(c.getType()) : nullptr;
  bool biasFits = c && beta == 1.0f && alpha == 1.0f &&
                  cType.getRank() == 1 && cType.getDimSize(0) == n &&
                  !ShapedType::isDynamic(n);
  FailureOr<LinearOp> linear = node.create<LinearOp>(
      a, b, biasFits ? c : Value(), transB);
  if (failed(linear))
    return failure();
  Value result = linear->getResult();
  if (alpha != 1.0f) {
    FailureOr<MulOp> scaled = node.create<MulOp>(
        result, scalarConstant(node, elementType, alpha));
    if (failed(scaled))
      return failure();
    result = scaled->getResult();
  }
  if (c && !biasFits && beta != 0.0f) {
    if (beta != 1.0f) {
      FailureOr<MulOp> scaled =
          node.create<MulOp>(c, scalarConstant(node, elementType, beta));
      if (failed(scaled))
        return failure();
      c = scaled->getResult();
    }
    FailureOr<AddOp> sum = node.create<AddOp>(result, c);
    if (failed(sum))
      return failure();
    result = sum->getResult();
  }
  return finish(node, result);
}

/// Einsum in the forms that are one (batched) matrix product: every letter
/// is a batch letter (both inputs and the output), or appears in one input
/// and the output (at most one such letter per input), or is contracted
/// (both inputs, not the output; exactly one).
LogicalResult convertEinsum(OnnxNode &node) {
  std::string equation = node.stringAttr("equation", "");
  equation.erase(llvm::remove_if(equation, ::isspace), equation.end());
  auto unsupported = [&]() {
    return node.error() << "unsupported Einsum equation '" << equation
                        << "': sinter supports the matrix-product forms like "
                           "'bij,bjk->bik' and 'bhqd,bhkd->bhqk'";
  };
  size_t arrow = equation.find("->"), comma = equation.find(',');
  if (node.numInputs() != 2 || arrow == std::string::npos ||
      comma == std::string::npos || comma > arrow ||
      equation.find("...") != std::string::npos)
    return unsupported();
  std::string lhs = equation.substr(0, comma),
              rhs = equation.substr(comma + 1, arrow - comma - 1),
              out = equation.substr(arrow + 2);
  Value a = node.input(0), b = node.input(1);
  if (lhs.size() != static_cast<size_t>(node.inputType(0).getRank()) ||
      rhs.size() != static_cast<size_t>(node.inputType(1).getRank()))
    return node.error() << "Einsum equation '" << equation
                        << "' does not match the input ranks";
  std::string batch, m, n, k;
  for (char c : lhs) {
    bool inRhs = rhs.find(c) != std::string::npos,
         inOut = out.find(c) != std::string::npos;
    if (inRhs && inOut)
      batch += c;
    else if (inRhs)
      k += c;
    else if (inOut)
      m += c;
    else
      return unsupported();
  }
  for (char c : rhs)
    if (lhs.find(c) == std::string::npos) {
      if (out.find(c) == std::string::npos)
        return unsupported();
      n += c;
    }
  if (k.size() != 1 || m.size() != 1 || n.size() != 1 ||
      out.size() != batch.size() + 2)
    return unsupported();
  // Transpose each input to [batch..., m, k] and [batch..., k, n].
  auto permuted = [&](Value value, const std::string &have,
                      const std::string &want) -> FailureOr<Value> {
    SmallVector<int64_t> perm;
    for (char c : want)
      perm.push_back(have.find(c));
    if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      return value;
    FailureOr<TransposeOp> t = node.create<TransposeOp>(value, perm);
    if (failed(t))
      return failure();
    return t->getResult();
  };
  FailureOr<Value> lhsValue = permuted(a, lhs, batch + m + k);
  FailureOr<Value> rhsValue = permuted(b, rhs, batch + k + n);
  if (failed(lhsValue) || failed(rhsValue))
    return failure();
  FailureOr<MatmulOp> product = node.create<MatmulOp>(*lhsValue, *rhsValue);
  if (failed(product))
    return failure();
  FailureOr<Value> result = permuted(product->getResult(), batch + m + n, out);
  return failed(result) ? failure() : finish(node, *result);
}

LogicalResult convertConv(OnnxNode &node) {
  RankedTensorType inputType = node.inputType(0), weightType = node.inputType(1);
  int64_t spatial = inputType.getRank() - 2;
  if (spatial < 1 || weightType.getRank() != inputType.getRank())
    return node.error() << "Conv expects N x C x spatial inputs and a weight "
                           "of the same rank, got "
                        << inputType << " and " << weightType;
  auto orOnes = [&](StringRef name, int64_t count) {
    return node.intsAttr(name).value_or(SmallVector<int64_t>(count, 1));
  };
  SmallVector<int64_t> strides = orOnes("strides", spatial);
  SmallVector<int64_t> dilations = orOnes("dilations", spatial);
  SmallVector<int64_t> pads =
      node.intsAttr("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  if (std::optional<SmallVector<int64_t>> kernel = node.intsAttr("kernel_shape"))
    if (ArrayRef<int64_t>(*kernel) != weightType.getShape().drop_front(2))
      return node.error() << "kernel_shape does not match the weight's "
                             "spatial sizes";
  if (llvm::any_of(strides, [](int64_t v) { return v < 1; }) ||
      llvm::any_of(dilations, [](int64_t v) { return v < 1; }))
    return node.error() << "strides and dilations of Conv must be >= 1";
  std::string autoPad = node.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    pads.assign(2 * spatial, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    if (strides.size() != static_cast<size_t>(spatial) ||
        dilations.size() != static_cast<size_t>(spatial))
      return node.error() << "strides and dilations need one entry per "
                             "spatial dimension";
    pads.assign(2 * spatial, 0);
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t size = inputType.getDimSize(2 + i),
              kernel = weightType.getDimSize(2 + i);
      if (ShapedType::isDynamic(size) || ShapedType::isDynamic(kernel))
        return node.error() << "auto_pad " << autoPad
                            << " needs static spatial sizes";
      int64_t out = (size + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * strides[i] + dilations[i] * (kernel - 1) + 1 - size);
      int64_t small = total / 2, large = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : large;
      pads[spatial + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return node.error() << "invalid auto_pad '" << autoPad << "'";
  }
  FailureOr<ConvOp> op = node.create<ConvOp>(
      node.input(0), node.input(1), node.input(2), strides, pads, dilations,
      node.intAttr("group", 1));
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// Reductions and normalization
//===----------------------------------------------------------------------===//

template <typename OpTy>
LogicalResult convertReduce(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  // ReduceSum reads its axes from input 1 from opset 13 on; the others from
  // the attribute until opset 18.
  SmallVector<int64_t> axes;
  bool axesFromInput = std::is_same_v<OpTy, ReduceSumOp>;
  if (axesFromInput && node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> constant =
        node.constantInts(1, "the axes of " + node.proto().op_type());
    if (failed(constant))
      return failure();
    axes = *constant;
  } else if (!axesFromInput) {
    axes = node.intsAttr("axes").value_or(SmallVector<int64_t>());
  }
  if (axes.empty()) {
    if (node.intAttr("noop_with_empty_axes", 0))
      return finish(node, node.input(0));
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, axes, rank);
  if (failed(normalized))
    return failure();
  llvm::sort(*normalized);
  FailureOr<OpTy> op = node.create<OpTy>(node.input(0), *normalized,
                                         node.intAttr("keepdims", 1) != 0);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertLayerNorm(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  float epsilon = node.floatAttr("epsilon", 1e-5f);
  Value x = node.input(0);
  FailureOr<LayerNormOp> op = node.create<LayerNormOp>(
      x, node.input(1), node.input(2), *axis, llvm::APFloat(epsilon));
  if (failed(op))
    return failure();
  node.setOutput(0, op->getResult());
  if (!node.outputUsed(1) && !node.outputUsed(2))
    return success();
  if (node.intAttr("stash_type", 1) != 1 ||
      !getElementTypeOrSelf(x.getType()).isF32())
    return node.error() << "unsupported Mean/InvStdDev outputs of "
                           "LayerNormalization for other than float32";
  // The statistics the training graph reads: mean and 1/sqrt(var + eps)
  // over the normalized dimensions, kept as size-1 dimensions.
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(*axis, rank));
  FailureOr<ReduceMeanOp> mean = node.create<ReduceMeanOp>(x, axes, true);
  if (failed(mean))
    return failure();
  FailureOr<SubOp> centered = node.create<SubOp>(x, mean->getResult());
  if (failed(centered))
    return failure();
  FailureOr<MulOp> squared =
      node.create<MulOp>(centered->getResult(), centered->getResult());
  if (failed(squared))
    return failure();
  FailureOr<ReduceMeanOp> variance =
      node.create<ReduceMeanOp>(squared->getResult(), axes, true);
  if (failed(variance))
    return failure();
  FailureOr<AddOp> shifted = node.create<AddOp>(
      variance->getResult(),
      scalarConstant(node, node.builder().getF32Type(), epsilon));
  if (failed(shifted))
    return failure();
  FailureOr<RsqrtOp> inverse = node.create<RsqrtOp>(shifted->getResult());
  if (failed(inverse))
    return failure();
  node.setOutput(1, mean->getResult());
  node.setOutput(2, inverse->getResult());
  return success();
}

LogicalResult convertTopK(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> k = node.constantInts(1, "K of TopK");
  if (failed(k))
    return failure();
  if (k->size() != 1)
    return node.error() << "K of TopK must hold one value";
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1),
                                               node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  OpBuilder &b = node.builder();
  FailureOr<TopKOp> op = node.createWithResults<TopKOp>(
      2, node.input(0), b.getI64IntegerAttr((*k)[0]),
      b.getI64IntegerAttr(*axis),
      node.intAttr("largest", 1) ? UnitAttr() : b.getUnitAttr(),
      node.intAttr("sorted", 1) ? UnitAttr() : b.getUnitAttr());
  if (failed(op))
    return failure();
  node.setOutput(0, op->getValues());
  node.setOutput(1, op->getIndices());
  return success();
}

LogicalResult convertCumSum(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> axis = node.constantInts(1, "the axis of CumSum");
  if (failed(axis))
    return failure();
  if (axis->size() != 1)
    return node.error() << "the axis of CumSum must be a scalar";
  FailureOr<int64_t> normalized =
      node.normalizeAxis((*axis)[0], node.inputType(0).getRank());
  if (failed(normalized))
    return failure();
  OpBuilder &b = node.builder();
  FailureOr<CumSumOp> op = node.create<CumSumOp>(
      node.input(0), b.getI64IntegerAttr(*normalized),
      node.intAttr("exclusive", 0) ? b.getUnitAttr() : UnitAttr(),
      node.intAttr("reverse", 0) ? b.getUnitAttr() : UnitAttr());
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

LogicalResult convertShape(OnnxNode &node) {
  Known dims = shapeOf(node, node.input(0));
  int64_t rank = dims.size();
  auto clampIndex = [&](int64_t index) {
    if (index < 0)
      index += rank;
    return std::clamp<int64_t>(index, 0, rank);
  };
  int64_t start = clampIndex(node.intAttr("start", 0));
  int64_t end = clampIndex(node.intAttr("end", rank));
  Known slice(dims.begin() + start, dims.begin() + std::max(start, end));
  return finish(node, node.materializeInts(slice, /*scalar=*/false), slice);
}

LogicalResult convertSize(OnnxNode &node) {
  OpFoldResult size = node.builder().getIndexAttr(1);
  for (OpFoldResult dim : shapeOf(node, node.input(0)))
    size = multiply(node, size, dim);
  Known known = {size};
  return finish(node, node.materializeInts(known, /*scalar=*/true), known);
}

/// Target sizes of Reshape: 0 copies the input's size (unless allowzero),
/// -1 is inferred from the element count.
LogicalResult convertReshape(OnnxNode &node) {
  std::optional<Known> shape = node.knownInts(1);
  if (!shape)
    return node.error() << "unsupported dynamic value: the target shape of "
                           "Reshape ('"
                        << node.proto().input(1)
                        << "') is not known when the model is imported";
  Value input = node.input(0);
  Known dims = shapeOf(node, input);
  bool allowZero = node.intAttr("allowzero", 0) != 0;
  Known sizes;
  std::optional<size_t> inferred;
  for (auto [i, size] : llvm::enumerate(*shape)) {
    std::optional<int64_t> c = getConstantIntValue(size);
    if (c == 0 && !allowZero) {
      if (i >= dims.size())
        return node.error() << "target size 0 at position " << i
                            << " copies a dimension the input (rank "
                            << dims.size() << ") does not have";
      sizes.push_back(dims[i]);
    } else if (c == -1) {
      if (inferred)
        return node.error() << "the target shape has more than one -1";
      inferred = i;
      sizes.push_back(OpFoldResult());
    } else if (c && *c < -1) {
      return node.error() << "target size " << *c << " is invalid";
    } else {
      sizes.push_back(size);
    }
  }
  if (inferred) {
    // total / others, cancelling the dynamic sizes both contain: the
    // common {0, 0, heads, -1} of attention reshapes stays static.
    int64_t totalStatic = 1, otherStatic = 1;
    SmallVector<Value> totalDynamic, otherDynamic;
    bool overflow = false;
    auto collect = [&](OpFoldResult size, int64_t &product,
                       SmallVectorImpl<Value> &dynamic) {
      if (std::optional<int64_t> c = getConstantIntValue(size))
        overflow |= llvm::MulOverflow(product, *c, product);
      else
        dynamic.push_back(cast<Value>(size));
    };
    for (OpFoldResult dim : dims)
      collect(dim, totalStatic, totalDynamic);
    for (auto [i, size] : llvm::enumerate(sizes))
      if (i != *inferred)
        collect(size, otherStatic, otherDynamic);
    if (overflow)
      return node.error() << "the sizes of Reshape overflow 64 bits";
    for (auto it = otherDynamic.begin(); it != otherDynamic.end();) {
      auto match = llvm::find(totalDynamic, *it);
      if (match == totalDynamic.end()) {
        ++it;
        continue;
      }
      totalDynamic.erase(match);
      it = otherDynamic.erase(it);
    }
    if (totalDynamic.empty() && otherDynamic.empty()) {
      if (otherStatic == 0 || totalStatic % otherStatic != 0)
        return node.error() << "cannot reshape " << totalStatic
                            << " elements: the other sizes multiply to "
                            << otherStatic;
      sizes[*inferred] = node.builder().getIndexAttr(totalStatic / otherStatic);
    } else if (otherDynamic.empty() && otherStatic != 0 &&
               totalStatic % otherStatic == 0) {
      // Only the input has dynamic sizes: no division is needed.
      OpFoldResult size =
          node.builder().getIndexAttr(totalStatic / otherStatic);
      for (Value dynamic : totalDynamic)
        size = multiply(node, size, dynamic);
      sizes[*inferred] = size;
    } else {
      OpFoldResult total = node.builder().getIndexAttr(totalStatic),
                   others = node.builder().getIndexAttr(otherStatic);
      for (Value size : totalDynamic)
        total = multiply(node, total, size);
      for (Value size : otherDynamic)
        others = multiply(node, others, size);
      sizes[*inferred] = arith::DivUIOp::create(node.builder(), node.loc(),
                                                node.indexValue(total),
                                                node.indexValue(others))
                             .getResult();
    }
  }
  return finishReshape(node, sizes);
}

LogicalResult convertFlatten(OnnxNode &node) {
  Known dims = shapeOf(node, node.input(0));
  int64_t rank = dims.size(), axis = node.intAttr("axis", 1);
  if (axis < -rank || axis > rank)
    return node.error() << "axis " << axis << " is out of range for rank "
                        << rank;
  if (axis < 0)
    axis += rank;
  OpFoldResult outer = node.builder().getIndexAttr(1), inner = outer;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) = multiply(node, i < axis ? outer : inner,
                                          dims[i]);
  return finishReshape(node, {outer, inner});
}

LogicalResult convertUnsqueeze(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> axes =
      node.constantInts(1, "the axes of Unsqueeze");
  if (failed(axes))
    return failure();
  Known dims = shapeOf(node, node.input(0));
  int64_t rank = dims.size() + axes->size();
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, *axes, rank);
  if (failed(normalized))
    return failure();
  Known sizes;
  auto next = dims.begin();
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(llvm::is_contained(*normalized, i)
                        ? OpFoldResult(node.builder().getIndexAttr(1))
                        : *next++);
  return finishReshape(node, sizes);
}

LogicalResult convertSqueeze(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  SmallVector<int64_t> axes;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> constant =
        node.constantInts(1, "the axes of Squeeze");
    if (failed(constant))
      return failure();
    FailureOr<SmallVector<int64_t>> normalized =
        normalizeAxes(node, *constant, type.getRank());
    if (failed(normalized))
      return failure();
    axes = *normalized;
  } else {
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (type.isDynamicDim(i))
        return node.error() << "unsupported Squeeze without axes on " << type
                            << ": whether dimension " << i
                            << " is 1 is not known when importing";
      if (type.getDimSize(i) == 1)
        axes.push_back(i);
    }
  }
  Known sizes;
  for (auto [i, dim] : llvm::enumerate(shapeOf(node, node.input(0)))) {
    if (!llvm::is_contained(axes, static_cast<int64_t>(i))) {
      sizes.push_back(dim);
      continue;
    }
    if (getConstantIntValue(dim).value_or(1) != 1)
      return node.error() << "cannot squeeze dimension " << i << " of "
                          << type << ": its size is not 1";
  }
  return finishReshape(node, sizes);
}

LogicalResult convertTranspose(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  SmallVector<int64_t> perm = node.intsAttr("perm").value_or(
      llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
  FailureOr<TransposeOp> op = node.create<TransposeOp>(node.input(0), perm);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertExpand(OnnxNode &node) {
  std::optional<Known> shape = node.knownInts(1);
  if (!shape)
    return node.error() << "unsupported dynamic value: the target shape of "
                           "Expand ('"
                        << node.proto().input(1)
                        << "') is not known when the model is imported";
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, *shape, staticSizes, dynamicSizes);
  FailureOr<ExpandOp> op =
      node.create<ExpandOp>(node.input(0), dynamicSizes, staticSizes);
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// Tile as reshape + expand + reshape: [d0, d1] tiled [r0, r1] is
/// [1, d0, 1, d1] expanded to [r0, d0, r1, d1] and merged.
LogicalResult convertTile(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> repeats =
      node.constantInts(1, "the repeats of Tile");
  if (failed(repeats))
    return failure();
  Value input = node.input(0);
  Known dims = shapeOf(node, input);
  if (repeats->size() != dims.size())
    return node.error() << "Tile has " << repeats->size()
                        << " repeats for rank " << dims.size();
  if (llvm::all_of(*repeats, [](int64_t r) { return r == 1; }))
    return finish(node, input);
  OpBuilder &b = node.builder();
  Known spread, expanded, merged;
  for (auto [dim, repeat] : llvm::zip_equal(dims, *repeats)) {
    if (repeat < 0)
      return node.error() << "Tile repeats must be >= 0";
    spread.append({b.getIndexAttr(1), dim});
    expanded.append({b.getIndexAttr(repeat), dim});
    merged.push_back(multiply(node, b.getIndexAttr(repeat), dim));
  }
  FailureOr<Value> reshaped = reshapeTo(node, input, spread);
  if (failed(reshaped))
    return failure();
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, expanded, staticSizes, dynamicSizes);
  FailureOr<ExpandOp> expand =
      node.create<ExpandOp>(*reshaped, dynamicSizes, staticSizes);
  if (failed(expand))
    return failure();
  FailureOr<Value> result = reshapeTo(node, expand->getResult(), merged);
  return failed(result) ? failure() : finish(node, *result);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult convertSlice(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> starts =
      node.constantInts(1, "the starts of Slice");
  FailureOr<SmallVector<int64_t>> ends = node.constantInts(2, "the ends of Slice");
  if (failed(starts) || failed(ends))
    return failure();
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(0, starts->size()));
  SmallVector<int64_t> steps(starts->size(), 1);
  if (node.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> given =
        node.constantInts(3, "the axes of Slice");
    if (failed(given))
      return failure();
    axes = *given;
  }
  if (node.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> given =
        node.constantInts(4, "the steps of Slice");
    if (failed(given))
      return failure();
    steps = *given;
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return node.error() << "starts, ends, axes and steps of Slice differ in "
                           "length";
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, axes, rank);
  if (failed(normalized))
    return failure();
  SmallVector<int64_t> allStarts(rank, 0), allEnds(rank, kInt64Max),
      allSteps(rank, 1);
  for (auto [i, axis] : llvm::enumerate(*normalized)) {
    if (steps[i] == 0)
      return node.error() << "the step of axis " << axes[i] << " is 0";
    allStarts[axis] = (*starts)[i];
    allEnds[axis] = (*ends)[i];
    allSteps[axis] = steps[i];
  }
  FailureOr<SliceOp> op =
      node.create<SliceOp>(node.input(0), allStarts, allEnds, allSteps);
  if (failed(op))
    return failure();
  // Slices of known 1-D sizes (shape[2:], shape[-1:]) stay known.
  std::optional<Known> known = node.knownInts(0);
  if (known && rank == 1 && !known->empty()) {
    int64_t size = known->size(), step = allSteps[0];
    int64_t count = slicedDimSize(size, allStarts[0], allEnds[0], step);
    int64_t start = allStarts[0] < 0 ? allStarts[0] + size : allStarts[0];
    start = step > 0 ? std::clamp<int64_t>(start, 0, size)
                     : std::clamp<int64_t>(start, 0, size - 1);
    Known sliced;
    for (int64_t i = 0; i < count; ++i)
      sliced.push_back((*known)[start + i * step]);
    return finish(node, op->getResult(), sliced);
  }
  return finish(node, op->getResult());
}

LogicalResult convertConcat(OnnxNode &node) {
  SmallVector<Value> inputs;
  std::optional<Known> known = Known();
  for (size_t i = 0; i < node.numInputs(); ++i) {
    if (!node.hasInput(i))
      continue;
    inputs.push_back(node.input(i));
    std::optional<Known> part = node.knownInts(i);
    if (known && part)
      known->append(*part);
    else
      known.reset();
  }
  if (inputs.empty())
    return node.error() << "Concat has no inputs";
  int64_t rank = cast<RankedTensorType>(inputs[0].getType()).getRank();
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", 0), rank);
  if (failed(axis))
    return failure();
  FailureOr<ConcatOp> op = node.create<ConcatOp>(inputs, *axis);
  if (failed(op))
    return failure();
  return finish(node, op->getResult(), rank == 1 ? known : std::nullopt);
}

LogicalResult convertSplit(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> sizes;
  int64_t parts = node.numOutputs();
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> given =
        node.constantInts(1, "the split sizes");
    if (failed(given))
      return failure();
    sizes = *given;
    if (static_cast<int64_t>(sizes.size()) != parts)
      return node.error() << sizes.size() << " split sizes for " << parts
                          << " outputs";
  } else {
    int64_t size = type.getDimSize(*axis);
    if (ShapedType::isDynamic(size))
      return node.error() << "unsupported Split into equal parts of the "
                             "dynamic dimension "
                          << *axis;
    if (size % parts != 0)
      return node.error() << "dimension " << *axis << " of size " << size
                          << " does not split into " << parts
                          << " equal parts";
    sizes.assign(parts, size / parts);
  }
  OpBuilder &b = node.builder();
  FailureOr<SplitOp> op = node.createWithResults<SplitOp>(
      parts, node.input(0), b.getI64IntegerAttr(*axis),
      b.getDenseI64ArrayAttr(sizes));
  if (failed(op))
    return failure();
  for (auto [i, result] : llvm::enumerate(op->getResults()))
    node.setOutput(i, result);
  return success();
}

LogicalResult convertGather(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  FailureOr<GatherOp> op =
      node.create<GatherOp>(node.input(0), node.input(1), *axis);
  if (failed(op))
    return failure();
  // Picking sizes out of a known shape: shape[i] or shape[[i, j]].
  std::optional<Known> data = node.knownInts(0);
  std::optional<Known> indices = node.knownInts(1);
  if (data && indices && type.getRank() == 1) {
    Known picked;
    for (OpFoldResult index : *indices) {
      std::optional<int64_t> i = getConstantIntValue(index);
      int64_t size = data->size();
      if (!i || *i < -size || *i >= size)
        return finish(node, op->getResult());
      picked.push_back((*data)[*i < 0 ? *i + size : *i]);
    }
    return finish(node, op->getResult(), picked);
  }
  return finish(node, op->getResult());
}

LogicalResult convertGatherElements(OnnxNode &node) {
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", 0),
                                               node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  FailureOr<GatherElementsOp> op =
      node.create<GatherElementsOp>(node.input(0), node.input(1), *axis);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertScatterElements(OnnxNode &node) {
  std::string reduction = node.stringAttr("reduction", "none");
  if (reduction != "none")
    return node.error() << "unsupported reduction '" << reduction
                        << "' of ScatterElements";
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", 0),
                                               node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  FailureOr<ScatterElementsOp> op = node.create<ScatterElementsOp>(
      node.input(0), node.input(1), node.input(2), *axis);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertTrilu(OnnxNode &node) {
  int64_t k = 0;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> given = node.constantInts(1, "k of Trilu");
    if (failed(given))
      return failure();
    if (given->size() != 1)
      return node.error() << "k of Trilu must be a scalar";
    k = (*given)[0];
  }
  OpBuilder &b = node.builder();
  FailureOr<TriluOp> op = node.create<TriluOp>(
      node.input(0), b.getI64IntegerAttr(k),
      node.intAttr("upper", 1) ? b.getUnitAttr() : UnitAttr());
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

LogicalResult convertConstant(OnnxNode &node) {
  OpBuilder &b = node.builder();
  const onnx::AttributeProto *attr = node.proto().attribute_size() == 1
                                         ? &node.proto().attribute(0)
                                         : nullptr;
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
    return node.constant(
        DenseElementsAttr::get(RankedTensorType::get(shape, type),
                               ArrayRef(values)));
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
  DenseElementsAttr fill = DenseElementsAttr::get(
      RankedTensorType::get({}, b.getF32Type()), 0.0f);
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
    if (!std::isfinite(count) || count > static_cast<double>(kMaxTensorElements))
      return node.error() << "Range would produce " << count << " elements";
    int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
    auto resultType = RankedTensorType::get({n}, elementType);
    if (isa<FloatType>(elementType)) {
      SmallVector<APFloat> values;
      for (int64_t i = 0; i < n; ++i)
        values.push_back(FloatAttr::get(elementType, *start + i * *delta)
                             .getValue());
      return finish(node, node.constant(DenseElementsAttr::get(resultType,
                                                               values)));
    }
    SmallVector<APInt> values;
    Known known;
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = static_cast<int64_t>(*start) + i * static_cast<int64_t>(*delta);
      values.push_back(APInt(elementType.getIntOrFloatBitWidth(), v,
                             /*isSigned=*/true, /*implicitTrunc=*/true));
      known.push_back(node.builder().getIndexAttr(v));
    }
    return finish(node, node.constant(DenseElementsAttr::get(resultType,
                                                             values)),
                  known);
  }
  FailureOr<RangeOp> op = node.createTyped<RangeOp>(
      RankedTensorType::get({ShapedType::kDynamic}, elementType),
      node.input(0), node.input(1), node.input(2));
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// The axis of a DequantizeLinear/QuantizeLinear with a 1-D scale of more
/// than one element (per axis), normalized; 0 otherwise (per tensor).
FailureOr<int64_t> quantizationAxis(OnnxNode &node, int64_t rank) {
  RankedTensorType scale = node.inputType(1);
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
  // The zero point's type is the result's; uint8 without one.
  Type resultElement = node.hasInput(2)
                           ? node.inputType(2).getElementType()
                           : Type(IntegerType::get(node.context(), 8,
                                                   IntegerType::Unsigned));
  FailureOr<QuantizeOp> op = node.createTyped<QuantizeOp>(
      input.clone(resultElement), node.input(0), node.input(1), node.input(2),
      *axis, int64_t(0));
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// The bytes of a constant input (uint8 tensors of MatMulNBits).
std::optional<std::vector<uint8_t>> constantBytes(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  auto type = cast<RankedTensorType>(constant.getType());
  Attribute attr = constant.getValue();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    const AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    return std::vector<uint8_t>(data.begin(), data.end());
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<uint8_t> bytes;
  for (const APInt &v : dense.getValues<APInt>())
    bytes.push_back(uint8_t(v.getZExtValue()));
  if (int64_t(bytes.size()) != type.getNumElements())
    return std::nullopt;
  return bytes;
}

/// ONNX Runtime's MatMulNBits (com.microsoft): A [..., K] times a weight of
/// N x K unsigned `bits`-bit integers stored in blocks along k, with a
/// scale and a zero point per (n, block); becomes sinter.linear of a
/// sinter.dequantize, which code generation runs as the quantized kernel.
LogicalResult convertMatMulNBits(OnnxNode &node) {
  if (node.numInputs() < 3 || node.numInputs() > 6 || !node.hasInput(1) ||
      !node.hasInput(2))
    return node.error() << "MatMulNBits takes A, B, scales and optionally "
                           "zero_points, g_idx and bias (3 to 6 inputs), got "
                        << node.numInputs();
  if (node.hasInput(4))
    return node.error() << "g_idx (act-order) is not supported";
  int64_t k = node.intAttr("K", -1), n = node.intAttr("N", -1),
          bits = node.intAttr("bits", 4), block = node.intAttr("block_size", -1);
  if (bits != 4 && bits != 8)
    return node.error() << "bits=" << bits << " is not supported (4 and 8 are)";
  if (k < 1 || n < 1 || block < 16 || !llvm::isPowerOf2_64(block))
    return node.error() << "needs K >= 1, N >= 1 and a block_size that is a "
                           "power of 2 >= 16, got K="
                        << k << " N=" << n << " block_size=" << block;
  const int64_t blocks = (k + block - 1) / block,
                blobBytes = block * bits / 8;
  RankedTensorType a = node.inputType(0), b = node.inputType(1),
                   scales = node.inputType(2);
  if (a.getRank() < 1 ||
      (!ShapedType::isDynamic(a.getShape().back()) && a.getShape().back() != k))
    return node.error() << "A must end in K = " << k << ", got " << a;
  if (b.getShape() != ArrayRef<int64_t>{n, blocks, blobBytes} ||
      !b.getElementType().isUnsignedInteger(8))
    return node.error() << "B must be uint8 [N, blocks, block_size * bits / 8]"
                        << " = [" << n << ", " << blocks << ", " << blobBytes
                        << "], got " << b;
  if (scales.getNumElements() != n * blocks)
    return node.error() << "scales must hold N x blocks = " << n * blocks
                        << " elements, got " << scales;
  std::optional<std::vector<uint8_t>> packed = constantBytes(node.input(1));
  if (!packed)
    return node.error() << "B must be a constant (an initializer)";
  // Unpack to one value per byte, element 2i in the low nibble; the
  // padding past K in the last block is dropped.
  auto unpack = [&](const std::vector<uint8_t> &bytes, int64_t rows,
                    int64_t perRow, int64_t stride) {
    std::vector<uint8_t> values(rows * perRow);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < perRow; ++i) {
        uint8_t byte = bytes[r * stride + (bits == 8 ? i : i / 2)];
        values[r * perRow + i] =
            bits == 8 ? byte : uint8_t(i % 2 ? byte >> 4 : byte & 15);
      }
    return values;
  };
  MLIRContext *context = node.context();
  Type intType = IntegerType::get(context, bits, IntegerType::Unsigned);
  auto bytesAttr = [&](ArrayRef<int64_t> shape, const std::vector<uint8_t> &v) {
    return DenseElementsAttr::getFromRawBuffer(
        RankedTensorType::get(shape, intType),
        ArrayRef<char>(reinterpret_cast<const char *>(v.data()), v.size()));
  };
  Value q = node.constant(bytesAttr({n, k}, unpack(*packed, n, k, blocks * blobBytes)));
  Value zeroPoint;
  if (node.hasInput(3)) {
    RankedTensorType zpType = node.inputType(3);
    if (!zpType.getElementType().isUnsignedInteger(8))
      return node.error() << "zero points of type " << zpType.getElementType()
                          << " are not supported (packed uint8 are)";
    int64_t perRow = bits == 8 ? blocks : (blocks + 1) / 2;
    std::optional<std::vector<uint8_t>> zp = constantBytes(node.input(3));
    if (!zp || int64_t(zp->size()) != n * perRow)
      return node.error() << "zero_points must be a constant of N x "
                          << perRow << " bytes";
    zeroPoint = node.constant(bytesAttr({n, blocks}, unpack(*zp, n, blocks, perRow)));
  } else {
    zeroPoint = node.constant(DenseElementsAttr::get(
        RankedTensorType::get({n, blocks}, intType),
        APInt(bits, uint64_t(1) << (bits - 1))));
  }
  // The scales as [N, blocks]: a constant is given the new shape in place
  // (code generation packs the weight only from constants).
  auto scaleType = RankedTensorType::get({n, blocks}, scales.getElementType());
  Value scale;
  if (auto constant = node.input(2).getDefiningOp<ConstantOp>()) {
    Attribute attr = constant.getValue();
    if (auto dense = dyn_cast<DenseElementsAttr>(attr))
      scale = node.constant(dense.reshape(scaleType));
    else if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      scale = ConstantOp::create(
          node.builder(), node.loc(),
          DenseResourceElementsAttr::get(scaleType, resource.getRawHandle()));
  }
  if (!scale) {
    FailureOr<ReshapeOp> reshaped = node.create<ReshapeOp>(
        node.input(2), ValueRange{}, ArrayRef<int64_t>{n, blocks});
    if (failed(reshaped))
      return failure();
    scale = reshaped->getResult();
  }
  FailureOr<DequantizeOp> weight = node.createTyped<DequantizeOp>(
      RankedTensorType::get({n, k}, a.getElementType()), q, scale, zeroPoint,
      int64_t(1), block);
  if (failed(weight))
    return failure();
  FailureOr<LinearOp> op = node.create<LinearOp>(
      node.input(0), weight->getResult(), node.input(5),
      /*transpose_weight=*/true);
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

constexpr int64_t kMinOpset = 13, kMaxOpset = 17;

#define SINTER_ONNX_OP(NAME, SINCE, CONVERTER)                                 \
  OnnxConverterEntry { {"", NAME, SINCE, kMaxOpset}, CONVERTER }

// Sorted by name (checked when the table is first used).
const OnnxConverterEntry kConverters[] = {
    SINTER_ONNX_OP("Abs", kMinOpset, convertUnary<AbsOp>),
    SINTER_ONNX_OP("Add", kMinOpset, (convertBinary<AddOp, arith::AddIOp>)),
    SINTER_ONNX_OP("And", kMinOpset, convertBinary<AndOp>),
    SINTER_ONNX_OP("Cast", kMinOpset, convertCast),
    SINTER_ONNX_OP("Ceil", kMinOpset, convertUnary<CeilOp>),
    SINTER_ONNX_OP("Clip", kMinOpset, convertClip),
    SINTER_ONNX_OP("Concat", kMinOpset, convertConcat),
    SINTER_ONNX_OP("Constant", kMinOpset, convertConstant),
    SINTER_ONNX_OP("ConstantOfShape", kMinOpset, convertConstantOfShape),
    SINTER_ONNX_OP("Conv", kMinOpset, convertConv),
    SINTER_ONNX_OP("Cos", kMinOpset, convertUnary<CosOp>),
    SINTER_ONNX_OP("CumSum", kMinOpset, convertCumSum),
    SINTER_ONNX_OP("DequantizeLinear", kMinOpset, convertDequantizeLinear),
    SINTER_ONNX_OP("Div", kMinOpset, convertDiv),
    SINTER_ONNX_OP("Dropout", kMinOpset, convertDropout),
    SINTER_ONNX_OP("Einsum", kMinOpset, convertEinsum),
    SINTER_ONNX_OP("Equal", kMinOpset, convertEqual),
    SINTER_ONNX_OP("Erf", kMinOpset, convertUnary<ErfOp>),
    SINTER_ONNX_OP("Exp", kMinOpset, convertUnary<ExpOp>),
    SINTER_ONNX_OP("Expand", kMinOpset, convertExpand),
    SINTER_ONNX_OP("Flatten", kMinOpset, convertFlatten),
    SINTER_ONNX_OP("Floor", kMinOpset, convertUnary<FloorOp>),
    SINTER_ONNX_OP("Gather", kMinOpset, convertGather),
    SINTER_ONNX_OP("GatherElements", kMinOpset, convertGatherElements),
    SINTER_ONNX_OP("Gemm", kMinOpset, convertGemm),
    SINTER_ONNX_OP("Greater", kMinOpset, convertBinary<GreaterOp>),
    SINTER_ONNX_OP("GreaterOrEqual", kMinOpset, convertBinary<GreaterEqualOp>),
    SINTER_ONNX_OP("Identity", kMinOpset, convertIdentity),
    SINTER_ONNX_OP("LayerNormalization", 17, convertLayerNorm),
    SINTER_ONNX_OP("LeakyRelu", kMinOpset, convertLeakyRelu),
    SINTER_ONNX_OP("Less", kMinOpset, convertBinary<LessOp>),
    SINTER_ONNX_OP("LessOrEqual", kMinOpset, convertBinary<LessEqualOp>),
    SINTER_ONNX_OP("Log", kMinOpset, convertUnary<LogOp>),
    SINTER_ONNX_OP("LogSoftmax", kMinOpset, convertSoftmax<LogSoftmaxOp>),
    SINTER_ONNX_OP("MatMul", kMinOpset, convertMatMul),
    SINTER_ONNX_OP("Max", kMinOpset, convertVariadic<MaxOp>),
    SINTER_ONNX_OP("Min", kMinOpset, convertVariadic<MinOp>),
    SINTER_ONNX_OP("Mul", kMinOpset, (convertBinary<MulOp, arith::MulIOp>)),
    SINTER_ONNX_OP("Neg", kMinOpset, convertNeg),
    SINTER_ONNX_OP("Not", kMinOpset, convertUnary<NotOp>),
    SINTER_ONNX_OP("Or", kMinOpset, convertBinary<OrOp>),
    SINTER_ONNX_OP("Pow", kMinOpset, convertPow),
    SINTER_ONNX_OP("QuantizeLinear", kMinOpset, convertQuantizeLinear),
    SINTER_ONNX_OP("Range", kMinOpset, convertRange),
    SINTER_ONNX_OP("Reciprocal", kMinOpset, convertUnary<ReciprocalOp>),
    SINTER_ONNX_OP("ReduceMax", kMinOpset, convertReduce<ReduceMaxOp>),
    SINTER_ONNX_OP("ReduceMean", kMinOpset, convertReduce<ReduceMeanOp>),
    SINTER_ONNX_OP("ReduceMin", kMinOpset, convertReduce<ReduceMinOp>),
    SINTER_ONNX_OP("ReduceSum", kMinOpset, convertReduce<ReduceSumOp>),
    SINTER_ONNX_OP("Relu", kMinOpset, convertUnary<ReluOp>),
    SINTER_ONNX_OP("Reshape", kMinOpset, convertReshape),
    SINTER_ONNX_OP("Round", kMinOpset, convertUnary<RoundOp>),
    SINTER_ONNX_OP("ScatterElements", kMinOpset, convertScatterElements),
    SINTER_ONNX_OP("Shape", kMinOpset, convertShape),
    SINTER_ONNX_OP("Sigmoid", kMinOpset, convertUnary<SigmoidOp>),
    SINTER_ONNX_OP("Sin", kMinOpset, convertUnary<SinOp>),
    SINTER_ONNX_OP("Size", kMinOpset, convertSize),
    SINTER_ONNX_OP("Slice", kMinOpset, convertSlice),
    SINTER_ONNX_OP("Softmax", kMinOpset, convertSoftmax<SoftmaxOp>),
    SINTER_ONNX_OP("Split", kMinOpset, convertSplit),
    SINTER_ONNX_OP("Sqrt", kMinOpset, convertUnary<SqrtOp>),
    SINTER_ONNX_OP("Squeeze", kMinOpset, convertSqueeze),
    SINTER_ONNX_OP("Sub", kMinOpset, (convertBinary<SubOp, arith::SubIOp>)),
    SINTER_ONNX_OP("Tanh", kMinOpset, convertUnary<TanhOp>),
    SINTER_ONNX_OP("Tile", kMinOpset, convertTile),
    SINTER_ONNX_OP("TopK", kMinOpset, convertTopK),
    SINTER_ONNX_OP("Transpose", kMinOpset, convertTranspose),
    SINTER_ONNX_OP("Trilu", 14, convertTrilu),
    SINTER_ONNX_OP("Unsqueeze", kMinOpset, convertUnsqueeze),
    SINTER_ONNX_OP("Where", kMinOpset, convertWhere),
    SINTER_ONNX_OP("Xor", kMinOpset, convertBinary<XorOp>),
    // ONNX Runtime's contrib operators (domain com.microsoft, opset 1).
    OnnxConverterEntry{{"com.microsoft", "MatMulNBits", 1, 1},
                       convertMatMulNBits},
};
#undef SINTER_ONNX_OP

} // namespace

ArrayRef<OnnxOpSupport> supportedOnnxOps() {
  static const std::vector<OnnxOpSupport> ops = [] {
    std::vector<OnnxOpSupport> list;
    for (const OnnxConverterEntry &entry : kConverters)
      list.push_back(entry.support);
    return list;
  }();
  return ops;
}

const OnnxConverterEntry *findOnnxConverter(StringRef domain, StringRef name,
                                            int64_t opset) {
  auto it = llvm::lower_bound(kConverters, std::make_pair(domain, name),
                              [](const OnnxConverterEntry &entry, auto key) {
                                return std::make_pair(entry.support.domain,
                                                      entry.support.name) <
                                       key;
                              });
  if (it == std::end(kConverters) || it->support.domain != domain ||
      it->support.name != name || opset < it->support.minOpset ||
      opset > it->support.maxOpset)
    return nullptr;
  return it;
}

} // namespace sinter
