//===- FuseResidualNorm.cpp - Residual add + layer or RMS normalization ---===//
//
// Every pre- and post-norm transformer block adds a sublayer's output to the
// residual stream and normalizes the sum; both the sum and the normalized
// tensor live on. As one op the CPU kernel reads each row once for both.
//
//===----------------------------------------------------------------------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

#include "mlir/IR/Dominance.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSERESIDUALNORM
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// norm(a + b) with a, b and the sum all of one type (a bias add, which
/// broadcasts, is not a residual add).
template <typename NormOp>
struct ResidualNorm : OpRewritePattern<NormOp> {
  ResidualNorm(MLIRContext *context, DominanceInfo &dominance)
      : OpRewritePattern<NormOp>(context), dominance(dominance) {}

  LogicalResult matchAndRewrite(NormOp norm,
                                PatternRewriter &rewriter) const override {
    auto add = norm.getInput().template getDefiningOp<AddOp>();
    if (!add || add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType())
      return rewriter.notifyMatchFailure(norm, "input is not a residual add");
    Value bias;
    if constexpr (std::is_same_v<NormOp, LayerNormOp>)
      bias = norm.getBias();

    // The fused op takes the add's place when the norm's weights are
    // defined by then, so that the add's other users still see the sum
    // before them; otherwise the norm's place, when they all come after it.
    Operation *insertionPoint = nullptr;
    auto availableAt = [&](Operation *point) {
      return dominance.properlyDominates(norm.getScale(), point) &&
             (!bias || dominance.properlyDominates(bias, point));
    };
    if (availableAt(add))
      insertionPoint = add;
    else if (llvm::all_of(add->getUsers(), [&](Operation *user) {
               return user == norm.getOperation() ||
                      dominance.properlyDominates(norm.getOperation(), user);
             }))
      insertionPoint = norm;
    if (!insertionPoint)
      return rewriter.notifyMatchFailure(
          norm, "the add's other users come before the norm's weights");

    OpBuilder::InsertionGuard guard(rewriter);
    if (insertionPoint == add.getOperation())
      rewriter.setInsertionPointAfter(add);
    else
      rewriter.setInsertionPoint(norm);
    NormKind kind = std::is_same_v<NormOp, LayerNormOp> ? NormKind::Layer
                                                        : NormKind::Rms;
    auto fused = AddNormOp::create(
        rewriter, norm.getLoc(), add.getLhs(), add.getRhs(), norm.getScale(),
        bias, kind, norm.getAxis(), norm.getEpsilon());
    rewriter.replaceOp(norm, fused.getResult());
    rewriter.replaceOp(add, fused.getSum());
    return success();
  }

  DominanceInfo &dominance;
};

struct FuseResidualNormPass
    : sinter::impl::FuseResidualNormBase<FuseResidualNormPass> {
  void runOnOperation() override {
    DominanceInfo &dominance = getAnalysis<DominanceInfo>();
    RewritePatternSet patterns(&getContext());
    patterns.add<ResidualNorm<LayerNormOp>, ResidualNorm<RmsNormOp>>(
        &getContext(), dominance);
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
