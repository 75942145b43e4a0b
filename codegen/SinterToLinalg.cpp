//===- SinterToLinalg.cpp - Lower sinter ops to structured ops ------------===//
//
// Every sinter op becomes ops on tensors that the rest of the pipeline knows
// how to tile, fuse, vectorize and bufferize: linalg.generic for elementwise
// ops, contractions and reductions, linalg.transpose, tensor.reshape,
// tensor.extract_slice and tensor.concat. The patterns live in
// SinterToLinalg/, one file per op family; the calls of the runtime's
// kernels are made before, by sinter-lower-to-kernels (Kernels/).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/SinterToLinalg/Patterns.h"
#include "ir/SinterOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sinter {
#define GEN_PASS_DEF_CONVERTSINTERTOLINALG
#include "codegen/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {

struct ConvertSinterToLinalgPass
    : sinter::impl::ConvertSinterToLinalgBase<ConvertSinterToLinalgPass> {
  using ConvertSinterToLinalgBase::ConvertSinterToLinalgBase;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    GreedyRewriteConfig config;
    config.enableFolding(false);
    // First the gathers that read a quantized table through its dequantize,
    // which must still be a sinter op: the greedy driver would otherwise be
    // free to lower the dequantize on its own first.
    {
      RewritePatternSet readsThroughDequantize(context);
      populateGatherOfDequantizedPatterns(readsThroughDequantize);
      if (failed(applyPatternsGreedily(
              getOperation(), std::move(readsThroughDequantize), config)))
        return signalPassFailure();
    }
    RewritePatternSet patterns(context);
    populateElementwisePatterns(patterns);
    populateContractionPatterns(patterns);
    populateReductionPatterns(patterns);
    populateDataMovementPatterns(patterns);
    populateResamplingPatterns(patterns);
    populateQuantizationPatterns(patterns);
    populateCompositePatterns(patterns);
    populateProbePatterns(patterns);
    populateVisionPatterns(patterns);
    populateMathPatterns(patterns);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    // Whatever is left has no lowering yet: name it instead of leaving
    // sinter ops for the next stage to trip over.
    bool remaining = false;
    getOperation()->walk([&](Operation *op) {
      if (!isa<SinterDialect>(op->getDialect()))
        return;
      op->emitError() << "'" << op->getName()
                      << "' has no lowering to linalg yet";
      remaining = true;
    });
    if (remaining)
      signalPassFailure();
  }
};

} // namespace
