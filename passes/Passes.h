//===- Passes.h - Graph-level passes ----------------------------*- C++ -*-===//

#ifndef SINTER_PASSES_PASSES_H
#define SINTER_PASSES_PASSES_H

#include "ir/SinterOps.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace sinter {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The fusion passes in the order sinterc runs them (norms, activations and
/// rotary embeddings first, so that attention sees its inputs in their
/// final form), with canonicalization around them.
void buildTransformerFusionPipeline(mlir::OpPassManager &pm);

/// Registers the `sinter-fuse-transformer` pipeline (the passes themselves
/// by the generated registerSinterGraphPasses()).
void registerTransformerFusionPipeline();

} // namespace sinter

#endif // SINTER_PASSES_PASSES_H
