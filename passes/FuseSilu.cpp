//===- FuseSilu.cpp - SiLU and SwiGLU gating ------------------------------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSESILU
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// x * sigmoid(x), either order.
struct SiluFromSigmoid : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [x, gate] : bothOrders(op)) {
      auto sigmoid = gate.getDefiningOp<SigmoidOp>();
      if (!sigmoid || sigmoid.getInput() != x || !gate.hasOneUse() ||
          x.getType() != op.getType())
        continue;
      rewriter.replaceOpWithNewOp<SiluOp>(op, x);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not x * sigmoid(x)");
  }
};

/// x / (1 + exp(-x)).
struct SiluFromExp : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DivOp op,
                                PatternRewriter &rewriter) const override {
    Value x = op.getLhs();
    auto add = op.getRhs().getDefiningOp<AddOp>();
    if (!add || !op.getRhs().hasOneUse() || x.getType() != op.getType() ||
        !isa<FloatType>(op.getType().getElementType()))
      return rewriter.notifyMatchFailure(op, "not x / (1 + ...)");
    for (auto [one, term] : bothOrders(add)) {
      auto exp = term.getDefiningOp<ExpOp>();
      if (!exp || !term.hasOneUse() || !isSplatNear(one, 1.0, 0.0) ||
          !isScalarLike(one, term) || negated(exp.getInput()) != x ||
          !exp.getInput().hasOneUse())
        continue;
      rewriter.replaceOpWithNewOp<SiluOp>(op, x);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not x / (1 + exp(-x))");
  }
};

/// silu(g) * u, either order, all of one type.
struct SwigluFromSilu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [gated, up] : bothOrders(op)) {
      auto silu = gated.getDefiningOp<SiluOp>();
      if (!silu || !gated.hasOneUse() || up.getType() != op.getType() ||
          gated.getType() != op.getType())
        continue;
      rewriter.replaceOpWithNewOp<SwigluOp>(op, silu.getInput(), up);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not silu(g) * u");
  }
};

struct FuseSiluPass : sinter::impl::FuseSiluBase<FuseSiluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SiluFromSigmoid, SiluFromExp>(&getContext(), /*benefit=*/2);
    patterns.add<SwigluFromSilu>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
