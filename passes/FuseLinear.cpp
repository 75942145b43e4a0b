//===- FuseLinear.cpp - matmul (+ bias) by a 2-D weight to linear ---------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSELINEAR
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// matmul(x, W) and matmul(x, transpose(W', [1, 0])) with a 2-D weight.
struct MatmulToLinear : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType lhs = op.getLhs().getType(), rhs = op.getRhs().getType();
    if (!isa<FloatType>(lhs.getElementType()) || rhs.getRank() != 2 ||
        lhs.getRank() < 2)
      return rewriter.notifyMatchFailure(op,
                                         "not x (rank >= 2) times a matrix");
    Value weight = op.getRhs();
    bool transposed = false;
    if (auto transpose = weight.getDefiningOp<TransposeOp>();
        transpose && transpose.getPerm() == ArrayRef<int64_t>{1, 0}) {
      weight = transpose.getInput();
      transposed = true;
    }
    auto linear = LinearOp::create(rewriter, op.getLoc(), op.getLhs(), weight,
                                   /*bias=*/Value(), transposed);
    if (linear.getType() != op.getType()) {
      rewriter.eraseOp(linear);
      return rewriter.notifyMatchFailure(op, "result type would change");
    }
    rewriter.replaceOp(op, linear.getResult());
    return success();
  }
};

/// add(linear(x, W), b) with b of N elements, b on either side.
struct FoldBiasIntoLinear : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [product, bias] : bothOrders(op)) {
      auto linear = product.getDefiningOp<LinearOp>();
      if (!linear || linear.getBias() || !product.hasOneUse() ||
          op.getType() != linear.getType())
        continue;
      int64_t n = linear.getType().getShape().back();
      auto biasType = cast<RankedTensorType>(bias.getType());
      std::optional<SmallVector<int64_t>> shape =
          dropLeadingOnes(biasType.getShape(), 1);
      if (ShapedType::isDynamic(n) || !shape || (*shape)[0] != n)
        continue;
      Value vector = reshapeTo(rewriter, op.getLoc(), bias, {n});
      rewriter.replaceOpWithNewOp<LinearOp>(op, linear.getInput(),
                                            linear.getWeight(), vector,
                                            linear.getTransposeWeight());
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not a bias added to a linear");
  }
};

struct FuseLinearPass : sinter::impl::FuseLinearBase<FuseLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatmulToLinear, FoldBiasIntoLinear>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
