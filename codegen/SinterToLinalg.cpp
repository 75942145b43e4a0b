//===- SinterToLinalg.cpp - Lower sinter ops to structured ops ------------===//
//
// Every sinter op becomes ops on tensors that the rest of the pipeline knows
// how to tile, fuse, vectorize and bufferize: linalg.generic for elementwise
// ops, contractions and reductions, linalg.transpose, tensor.reshape,
// tensor.extract_slice and tensor.concat. Composite ops (norms, GELU,
// attention) are expressed with the same building blocks here; dedicated
// fused kernels replace them in later stages.
//
//===----------------------------------------------------------------------===//

#include "codegen/BufferPlacement.h"
#include "codegen/Passes.h"
#include "ir/ShapeInference.h"
#include "ir/SinterOps.h"
#include "sinter/runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>
#include <limits>
#include <numeric>

namespace sinter {
#define GEN_PASS_DEF_CONVERTSINTERTOLINALG
#include "codegen/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// tensor.dim of `value`, or null when the dimension is static.
Value dynamicDim(OpBuilder &b, Location loc, Value value, int64_t dim) {
  if (!tensorType(value).isDynamicDim(dim))
    return Value();
  return tensor::DimOp::create(b, loc, value, dim);
}

/// The sizes of `type`'s dynamic dimensions, read from `value` (of the
/// same rank), for emptyTensor.
SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc,
                                RankedTensorType type, Value value) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, value, d));
  return sizes;
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynamicSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

/// The dynamic sizes of a result that broadcasts `operands` (numpy rules,
/// aligned at the right): each from an operand dynamic in that dimension.
SmallVector<Value> broadcastSizes(OpBuilder &b, Location loc,
                                  RankedTensorType result,
                                  ValueRange operands) {
  SmallVector<Value> sizes;
  int64_t rank = result.getRank();
  for (int64_t d = 0; d < rank; ++d) {
    if (!result.isDynamicDim(d))
      continue;
    for (Value operand : operands) {
      int64_t i = d - (rank - tensorType(operand).getRank());
      if (i >= 0 && tensorType(operand).isDynamicDim(i)) {
        sizes.push_back(tensor::DimOp::create(b, loc, operand, i));
        break;
      }
    }
  }
  return sizes;
}

/// The map from the iteration space of `result` to a broadcast operand:
/// static size-1 dimensions read index 0.
AffineMap broadcastMap(RankedTensorType operand, RankedTensorType result) {
  MLIRContext *context = operand.getContext();
  int64_t rank = result.getRank(), offset = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    bool broadcast =
        operand.getDimSize(i) == 1 && result.getDimSize(i + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, context)
                              : getAffineDimExpr(i + offset, context));
  }
  return AffineMap::get(rank, 0, exprs, context);
}

/// A linalg.generic that computes `body` on the broadcast elements of
/// `operands` into a new tensor of `resultType`.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange operands, BodyFn body,
                  ValueRange dynamicSizes = {}) {
  SmallVector<Value> sizes(dynamicSizes);
  if (sizes.empty())
    sizes = broadcastSizes(b, loc, resultType, operands);
  Value init = emptyTensor(b, loc, resultType, sizes);
  SmallVector<AffineMap> maps;
  for (Value operand : operands)
    maps.push_back(broadcastMap(tensorType(operand), resultType));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, operands, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value value = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, value);
      });
  return generic.getResult(0);
}

Value scalar(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

/// The value every element of a reduction starts from.
Value reductionInit(OpBuilder &b, Location loc, Type type, bool max, bool min) {
  if (auto floatType = dyn_cast<FloatType>(type)) {
    if (max || min)
      return arith::ConstantOp::create(
          b, loc,
          b.getFloatAttr(type, APFloat::getInf(floatType.getFloatSemantics(),
                                               /*Negative=*/max)));
    return scalar(b, loc, type, 0.0);
  }
  unsigned width = type.getIntOrFloatBitWidth();
  if (max)
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(type, APInt::getSignedMinValue(width)));
  if (min)
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(type, APInt::getSignedMaxValue(width)));
  return scalar(b, loc, type, 0.0);
}

enum class Combine { Sum, Max, Min };

Value combine(OpBuilder &b, Location loc, Combine kind, Value acc, Value x) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case Combine::Sum:
    return isFloat ? Value(arith::AddFOp::create(b, loc, acc, x))
                   : Value(arith::AddIOp::create(b, loc, acc, x));
  case Combine::Max:
    return isFloat ? Value(arith::MaximumFOp::create(b, loc, acc, x))
                   : Value(arith::MaxSIOp::create(b, loc, acc, x));
  case Combine::Min:
    return isFloat ? Value(arith::MinimumFOp::create(b, loc, acc, x))
                   : Value(arith::MinSIOp::create(b, loc, acc, x));
  }
  llvm_unreachable("unknown reduction");
}

/// A contraction generic: `maps` over `loops` dimensions whose last
/// `reductions` are reduced; accumulates lhs * rhs into `init`.
Value contraction(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init,
                  ArrayRef<AffineMap> maps, int64_t loops, int64_t reductions) {
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  for (int64_t i = loops - reductions; i < loops; ++i)
    iterators[i] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{lhs, rhs}, init, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value product =
            isa<FloatType>(args[0].getType())
                ? Value(arith::MulFOp::create(nb, l, args[0], args[1]))
                : Value(arith::MulIOp::create(nb, l, args[0], args[1]));
        linalg::YieldOp::create(nb, l,
                                combine(nb, l, Combine::Sum, args[2], product));
      });
  return generic.getResult(0);
}

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type,
                 ValueRange sizes) {
  return linalg::FillOp::create(b, loc,
                                scalar(b, loc, type.getElementType(), 0.0),
                                emptyTensor(b, loc, type, sizes))
      .getResult(0);
}

/// Reduces `input` over `axes` (sorted) into a tensor that keeps them as
/// size-1 dimensions when `keepdims`.
Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
             bool keepdims, Combine kind) {
  RankedTensorType type = tensorType(input);
  MLIRContext *context = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<Value> sizes;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (reduced && !keepdims)
      continue;
    if (reduced) {
      shape.push_back(1);
      outExprs.push_back(getAffineConstantExpr(0, context));
      continue;
    }
    shape.push_back(type.getDimSize(d));
    if (Value size = dynamicDim(b, loc, input, d))
      sizes.push_back(size);
    outExprs.push_back(getAffineDimExpr(d, context));
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value init = linalg::FillOp::create(
                   b, loc,
                   reductionInit(b, loc, type.getElementType(),
                                 kind == Combine::Max, kind == Combine::Min),
                   emptyTensor(b, loc, resultType, sizes))
                   .getResult(0);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(type.getRank()),
      AffineMap::get(type.getRank(), 0, outExprs, context)};
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, input, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(
            nested, nestedLoc,
            combine(nested, nestedLoc, kind, args[1], args[0]));
      });
  return generic.getResult(0);
}

/// The number of elements of `input` over `axes`, as a scalar of `type`.
Value countOver(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
                Type type) {
  int64_t staticCount = 1;
  SmallVector<Value> dynamicSizes;
  for (int64_t axis : axes) {
    if (Value size = dynamicDim(b, loc, input, axis))
      dynamicSizes.push_back(size);
    else
      staticCount *= tensorType(input).getDimSize(axis);
  }
  if (dynamicSizes.empty())
    return scalar(b, loc, type, static_cast<double>(staticCount));
  Value count = arith::ConstantIndexOp::create(b, loc, staticCount);
  for (Value size : dynamicSizes)
    count = arith::MulIOp::create(b, loc, count, size);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  if (isa<FloatType>(type))
    return arith::SIToFPOp::create(b, loc, type, asInt);
  return arith::TruncIOp::create(b, loc, type, asInt);
}

/// `tensor` divided elementwise by a scalar.
Value divideByScalar(OpBuilder &b, Location loc, Value tensor, Value divisor) {
  RankedTensorType type = tensorType(tensor);
  return elementwise(b, loc, type, tensor,
                     [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       if (isa<FloatType>(type.getElementType()))
                         return arith::DivFOp::create(nb, l, args[0], divisor);
                       return arith::DivSIOp::create(nb, l, args[0], divisor);
                     });
}

Value mean(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
           bool keepdims) {
  Value sum = reduce(b, loc, input, axes, keepdims, Combine::Sum);
  return divideByScalar(
      b, loc, sum,
      countOver(b, loc, input, axes, tensorType(input).getElementType()));
}

/// Softmax (or log-softmax) along `axis`, stable: exp(x - max) / sum.
Value softmax(OpBuilder &b, Location loc, Value input, int64_t axis,
              bool logarithm) {
  RankedTensorType type = tensorType(input);
  Value max = reduce(b, loc, input, {axis}, true, Combine::Max);
  Value shifted =
      elementwise(b, loc, type, {input, max},
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return arith::SubFOp::create(nb, l, args[0], args[1]);
                  });
  Value exps =
      elementwise(b, loc, type, shifted,
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return math::ExpOp::create(nb, l, args[0]);
                  });
  Value sum = reduce(b, loc, exps, {axis}, true, Combine::Sum);
  if (logarithm)
    return elementwise(b, loc, type, {shifted, sum},
                       [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                         Value log = math::LogOp::create(nb, l, args[1]);
                         return arith::SubFOp::create(nb, l, args[0], log);
                       });
  return elementwise(b, loc, type, {exps, sum},
                     [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       return arith::DivFOp::create(nb, l, args[0], args[1]);
                     });
}

//===----------------------------------------------------------------------===//
// Scalar bodies of the elementwise ops
//===----------------------------------------------------------------------===//

Value erfGelu(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value scaled = arith::MulFOp::create(b, loc, x, scalar(b, loc, t, M_SQRT1_2));
  Value cdf = arith::AddFOp::create(b, loc, scalar(b, loc, t, 1.0),
                                    math::ErfOp::create(b, loc, scaled));
  Value half = arith::MulFOp::create(b, loc, x, scalar(b, loc, t, 0.5));
  return arith::MulFOp::create(b, loc, half, cdf);
}

Value tanhGelu(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value cube =
      arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
  Value inner = arith::AddFOp::create(
      b, loc, x,
      arith::MulFOp::create(b, loc, cube, scalar(b, loc, t, 0.044715)));
  Value scaled = arith::MulFOp::create(
      b, loc, inner, scalar(b, loc, t, std::sqrt(2.0 / M_PI)));
  Value cdf = arith::AddFOp::create(b, loc, scalar(b, loc, t, 1.0),
                                    math::TanhOp::create(b, loc, scaled));
  Value half = arith::MulFOp::create(b, loc, x, scalar(b, loc, t, 0.5));
  return arith::MulFOp::create(b, loc, half, cdf);
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(
      b, loc, scalar(b, loc, t, 1.0),
      arith::AddFOp::create(b, loc, scalar(b, loc, t, 1.0), e));
}

Value silu(OpBuilder &b, Location loc, Value x) {
  return arith::MulFOp::create(b, loc, x, sigmoid(b, loc, x));
}

/// The float or the signed-integer form of a binary arith/math op.
template <typename FloatOp, typename IntOp>
Value binary(OpBuilder &b, Location loc, ValueRange args) {
  if (isa<FloatType>(args[0].getType()))
    return FloatOp::create(b, loc, args[0], args[1]);
  return IntOp::create(b, loc, args[0], args[1]);
}

/// slt -> ult and so on; equality stays.
arith::CmpIPredicate toUnsignedPredicate(arith::CmpIPredicate predicate) {
  switch (predicate) {
  case arith::CmpIPredicate::slt:
    return arith::CmpIPredicate::ult;
  case arith::CmpIPredicate::sle:
    return arith::CmpIPredicate::ule;
  case arith::CmpIPredicate::sgt:
    return arith::CmpIPredicate::ugt;
  case arith::CmpIPredicate::sge:
    return arith::CmpIPredicate::uge;
  default:
    return predicate;
  }
}

bool isUnsignedInt(Type type) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.isUnsigned();
}

/// arith works on signless integers: unsigned ones cross over with a cast
/// that the LLVM lowering removes (both are plain iN there).
Value toSignless(OpBuilder &b, Location loc, Value value) {
  if (!isUnsignedInt(value.getType()))
    return value;
  Type signless = b.getIntegerType(value.getType().getIntOrFloatBitWidth());
  return UnrealizedConversionCastOp::create(b, loc, signless, value)
      .getResult(0);
}

Value fromSignless(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return UnrealizedConversionCastOp::create(b, loc, type, value).getResult(0);
}

/// The scalar computation of an elementwise sinter op, or null when its
/// element type is not handled. `args` are signless; `unsignedInts` says
/// they hold unsigned integers (division, min/max, comparisons differ).
Value scalarBody(Operation *op, OpBuilder &b, Location loc, ValueRange args,
                 bool unsignedInts = false) {
  bool isFloat = isa<FloatType>(args[0].getType());
  auto one = [&](Type t) { return scalar(b, loc, t, 1.0); };
  auto zero = [&](Type t) { return scalar(b, loc, t, 0.0); };
  auto cmp = [&](arith::CmpFPredicate f, arith::CmpIPredicate i) -> Value {
    if (isFloat)
      return arith::CmpFOp::create(b, loc, f, args[0], args[1]);
    if (unsignedInts)
      i = toUnsignedPredicate(i);
    return arith::CmpIOp::create(b, loc, i, args[0], args[1]);
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](NegOp) -> Value {
        if (isFloat)
          return arith::NegFOp::create(b, loc, args[0]);
        return arith::SubIOp::create(b, loc, zero(args[0].getType()), args[0]);
      })
      .Case([&](AbsOp) -> Value {
        if (isFloat)
          return math::AbsFOp::create(b, loc, args[0]);
        if (unsignedInts)
          return args[0];
        return math::AbsIOp::create(b, loc, args[0]);
      })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, args[0]); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, args[0]); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, args[0]); })
      .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, loc, args[0]); })
      .Case([&](ReciprocalOp) {
        return arith::DivFOp::create(b, loc, one(args[0].getType()), args[0]);
      })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, args[0]); })
      .Case([&](ErfOp) { return math::ErfOp::create(b, loc, args[0]); })
      .Case([&](CosOp) { return math::CosOp::create(b, loc, args[0]); })
      .Case([&](SinOp) { return math::SinOp::create(b, loc, args[0]); })
      .Case([&](FloorOp) { return math::FloorOp::create(b, loc, args[0]); })
      .Case([&](CeilOp) { return math::CeilOp::create(b, loc, args[0]); })
      .Case([&](RoundOp) { return math::RoundEvenOp::create(b, loc, args[0]); })
      .Case([&](SigmoidOp) { return sigmoid(b, loc, args[0]); })
      .Case([&](SiluOp) { return silu(b, loc, args[0]); })
      .Case([&](SwigluOp) {
        return arith::MulFOp::create(b, loc, silu(b, loc, args[0]), args[1]);
      })
      .Case([&](ReluOp) -> Value {
        if (isFloat)
          return arith::MaximumFOp::create(b, loc, args[0],
                                           zero(args[0].getType()));
        return arith::MaxSIOp::create(b, loc, args[0], zero(args[0].getType()));
      })
      .Case([&](NotOp) {
        return arith::XOrIOp::create(b, loc, args[0], one(args[0].getType()));
      })
      .Case([&](LeakyReluOp relu) {
        Type t = args[0].getType();
        Value scaled = arith::MulFOp::create(
            b, loc, args[0],
            scalar(b, loc, t, relu.getAlpha().convertToDouble()));
        Value positive = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::OGE, args[0], zero(t));
        return arith::SelectOp::create(b, loc, positive, args[0], scaled);
      })
      .Case([&](ClipOp clip) {
        Value x = args[0];
        Type t = x.getType();
        if (FloatAttr min = clip.getMinAttr())
          x = isFloat
                  ? Value(arith::MaximumFOp::create(
                        b, loc, x, scalar(b, loc, t, min.getValueAsDouble())))
                  : Value(arith::MaxSIOp::create(
                        b, loc, x, scalar(b, loc, t, min.getValueAsDouble())));
        if (FloatAttr max = clip.getMaxAttr())
          x = isFloat
                  ? Value(arith::MinimumFOp::create(
                        b, loc, x, scalar(b, loc, t, max.getValueAsDouble())))
                  : Value(arith::MinSIOp::create(
                        b, loc, x, scalar(b, loc, t, max.getValueAsDouble())));
        return x;
      })
      .Case([&](GeluOp gelu) {
        return gelu.getApproximate() == GeluApproximation::Tanh
                   ? tanhGelu(b, loc, args[0])
                   : erfGelu(b, loc, args[0]);
      })
      .Case([&](AddOp) {
        return binary<arith::AddFOp, arith::AddIOp>(b, loc, args);
      })
      .Case([&](SubOp) {
        return binary<arith::SubFOp, arith::SubIOp>(b, loc, args);
      })
      .Case([&](MulOp) {
        return binary<arith::MulFOp, arith::MulIOp>(b, loc, args);
      })
      .Case([&](DivOp) {
        return unsignedInts
                   ? binary<arith::DivFOp, arith::DivUIOp>(b, loc, args)
                   : binary<arith::DivFOp, arith::DivSIOp>(b, loc, args);
      })
      .Case([&](PowOp) {
        return binary<math::PowFOp, math::IPowIOp>(b, loc, args);
      })
      .Case([&](MaxOp) {
        return unsignedInts
                   ? binary<arith::MaximumFOp, arith::MaxUIOp>(b, loc, args)
                   : binary<arith::MaximumFOp, arith::MaxSIOp>(b, loc, args);
      })
      .Case([&](MinOp) {
        return unsignedInts
                   ? binary<arith::MinimumFOp, arith::MinUIOp>(b, loc, args)
                   : binary<arith::MinimumFOp, arith::MinSIOp>(b, loc, args);
      })
      .Case([&](AndOp) {
        return arith::AndIOp::create(b, loc, args[0], args[1]);
      })
      .Case(
          [&](OrOp) { return arith::OrIOp::create(b, loc, args[0], args[1]); })
      .Case([&](XorOp) {
        return arith::XOrIOp::create(b, loc, args[0], args[1]);
      })
      .Case([&](EqualOp) {
        return cmp(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
      })
      .Case([&](LessOp) {
        return cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
      })
      .Case([&](LessEqualOp) {
        return cmp(arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle);
      })
      .Case([&](GreaterOp) {
        return cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt);
      })
      .Case([&](GreaterEqualOp) {
        return cmp(arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge);
      })
      .Case([&](WhereOp) {
        return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
      })
      .Default([](Operation *) { return Value(); });
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Unsigned integer tensors need their signedness carried into arith's
/// signless ops; not lowered yet.
bool hasUnsignedElements(Operation *op) {
  auto isUnsigned = [](Type type) {
    auto integer = dyn_cast<IntegerType>(getElementTypeOrSelf(type));
    return integer && integer.isUnsigned();
  };
  return llvm::any_of(op->getOperandTypes(), isUnsigned) ||
         llvm::any_of(op->getResultTypes(), isUnsigned);
}

