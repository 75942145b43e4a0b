//===- Pipeline.cpp - The fusion pipeline and pass registration -----------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace sinter {

void buildTransformerFusionPipeline(OpPassManager &pm) {
  // Merging first: exporters repeat constants and shape computations per
  // use, and the patterns compare values, not their spellings.
  pm.addPass(createDeduplicateConstants());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createFuseLayerNorm());
  pm.addPass(createFuseRmsNorm());
  pm.addPass(createFuseResidualNorm());
  pm.addPass(createFuseGelu());
  pm.addPass(createFuseSilu());
  pm.addPass(createFuseRotaryEmbedding());
  pm.addPass(createFuseAttention());
  pm.addPass(createFuseLinear());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void registerTransformerFusionPipeline() {
  PassPipelineRegistration<>(
      "sinter-fuse-transformer",
      "Run every transformer fusion (what sinterc does by default)",
      buildTransformerFusionPipeline);
}

} // namespace sinter
