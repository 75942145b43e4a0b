//===- FuseRmsNorm.cpp - RMS normalization from its reductions ------------===//

#include "passes/NormMatching.h"
#include "passes/Passes.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSERMSNORM
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// The x of `x * x` or `x ^ 2`.
Value squared(Value value) {
  if (auto mul = value.getDefiningOp<MulOp>();
      mul && mul.getLhs() == mul.getRhs())
    return mul.getLhs();
  if (auto pow = value.getDefiningOp<PowOp>();
      pow && isSplatNear(pow.getRhs(), 2.0, 0.0) &&
      isScalarLike(pow.getRhs(), pow.getLhs()))
    return pow.getLhs();
  return nullptr;
}

/// Anchored on the mean of squares: mean(x^2) -> + eps -> rsqrt -> x * r,
/// then * weight.
struct RmsNormFromReductions : OpRewritePattern<ReduceMeanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceMeanOp mean,
                                PatternRewriter &rewriter) const override {
    Value x = squared(mean.getInput());
    std::optional<int64_t> axis = trailingReductionAxis(mean);
    if (!x || !mean.getInput().hasOneUse() || !mean.getResult().hasOneUse() ||
        !axis || !isa<FloatType>(getElementTypeOrSelf(x.getType())))
      return rewriter.notifyMatchFailure(mean, "not a mean of squares");
    auto type = cast<RankedTensorType>(x.getType());
    // The root's users: one of them divides or multiplies x by it.
    Operation *normalize = nullptr;
    std::optional<RootOfSum> root;
    for (Operation *candidate : x.getUsers()) {
      root = matchNormalization(candidate, x);
      if (root && root->radicand == mean.getResult()) {
        normalize = candidate;
        break;
      }
    }
    if (!normalize || normalize->getResult(0).getType() != type)
      return rewriter.notifyMatchFailure(mean, "x is not scaled by the root");

    ArrayRef<int64_t> shape = type.getShape().drop_front(*axis);
    Affine affine = absorbAffine(normalize->getResult(0), shape, false);
    Operation *last = affine.last ? affine.last : normalize;
    rewriter.setInsertionPoint(last);
    Location loc = rewriter.getFusedLoc({mean.getLoc(), last->getLoc()});
    Value weight = normParameter(rewriter, loc, affine.gamma, shape,
                                 type.getElementType(), true);
    rewriter.replaceOpWithNewOp<RmsNormOp>(
        last, x, weight, *axis, APFloat(static_cast<float>(root->epsilon)));
    return success();
  }
};

struct FuseRmsNormPass : sinter::impl::FuseRmsNormBase<FuseRmsNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RmsNormFromReductions>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