/// Every elementwise sinter op (unary, binary, comparison, select, GELU)
/// becomes one broadcasting linalg.generic around its scalar body.
struct LowerElementwise : RewritePattern {
  LowerElementwise(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<SinterDialect>(op->getDialect()) || op->getNumResults() != 1 ||
        !isa<NegOp, AbsOp, ExpOp, LogOp, SqrtOp, RsqrtOp, ReciprocalOp, TanhOp,
             ErfOp, SigmoidOp, ReluOp, CosOp, SinOp, FloorOp, CeilOp, RoundOp,
             NotOp, LeakyReluOp, ClipOp,
             GeluOp, SiluOp, SwigluOp, AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp,
             MinOp, AndOp, OrOp, XorOp, EqualOp, LessOp, LessEqualOp,
             GreaterOp, GreaterEqualOp, WhereOp>(op))
      return failure();
    // Unsigned integers: the ops whose meaning is defined for them.
    bool unsignedInts = hasUnsignedElements(op);
    if (unsignedInts && !isa<AbsOp, AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp,
                             AndOp, OrOp, XorOp, EqualOp, LessOp, LessEqualOp,
                             GreaterOp, GreaterEqualOp, WhereOp>(op))
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    bool supported = true;
    Value result = elementwise(
        rewriter, op->getLoc(), resultType, op->getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          SmallVector<Value> signless;
          for (Value arg : args)
            signless.push_back(toSignless(b, loc, arg));
          Value value = scalarBody(op, b, loc, signless, unsignedInts);
          supported &= static_cast<bool>(value);
          if (!value)
            return args[0];
          return fromSignless(b, loc, value, resultType.getElementType());
        });
    if (!supported)
      return rewriter.notifyMatchFailure(op, "element type not handled");
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerConstant : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, cast<TypedAttr>(op.getValue()));
    return success();
  }
};

/// Casts between element types, with ONNX's rules: float to integer
/// truncates toward zero, anything to i1 tests for non-zero.
struct LowerCast : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op,
                                PatternRewriter &rewriter) const override {
    Type resultElement = op.getType().getElementType();
    bool fromUnsigned = isUnsignedInt(op.getInput().getType().getElementType());
    bool toUnsigned = isUnsignedInt(resultElement);
    Type to = resultElement;
    if (toUnsigned)
      to = rewriter.getIntegerType(to.getIntOrFloatBitWidth());
    Value result = elementwise(
        rewriter, op.getLoc(), op.getType(), op.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return fromSignless(b, loc,
                              castScalar(b, loc, toSignless(b, loc, args[0]),
                                         to, fromUnsigned, toUnsigned),
                              resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  /// ONNX's Cast of one value between signless types; the flags say how
  /// the integers are to be read and produced.
  static Value castScalar(OpBuilder &b, Location loc, Value x, Type to,
                          bool fromUnsigned, bool toUnsigned) {
    Type from = x.getType();
    if (to.isInteger(1)) {
      if (isa<FloatType>(from))
        return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, x,
                                     scalar(b, loc, from, 0.0));
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x,
                                   scalar(b, loc, from, 0.0));
    }
    bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(to);
    if (fromFloat && toFloat)
      return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
                 ? Value(arith::ExtFOp::create(b, loc, to, x))
                 : Value(arith::TruncFOp::create(b, loc, to, x));
    if (fromFloat)
      return toUnsigned ? Value(arith::FPToUIOp::create(b, loc, to, x))
                        : Value(arith::FPToSIOp::create(b, loc, to, x));
    if (toFloat)
      return from.isInteger(1) || fromUnsigned
                 ? Value(arith::UIToFPOp::create(b, loc, to, x))
                 : Value(arith::SIToFPOp::create(b, loc, to, x));
    unsigned fromBits = from.getIntOrFloatBitWidth(),
             toBits = to.getIntOrFloatBitWidth();
    if (fromBits < toBits)
      return from.isInteger(1) || fromUnsigned
                 ? Value(arith::ExtUIOp::create(b, loc, to, x))
                 : Value(arith::ExtSIOp::create(b, loc, to, x));
    if (fromBits == toBits)
      return x;
    return arith::TruncIOp::create(b, loc, to, x);
  }
};

/// matmul with numpy semantics as one contraction: iteration dimensions
/// (batch..., m, n, k), 1-D operands without their promoted dimension.
struct LowerMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (hasUnsignedElements(op))
      return rewriter.notifyMatchFailure(op, "unsigned element types");
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType lhs = op.getLhs().getType(), rhs = op.getRhs().getType(),
                     result = op.getType();
    bool lhsVector = lhs.getRank() == 1, rhsVector = rhs.getRank() == 1;
    int64_t batch = result.getRank() - !lhsVector - !rhsVector;
    // Iteration space: batch dims, then m (if any), n (if any), k.
    int64_t m = batch, n = batch + !lhsVector, k = n + !rhsVector;
    int64_t loops = k + 1;
    auto dim = [&](int64_t d) { return getAffineDimExpr(d, context); };
    auto batchExprs = [&](RankedTensorType type, int64_t matrixRank) {
      SmallVector<AffineExpr> exprs;
      int64_t own = type.getRank() - matrixRank;
      for (int64_t i = 0; i < own; ++i) {
        int64_t d = batch - own + i;
        bool broadcast = type.getDimSize(i) == 1 && result.getDimSize(d) != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, context) : dim(d));
      }
      return exprs;
    };
    SmallVector<AffineExpr> lhsExprs = batchExprs(lhs, lhsVector ? 1 : 2);
    if (!lhsVector)
      lhsExprs.push_back(dim(m));
    lhsExprs.push_back(dim(k));
    SmallVector<AffineExpr> rhsExprs = batchExprs(rhs, rhsVector ? 1 : 2);
    rhsExprs.push_back(dim(k));
    if (!rhsVector)
      rhsExprs.push_back(dim(n));
    SmallVector<AffineExpr> outExprs;
    for (int64_t d = 0; d < result.getRank(); ++d)
      outExprs.push_back(dim(d));

    // Dynamic result sizes: batch from whichever operand is dynamic there,
    // m from lhs, n from rhs.
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < result.getRank(); ++d) {
      if (!result.isDynamicDim(d))
        continue;
      if (d < batch) {
        for (auto [value, type, matrixRank] :
             {std::make_tuple(op.getLhs(), lhs, lhsVector ? 1 : 2),
              std::make_tuple(op.getRhs(), rhs, rhsVector ? 1 : 2)}) {
          int64_t i = d - (batch - (type.getRank() - matrixRank));
          if (i >= 0 && type.isDynamicDim(i)) {
            sizes.push_back(tensor::DimOp::create(rewriter, loc, value, i));
            break;
          }
        }
      } else if (d == m && !lhsVector) {
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getLhs(),
                                              lhs.getRank() - 2));
      } else {
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getRhs(),
                                              rhs.getRank() - 1));
      }
    }
    rewriter.replaceOp(
        op, contraction(rewriter, loc, op.getLhs(), op.getRhs(),
                        zeroFilled(rewriter, loc, result, sizes),
                        {AffineMap::get(loops, 0, lhsExprs, context),
                         AffineMap::get(loops, 0, rhsExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1));
    return success();
  }
};

/// linear: a contraction over the last input dimension, accumulating into
/// the broadcast bias (or zeros).
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType result = op.getType();
    int64_t rank = result.getRank(), loops = rank + 1;
    int64_t n = rank - 1, k = rank;
    auto dim = [&](int64_t d) { return getAffineDimExpr(d, context); };
    SmallVector<AffineExpr> inputExprs, outExprs;
    for (int64_t d = 0; d < rank - 1; ++d)
      inputExprs.push_back(dim(d));
    inputExprs.push_back(dim(k));
    for (int64_t d = 0; d < rank; ++d)
      outExprs.push_back(dim(d));
    SmallVector<AffineExpr> weightExprs =
        op.getTransposeWeight() ? SmallVector<AffineExpr>{dim(n), dim(k)}
                                : SmallVector<AffineExpr>{dim(k), dim(n)};
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!result.isDynamicDim(d))
        continue;
      if (d < rank - 1)
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d));
      else
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getWeight(),
                                              op.getTransposeWeight() ? 0 : 1));
    }
    Value init;
    if (Value bias = op.getBias())
      init = elementwise(
          rewriter, loc, result, bias,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; },
          sizes);
    else
      init = zeroFilled(rewriter, loc, result, sizes);
    rewriter.replaceOp(
        op, contraction(rewriter, loc, op.getInput(), op.getWeight(), init,
                        {AffineMap::get(loops, 0, inputExprs, context),
                         AffineMap::get(loops, 0, weightExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1));
    return success();
  }
};

template <typename OpTy, Combine kind, bool isMean = false>
struct LowerReduction : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (hasUnsignedElements(op))
      return rewriter.notifyMatchFailure(op, "unsigned element types");
    SmallVector<int64_t> axes(op.getAxes());
    llvm::sort(axes);
    Value result = isMean ? mean(rewriter, op.getLoc(), op.getInput(), axes,
                                 op.getKeepdims())
                          : reduce(rewriter, op.getLoc(), op.getInput(), axes,
                                   op.getKeepdims(), kind);
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy, bool logarithm>
struct LowerSoftmax : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, softmax(rewriter, op.getLoc(), op.getInput(),
                                   op.getAxis(), logarithm));
    return success();
  }
};

struct LowerTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    for (auto [d, from] : llvm::enumerate(op.getPerm()))
      if (op.getType().isDynamicDim(d))
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, op.getInput(), from));
    Value init = emptyTensor(rewriter, loc, op.getType(), sizes);
    rewriter.replaceOpWithNewOp<linalg::TransposeOp>(op, op.getInput(), init,
                                                     op.getPerm());
    return success();
  }
};

/// reshape: tensor.reshape with the target sizes as an index tensor.
struct LowerReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    auto dynamic = op.getDynamicShape().begin();
    for (int64_t size : op.getStaticShape())
      sizes.push_back(
          ShapedType::isDynamic(size)
              ? *dynamic++
              : Value(arith::ConstantIndexOp::create(rewriter, loc, size)));
    auto shapeType = RankedTensorType::get({static_cast<int64_t>(sizes.size())},
                                           rewriter.getIndexType());
    Value shape =
        tensor::FromElementsOp::create(rewriter, loc, shapeType, sizes);
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, op.getType(),
                                                   op.getInput(), shape);
    return success();
  }
};

/// expand: a broadcasting copy; dynamic target sizes come from the op.
struct LowerExpand : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType(), input = op.getInput().getType();
    ArrayRef<int64_t> target = op.getStaticShape();
    int64_t rank = result.getRank();
    SmallVector<Value> sizes;
    auto dynamic = op.getDynamicShape().begin();
    SmallVector<Value> targetValues;
    for (int64_t size : target)
      targetValues.push_back(ShapedType::isDynamic(size) ? *dynamic++
                                                         : Value());
    for (int64_t d = 0; d < rank; ++d) {
      if (!result.isDynamicDim(d))
        continue;
      int64_t j = d - (rank - static_cast<int64_t>(target.size()));
      int64_t i = d - (rank - input.getRank());
      if (j >= 0 && targetValues[j])
        sizes.push_back(targetValues[j]);
      else
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), i));
    }
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, result, op.getInput(),
                [](OpBuilder &, Location, ValueRange args) { return args[0]; },
                sizes));
    return success();
  }
};

/// A static ONNX slice of one dimension of static size `dim`, as
/// tensor.extract_slice takes it: the elements it reads, in increasing
/// order, and whether the slice wants them reversed (negative steps).
struct DimSlice {
  int64_t offset, size, stride;
  bool reversed;
};

DimSlice staticSlice(int64_t dim, int64_t start, int64_t end, int64_t step) {
  int64_t size = slicedDimSize(dim, start, end, step);
  if (size == 0)
    return {0, 0, 1, false};
  if (start < 0)
    start += dim;
  if (step > 0)
    return {std::clamp<int64_t>(start, 0, dim), size, step, false};
  // start, start + step, ... read backwards: the same elements from the
  // last one up, then reversed.
  start = std::clamp<int64_t>(start, 0, dim - 1);
  return {start + (size - 1) * step, size, -step, true};
}

/// slice: tensor.extract_slice of the elements it reads; dimensions with a
/// negative step are then reversed by a linalg.generic reading index
/// (size - 1 - i). Empty results are just empty tensors.
struct LowerSlice : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType input = op.getInput().getType(), result = op.getType();
    if (result.hasStaticShape() && result.getNumElements() == 0) {
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, result.getShape(),
                                                   result.getElementType());
      return success();
    }
    SmallVector<OpFoldResult> offsets, sizes, strides;
    SmallVector<AffineExpr> readExprs;
    bool reverse = false;
    for (int64_t d = 0; d < input.getRank(); ++d) {
      int64_t start = op.getStarts()[d], end = op.getEnds()[d],
              step = op.getSteps()[d];
      AffineExpr index = rewriter.getAffineDimExpr(d);
      if (input.isDynamicDim(d)) {
        // Only the whole of a dynamic dimension is handled so far.
        if (start != 0 || end != std::numeric_limits<int64_t>::max() ||
            step != 1)
          return rewriter.notifyMatchFailure(op, "partial dynamic slice");
        offsets.push_back(rewriter.getIndexAttr(0));
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, op.getInput(), d).getResult());
        strides.push_back(rewriter.getIndexAttr(1));
        readExprs.push_back(index);
        continue;
      }
      DimSlice slice = staticSlice(input.getDimSize(d), start, end, step);
      offsets.push_back(rewriter.getIndexAttr(slice.offset));
      sizes.push_back(rewriter.getIndexAttr(slice.size));
      strides.push_back(rewriter.getIndexAttr(slice.stride));
      readExprs.push_back(slice.reversed ? slice.size - 1 - index : index);
      reverse |= slice.reversed;
    }
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, result, op.getInput(), offsets, sizes, strides);
    if (!reverse) {
      rewriter.replaceOp(op, slice);
      return success();
    }
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < result.getRank(); ++d)
      if (result.isDynamicDim(d))
        dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, slice, d));
    Value init = emptyTensor(rewriter, loc, result, dynamicSizes);
    SmallVector<utils::IteratorType> iterators(result.getRank(),
                                               utils::IteratorType::parallel);
    auto reversed = linalg::GenericOp::create(
        rewriter, loc, result, slice, init,
        {AffineMap::get(result.getRank(), 0, readExprs, getContext()),
         rewriter.getMultiDimIdentityMap(result.getRank())},
        iterators, [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOp(op, reversed.getResult(0));
    return success();
  }
};

