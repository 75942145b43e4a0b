//===- FuseLayerNorm.cpp - Layer normalization from its reductions --------===//

#include "passes/NormMatching.h"
#include "passes/Passes.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSELAYERNORM
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// `d * d` or `d ^ 2`.
bool isSquareOf(Operation *op, Value d) {
  if (auto mul = dyn_cast<MulOp>(op))
    return mul.getLhs() == d && mul.getRhs() == d;
  if (auto pow = dyn_cast<PowOp>(op))
    return pow.getLhs() == d && isSplatNear(pow.getRhs(), 2.0, 0.0) &&
           isScalarLike(pow.getRhs(), d);
  return false;
}

/// Anchored on the first mean: mean(x) -> x - mean -> square -> mean ->
/// + eps -> sqrt -> divide, then * gamma + beta.
struct LayerNormFromReductions : OpRewritePattern<ReduceMeanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceMeanOp mean,
                                PatternRewriter &rewriter) const override {
    Value x = mean.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    std::optional<int64_t> axis = trailingReductionAxis(mean);
    if (!axis || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(mean, "not a mean over trailing axes");
    auto sub = dyn_cast_or_null<SubOp>(singleUser(mean.getResult()));
    if (!sub || sub.getLhs() != x || sub.getType() != type)
      return rewriter.notifyMatchFailure(mean, "mean is not subtracted from x");
    Value centered = sub.getResult();
    Operation *square = nullptr, *normalize = nullptr;
    for (Operation *user : centered.getUsers()) {
      if (user == square || user == normalize)
        continue;
      if (!square && isSquareOf(user, centered))
        square = user;
      else if (!normalize)
        normalize = user;
      else
        return rewriter.notifyMatchFailure(mean, "x - mean has other uses");
    }
    if (!square || !normalize)
      return rewriter.notifyMatchFailure(mean, "no variance or no division");
    auto variance =
        dyn_cast_or_null<ReduceMeanOp>(singleUser(square->getResult(0)));
    if (!variance || !variance.getResult().hasOneUse() ||
        variance.getAxes() != mean.getAxes() ||
        trailingReductionAxis(variance) != axis)
      return rewriter.notifyMatchFailure(mean, "variance over other axes");
    std::optional<RootOfSum> root = matchNormalization(normalize, centered);
    if (!root || root->radicand != variance.getResult() ||
        normalize->getResult(0).getType() != type)
      return rewriter.notifyMatchFailure(mean, "not divided by the deviation");

    ArrayRef<int64_t> shape = type.getShape().drop_front(*axis);
    Affine affine = absorbAffine(normalize->getResult(0), shape, true);
    Operation *last = affine.last ? affine.last : normalize;
    rewriter.setInsertionPoint(last);
    Location loc = rewriter.getFusedLoc({mean.getLoc(), last->getLoc()});
    Type elementType = type.getElementType();
    Value gamma = normParameter(rewriter, loc, affine.gamma, shape, elementType,
                                /*onesWhenAbsent=*/true);
    Value beta = normParameter(rewriter, loc, affine.beta, shape, elementType,
                               /*onesWhenAbsent=*/false);
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        last, x, gamma, beta, *axis,
        APFloat(static_cast<float>(root->epsilon)));
    return success();
  }
};

struct FuseLayerNormPass : sinter::impl::FuseLayerNormBase<FuseLayerNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LayerNormFromReductions>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
