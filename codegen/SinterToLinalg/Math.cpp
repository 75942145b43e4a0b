//===- Math.cpp - Math ops, argmax and argmin ----------------------------===//
//
// The ops of ir/SinterMathOps.td: the trigonometric and hyperbolic
// functions, rem and the shifts as broadcasting linalg.generics around a
// scalar math/arith op; argmax and argmin as one reduction that carries the
// best value and its index. reduce_prod is lowered with the other
// reductions (Reductions.cpp).
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

/// The scalar computation of a math op on signless operands, or null.
Value mathBody(Operation *op, OpBuilder &b, Location loc, ValueRange args,
               bool unsignedInts) {
  bool isFloat = isa<FloatType>(args[0].getType());
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](TanOp) { return math::TanOp::create(b, loc, args[0]); })
      .Case([&](AsinOp) { return math::AsinOp::create(b, loc, args[0]); })
      .Case([&](AcosOp) { return math::AcosOp::create(b, loc, args[0]); })
      .Case([&](AtanOp) { return math::AtanOp::create(b, loc, args[0]); })
      .Case([&](SinhOp) { return math::SinhOp::create(b, loc, args[0]); })
      .Case([&](CoshOp) { return math::CoshOp::create(b, loc, args[0]); })
      .Case([&](AsinhOp) { return math::AsinhOp::create(b, loc, args[0]); })
      .Case([&](AcoshOp) { return math::AcoshOp::create(b, loc, args[0]); })
      .Case([&](AtanhOp) { return math::AtanhOp::create(b, loc, args[0]); })
      .Case([&](RemOp) -> Value {
        if (isFloat)
          return arith::RemFOp::create(b, loc, args[0], args[1]);
        if (unsignedInts)
          return arith::RemUIOp::create(b, loc, args[0], args[1]);
        return arith::RemSIOp::create(b, loc, args[0], args[1]);
      })
      .Case([&](ShiftLeftOp) {
        return arith::ShLIOp::create(b, loc, args[0], args[1]);
      })
      .Case([&](ShiftRightOp) -> Value {
        if (unsignedInts)
          return arith::ShRUIOp::create(b, loc, args[0], args[1]);
        return arith::ShRSIOp::create(b, loc, args[0], args[1]);
      })
      .Default([](Operation *) { return Value(); });
}

struct LowerMath : RewritePattern {
  LowerMath(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<TanOp, AsinOp, AcosOp, AtanOp, SinhOp, CoshOp, AsinhOp, AcoshOp,
             AtanhOp, RemOp, ShiftLeftOp, ShiftRightOp>(op))
      return failure();
    bool unsignedInts = hasUnsignedElements(op);
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Value result =
        elementwise(rewriter, op->getLoc(), resultType, op->getOperands(),
                    [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                      SmallVector<Value> signless;
                      for (Value arg : args)
                        signless.push_back(toSignless(b, loc, arg));
                      return fromSignless(
                          b, loc, mathBody(op, b, loc, signless, unsignedInts),
                          resultType.getElementType());
                    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// One reduction over the axis with two accumulators, the best value so far
/// and its index: a later element replaces them when strictly better (the
/// first index wins ties) or, with select_last_index, when at least as good.
template <typename OpTy, bool largest>
struct LowerArgReduce : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = op.getInput();
    RankedTensorType type = tensorType(input);
    Type element = type.getElementType();
    bool unsignedInts = isUnsignedInt(element);
    bool isFloat = isa<FloatType>(element);
    Type signlessElement =
        unsignedInts ? rewriter.getIntegerType(element.getIntOrFloatBitWidth())
                     : element;
    int64_t rank = type.getRank(), axis = op.getAxis();
    bool lastIndex = op.getSelectLastIndex();
    SmallVector<int64_t> shape;
    SmallVector<Value> sizes;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d == axis) {
        if (op.getKeepdims()) {
          shape.push_back(1);
          outExprs.push_back(getAffineConstantExpr(0, context));
        }
        continue;
      }
      shape.push_back(type.getDimSize(d));
      if (Value size = dynamicDim(rewriter, loc, input, d))
        sizes.push_back(size);
      outExprs.push_back(getAffineDimExpr(d, context));
    }
    auto valueType = RankedTensorType::get(shape, signlessElement);
    auto indexType = RankedTensorType::get(shape, rewriter.getI64Type());
    // The first element along the axis always replaces the initial value.
    Value valueInit =
        linalg::FillOp::create(rewriter, loc,
                               scalar(rewriter, loc, signlessElement, 0.0),
                               emptyTensor(rewriter, loc, valueType, sizes))
            .getResult(0);
    Value indexInit = zeroFilled(rewriter, loc, indexType, sizes);
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                   AffineMap::get(rank, 0, outExprs, context),
                                   AffineMap::get(rank, 0, outExprs, context)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valueType, indexType}, input,
        ValueRange{valueInit, indexInit}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = toSignless(b, l, args[0]);
          Value best = args[1];
          Value position = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          Value better;
          if (isFloat) {
            auto predicate = largest ? (lastIndex ? arith::CmpFPredicate::OGE
                                                  : arith::CmpFPredicate::OGT)
                                     : (lastIndex ? arith::CmpFPredicate::OLE
                                                  : arith::CmpFPredicate::OLT);
            better = arith::CmpFOp::create(b, l, predicate, x, best);
          } else {
            auto predicate = largest ? (lastIndex ? arith::CmpIPredicate::sge
                                                  : arith::CmpIPredicate::sgt)
                                     : (lastIndex ? arith::CmpIPredicate::sle
                                                  : arith::CmpIPredicate::slt);
            if (unsignedInts)
              predicate = largest ? (lastIndex ? arith::CmpIPredicate::uge
                                               : arith::CmpIPredicate::ugt)
                                  : (lastIndex ? arith::CmpIPredicate::ule
                                               : arith::CmpIPredicate::ult);
            better = arith::CmpIOp::create(b, l, predicate, x, best);
          }
          Value first = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq, position,
              arith::ConstantIntOp::create(b, l, b.getI64Type(), 0));
          Value take = arith::OrIOp::create(b, l, first, better);
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, take, x, best),
                  arith::SelectOp::create(b, l, take, position, args[2])});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

} // namespace

void sinter::populateMathPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMath, LowerArgReduce<ArgMaxOp, true>,
               LowerArgReduce<ArgMinOp, false>>(patterns.getContext());
}