struct LowerConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, op.getType(),
                                                  op.getAxis(), op.getInputs());
    return success();
  }
};

struct LowerSplit : OpRewritePattern<SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType input = op.getInput().getType();
    int64_t axis = op.getAxis(), offset = 0;
    SmallVector<Value> pieces;
    for (auto [size, result] :
         llvm::zip_equal(op.getSizes(), op.getResults())) {
      SmallVector<OpFoldResult> offsets, sizes,
          strides(input.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d = 0; d < input.getRank(); ++d) {
        // An empty piece may start at the end; extract_slice wants it inside.
        offsets.push_back(
            rewriter.getIndexAttr(d == axis && size != 0 ? offset : 0));
        if (d == axis)
          sizes.push_back(rewriter.getIndexAttr(size));
        else if (input.isDynamicDim(d))
          sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d)
                              .getResult());
        else
          sizes.push_back(rewriter.getIndexAttr(input.getDimSize(d)));
      }
      auto pieceType = cast<RankedTensorType>(result.getType());
      if (size == 0) {
        // Nothing to read (and an input of size zero has no offset inside).
        SmallVector<Value> dynamicSizes;
        for (int64_t d = 0; d < pieceType.getRank(); ++d)
          if (d != axis)
            if (Value size = dynamicDim(rewriter, loc, op.getInput(), d))
              dynamicSizes.push_back(size);
        pieces.push_back(emptyTensor(rewriter, loc, pieceType, dynamicSizes));
      } else {
        pieces.push_back(tensor::ExtractSliceOp::create(
            rewriter, loc, pieceType, op.getInput(), offsets, sizes, strides));
      }
      offset += size;
    }
    rewriter.replaceOp(op, pieces);
    return success();
  }
};

/// The index read from an i32/i64 indices tensor, wrapped when negative.
Value wrapIndex(OpBuilder &b, Location loc, Value index, Value size) {
  index = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index,
                            arith::ConstantIndexOp::create(b, loc, 0));
  return arith::SelectOp::create(
      b, loc, negative, arith::AddIOp::create(b, loc, index, size), index);
}

/// wrapIndex, then clamped into [0, size - 1] for reading. ONNX makes an
/// index outside [-size, size) an error; a compiled model cannot report
/// one from inside a loop, and must never read outside its buffers (a
/// token id beyond the vocabulary is user input), so it reads the nearest
/// element instead.
Value readableIndex(OpBuilder &b, Location loc, Value index, Value size) {
  Value wrapped = wrapIndex(b, loc, index, size);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value last = arith::SubIOp::create(b, loc, size,
                                     arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MaxSIOp::create(b, loc, zero,
                                arith::MinSIOp::create(b, loc, wrapped, last));
}

/// The f32 elements of a constant (dense, splat or resource).
std::optional<std::vector<float>> f32Elements(Value value) {
  Attribute attr;
  if (auto constant = value.getDefiningOp<ConstantOp>())
    attr = constant.getValue();
  else if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    attr = constant.getValue();
  auto elements = dyn_cast_if_present<ElementsAttr>(attr);
  if (!elements || !elements.getElementType().isF32())
    return std::nullopt;
  int64_t count = elements.getNumElements();
  FailureOr<std::vector<char>> bytes =
      elementBytes(elements, count * int64_t(sizeof(float)));
  if (failed(bytes))
    return std::nullopt;
  std::vector<float> values(count);
  std::memcpy(values.data(), bytes->data(), bytes->size());
  return values;
}

//===----------------------------------------------------------------------===//
// Quantized weights
//===----------------------------------------------------------------------===//

/// The elements attribute of a constant (sinter or arith), or null.
ElementsAttr constantElements(Value value) {
  Attribute attr;
  if (auto constant = value.getDefiningOp<ConstantOp>())
    attr = constant.getValue();
  else if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    attr = constant.getValue();
  return dyn_cast_if_present<ElementsAttr>(attr);
}

/// The values of an integer constant with its element type's signedness.
std::optional<std::vector<int64_t>> integerElements(Value value) {
  ElementsAttr elements = constantElements(value);
  auto type = elements ? dyn_cast<IntegerType>(elements.getElementType())
                       : IntegerType();
  if (!type)
    return std::nullopt;
  std::vector<int64_t> values;
  values.reserve(elements.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(elements)) {
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(type.isUnsigned() ? int64_t(v.getZExtValue())
                                         : v.getSExtValue());
    return values;
  }
  if (type.getWidth() != 8)
    return std::nullopt;
  FailureOr<std::vector<char>> bytes =
      elementBytes(elements, elements.getNumElements());
  if (failed(bytes))
    return std::nullopt;
  for (char byte : *bytes)
    values.push_back(type.isUnsigned() ? int64_t(uint8_t(byte))
                                       : int64_t(int8_t(byte)));
  return values;
}

/// The values of a float constant (any float type), as floats.
std::optional<std::vector<float>> floatElements(Value value) {
  ElementsAttr elements = constantElements(value);
  if (!elements || !isa<FloatType>(elements.getElementType()))
    return std::nullopt;
  if (elements.getElementType().isF32())
    return f32Elements(value);
  auto dense = dyn_cast<DenseElementsAttr>(elements);
  if (!dense)
    return std::nullopt;
  std::vector<float> values;
  values.reserve(dense.getNumElements());
  for (APFloat v : dense.getValues<APFloat>()) {
    bool lost;
    v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
    values.push_back(v.convertToFloat());
  }
  return values;
}

/// `x` converted to the float type `type`.
Value convertFloat(OpBuilder &b, Location loc, Value x, Type type) {
  unsigned from = x.getType().getIntOrFloatBitWidth(),
           to = type.getIntOrFloatBitWidth();
  if (x.getType() == type)
    return x;
  if (from == to) // bf16 <-> f16: through f32
    x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  if (x.getType().getIntOrFloatBitWidth() < to)
    return arith::ExtFOp::create(b, loc, type, x);
  return arith::TruncFOp::create(b, loc, type, x);
}

/// The coordinates of the scale (and zero point) of a (de)quantization for
/// the element at `coords`.
SmallVector<Value> scaleCoordinates(OpBuilder &b, Location loc,
                                    DequantizeOp::Granularity granularity,
                                    int64_t scaleRank, int64_t axis,
                                    int64_t block, ValueRange coords) {
  switch (granularity) {
  case DequantizeOp::Granularity::Tensor:
    return SmallVector<Value>(scaleRank,
                              arith::ConstantIndexOp::create(b, loc, 0));
  case DequantizeOp::Granularity::Axis:
    return {coords[axis]};
  case DequantizeOp::Granularity::Block: {
    SmallVector<Value> index(coords);
    index[axis] = arith::DivUIOp::create(
        b, loc, coords[axis], arith::ConstantIndexOp::create(b, loc, block));
    return index;
  }
  }
  llvm_unreachable("granularity");
}

/// Reads elements of a sinter.dequantize inside a linalg body, straight
/// from its integers: what the generic lowering and the gather of a
/// quantized table share. 4-bit constants are stored two to a byte (the
/// tensor of i4 has no memory layout of its own); other integer widths
/// are read as they are.
class DequantizedReader {
public:
  /// Null when the op cannot be read this way (a 4-bit input that is not
  /// a constant).
  static std::optional<DequantizedReader> create(OpBuilder &b, Location loc,
                                                 DequantizeOp op) {
    DequantizedReader reader;
    reader.op = op;
    RankedTensorType input = op.getInput().getType();
    auto intType = cast<IntegerType>(input.getElementType());
    reader.isUnsigned = intType.isUnsigned();
    reader.bits = intType.getWidth();
    reader.scale = op.getScale();
    if (reader.bits == 4) {
      std::optional<std::vector<int64_t>> values =
          integerElements(op.getInput());
      if (!values || !input.hasStaticShape())
        return std::nullopt;
      std::vector<int8_t> packed((values->size() + 1) / 2, 0);
      for (size_t i = 0; i < values->size(); ++i)
        packed[i / 2] |= int8_t(((*values)[i] & 15) << (i % 2 ? 4 : 0));
      reader.input = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::getFromRawBuffer(
              RankedTensorType::get({int64_t(packed.size())},
                                    b.getIntegerType(8)),
              ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                             packed.size())));
      if (Value zeroPoint = op.getZeroPoint()) {
        std::optional<std::vector<int64_t>> zp = integerElements(zeroPoint);
        if (!zp)
          return std::nullopt;
        std::vector<int8_t> widened(zp->begin(), zp->end());
        reader.zeroPoint = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::getFromRawBuffer(
                RankedTensorType::get(tensorType(zeroPoint).getShape(),
                                      b.getIntegerType(8)),
                ArrayRef<char>(reinterpret_cast<const char *>(widened.data()),
                               widened.size())));
      }
    } else {
      reader.input = op.getInput();
      reader.zeroPoint = op.getZeroPoint();
    }
    return reader;
  }

  /// The dequantized element at `coords` (index values, one per input
  /// dimension).
  Value read(OpBuilder &b, Location loc, ValueRange coords) const {
    Type resultType = op.getType().getElementType();
    Value value;
    if (bits == 4) {
      // flat index -> byte flat / 2, nibble flat % 2.
      ArrayRef<int64_t> shape = op.getInput().getType().getShape();
      Value flat = arith::ConstantIndexOp::create(b, loc, 0);
      for (auto [coord, size] : llvm::zip(coords, shape))
        flat = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, flat,
                                  arith::ConstantIndexOp::create(b, loc, size)),
            coord);
      Value two = arith::ConstantIndexOp::create(b, loc, 2);
      Value byte = tensor::ExtractOp::create(
          b, loc, input, ValueRange{arith::DivUIOp::create(b, loc, flat, two)});
      Value odd = arith::IndexCastOp::create(
          b, loc, b.getI8Type(), arith::RemUIOp::create(b, loc, flat, two));
      Value shift = arith::MulIOp::create(
          b, loc, odd, arith::ConstantIntOp::create(b, loc, b.getI8Type(), 4));
      Value nibble = arith::AndIOp::create(
          b, loc, arith::ShRUIOp::create(b, loc, byte, shift),
          arith::ConstantIntOp::create(b, loc, b.getI8Type(), 15));
      if (!isUnsigned) {
        Value eight = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 8);
        nibble = arith::SubIOp::create(
            b, loc, arith::XOrIOp::create(b, loc, nibble, eight), eight);
      }
      value = arith::SIToFPOp::create(b, loc, resultType, nibble);
    } else {
      value = toFloat(b, loc, tensor::ExtractOp::create(b, loc, input, coords),
                      resultType);
    }
    SmallVector<Value> scaleCoords = scaleCoordinates(
        b, loc, op.getGranularity(), op.getScale().getType().getRank(),
        op.getAxis(), op.getBlock(), coords);
    if (zeroPoint) {
      Value zp = tensor::ExtractOp::create(b, loc, zeroPoint, scaleCoords);
      value = arith::SubFOp::create(b, loc, value,
                                    bits == 4 ? arith::SIToFPOp::create(
                                                    b, loc, resultType, zp)
                                                    .getResult()
                                              : toFloat(b, loc, zp, resultType));
    }
    Value s = tensor::ExtractOp::create(b, loc, scale, scaleCoords);
    return arith::MulFOp::create(b, loc, value, convertFloat(b, loc, s, resultType));
  }

private:
  /// An extracted integer (unsigned ones cross to signless first) as a
  /// float.
  Value toFloat(OpBuilder &b, Location loc, Value integer, Type type) const {
    integer = toSignless(b, loc, integer);
    if (isUnsigned)
      return arith::UIToFPOp::create(b, loc, type, integer);
    return arith::SIToFPOp::create(b, loc, type, integer);
  }

  mutable DequantizeOp op;
  Value input, scale, zeroPoint;
  unsigned bits = 0;
  bool isUnsigned = false;
};

/// quantize: one generic, saturate(roundeven(x / scale) + zero point),
/// computed in f32 and converted to the integer type.
struct LowerQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType();
    auto intType = cast<IntegerType>(result.getElementType());
    unsigned width = intType.getWidth();
    // 4-bit values have no memory form outside constants (see
    // DequantizedReader), and f32 holds 32-bit ones only approximately.
    if (width == 4 || width > 16)
      return rewriter.notifyMatchFailure(op, "not 8 or 16 bits");
    bool isUnsigned = intType.isUnsigned();
    double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, width - 1),
           hi = isUnsigned ? std::ldexp(1.0, width) - 1
                           : std::ldexp(1.0, width - 1) - 1;
    Type signless = rewriter.getIntegerType(width);
    Value init = emptyTensor(rewriter, loc, result,
                             dynamicSizes(rewriter, loc, result, op.getInput()));
    int64_t rank = result.getRank();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Value scale = op.getScale(), zeroPoint = op.getZeroPoint();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), ValueRange{op.getInput()}, init,
        SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Type f32 = b.getF32Type();
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<Value> at = scaleCoordinates(
              b, l, op.getGranularity(), op.getScale().getType().getRank(),
              op.getAxis(), op.getBlock(), coords);
          Value x = convertFloat(b, l, args[0], f32);
          Value s = convertFloat(
              b, l, tensor::ExtractOp::create(b, l, scale, at), f32);
          Value v = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, x, s));
          if (zeroPoint) {
            Value zp = toSignless(
                b, l, tensor::ExtractOp::create(b, l, zeroPoint, at));
            v = arith::AddFOp::create(
                b, l, v,
                isUnsigned ? Value(arith::UIToFPOp::create(b, l, f32, zp))
                           : Value(arith::SIToFPOp::create(b, l, f32, zp)));
          }
          v = arith::MaximumFOp::create(b, l, v, scalar(b, l, f32, lo));
          v = arith::MinimumFOp::create(b, l, v, scalar(b, l, f32, hi));
          Value q = isUnsigned
                        ? Value(arith::FPToUIOp::create(b, l, signless, v))
                        : Value(arith::FPToSIOp::create(b, l, signless, v));
          linalg::YieldOp::create(b, l, fromSignless(b, l, q, intType));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// dynamic_quantize: the rows' largest magnitudes (one reduction), their
