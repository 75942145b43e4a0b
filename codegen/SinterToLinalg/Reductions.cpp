//===- Reductions.cpp - Reductions, softmax, topk, cumsum -----------------===//
//
// reduce_*, softmax and log_softmax, topk and cumsum: linalg.generic
// reductions (topk and cumsum as masked, quadratic ones).
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::linalg_lowering;

namespace {

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
} // namespace

void sinter::populateReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerReduction<ReduceSumOp, Combine::Sum>,
               LowerReduction<ReduceMeanOp, Combine::Sum, true>,
               LowerReduction<ReduceMaxOp, Combine::Max>,
               LowerReduction<ReduceMinOp, Combine::Min>,
               LowerReduction<ReduceProdOp, Combine::Prod>,
               LowerSoftmax<SoftmaxOp, false>, LowerSoftmax<LogSoftmaxOp, true>,
               LowerTopK, LowerCumSum>(patterns.getContext());
}
