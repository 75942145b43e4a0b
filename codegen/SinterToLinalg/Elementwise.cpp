//===- Elementwise.cpp - Elementwise ops, casts, constants ----------------===//
//
// Elementwise sinter ops (unary, binary, comparisons, select, GELU),
// casts and constants: one broadcasting linalg.generic around a scalar
// body each, or an arith.constant.
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::linalg_lowering;

namespace {

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
             NotOp, LeakyReluOp, ClipOp, GeluOp, SiluOp, SwigluOp, AddOp, SubOp,
             MulOp, DivOp, PowOp, MaxOp, MinOp, AndOp, OrOp, XorOp, EqualOp,
             LessOp, LessEqualOp, GreaterOp, GreaterEqualOp, WhereOp>(op))
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
} // namespace

void sinter::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerElementwise, LowerConstant, LowerCast>(
      patterns.getContext());
}