/// scales m / 127, then one generic that rounds each element by its row's
/// scale (0 where the scale is 0).
struct LowerDynamicQuantize : OpRewritePattern<DynamicQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DynamicQuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value x = op.getInput();
    RankedTensorType input = op.getInput().getType();
    const int64_t rank = input.getRank();
    Type f32 = rewriter.getF32Type(), i8 = rewriter.getIntegerType(8);
    SmallVector<int64_t> rowShape(input.getShape());
    rowShape.back() = 1;
    SmallVector<Value> rowSizes;
    for (int64_t d = 0; d + 1 < rank; ++d)
      if (Value size = dynamicDim(rewriter, loc, x, d))
        rowSizes.push_back(size);
    auto rowType = RankedTensorType::get(rowShape, f32);
    // Row d0..d(r-2), 0: what each element's row reads and writes.
    SmallVector<AffineExpr> rowExprs;
    for (int64_t d = 0; d + 1 < rank; ++d)
      rowExprs.push_back(getAffineDimExpr(d, context));
    rowExprs.push_back(getAffineConstantExpr(0, context));
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank),
              rowMap = AffineMap::get(rank, 0, rowExprs, context);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value maxInit =
        linalg::FillOp::create(rewriter, loc, scalar(rewriter, loc, f32, 0.0),
                               emptyTensor(rewriter, loc, rowType, rowSizes))
            .getResult(0);
    Value largest =
        linalg::GenericOp::create(
            rewriter, loc, rowType, x, maxInit,
            SmallVector<AffineMap>{identity, rowMap}, iterators,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value larger = arith::MaximumFOp::create(
                  b, l, args[1], math::AbsFOp::create(b, l, args[0]));
              linalg::YieldOp::create(b, l, larger);
            })
            .getResult(0);
    Value scale = linalg::GenericOp::create(
                      rewriter, loc, rowType, largest,
                      emptyTensor(rewriter, loc, rowType, rowSizes),
                      SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
                      SmallVector<utils::IteratorType>(
                          rank, utils::IteratorType::parallel),
                      [&](OpBuilder &b, Location l, ValueRange args) {
                        Value quotient = arith::DivFOp::create(
                            b, l, args[0], scalar(b, l, f32, 127.0));
                        linalg::YieldOp::create(b, l, quotient);
                      })
                      .getResult(0);
    RankedTensorType result = op.getResult().getType();
    Value init = emptyTensor(rewriter, loc, result,
                             dynamicSizes(rewriter, loc, result, x));
    Value q =
        linalg::GenericOp::create(
            rewriter, loc, result, ValueRange{x, scale}, init,
            SmallVector<AffineMap>{identity, rowMap, identity},
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value v = math::RoundEvenOp::create(
                  b, l, arith::DivFOp::create(b, l, args[0], args[1]));
              v = arith::MaximumFOp::create(b, l, v, scalar(b, l, f32, -127.0));
              v = arith::MinimumFOp::create(b, l, v, scalar(b, l, f32, 127.0));
              Value zero = scalar(b, l, f32, 0.0);
              Value isZero = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OEQ, args[1], zero);
              v = arith::SelectOp::create(b, l, isZero, zero, v);
              Value q8 = arith::FPToSIOp::create(b, l, i8, v);
              linalg::YieldOp::create(b, l, q8);
            })
            .getResult(0);
    if (scale.getType() != op.getScale().getType())
      scale = tensor::CastOp::create(rewriter, loc, op.getScale().getType(),
                                     scale);
    rewriter.replaceOp(op, {q, scale});
    return success();
  }
};

/// dequantize on its own: one generic that reads each element through a
/// DequantizedReader (a weight that feeds a kernel never gets here).
struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::optional<DequantizedReader> reader =
        DequantizedReader::create(rewriter, loc, op);
    if (!reader)
      return rewriter.notifyMatchFailure(op, "4-bit values not a constant");
    RankedTensorType result = op.getType();
    Value init = emptyTensor(rewriter, loc, result,
                             dynamicSizes(rewriter, loc, result, op.getInput()));
    SmallVector<utils::IteratorType> iterators(result.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, result, ValueRange{}, init,
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(result.getRank())},
        iterators, [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < result.getRank(); ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(b, l, reader->read(b, l, coords));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// gather: each result element reads data at the index from `indices`
/// (negative indices count from the end of the axis; out-of-range ones are
/// clamped, see readableIndex).
///
/// A table that is a sinter.dequantize (a quantized embedding) is read
/// through its integers: only the gathered rows are dequantized. With
/// `onlyQuantized`, the pattern takes only those gathers (the first round
/// of the lowering, before dequantize ops are lowered on their own).
struct LowerGather : OpRewritePattern<GatherOp> {
  LowerGather(MLIRContext *context, bool onlyQuantized = false)
      : OpRewritePattern(context), onlyQuantized(onlyQuantized) {}
  bool onlyQuantized;

  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value data = op.getData(), indices = op.getIndices();
    std::optional<DequantizedReader> table;
    if (auto dq = data.getDefiningOp<DequantizeOp>())
      table = DequantizedReader::create(rewriter, loc, dq);
    if (onlyQuantized && !table)
      return rewriter.notifyMatchFailure(op, "table not quantized");
    RankedTensorType dataType = op.getData().getType(),
                     indexType = op.getIndices().getType(),
                     result = op.getType();
    int64_t axis = op.getAxis(), indexRank = indexType.getRank();
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < result.getRank(); ++d) {
      if (!result.isDynamicDim(d))
        continue;
      if (d < axis)
        sizes.push_back(tensor::DimOp::create(rewriter, loc, data, d));
      else if (d < axis + indexRank)
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, indices, d - axis));
      else
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, data, d - indexRank + 1));
    }
    Value init = emptyTensor(rewriter, loc, result, sizes);
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(getAffineDimExpr(axis + i, context));
    SmallVector<AffineMap> maps = {
        AffineMap::get(result.getRank(), 0, indexExprs, context),
        rewriter.getMultiDimIdentityMap(result.getRank())};
    SmallVector<utils::IteratorType> iterators(result.getRank(),
                                               utils::IteratorType::parallel);
    Value axisSize = tensor::DimOp::create(rewriter, loc, data, axis);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, result, indices, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value index = readableIndex(b, l, args[0], axisSize);
          SmallVector<Value> coords;
          for (int64_t d = 0; d < dataType.getRank(); ++d) {
            if (d < axis)
              coords.push_back(linalg::IndexOp::create(b, l, d));
            else if (d == axis)
              coords.push_back(index);
            else
              coords.push_back(
                  linalg::IndexOp::create(b, l, d + indexRank - 1));
          }
          linalg::YieldOp::create(
              b, l,
              table ? table->read(b, l, coords)
                    : Value(tensor::ExtractOp::create(b, l, data, coords)));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// layer_norm and rms_norm, decomposed: statistics over the trailing
/// dimensions, then one elementwise pass with the scale (and bias).
template <typename OpTy> struct LowerNorm : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isLayerNorm = std::is_same_v<OpTy, LayerNormOp>;
    Location loc = op.getLoc();
    Value x = op.getInput();
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    SmallVector<int64_t> axes =
        llvm::to_vector(llvm::seq<int64_t>(op.getAxis(), type.getRank()));
    auto sub = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      return arith::SubFOp::create(b, l, a[0], a[1]);
    };
    auto square = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      return arith::MulFOp::create(b, l, a[0], a[0]);
    };
    Value centered = x;
    if constexpr (isLayerNorm)
      centered = elementwise(rewriter, loc, type,
                             {x, mean(rewriter, loc, x, axes, true)}, sub);
    Value variance =
        mean(rewriter, loc, elementwise(rewriter, loc, type, centered, square),
             axes, true);
    double epsilon = op.getEpsilon().convertToDouble();
    SmallVector<Value> operands = {centered, variance, op.getScale()};
    if constexpr (isLayerNorm)
      if (Value bias = op.getBias())
        operands.push_back(bias);
    Value result = elementwise(
        rewriter, loc, type, operands,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value shifted = arith::AddFOp::create(
              b, l, a[1], scalar(b, l, elementType, epsilon));
          Value normalized = arith::MulFOp::create(
              b, l, a[0], math::RsqrtOp::create(b, l, shifted));
          Value scaled = arith::MulFOp::create(b, l, normalized, a[2]);
          return a.size() > 3 ? Value(arith::AddFOp::create(b, l, scaled, a[3]))
                              : scaled;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The dynamic sizes of attention's result B x Hq x Sq x Dv: the first
/// three are the query's, the last the value's.
SmallVector<Value> attentionResultSizes(OpBuilder &b, Location loc,
                                        AttentionOp op) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < 4; ++i)
    if (Value size =
            dynamicDim(b, loc, i == 3 ? op.getValue() : op.getQuery(), i))
      sizes.push_back(size);
  return sizes;
}

/// attention, unfused: scores = Q K^T (grouped-query heads read key/value
/// head h / group through the indexing maps, no copies), scaled, masked,
/// softmax over the keys, then P V. With the pass's flash-attention option,
/// LowerAttentionToKernel takes the attention the runtime kernel handles.
struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    RankedTensorType qType = op.getQuery().getType(),
                     kType = op.getKey().getType(), result = op.getType();
    int64_t heads = qType.getDimSize(1), kvHeads = kType.getDimSize(1);
    if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads))
      return rewriter.notifyMatchFailure(op, "dynamic head counts");
    int64_t group = heads / kvHeads;
    Type elementType = result.getElementType();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    AffineExpr kvHead = d(1).floorDiv(group);

    // scores[b, h, i, j] = sum_e q[b, h, i, e] * k[b, h / group, j, e]
    int64_t batch = result.getDimSize(0), sq = qType.getDimSize(2),
            sk = kType.getDimSize(2);
    auto scoresType =
        RankedTensorType::get({batch, heads, sq, sk}, elementType);
    SmallVector<Value> scoreSizes;
    if (Value size = dynamicDim(rewriter, loc, q, 0))
      scoreSizes.push_back(size);
    if (Value size = dynamicDim(rewriter, loc, q, 2))
      scoreSizes.push_back(size);
    if (Value size = dynamicDim(rewriter, loc, k, 2))
      scoreSizes.push_back(size);
    Value scores = contraction(
        rewriter, loc, q, k, zeroFilled(rewriter, loc, scoresType, scoreSizes),
        {AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, context),
         AffineMap::get(5, 0, {d(0), kvHead, d(3), d(4)}, context),
         AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, context)},
        5, 1);

    // Scale, add the mask, hide the future under causal masking (query i
    // sees keys up to i + (Sk - Sq), aligned to the end as in decoding).
    double scale = op.getScale().convertToDouble();
    bool causal = op.getCausal();
    Value offset;
    if (causal)
      offset = arith::SubIOp::create(
          rewriter, loc, tensor::DimOp::create(rewriter, loc, k, 2),
          tensor::DimOp::create(rewriter, loc, q, 2));
    SmallVector<Value> operands = {scores};
    if (Value mask = op.getMask())
      operands.push_back(mask);
    Value masked = elementwise(
        rewriter, loc, scoresType, operands,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = arith::MulFOp::create(b, l, args[0],
                                          scalar(b, l, elementType, scale));
          if (args.size() > 1)
            x = arith::AddFOp::create(b, l, x, args[1]);
          if (!causal)
            return x;
          Value i = linalg::IndexOp::create(b, l, 2);
          Value j = linalg::IndexOp::create(b, l, 3);
          Value last = arith::AddIOp::create(b, l, i, offset);
          Value future =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, j, last);
          Value ninf = arith::ConstantOp::create(
              b, l,
              b.getFloatAttr(
                  elementType,
                  APFloat::getInf(
                      cast<FloatType>(elementType).getFloatSemantics(),
                      /*Negative=*/true)));
          return arith::SelectOp::create(b, l, future, ninf, x);
        },
        scoreSizes);
    Value probabilities = softmax(rewriter, loc, masked, 3, false);

    // out[b, h, i, e] = sum_j p[b, h, i, j] * v[b, h / group, j, e]
    Value out =
        contraction(rewriter, loc, probabilities, v,
                    zeroFilled(rewriter, loc, result,
                               attentionResultSizes(rewriter, loc, op)),
                    {AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, context),
                     AffineMap::get(5, 0, {d(0), kvHead, d(4), d(3)}, context),
                     AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, context)},
                    5, 1);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// A view type of any sizes and strides of `rank` dimensions: what the
/// runtime kernels' C interfaces take.
MemRefType anyView(int64_t rank, Type elementType) {
  return cast<MemRefType>(bufferization::getMemRefTypeWithFullyDynamicLayout(
      RankedTensorType::get(SmallVector<int64_t>(rank, ShapedType::kDynamic),
                            elementType)));
}

MemRefType anyF32View(OpBuilder &b, int64_t rank) {
  return anyView(rank, b.getF32Type());
}

/// The buffer of a tensor the kernel only reads, as anyView.
Value kernelView(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<TensorType>(tensor.getType());
  Value buffer = bufferization::ToBufferOp::create(
      b, loc, bufferization::getMemRefTypeWithFullyDynamicLayout(type), tensor,
      /*readOnly=*/true);
  return memref::CastOp::create(
      b, loc, anyView(type.getRank(), type.getElementType()), buffer);
}

/// Whether `transpose` keeps the last dimension last: the kernels read
/// their operands' rows contiguously, so only such transposes can be views.
bool keepsLastDimension(TransposeOp transpose) {
  ArrayRef<int64_t> perm = transpose.getPerm();
  return !perm.empty() && perm.back() == int64_t(perm.size()) - 1;
}

/// `buffer` viewed with its dimensions permuted as sinter.transpose's `perm`
/// permutes them (result dimension i is dimension perm[i]).
Value transposedView(OpBuilder &b, Location loc, Value buffer,
                     ArrayRef<int64_t> perm) {
  SmallVector<unsigned> order(perm.begin(), perm.end());
  return memref::TransposeOp::create(
      b, loc, buffer,
      AffineMapAttr::get(AffineMap::getPermutationMap(order, b.getContext())));
}

/// The buffer of `tensor` as a strided view read in place through the ops
/// that only rearrange a producer's elements: a transpose that keeps the
/// last dimension innermost, a reshape that splits dimensions or merges
/// ones contiguous in the view, a piece of a split. A kernel that takes
/// strided operands then reads, say, one head's queries straight out of the
/// merged Q, K, V product instead of out of the copies that the transpose
/// and the split would make. Static shapes only (anything else is the
/// tensor's own buffer); read-only.
Value stridedView(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto ownBuffer = [&]() -> Value {
    return bufferization::ToBufferOp::create(
        b, loc, bufferization::getMemRefTypeWithFullyDynamicLayout(type),
        tensor, /*readOnly=*/true);
  };
  if (!type.hasStaticShape())
    return ownBuffer();
  if (auto transpose = tensor.getDefiningOp<TransposeOp>();
      transpose && keepsLastDimension(transpose))
    return transposedView(b, loc, stridedView(b, loc, transpose.getInput()),
                          transpose.getPerm());
  if (auto reshape = tensor.getDefiningOp<ReshapeOp>();
      reshape && reshape.getInput().getType().hasStaticShape()) {
    RankedTensorType input = reshape.getInput().getType();
    const bool splits = input.getRank() < type.getRank(),
               merges = input.getRank() > type.getRank();
    // The reshape's dimension groups, seen from the side with fewer.
    std::optional<SmallVector<ReassociationIndices>> groups;
    if (splits)
      groups = getReassociationIndicesForCollapse(type.getShape(),
                                                  input.getShape());
    else if (merges)
      groups = getReassociationIndicesForCollapse(input.getShape(),
                                                  type.getShape());
    if (groups && splits) {
      Value source = stridedView(b, loc, reshape.getInput());
      FailureOr<MemRefType> expanded =
          memref::ExpandShapeOp::computeExpandedType(
              cast<MemRefType>(source.getType()), type.getShape(), *groups);
      if (succeeded(expanded))
        return memref::ExpandShapeOp::create(b, loc, *expanded, source,
                                             *groups);
    } else if (groups && merges) {
      // Merged dimensions are a view where they are contiguous in the
      // source's strides: the unit axis a split left, say (timm's ViT
      // splits [3, B, H, S, D] into [1, B, H, S, D] pieces and reshapes
      // them to [B, H, S, D]).
      Value source = stridedView(b, loc, reshape.getInput());
      if (memref::CollapseShapeOp::isGuaranteedCollapsible(
              cast<MemRefType>(source.getType()), *groups))
        return memref::CollapseShapeOp::create(b, loc, source, *groups);
    }
  }
  if (auto split = tensor.getDefiningOp<SplitOp>();
      split && split.getInput().getType().hasStaticShape()) {
    ArrayRef<int64_t> before = split.getSizes().take_front(
        cast<OpResult>(tensor).getResultNumber());
    const int64_t offset =
        std::accumulate(before.begin(), before.end(), int64_t(0));
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)),
        sizes, strides(type.getRank(), b.getIndexAttr(1));
    offsets[split.getAxis()] = b.getIndexAttr(offset);
    for (int64_t size : type.getShape())
      sizes.push_back(b.getIndexAttr(size));
    return memref::SubViewOp::create(
        b, loc, stridedView(b, loc, split.getInput()), offsets, sizes,
        strides);
  }
  return ownBuffer();
}

/// stridedView as anyView: what a kernel's C interface takes.
Value inPlaceView(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return memref::CastOp::create(b, loc,
                                anyView(type.getRank(), type.getElementType()),
                                stridedView(b, loc, tensor));
}

