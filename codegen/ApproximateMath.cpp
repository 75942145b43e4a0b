//===- ApproximateMath.cpp - Vectorizable transcendental functions -------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_APPROXIMATEMATH
#include "codegen/Passes.h.inc"

namespace {

struct ApproximateMathPass : impl::ApproximateMathBase<ApproximateMathPass> {
  using ApproximateMathBase::ApproximateMathBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    if (all) {
      auto everything = [](StringRef) { return true; };
      populateMathF32ExpansionPatterns(patterns, everything);
      populateMathPolynomialApproximationPatterns(patterns, everything);
    }
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return llvm::is_contained(
          {math::TanhOp::getOperationName(), math::ErfOp::getOperationName(),
           math::ExpOp::getOperationName(), math::ExpM1Op::getOperationName()},
          name);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace sinter
