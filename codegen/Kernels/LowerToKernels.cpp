//===- LowerToKernels.cpp - Sinter ops as calls of the runtime's kernels --===//
//
// `sinter-lower-to-kernels`: the ops that the runtime's hand-written
// kernels compute become calls of those kernels, before
// convert-sinter-to-linalg lowers the rest. It runs while the operands'
// producers are still sinter ops, so that the kernels read through them in
// place: attention's heads through transposes and splits, a quantized
// weight's integers through its dequantize.
//
//===----------------------------------------------------------------------===//

#include "codegen/Kernels/Patterns.h"
#include "codegen/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sinter {
#define GEN_PASS_DEF_LOWERTOKERNELS
#include "codegen/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

struct LowerToKernelsPass
    : sinter::impl::LowerToKernelsBase<LowerToKernelsPass> {
  using LowerToKernelsBase::LowerToKernelsBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    if (flashAttention)
      sinter::populateAttentionKernelPatterns(patterns);
    if (normKernel)
      sinter::populateNormKernelPatterns(patterns);
    if (matmulKernel)
      sinter::populateMatmulKernelPatterns(patterns);
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