/// The declaration of runtime kernel `name` in the module, made on first
/// use: private, called through its C interface, and known not to keep
/// pointers to its arguments (so that its result buffers can live in the
/// arena).
func::FuncOp declareKernel(OpBuilder &b, ModuleOp module, Location loc,
                           StringRef name, FunctionType type) {
  if (auto kernel = module.lookupSymbol<func::FuncOp>(name))
    return kernel;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto kernel = func::FuncOp::create(b, loc, name, type);
  kernel.setPrivate();
  kernel->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  b.getUnitAttr());
  kernel->setAttr(kNoCaptureAttr, b.getUnitAttr());
  return kernel;
}

/// An attention mask with leading 1s up to rank 4 (the kernels broadcast
/// them); null stays null.
Value maskAsRank4(OpBuilder &b, Location loc, Value mask) {
  if (!mask || tensorType(mask).getRank() >= 4)
    return mask;
  SmallVector<int64_t> shape(4 - tensorType(mask).getRank(), 1);
  llvm::append_range(shape, tensorType(mask).getShape());
  auto type = RankedTensorType::get(shape, tensorType(mask).getElementType());
  return ReshapeOp::create(b, loc, type, mask,
                           broadcastSizes(b, loc, type, mask), shape);
}

/// f32 attention as a call of the runtime's flash-attention kernel
/// (runtime/src/attention.c): an online softmax over blocks of keys, so the
/// Sq x Sk scores never exist (LowerAttention's contractions materialize
/// them). The kernel reads strided views of Q, K, V and the mask, in place
/// through the transposes and splits that separate the heads
/// (inPlaceView), and writes a new buffer, which bufferization takes as the
/// op's result; when the only user transposes the heads back (keeping the
/// last dimension innermost), the kernel writes that transpose's buffer
/// through the inverse view instead. Runs before the ops it reads through
/// are lowered (the first round of ConvertSinterToLinalg).
struct LowerAttentionToKernel : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType();
    Type f32 = rewriter.getF32Type();
    auto isF32 = [&](Value v) {
      return !v || getElementTypeOrSelf(v.getType()) == f32;
    };
    auto fitsKernel = [](int64_t headDim) {
      return !ShapedType::isDynamic(headDim) &&
             headDim <= SINTER_ATTENTION_MAX_HEAD_DIM;
    };
    auto module = op->getParentOfType<ModuleOp>();
    if (!isF32(op.getQuery()) || !isF32(op.getKey()) || !isF32(op.getValue()) ||
        !isF32(op.getMask()) ||
        !fitsKernel(op.getQuery().getType().getDimSize(3)) ||
        !fitsKernel(op.getValue().getType().getDimSize(3)) ||
        ShapedType::isDynamic(op.getKey().getType().getDimSize(1)) || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");

    MemRefType anyView = anyF32View(rewriter, 4);
    auto view = [&](Value tensor) {
      return inPlaceView(rewriter, loc, tensor);
    };
    Value mask = maskAsRank4(rewriter, loc, op.getMask());
    TransposeOp heldBack;
    if (op->hasOneUse() && result.hasStaticShape())
      if (auto user = dyn_cast<TransposeOp>(*op->user_begin());
          user && keepsLastDimension(user))
        heldBack = user;
    // With heldBack, the buffer is in the transpose's order and the kernel
    // writes it through the inverse permutation (the result's shape).
    Value out = memref::AllocOp::create(
        rewriter, loc,
        MemRefType::get(heldBack ? heldBack.getType().getShape()
                                 : result.getShape(),
                        f32),
        heldBack ? SmallVector<Value>()
                 : attentionResultSizes(rewriter, loc, op),
        rewriter.getI64IntegerAttr(64));
    Value outView =
        heldBack ? transposedView(rewriter, loc, out,
                                  invertPermutationVector(heldBack.getPerm()))
                 : out;

    func::FuncOp kernel = declareKernel(
        rewriter, module, loc, SINTER_ATTENTION_KERNEL,
        rewriter.getFunctionType({anyView, anyView, anyView, anyView, anyView,
                                  f32, rewriter.getI32Type()},
                                 {}));
    Value q = view(op.getQuery());
    int32_t flags = (op.getCausal() ? SINTER_ATTENTION_CAUSAL : 0) |
                    (mask ? SINTER_ATTENTION_HAS_MASK : 0);
    SmallVector<Value> operands = {
        q,
        view(op.getKey()),
        view(op.getValue()),
        mask ? view(mask) : q,
        memref::CastOp::create(rewriter, loc, anyView, outView),
        scalar(rewriter, loc, f32, op.getScale().convertToDouble()),
        arith::ConstantOp::create(rewriter, loc,
                                  rewriter.getI32IntegerAttr(flags))};
    func::CallOp::create(rewriter, loc, kernel, operands);
    Operation *replaced = heldBack ? heldBack.getOperation() : op;
    rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
        replaced, replaced->getResult(0).getType(), out, /*restrict=*/true,
        /*writable=*/true);
    if (heldBack)
      rewriter.eraseOp(op);
    return success();
  }
};

/// add_norm, decomposed: the add, then the norm (which LowerNorm lowers).
struct LowerAddNorm : OpRewritePattern<AddNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value sum = AddOp::create(rewriter, loc, op.getInput(), op.getResidual());
    Value normalized =
        op.getKind() == NormKind::Rms
            ? Value(RmsNormOp::create(rewriter, loc, sum, op.getScale(),
                                      op.getAxis(), op.getEpsilon()))
            : Value(LayerNormOp::create(rewriter, loc, sum, op.getScale(),
                                        op.getBias(), op.getAxis(),
                                        op.getEpsilon()));
    rewriter.replaceOp(op, {sum, normalized});
    return success();
  }
};

/// `value` with a leading dimension of 1.
Value addLeadingUnit(OpBuilder &b, Location loc, Value value) {
  RankedTensorType type = tensorType(value);
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, type.getShape());
  SmallVector<ReassociationIndices> groups = {{0, 1}};
  for (int64_t d = 1; d < type.getRank(); ++d)
    groups.push_back({d + 1});
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  llvm::append_range(sizes, tensor::getMixedSizes(b, loc, value));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      groups, sizes);
}

/// `value` (rank r, normalized from `axis`) as the norm kernel's 2-D
/// [rows, cols]: dimensions before `axis` flattened into rows, the others
/// into cols. A leading 1 stands in for the rows when `axis` is 0.
Value normRows(OpBuilder &b, Location loc, Value value, int64_t axis) {
  if (axis == 0) {
    value = addLeadingUnit(b, loc, value);
    axis = 1;
  }
  int64_t rank = tensorType(value).getRank();
  if (rank == 2 && axis == 1)
    return value;
  SmallVector<ReassociationIndices> groups = {
      llvm::to_vector(llvm::seq<int64_t>(0, axis)),
      llvm::to_vector(llvm::seq<int64_t>(axis, rank))};
  return tensor::CollapseShapeOp::create(b, loc, value, groups);
}

/// The inverse of normRows: `rows` [rows, cols] back in the shape of
/// `like`.
Value unflattenRows(OpBuilder &b, Location loc, Value rows, Value like,
                    int64_t axis) {
  RankedTensorType type = tensorType(like);
  int64_t rank = type.getRank();
  if (rank == 2 && axis == 1)
    return rows;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  SmallVector<int64_t> shape(type.getShape());
  if (axis == 0) {
    sizes.insert(sizes.begin(), b.getIndexAttr(1));
    shape.insert(shape.begin(), 1);
    ++axis;
    ++rank;
  }
  SmallVector<ReassociationIndices> groups = {
      llvm::to_vector(llvm::seq<int64_t>(0, axis)),
      llvm::to_vector(llvm::seq<int64_t>(axis, rank))};
  Value result = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), rows,
      groups, sizes);
  if (rank == type.getRank())
    return result;
  SmallVector<ReassociationIndices> dropLeading = {{0, 1}};
  for (int64_t d = 2; d < rank; ++d)
    dropLeading.push_back({d});
  return tensor::CollapseShapeOp::create(b, loc, result, dropLeading);
}

/// f32 layer_norm, rms_norm and add_norm as one call of the runtime's norm
/// kernel (runtime/src/norm.c), which reads each row once where the
/// decomposition makes a pass over the whole tensor per statistic.
template <typename OpTy> struct LowerNormToKernel : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto module = op->template getParentOfType<ModuleOp>();
    Value input = op.getInput(), residual, bias;
    int32_t flags = 0;
    if constexpr (std::is_same_v<OpTy, AddNormOp>) {
      residual = op.getResidual();
      bias = op.getBias();
      flags |= SINTER_NORM_HAS_RESIDUAL;
      if (op.getKind() == NormKind::Rms)
        flags |= SINTER_NORM_RMS;
    } else if constexpr (std::is_same_v<OpTy, LayerNormOp>) {
      bias = op.getBias();
    } else {
      flags |= SINTER_NORM_RMS;
    }
    if (bias)
      flags |= SINTER_NORM_HAS_BIAS;
    if (getElementTypeOrSelf(input.getType()) != f32 || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");

    int64_t axis = op.getAxis();
    auto asVector = [&](Value weights) -> Value {
      if (tensorType(weights).getRank() == 1)
        return weights;
      return tensor::CollapseShapeOp::create(
          rewriter, loc, weights,
          SmallVector<ReassociationIndices>{llvm::to_vector(
              llvm::seq<int64_t>(0, tensorType(weights).getRank()))});
    };
    Value rows = normRows(rewriter, loc, input, axis);
    RankedTensorType rowsType = tensorType(rows);
    SmallVector<Value> rowsSizes;
    for (int64_t d = 0; d < 2; ++d)
      if (Value size = dynamicDim(rewriter, loc, rows, d))
        rowsSizes.push_back(size);
    auto allocRows = [&]() -> Value {
      return memref::AllocOp::create(
          rewriter, loc, MemRefType::get(rowsType.getShape(), f32), rowsSizes,
          rewriter.getI64IntegerAttr(64));
    };

    MemRefType matrix = anyF32View(rewriter, 2), vector = anyF32View(rewriter, 1);
    func::FuncOp kernel = declareKernel(
        rewriter, module, loc, SINTER_NORM_KERNEL,
        rewriter.getFunctionType(
            {matrix, matrix, vector, vector, matrix, matrix, f32,
             rewriter.getI32Type()},
            {}));
    Value x = kernelView(rewriter, loc, rows);
    Value scale = kernelView(rewriter, loc, asVector(op.getScale()));
    Value out = allocRows(), sum;
    if (residual)
      sum = allocRows();
    SmallVector<Value> operands = {
        x,
        residual ? kernelView(rewriter, loc,
                              normRows(rewriter, loc, residual, axis))
                 : x,
        scale,
        bias ? kernelView(rewriter, loc, asVector(bias)) : scale,
        memref::CastOp::create(rewriter, loc, matrix, out),
        sum ? Value(memref::CastOp::create(rewriter, loc, matrix, sum)) : x,
        scalar(rewriter, loc, f32, op.getEpsilon().convertToDouble()),
        arith::ConstantOp::create(rewriter, loc,
                                  rewriter.getI32IntegerAttr(flags))};
    func::CallOp::create(rewriter, loc, kernel, operands);
    auto result = [&](Value buffer) {
      Value tensor = bufferization::ToTensorOp::create(
          rewriter, loc, rowsType, buffer, /*restrict=*/true,
          /*writable=*/true);
      return unflattenRows(rewriter, loc, tensor, input, axis);
    };
    if (residual)
      rewriter.replaceOp(op, {result(sum), result(out)});
    else
      rewriter.replaceOp(op, result(out));
    return success();
  }
};


/// `value` (rank >= 2) as [batch, rows, cols] for the matmul kernel: with
/// `flattenRows`, every leading dimension is folded into the rows under a
/// batch of 1; otherwise the leading dimensions are folded into the batch
/// (a batch of 1 when there are none).
Value asBatchedMatrix(OpBuilder &b, Location loc, Value value,
                      bool flattenRows) {
  int64_t rank = tensorType(value).getRank();
  if (rank == 2)
    return addLeadingUnit(b, loc, value);
  if (flattenRows)
    return addLeadingUnit(
        b, loc,
        tensor::CollapseShapeOp::create(
            b, loc, value,
            SmallVector<ReassociationIndices>{
                llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)),
                {rank - 1}}));
  if (rank == 3)
    return value;
  return tensor::CollapseShapeOp::create(
      b, loc, value,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)), {rank - 2},
          {rank - 1}});
}

/// A constant weight packed at compile time into the matmul kernel's layout
/// for B (SINTER_MATMUL_PACKED_B in runtime.h): for each of the `batch`
/// matrices, ceil(N / 16) slivers of K x 16, zero-padded. `weight` holds
/// the matrices as [batch, K, N], or [batch, N, K] with `transposed`. Null
/// when the weight is not a constant.
Value packedWeight(OpBuilder &b, Location loc, Value weight, int64_t batch,
                   int64_t k, int64_t n, bool transposed) {
  std::optional<std::vector<float>> values = f32Elements(weight);
  if (!values || int64_t(values->size()) != batch * k * n)
    return Value();
  const int64_t width = SINTER_MATMUL_PACK_WIDTH;
  int64_t slivers = (n + width - 1) / width;
  std::vector<float> packed(batch * slivers * k * width, 0.0f);
  for (int64_t p = 0; p < batch; ++p) {
    const float *matrix = values->data() + p * k * n;
    float *out = packed.data() + p * slivers * k * width;
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < k; ++i)
        out[(j / width) * k * width + i * width + j % width] =
            transposed ? matrix[j * k + i] : matrix[i * n + j];
  }
  auto type = RankedTensorType::get({batch, slivers, k * width}, b.getF32Type());
  ArrayRef<char> bytes(reinterpret_cast<const char *>(packed.data()),
                       packed.size() * sizeof(float));
  auto attr = DenseResourceElementsAttr::get(
      type, "sinter_packed_weight",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(float)));
  return arith::ConstantOp::create(b, loc, attr);
}

/// The view of an f32 bias for a kernel, or (without one) any 1-D
/// descriptor, which the kernel does not read without its bias flag.
Value biasOrEmpty(OpBuilder &b, Location loc, Value bias) {
  if (bias)
    return kernelView(b, loc, bias);
  return memref::CastOp::create(
      b, loc, anyF32View(b, 1),
      memref::AllocaOp::create(b, loc, MemRefType::get({0}, b.getF32Type())));
}

/// One call of the runtime's matmul kernel: C = A B (+ bias) on the
/// [batch, rows, cols] views `a` and `b` (b read as [batch, N, K] with
/// `transposeB`), returning C as a [batch, M, N] tensor; `batchFrom` is
/// the view whose batch C has. With `packedB` (packedWeight of b), the
/// kernel reads that instead and b only gives the shapes.
Value callMatmulKernel(OpBuilder &b, Location loc, ModuleOp module, Value a,
                       Value bMatrix, Value bias, bool transposeB,
                       Value batchFrom, Value packedB = Value()) {
  Type f32 = b.getF32Type();
  RankedTensorType aType = tensorType(a), bType = tensorType(bMatrix);
  int64_t nDim = transposeB ? 1 : 2;
  SmallVector<int64_t> shape = {tensorType(batchFrom).getDimSize(0),
                                aType.getDimSize(1), bType.getDimSize(nDim)};
  SmallVector<Value> sizes;
  for (auto [value, dim] : {std::make_pair(batchFrom, int64_t(0)),
                            std::make_pair(a, int64_t(1)),
                            std::make_pair(bMatrix, nDim)})
    if (Value size = dynamicDim(b, loc, value, dim))
      sizes.push_back(size);
  Value out = memref::AllocOp::create(b, loc, MemRefType::get(shape, f32),
                                      sizes, b.getI64IntegerAttr(64));
  MemRefType matrices = anyF32View(b, 3), vector = anyF32View(b, 1);
  func::FuncOp kernel = declareKernel(
      b, module, loc, SINTER_MATMUL_KERNEL,
      b.getFunctionType({matrices, matrices, vector, matrices, b.getI32Type()},
                        {}));
  Value aView = kernelView(b, loc, a);
  int32_t flags = (transposeB ? SINTER_MATMUL_TRANSPOSE_B : 0) |
                  (bias ? SINTER_MATMUL_HAS_BIAS : 0) |
                  (packedB ? SINTER_MATMUL_PACKED_B : 0);
  func::CallOp::create(
      b, loc, kernel,
      ValueRange{aView, kernelView(b, loc, packedB ? packedB : bMatrix),
                 biasOrEmpty(b, loc, bias),
                 memref::CastOp::create(b, loc, matrices, out),
                 arith::ConstantOp::create(b, loc,
                                           b.getI32IntegerAttr(flags))});
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(shape, f32), out, /*restrict=*/true,
      /*writable=*/true);
}

/// The kernel's [batch, M, N] result in the op's result shape: either the
/// rows unfolded (`flattenedRows`: [1, P, N] into [..., N]) or the batch.
Value fromBatchedMatrix(OpBuilder &b, Location loc, Value c,
                        RankedTensorType result, ValueRange likeDims,
                        bool flattenedRows) {
  int64_t rank = result.getRank();
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d)
    sizes.push_back(result.isDynamicDim(d) ? OpFoldResult(likeDims[d])
                                           : b.getIndexAttr(result.getDimSize(d)));
  SmallVector<ReassociationIndices> groups;
  if (flattenedRows) {
    // [1, P, N] -> [P, N] -> result.
    c = tensor::CollapseShapeOp::create(
        b, loc, c, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    if (rank == 2)
      return c;
    groups = {llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), {rank - 1}};
  } else {
    if (rank == 3)
      return c;
    if (rank == 2)
      return tensor::CollapseShapeOp::create(
          b, loc, c, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    groups = {llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)), {rank - 2},
              {rank - 1}};
  }
  return tensor::ExpandShapeOp::create(b, loc, result, c, groups, sizes);
}

/// The result's sizes as values (null where static), for fromBatchedMatrix.
SmallVector<Value> resultDims(OpBuilder &b, Location loc,
                              RankedTensorType result,
                              function_ref<Value(int64_t)> dynamicSize) {
  SmallVector<Value> dims;
  for (int64_t d = 0; d < result.getRank(); ++d)
    dims.push_back(result.isDynamicDim(d) ? dynamicSize(d) : Value());
  return dims;
}

/// A dequantized constant weight packed at compile time for the quantized
/// kernel (sinter_qweight_pack): the integers, scales and zero points
/// re-laid per output column n and group of k. The weight is [K, N], [N, K]
/// with `transposed`, or a batch of [K, N] matrices (MoE experts). Null when
/// it is not one the kernel reads: its scales must be per output channel,
/// per tensor or in blocks along k, its integers 4 or 8 bits.
Value packedQuantizedWeight(OpBuilder &b, Location loc, DequantizeOp dq,
                            bool transposed) {
  RankedTensorType type = dq.getType(), input = dq.getInput().getType();
  const int64_t rank = type.getRank();
  if (!type.getElementType().isF32() || !type.hasStaticShape() || rank < 2 ||
      (transposed && rank != 2))
    return Value();
  const int64_t kAxis = transposed ? 1 : rank - 2,
                nAxis = transposed ? 0 : rank - 1;
  const int64_t n = type.getDimSize(nAxis), k = type.getDimSize(kAxis);
  const int64_t batch = type.getNumElements() / (n * k);
  auto intType = cast<IntegerType>(input.getElementType());
  const unsigned bits = intType.getWidth();
  if (bits != 4 && bits != 8)
    return Value();
  int64_t group;
  DequantizeOp::Granularity granularity = dq.getGranularity();
  if (granularity == DequantizeOp::Granularity::Block && int64_t(dq.getAxis()) == kAxis)
    group = dq.getBlock();
  else if (granularity == DequantizeOp::Granularity::Axis &&
           int64_t(dq.getAxis()) == nAxis && rank == 2)
    group = k;
  else if (granularity == DequantizeOp::Granularity::Tensor)
    group = k;
  else
    return Value();
  std::optional<std::vector<int64_t>> q = integerElements(dq.getInput());
  std::optional<std::vector<float>> scales = floatElements(dq.getScale());
  std::optional<std::vector<int64_t>> zeroPoints;
  if (dq.getZeroPoint()) {
    zeroPoints = integerElements(dq.getZeroPoint());
    if (!zeroPoints)
      return Value();
  }
  if (!q || !scales || int64_t(q->size()) != batch * n * k)
    return Value();
  const int64_t groups = (k + group - 1) / group;
  // Where matrix p's (n, group g) finds its scale and zero point in dq's
  // operands.
  auto scaleAt = [&](int64_t p, int64_t j, int64_t g) -> int64_t {
    switch (granularity) {
    case DequantizeOp::Granularity::Tensor:
      return 0;
    case DequantizeOp::Granularity::Axis:
      return j;
    case DequantizeOp::Granularity::Block:
      return p * groups * n + (transposed ? j * groups + g : g * n + j);
    }
    llvm_unreachable("granularity");
  };
  // The kernel's integers: 4 bits unsigned with zero points, 8 bits signed
  // (unsigned ones shifted by 128, their zero points with them).
  const int64_t shift =
      bits == 4 ? (intType.isUnsigned() ? 0 : 8) : (intType.isUnsigned() ? -128 : 0);
  std::vector<int8_t> kernelQ(batch * n * k),
      kernelZeroPoints(batch * n * groups);
  std::vector<float> kernelScales(batch * n * groups);
  bool anyZeroPoint = bits == 4 || shift != 0;
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t row = p * n + j;
      for (int64_t i = 0; i < k; ++i)
        kernelQ[row * k + i] = int8_t(
            (*q)[p * n * k + (transposed ? j * k + i : i * n + j)] + shift);
      for (int64_t g = 0; g < groups; ++g) {
        int64_t at = scaleAt(p, j, g);
        kernelScales[row * groups + g] = (*scales)[at];
        int64_t zp = (zeroPoints ? (*zeroPoints)[at] : 0) + shift;
        kernelZeroPoints[row * groups + g] = int8_t(zp);
        anyZeroPoint |= zp != 0;
      }
    }
  sinter_qweight_desc desc = {
      int32_t(bits),
      (anyZeroPoint ? SINTER_QWEIGHT_ZERO_POINTS : 0) |
          (dq.getScale().getType().getElementType().isBF16()
               ? SINTER_QWEIGHT_SCALES_BF16
               : 0),
      batch, n, k, group};
  int64_t size = sinter_qweight_packed_size(&desc);
  if (size < 0)
    return Value();
  std::vector<char> packed(size);
  if (sinter_qweight_pack(&desc, kernelQ.data(), kernelScales.data(),
                          anyZeroPoint ? kernelZeroPoints.data() : nullptr,
                          packed.data()) != 0)
    return Value();
  auto attr = DenseResourceElementsAttr::get(
      RankedTensorType::get({size}, b.getIntegerType(8)),
      "sinter_packed_qweight",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(packed, 64));
  return arith::ConstantOp::create(b, loc, attr);
}

/// One call of the runtime's quantized matmul kernel: C = A W (+ bias) on
/// the [batch or 1, M, K] view `a` and the packed weight
/// (packedQuantizedWeight) of N output columns; returns C as a [batch, M,
/// N] tensor, its batch that of the [batch, ...] view `batchFrom` (a, or
/// the batch of weights). An f32 `a` runs sinter_qmatmul_f32; an int8 one
/// (W8A8) runs sinter_qmatmul_i8 with `aScales`, a 1-D tensor of one scale
/// or (`rowScales`) one per row of the view, and the zero point of its
/// values (uint8 ones with `aUnsigned`).
Value callQMatmulKernel(OpBuilder &b, Location loc, ModuleOp module, Value a,
                        Value packed, int64_t n, Value bias, Value batchFrom,
                        int64_t batch, Value aScales = Value(),
                        bool rowScales = false, int32_t aZeroPoint = 0,
                        bool aUnsigned = false) {
  Type f32 = b.getF32Type(), i8 = b.getIntegerType(8);
  SmallVector<int64_t> shape = {batch, tensorType(a).getDimSize(1), n};
  SmallVector<Value> sizes;
  if (ShapedType::isDynamic(batch))
    sizes.push_back(dynamicDim(b, loc, batchFrom, 0));
  if (Value rows = dynamicDim(b, loc, a, 1))
    sizes.push_back(rows);
  Value out = memref::AllocOp::create(b, loc, MemRefType::get(shape, f32),
                                      sizes, b.getI64IntegerAttr(64));
  MemRefType matrices = anyF32View(b, 3), vector = anyF32View(b, 1);
  const bool int8 = tensorType(a).getElementType().isInteger(8);
  int32_t flags = (bias ? SINTER_QMATMUL_HAS_BIAS : 0) |
                  (int8 && rowScales ? SINTER_QMATMUL_ROW_SCALES : 0) |
                  (int8 && aUnsigned ? SINTER_QMATMUL_A_UNSIGNED : 0);
  SmallVector<Type> types = {anyView(3, int8 ? i8 : f32)};
  SmallVector<Value> args = {kernelView(b, loc, a)};
  // uint8 crosses as the same bytes (the flags tell the kernel, and its
  // declaration takes one element type): a cast that the LLVM lowering
  // removes, as toSignless's.
  if (args[0].getType() != types[0])
    args[0] = UnrealizedConversionCastOp::create(b, loc, types[0], args[0])
                  .getResult(0);
  if (int8) {
    types.append({vector, b.getI32Type()});
    args.append({kernelView(b, loc, aScales),
                 arith::ConstantOp::create(b, loc,
                                           b.getI32IntegerAttr(aZeroPoint))});
  }
  types.append({anyView(1, i8), vector, matrices, b.getI32Type()});
  args.append({kernelView(b, loc, packed), biasOrEmpty(b, loc, bias),
               memref::CastOp::create(b, loc, matrices, out),
               arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(flags))});
  func::FuncOp kernel = declareKernel(
      b, module, loc, int8 ? SINTER_QMATMUL_I8_KERNEL : SINTER_QMATMUL_KERNEL,
      b.getFunctionType(types, {}));
  func::CallOp::create(b, loc, kernel, args);
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(shape, f32), out, /*restrict=*/true,
      /*writable=*/true);
}

/// f32 linear as one call of the runtime's matmul kernel: the leading
/// input dimensions are the rows, the weight read in place (transposed or
/// not), the bias the kernel's starting value.
struct LowerLinearToKernel : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType result = op.getType();
    if (result.getElementType() != f32 || result.getRank() < 2 || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");
    Value a = asBatchedMatrix(rewriter, loc, op.getInput(), true);
    Value w = addLeadingUnit(rewriter, loc, op.getWeight());
    RankedTensorType weight = op.getWeight().getType();
    bool transposed = op.getTransposeWeight();
    Value packed;
    if (weight.hasStaticShape())
      packed = packedWeight(rewriter, loc, op.getWeight(), 1,
                            weight.getDimSize(transposed ? 1 : 0),
                            weight.getDimSize(transposed ? 0 : 1), transposed);
    Value c = callMatmulKernel(rewriter, loc, module, a, w, op.getBias(),
                               transposed, a, packed);
    SmallVector<Value> dims =
        resultDims(rewriter, loc, result, [&](int64_t d) -> Value {
          if (d < result.getRank() - 1)
            return tensor::DimOp::create(rewriter, loc, op.getInput(), d);
          return tensor::DimOp::create(rewriter, loc, op.getWeight(),
                                       op.getTransposeWeight() ? 0 : 1);
        });
    rewriter.replaceOp(
        op, fromBatchedMatrix(rewriter, loc, c, result, dims, true));
    return success();
  }
};

/// f32 linear by a dequantized constant weight as one call of the
/// runtime's quantized kernel, which reads the integers packed at compile
/// time (packedQuantizedWeight): the f32 weight never exists. Weights the
/// kernel cannot read keep the dequantize + linear lowering.
struct LowerQuantizedLinearToKernel : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType result = op.getType();
    auto dq = op.getWeight().getDefiningOp<DequantizeOp>();
    if (!dq || !result.getElementType().isF32() || result.getRank() < 2 ||
        !module)
      return rewriter.notifyMatchFailure(op, "not a quantized f32 linear");
    bool transposed = op.getTransposeWeight();
    Value packed = packedQuantizedWeight(rewriter, loc, dq, transposed);
    if (!packed)
      return rewriter.notifyMatchFailure(op, "weight not for the kernel");
    RankedTensorType weight = op.getWeight().getType();
    int64_t n = weight.getDimSize(transposed ? 0 : 1);
    Value a = asBatchedMatrix(rewriter, loc, op.getInput(), true);
    Value c = callQMatmulKernel(rewriter, loc, module, a, packed, n,
                                op.getBias(), a, 1);
    SmallVector<Value> dims =
        resultDims(rewriter, loc, result, [&](int64_t d) -> Value {
          return tensor::DimOp::create(rewriter, loc, op.getInput(), d);
        });
    rewriter.replaceOp(
        op, fromBatchedMatrix(rewriter, loc, c, result, dims, true));
    return success();
  }
};

/// `value` as a 1-D tensor of its elements (row-major).
Value flattened(OpBuilder &b, Location loc, Value value) {
  RankedTensorType type = tensorType(value);
  if (type.getRank() == 1)
    return value;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1}, type.getElementType()), value,
        SmallVector<ReassociationIndices>{});
  return tensor::CollapseShapeOp::create(
      b, loc, value,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
}

/// W8A8: f32 linear whose input is dequantized int8 activations (one f32
/// scale, or one per row: sinter.quantize with a calibrated scale,
/// sinter.dynamic_quantize) and whose weight is a per-column int8
/// constant, as one call of sinter_qmatmul_i8 on the integers of both:
/// neither side exists in f32.
struct LowerW8A8LinearToKernel : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType result = op.getType();
    auto weight = op.getWeight().getDefiningOp<DequantizeOp>();
    auto input = op.getInput().getDefiningOp<DequantizeOp>();
    bool transposed = op.getTransposeWeight();
    if (!weight || !input || !result.getElementType().isF32() ||
        result.getRank() < 2 || !module ||
        !weight.isPerColumnInt8(transposed ? 1 : 0))
      return rewriter.notifyMatchFailure(op, "not an int8 x int8 linear");
    RankedTensorType activations = input.getInput().getType();
    const int64_t rank = activations.getRank();
    auto intType = dyn_cast<IntegerType>(activations.getElementType());
    if (!intType || intType.getWidth() != 8 || intType.isSigned() ||
        !input.getScale().getType().getElementType().isF32() ||
        activations.isDynamicDim(rank - 1))
      return rewriter.notifyMatchFailure(op, "input not 8-bit with f32 scales");
    // A zero point: one constant for the whole tensor (imported QDQ).
    int32_t zeroPoint = 0;
    if (Value zp = input.getZeroPoint()) {
      std::optional<std::vector<int64_t>> values = integerElements(zp);
      if (!values || values->size() != 1)
        return rewriter.notifyMatchFailure(op, "zero point not one constant");
      zeroPoint = int32_t(values->front());
    }
    bool rowScales;
    switch (input.getGranularity()) {
    case DequantizeOp::Granularity::Tensor:
      rowScales = false;
      break;
    case DequantizeOp::Granularity::Block:
      rowScales = int64_t(input.getAxis()) == rank - 1 &&
                  int64_t(input.getBlock()) >= activations.getDimSize(rank - 1);
      if (rowScales)
        break;
      [[fallthrough]];
    default:
      return rewriter.notifyMatchFailure(op, "input scales not per row");
    }
    Value packed = packedQuantizedWeight(rewriter, loc, weight, transposed);
    if (!packed)
      return rewriter.notifyMatchFailure(op, "weight not for the kernel");
    int64_t n = op.getWeight().getType().getDimSize(transposed ? 0 : 1);
    Value a = asBatchedMatrix(rewriter, loc, input.getInput(), true);
    Value c = callQMatmulKernel(
        rewriter, loc, module, a, packed, n, op.getBias(), a, 1,
        flattened(rewriter, loc, input.getScale()), rowScales, zeroPoint,
        intType.isUnsigned());
    SmallVector<Value> dims =
        resultDims(rewriter, loc, result, [&](int64_t d) -> Value {
          return tensor::DimOp::create(rewriter, loc, op.getInput(), d);
        });
    rewriter.replaceOp(
        op, fromBatchedMatrix(rewriter, loc, c, result, dims, true));
    return success();
  }
};

/// f32 matmul of matrices (rank >= 2 both) as one call of the runtime's
/// matmul kernel: by a 2-D right side, the left side's leading dimensions
/// are rows; otherwise the batch dimensions, equal on both sides or all 1
/// on one side (broadcast; a 2-D left side broadcasts too), fold into one
/// batch. Vectors and other broadcasts keep the contraction.
///
/// A right side that is a dequantized constant (a quantized weight, MoE
/// experts) runs as the quantized kernel; with `onlyQuantized` the pattern
/// takes only those (the first round of the lowering).
struct LowerMatmulToKernel : OpRewritePattern<MatmulOp> {
  LowerMatmulToKernel(MLIRContext *context, PatternBenefit benefit = 1,
                      bool onlyQuantized = false)
      : OpRewritePattern(context, benefit), onlyQuantized(onlyQuantized) {}
  bool onlyQuantized;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType lhs = op.getLhs().getType(), rhs = op.getRhs().getType(),
                     result = op.getType();
    if (result.getElementType() != f32 || lhs.getElementType() != f32 ||
        rhs.getElementType() != f32 || lhs.getRank() < 2 ||
        rhs.getRank() < 2 || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");
    bool byMatrix = rhs.getRank() == 2;
    Value batchFrom;
    if (!byMatrix && lhs.getRank() == 2) {
      // One matrix against a batch of them (all experts of an MoE layer on
      // the same tokens): the left side broadcasts.
      batchFrom = op.getRhs();
    } else if (!byMatrix) {
      if (lhs.getRank() != rhs.getRank())
        return rewriter.notifyMatchFailure(op, "batch ranks differ");
      ArrayRef<int64_t> lb = lhs.getShape().drop_back(2),
                        rb = rhs.getShape().drop_back(2);
      auto allOnes = [](ArrayRef<int64_t> dims) {
        return llvm::all_of(dims, [](int64_t d) { return d == 1; });
      };
      if (lb == rb || allOnes(rb))
        batchFrom = op.getLhs();
      else if (allOnes(lb))
        batchFrom = op.getRhs();
      else
        return rewriter.notifyMatchFailure(op, "partly broadcast batch");
    }
    Value quantized;
    if (auto dq = op.getRhs().getDefiningOp<DequantizeOp>())
      quantized = packedQuantizedWeight(rewriter, loc, dq, false);
    if (onlyQuantized && !quantized)
      return rewriter.notifyMatchFailure(op, "right side not quantized");
    Value a = asBatchedMatrix(rewriter, loc, op.getLhs(), byMatrix);
    Value c;
    if (quantized) {
      bool fromLhs = byMatrix || batchFrom == op.getLhs();
      int64_t weights = rhs.getNumElements() /
                        (rhs.getShape().back() * rhs.getShape().end()[-2]);
      c = callQMatmulKernel(rewriter, loc, module, a, quantized,
                            rhs.getShape().back(), Value(), a,
                            fromLhs ? tensorType(a).getDimSize(0) : weights);
    } else {
      Value b = asBatchedMatrix(rewriter, loc, op.getRhs(), false);
      RankedTensorType bType = tensorType(b);
      Value packed;
      if (bType.hasStaticShape())
        packed = packedWeight(rewriter, loc, op.getRhs(), bType.getDimSize(0),
                              bType.getDimSize(1), bType.getDimSize(2), false);
      c = callMatmulKernel(rewriter, loc, module, a, b, Value(), false,
                           byMatrix || batchFrom == op.getLhs() ? a : b,
                           packed);
    }
    int64_t rank = result.getRank();
    SmallVector<Value> dims =
        resultDims(rewriter, loc, result, [&](int64_t d) -> Value {
          if (d == rank - 1)
            return tensor::DimOp::create(rewriter, loc, op.getRhs(),
                                         rhs.getRank() - 1);
          if (d == rank - 2)
            return tensor::DimOp::create(rewriter, loc, op.getLhs(),
                                         lhs.getRank() - 2);
          if (byMatrix)
            return tensor::DimOp::create(rewriter, loc, op.getLhs(), d);
          return tensor::DimOp::create(rewriter, loc, batchFrom, d);
        });
    rewriter.replaceOp(
        op, fromBatchedMatrix(rewriter, loc, c, result, dims, byMatrix));
    return success();
  }
};

/// conv's input with its pads applied (zeros), or the input itself.
Value paddedConvInput(OpBuilder &rewriter, Location loc, ConvOp op) {
  RankedTensorType input = op.getInput().getType();
  int64_t spatial = input.getRank() - 2;
  Type elementType = input.getElementType();
  ArrayRef<int64_t> pads = op.getPads();
  Value padded = op.getInput();
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
    SmallVector<OpFoldResult> low(2, rewriter.getIndexAttr(0)),
        high(2, rewriter.getIndexAttr(0));
    SmallVector<int64_t> shape(input.getShape());
    for (int64_t i = 0; i < spatial; ++i) {
      low.push_back(rewriter.getIndexAttr(pads[i]));
      high.push_back(rewriter.getIndexAttr(pads[spatial + i]));
      shape[2 + i] += pads[i] + pads[spatial + i];
    }
    padded = tensor::PadOp::create(
        rewriter, loc, RankedTensorType::get(shape, elementType),
        op.getInput(), low, high, scalar(rewriter, loc, elementType, 0.0));
  }
  return padded;
}

/// f32 conv with one group as a GEMM on the runtime's matmul kernel: the
/// padded input's windows laid out as rows (im2col: [N, output positions,
/// C x window]), times the weight read as [M, C x window] transposed, with
/// the bias as the kernel's starting value; then [N, positions, M] back to
/// N x M x spatial. The copy of the windows costs window-size times the
/// input, against a contraction that LLVM vectorizes poorly.
struct LowerConvToKernel : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    if (result.getElementType() != f32 || op.getGroup() != 1 ||
        !input.hasStaticShape() || !weight.hasStaticShape() ||
        !result.hasStaticShape() || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");
    int64_t spatial = input.getRank() - 2;
    int64_t batch = input.getDimSize(0), channels = input.getDimSize(1),
            outputs = weight.getDimSize(0);
    Value padded = paddedConvInput(rewriter, loc, op);

    // windows[n, o..., c, k...] = padded[n, c, o * stride + k * dilation]
    int64_t loops = 2 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    SmallVector<int64_t> windowShape = {batch};
    SmallVector<AffineExpr> inputExprs = {d(0), d(1 + spatial)};
    for (int64_t i = 0; i < spatial; ++i) {
      windowShape.push_back(result.getDimSize(2 + i));
      inputExprs.push_back(d(1 + i) * op.getStrides()[i] +
                           d(2 + spatial + i) * op.getDilations()[i]);
    }
    windowShape.push_back(channels);
    for (int64_t i = 0; i < spatial; ++i)
      windowShape.push_back(weight.getDimSize(2 + i));
    auto windowType = RankedTensorType::get(windowShape, f32);
    Value windows =
        linalg::GenericOp::create(
            rewriter, loc, windowType, padded,
            emptyTensor(rewriter, loc, windowType, {}),
            SmallVector<AffineMap>{
                AffineMap::get(loops, 0, inputExprs, context),
                rewriter.getMultiDimIdentityMap(loops)},
            SmallVector<utils::IteratorType>(loops,
                                             utils::IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(b, l, args[0]);
            })
            .getResult(0);
    Value rows = tensor::CollapseShapeOp::create(
        rewriter, loc, windows,
        SmallVector<ReassociationIndices>{
            {0},
            llvm::to_vector(llvm::seq<int64_t>(1, 1 + spatial)),
            llvm::to_vector(llvm::seq<int64_t>(1 + spatial, loops))});
    Value filters = addLeadingUnit(
        rewriter, loc,
        tensor::CollapseShapeOp::create(
            rewriter, loc, op.getWeight(),
            SmallVector<ReassociationIndices>{
                {0}, llvm::to_vector(llvm::seq<int64_t>(1, 2 + spatial))}));
    int64_t depth = tensorType(filters).getDimSize(2);
    Value products = callMatmulKernel(
        rewriter, loc, module, rows, filters, op.getBias(),
        /*transposeB=*/true, rows,
        packedWeight(rewriter, loc, op.getWeight(), 1, depth, outputs, true));

    // [N, positions, M] -> [N, M, positions] -> N x M x spatial.
    int64_t positions = tensorType(rows).getDimSize(1);
    auto channelsFirst =
        RankedTensorType::get({batch, outputs, positions}, f32);
    Value transposed =
        linalg::TransposeOp::create(
            rewriter, loc, products,
            emptyTensor(rewriter, loc, channelsFirst, {}),
            ArrayRef<int64_t>{0, 2, 1})
            .getResult()[0];
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, result, transposed,
        SmallVector<ReassociationIndices>{
            {0}, {1}, llvm::to_vector(llvm::seq<int64_t>(2, 2 + spatial))});
    return success();
  }
};

/// conv (N-d, grouped): zero-pad the input, then one contraction over the
/// input channels of the group and the kernel window.
struct LowerConv : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    if (!input.hasStaticShape() || !weight.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic convolution shapes");
    int64_t spatial = input.getRank() - 2, group = op.getGroup();
    int64_t groupChannels = weight.getDimSize(1),
            groupOutputs = weight.getDimSize(0) / group;
    Type elementType = result.getElementType();
    Value padded = paddedConvInput(rewriter, loc, op);
    // Iteration space: n, m, out spatial..., c, kernel spatial...
    int64_t loops = 2 + spatial + 1 + spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    AffineExpr channel =
        d(1).floorDiv(groupOutputs) * groupChannels + d(2 + spatial);
    SmallVector<AffineExpr> inExprs = {d(0), channel},
                            wExprs = {d(1), d(2 + spatial)},
                            outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < spatial; ++i) {
      inExprs.push_back(d(2 + i) * op.getStrides()[i] +
                        d(3 + spatial + i) * op.getDilations()[i]);
      wExprs.push_back(d(3 + spatial + i));
      outExprs.push_back(d(2 + i));
    }
    // The bias, as 1 x M x 1 x ..., broadcast into the accumulator.
    Value init;
    if (Value bias = op.getBias()) {
      SmallVector<int64_t> shape(result.getRank(), 1);
      shape[1] = result.getDimSize(1);
      Value reshaped = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get(shape, elementType), bias,
          SmallVector<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(0, result.getRank()))});
      init = elementwise(
          rewriter, loc, result, reshaped,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    } else {
      init = zeroFilled(rewriter, loc, result, {});
    }
    rewriter.replaceOp(
        op, contraction(rewriter, loc, padded, op.getWeight(), init,
                        {AffineMap::get(loops, 0, inExprs, context),
                         AffineMap::get(loops, 0, wExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1 + spatial));
    return success();
  }
};

/// topk by ranking: element i's rank is the number of elements before it
/// in the output order (larger, or equal with a lower index); the element
/// of rank r < k goes to position r. Quadratic in the axis length, which
/// suits the small axes of routers; a selection kernel comes later.
struct LowerTopK : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = op.getInput();
    RankedTensorType type = op.getInput().getType();
    if (!type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "dynamic or integer topk");
    int64_t rank = type.getRank(), axis = op.getAxis();
    bool smallest = op.getSmallest();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    // ranks[..., i] = count over e of (x_e before x_i): loops = rank + 1,
    // dimension `rank` is e.
    SmallVector<AffineExpr> self, other, rowOut;
    for (int64_t i = 0; i < rank; ++i) {
      self.push_back(d(i));
      other.push_back(i == axis ? d(rank) : d(i));
      rowOut.push_back(d(i));
    }
    auto rankType =
        RankedTensorType::get(type.getShape(), rewriter.getI64Type());
    Value zeros = zeroFilled(rewriter, loc, rankType, {});
    SmallVector<utils::IteratorType> iterators(rank + 1,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value ranks =
        linalg::GenericOp::create(
            rewriter, loc, rankType, ValueRange{input, input}, zeros,
            {AffineMap::get(rank + 1, 0, self, context),
             AffineMap::get(rank + 1, 0, other, context),
             AffineMap::get(rank + 1, 0, rowOut, context)},
            iterators,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value i = linalg::IndexOp::create(b, l, axis);
              Value e = linalg::IndexOp::create(b, l, rank);
              Value better =
                  arith::CmpFOp::create(b, l,
                                        smallest ? arith::CmpFPredicate::OLT
                                                 : arith::CmpFPredicate::OGT,
                                        args[1], args[0]);
              Value tie = arith::AndIOp::create(
                  b, l,
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                        args[1], args[0]),
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, e, i));
              Value before = arith::OrIOp::create(b, l, better, tie);
              Value one = arith::ExtUIOp::create(b, l, b.getI64Type(), before);
              linalg::YieldOp::create(
                  b, l, Value(arith::AddIOp::create(b, l, args[2], one)));
            })
            .getResult(0);
    // values[..., r] / indices[..., r] from the element whose rank is r:
    // loops = rank + 1, dimension `rank` runs over the input axis.
    SmallVector<Type> resultTypes = {op.getValues().getType(),
                                     op.getIndices().getType()};
    Value valuesInit =
        zeroFilled(rewriter, loc, cast<RankedTensorType>(resultTypes[0]), {});
    Value indicesInit =
        zeroFilled(rewriter, loc, cast<RankedTensorType>(resultTypes[1]), {});
    auto pick = linalg::GenericOp::create(
        rewriter, loc, resultTypes, ValueRange{input, ranks},
        ValueRange{valuesInit, indicesInit},
        {AffineMap::get(rank + 1, 0, other, context),
         AffineMap::get(rank + 1, 0, other, context),
         AffineMap::get(rank + 1, 0, rowOut, context),
         AffineMap::get(rank + 1, 0, rowOut, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value position = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          Value source = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, rank));
          Value match = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              args[1], position);
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, match, args[0], args[2]),
                  arith::SelectOp::create(b, l, match, source, args[3])});
        });
    rewriter.replaceOp(op, pick.getResults());
    return success();
  }
};

struct LowerGatherElements : OpRewritePattern<GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData();
    int64_t axis = op.getAxis(), rank = op.getType().getRank();
    Value axisSize = tensor::DimOp::create(rewriter, loc, data, axis);
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < rank; ++i)
      if (Value size = dynamicDim(rewriter, loc, op.getIndices(), i))
        sizes.push_back(size);
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, op.getType(), op.getIndices(),
                [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                  SmallVector<Value> coords;
                  for (int64_t i = 0; i < rank; ++i)
                    coords.push_back(
                        i == axis ? readableIndex(b, l, args[0], axisSize)
                                  : Value(linalg::IndexOp::create(b, l, i)));
                  return tensor::ExtractOp::create(b, l, data, coords);
                },
                sizes));
    return success();
  }
};

/// scatter_elements: every output element starts as data and takes the
/// update whose index along the axis names it; later updates win.
struct LowerScatterElements : OpRewritePattern<ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType data = op.getData().getType(),
                     indices = op.getIndices().getType();
    int64_t axis = op.getAxis(), rank = data.getRank();
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis && (indices.isDynamicDim(i) || data.isDynamicDim(i) ||
                        indices.getDimSize(i) != data.getDimSize(i)))
        return rewriter.notifyMatchFailure(
            op, "indices narrower than data outside the axis");
    // loops: the data dimensions, then t over the indices' axis.
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    SmallVector<AffineExpr> update, out;
    for (int64_t i = 0; i < rank; ++i) {
      update.push_back(i == axis ? d(rank) : d(i));
      out.push_back(d(i));
    }
    SmallVector<utils::IteratorType> iterators(rank + 1,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value axisSize = tensor::DimOp::create(rewriter, loc, op.getData(), axis);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, op.getType(),
        ValueRange{op.getIndices(), op.getUpdates()}, op.getData(),
        {AffineMap::get(rank + 1, 0, update, context),
         AffineMap::get(rank + 1, 0, update, context),
         AffineMap::get(rank + 1, 0, out, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value target = wrapIndex(b, l, args[0], axisSize);
          Value here = linalg::IndexOp::create(b, l, axis);
          Value match = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              target, here);
          linalg::YieldOp::create(
              b, l,
              Value(arith::SelectOp::create(b, l, match, args[1], args[2])));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// range: element i is start + i * delta; the length,
/// max(ceil((limit - start) / delta), 0), is computed at run time when the
/// result type does not give it.
struct LowerRange : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RangeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType();
    Type type = result.getElementType();
    bool isFloat = isa<FloatType>(type);
    auto scalarOf = [&](Value tensor) -> Value {
      return tensor::ExtractOp::create(rewriter, loc, tensor, ValueRange{});
    };
    Value start = scalarOf(op.getStart()), delta = scalarOf(op.getDelta());
    SmallVector<Value> sizes;
    if (result.isDynamicDim(0)) {
      Value limit = scalarOf(op.getLimit());
      Value count;
      if (isFloat) {
        Value span = arith::SubFOp::create(rewriter, loc, limit, start);
        Value steps = math::CeilOp::create(
            rewriter, loc, arith::DivFOp::create(rewriter, loc, span, delta));
        count = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                        steps);
      } else {
        Value span = arith::SubIOp::create(rewriter, loc, limit, start);
        count = arith::CeilDivSIOp::create(rewriter, loc, span, delta);
        if (!type.isInteger(64))
          count = arith::ExtSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                         count);
      }
      Value zero = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getI64IntegerAttr(0));
      count = arith::MaxSIOp::create(rewriter, loc, count, zero);
      sizes.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), count));
    }
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, result, ValueRange{},
                [&](OpBuilder &b, Location l, ValueRange) -> Value {
                  Value i = arith::IndexCastOp::create(
                      b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 0));
                  if (isFloat) {
                    Value f = arith::SIToFPOp::create(b, l, type, i);
                    return arith::AddFOp::create(
                        b, l, start, arith::MulFOp::create(b, l, f, delta));
                  }
                  Value n = type.isInteger(64)
                                ? i
                                : Value(arith::TruncIOp::create(b, l, type, i));
                  return arith::AddIOp::create(
                      b, l, start, arith::MulIOp::create(b, l, n, delta));
                },
                sizes));
    return success();
  }
};

/// trilu: keeps element (i, j) of the last two dimensions where j - i <= k
/// (lower) or j - i >= k (upper), zero elsewhere.
struct LowerTrilu : OpRewritePattern<TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TriluOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank(), k = op.getK();
    bool upper = op.getUpper();
    rewriter.replaceOp(
        op,
        elementwise(rewriter, op.getLoc(), type, op.getInput(),
                    [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                      Value i = linalg::IndexOp::create(b, l, rank - 2);
                      Value j = linalg::IndexOp::create(b, l, rank - 1);
                      Value diagonal = arith::SubIOp::create(b, l, j, i);
                      Value kValue = arith::ConstantIndexOp::create(b, l, k);
                      Value keep = arith::CmpIOp::create(
                          b, l,
                          upper ? arith::CmpIPredicate::sge
                                : arith::CmpIPredicate::sle,
                          diagonal, kValue);
                      Value zero = scalar(b, l, type.getElementType(), 0.0);
                      return arith::SelectOp::create(b, l, keep, args[0], zero);
                    }));
    return success();
  }
};

/// cumsum as a masked reduction: out[i] sums x[t] over t <= i (t < i when
/// exclusive; t >= i / t > i when reversed). Quadratic in the axis, which
/// suits the position computations it serves; a scan kernel comes later.
struct LowerCumSum : OpRewritePattern<CumSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CumSumOp op,
                                PatternRewriter &rewriter) const override {
    if (hasUnsignedElements(op))
      return rewriter.notifyMatchFailure(op, "unsigned element types");
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank(), axis = op.getAxis();
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    SmallVector<AffineExpr> in, out;
    for (int64_t d = 0; d < rank; ++d) {
      in.push_back(getAffineDimExpr(d == axis ? rank : d, context));
      out.push_back(getAffineDimExpr(d, context));
    }
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d)
      if (Value size = dynamicDim(rewriter, loc, op.getInput(), d))
        sizes.push_back(size);
    SmallVector<utils::IteratorType> iterators(rank + 1,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, op.getInput(),
        zeroFilled(rewriter, loc, type, sizes),
        {AffineMap::get(rank + 1, 0, in, context),
         AffineMap::get(rank + 1, 0, out, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value i = linalg::IndexOp::create(b, l, axis);
          Value t = linalg::IndexOp::create(b, l, rank);
          arith::CmpIPredicate predicate =
              reverse ? (exclusive ? arith::CmpIPredicate::sgt
                                   : arith::CmpIPredicate::sge)
                      : (exclusive ? arith::CmpIPredicate::slt
                                   : arith::CmpIPredicate::sle);
          Value take = arith::CmpIOp::create(b, l, predicate, t, i);
          Value sum = combine(b, l, Combine::Sum, args[1], args[0]);
          linalg::YieldOp::create(
              b, l, Value(arith::SelectOp::create(b, l, take, sum, args[1])));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// rotary_embedding: each output feature reads its own and its pair's
/// input feature and the angle of the pair (rotate-half pairs d with
/// d + R/2, interleaved pairs 2p with 2p + 1); features past R pass through.
struct LowerRotaryEmbedding : OpRewritePattern<RotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RotaryEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput(), cos = op.getCos(), sin = op.getSin();
    RankedTensorType type = op.getType(), angles = op.getCos().getType();
    bool interleaved = op.getInterleaved();
    Value half =
        tensor::DimOp::create(rewriter, loc, cos, angles.getRank() - 1);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, type, x,
            [&](OpBuilder &b, Location l, ValueRange args) -> Value {
              SmallVector<Value> index;
              for (int64_t d = 0; d < 4; ++d)
                index.push_back(linalg::IndexOp::create(b, l, d));
              Value feature = index[3];
              Value one = arith::ConstantIndexOp::create(b, l, 1);
              Value two = arith::ConstantIndexOp::create(b, l, 2);
              Value rotary = arith::MulIOp::create(b, l, half, two);
              Value rotated = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::ult, feature, rotary);
              // pair: the angle index; first: whether this is the first of
              // the pair; partner: the other feature of the pair.
              Value pair, first, partner;
              if (interleaved) {
                pair = arith::DivUIOp::create(b, l, feature, two);
                Value odd = arith::RemUIOp::create(b, l, feature, two);
                first = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::eq, odd,
                    arith::ConstantIndexOp::create(b, l, 0));
                partner = arith::SelectOp::create(
                    b, l, first, arith::AddIOp::create(b, l, feature, one),
                    arith::SubIOp::create(b, l, feature, one));
              } else {
                first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                              feature, half);
                pair = arith::SelectOp::create(
                    b, l, first, feature,
                    arith::SubIOp::create(b, l, feature, half));
                partner = arith::SelectOp::create(
                    b, l, first, arith::AddIOp::create(b, l, feature, half),
                    arith::SubIOp::create(b, l, feature, half));
              }
              // Past the rotary dimensions, read something in bounds; the
              // value is not used.
              Value zero = arith::ConstantIndexOp::create(b, l, 0);
              pair = arith::SelectOp::create(b, l, rotated, pair, zero);
              partner =
                  arith::SelectOp::create(b, l, rotated, partner, feature);
              // cos/sin are [..., S, R/2], broadcast to [B, H, S, R/2].
              SmallVector<Value> angleIndex;
              int64_t angleRank = angles.getRank();
              for (int64_t i = 0; i < angleRank - 1; ++i) {
                int64_t d = 4 - angleRank + i;
                angleIndex.push_back(angles.getDimSize(i) == 1 &&
                                             type.getDimSize(d) != 1
                                         ? zero
                                         : index[d]);
              }
              angleIndex.push_back(pair);
              Value c = tensor::ExtractOp::create(b, l, cos, angleIndex);
              Value s = tensor::ExtractOp::create(b, l, sin, angleIndex);
              SmallVector<Value> partnerIndex(index.begin(), index.end() - 1);
              partnerIndex.push_back(partner);
              Value other = tensor::ExtractOp::create(b, l, x, partnerIndex);
              // first: x c - other s; second: x c + other s.
              Value xc = arith::MulFOp::create(b, l, args[0], c);
              Value os = arith::MulFOp::create(b, l, other, s);
              Value value = arith::SelectOp::create(
                  b, l, first, arith::SubFOp::create(b, l, xc, os),
                  arith::AddFOp::create(b, l, xc, os));
              return arith::SelectOp::create(b, l, rotated, value, args[0]);
            }));
    return success();
  }
};

/// `value` as [outer, channels, inner] around dimension `axis`: what the
/// tensor probe kernel reads (unit sizes stand in for missing sides).
Value channelView(OpBuilder &b, Location loc, Value value, int64_t axis) {
  RankedTensorType type = tensorType(value);
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, type.getShape());
  shape.push_back(1);
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  llvm::append_range(sizes, tensor::getMixedSizes(b, loc, value));
  sizes.push_back(b.getIndexAttr(1));
  // Source dimension d becomes d + 1; the first and last take the units.
  SmallVector<ReassociationIndices> expand;
  for (int64_t d = 0; d < rank; ++d) {
    ReassociationIndices group = {d + 1};
    if (d == 0)
      group.insert(group.begin(), 0);
    if (d == rank - 1)
      group.push_back(rank + 1);
    expand.push_back(group);
  }
  Value padded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      expand, sizes);
  SmallVector<ReassociationIndices> collapse = {
      llvm::to_vector(llvm::seq<int64_t>(0, axis + 1)),
      {axis + 1},
      llvm::to_vector(llvm::seq<int64_t>(axis + 2, rank + 2))};
  return tensor::CollapseShapeOp::create(b, loc, padded, collapse);
}

/// The probes of an instrumented build (`sinter-insert-probes`) as calls of
/// the runtime's probe kernels (runtime/src/probe.c), which read the values
/// and record into the session that runs the model.
struct LowerProbeTensor : OpRewritePattern<ProbeTensorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ProbeTensorOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType type = op.getInput().getType();
    if (!type.getElementType().isF32() || !module)
      return rewriter.notifyMatchFailure(op, "the probe kernel reads f32");
    Value input = op.getInput();
    int64_t axis = op.getChannelAxis();
    if (type.getRank() == 0)
      input = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1}, type.getElementType()),
          input, ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    Value view = channelView(rewriter, loc, input, axis);
    func::FuncOp kernel = declareKernel(
        rewriter, module, loc, SINTER_PROBE_TENSOR_KERNEL,
        rewriter.getFunctionType(
            {rewriter.getI64Type(), anyF32View(rewriter, 3)}, {}));
    func::CallOp::create(
        rewriter, loc, kernel,
        ValueRange{arith::ConstantOp::create(
                       rewriter, loc, rewriter.getI64IntegerAttr(op.getId())),
                   kernelView(rewriter, loc, view)});
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerProbeAttention : OpRewritePattern<ProbeAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ProbeAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    Type f32 = rewriter.getF32Type();
    for (Value v : {Value(op.getQuery()), Value(op.getKey()),
                    Value(op.getOutput()), Value(op.getMask())})
      if (v && getElementTypeOrSelf(v.getType()) != f32)
        return rewriter.notifyMatchFailure(op, "the probe kernel reads f32");
    if (!module)
      return failure();
    // Only now: a pattern that fails must leave the IR as it found it.
    Value mask = maskAsRank4(rewriter, loc, op.getMask());
    MemRefType view4 = anyF32View(rewriter, 4);
    func::FuncOp kernel = declareKernel(
        rewriter, module, loc, SINTER_PROBE_ATTENTION_KERNEL,
        rewriter.getFunctionType({rewriter.getI64Type(), view4, view4, view4,
                                  view4, f32, rewriter.getI32Type()},
                                 {}));
    Value q = kernelView(rewriter, loc, op.getQuery());
    int32_t flags = (op.getCausal() ? SINTER_ATTENTION_CAUSAL : 0) |
                    (mask ? SINTER_ATTENTION_HAS_MASK : 0);
    func::CallOp::create(
        rewriter, loc, kernel,
        ValueRange{
            arith::ConstantOp::create(rewriter, loc,
                                      rewriter.getI64IntegerAttr(op.getId())),
            q, kernelView(rewriter, loc, op.getKey()),
            mask ? kernelView(rewriter, loc, mask) : q,
            kernelView(rewriter, loc, op.getOutput()),
            scalar(rewriter, loc, f32, op.getScale().convertToDouble()),
            arith::ConstantOp::create(rewriter, loc,
                                      rewriter.getI32IntegerAttr(flags))});
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerProbeRouting : OpRewritePattern<ProbeRoutingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ProbeRoutingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return failure();
    Value indices = op.getIndices();
    RankedTensorType type = tensorType(indices);
    Type i64 = rewriter.getI64Type();
    if (type.getRank() == 0)
      indices = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1}, i64), indices,
          ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    else if (type.getRank() > 1)
      indices = tensor::CollapseShapeOp::create(
          rewriter, loc, indices,
          ArrayRef<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
    func::FuncOp kernel = declareKernel(
        rewriter, module, loc, SINTER_PROBE_ROUTING_KERNEL,
        rewriter.getFunctionType({i64, anyView(1, i64), i64}, {}));
    func::CallOp::create(
        rewriter, loc, kernel,
        ValueRange{arith::ConstantOp::create(
                       rewriter, loc, rewriter.getI64IntegerAttr(op.getId())),
                   kernelView(rewriter, loc, indices),
                   arith::ConstantOp::create(
                       rewriter, loc,
                       rewriter.getI64IntegerAttr(op.getExperts()))});
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertSinterToLinalgPass
    : sinter::impl::ConvertSinterToLinalgBase<ConvertSinterToLinalgPass> {
  using ConvertSinterToLinalgBase::ConvertSinterToLinalgBase;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    GreedyRewriteConfig config;
    config.enableFolding(false);
    // First the ops that read their operands' producers in place while
    // those are still sinter ops: a quantized weight's integers through its
    // dequantize, attention's heads through transposes and splits (the
    // second round lowers what is left of the producers on their own).
    {
      RewritePatternSet readsInPlace(context);
      readsInPlace.add<LowerGather>(context, /*onlyQuantized=*/true);
      // Attention reads through its operands' transposes and splits
      // (inPlaceView), which must still be sinter ops.
      if (flashAttention)
        readsInPlace.add<LowerAttentionToKernel>(context);
      if (matmulKernel) {
        readsInPlace.add<LowerQuantizedLinearToKernel>(context);
        readsInPlace.add<LowerW8A8LinearToKernel>(context, /*benefit=*/2);
        readsInPlace.add<LowerMatmulToKernel>(context, /*benefit=*/1,
                                           /*onlyQuantized=*/true);
      }
      if (failed(applyPatternsGreedily(getOperation(), std::move(readsInPlace),
                                       config)))
        return signalPassFailure();
    }
    RewritePatternSet patterns(context);
    patterns
        .add<LowerElementwise, LowerConstant, LowerCast, LowerMatmul,
             LowerLinear, LowerTranspose, LowerReshape, LowerExpand, LowerSlice,
             LowerConcat, LowerSplit, LowerGather, LowerNorm<LayerNormOp>,
             LowerNorm<RmsNormOp>, LowerReduction<ReduceSumOp, Combine::Sum>,
             LowerReduction<ReduceMeanOp, Combine::Sum, true>,
             LowerReduction<ReduceMaxOp, Combine::Max>,
             LowerReduction<ReduceMinOp, Combine::Min>,
             LowerSoftmax<SoftmaxOp, false>, LowerSoftmax<LogSoftmaxOp, true>,
             LowerAttention, LowerConv, LowerTopK, LowerGatherElements,
             LowerScatterElements, LowerRange, LowerTrilu, LowerCumSum,
             LowerRotaryEmbedding, LowerDequantize, LowerQuantize,
             LowerDynamicQuantize,
             LowerProbeTensor, LowerProbeAttention, LowerProbeRouting>(context);
    patterns.add<LowerAddNorm>(context);
    if (flashAttention)
      patterns.add<LowerAttentionToKernel>(context, /*benefit=*/2);
    if (normKernel)
      patterns.add<LowerNormToKernel<LayerNormOp>, LowerNormToKernel<RmsNormOp>,
                   LowerNormToKernel<AddNormOp>>(context, /*benefit=*/2);
    if (matmulKernel)
      patterns.add<LowerMatmulToKernel, LowerLinearToKernel, LowerConvToKernel>(
          context, /*benefit=*/2);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    // Whatever is left has no lowering yet: name it instead of leaving
    // sinter ops for the next stage to trip over.
    bool remaining = false;
    getOperation()->walk([&](Operation *op) {
      if (!isa<SinterDialect>(op->getDialect()))
        return;
      op->emitError() << "'" << op->getName()
                      << "' has no lowering to linalg yet";
      remaining = true;
    });
    if (remaining)
      signalPassFailure();
  }
};

} // namespace
