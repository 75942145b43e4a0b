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

/// How the weights (and activations) are stored (docs/quantization.md).
enum class Quantization { None, W8, W4, W8A8 };

/// What the compression pipeline does to a model before code generation:
/// sinterc's --fuse, --instrument, --quantize and their options.
struct CompressionOptions {
  /// The transformer fusion passes first (buildTransformerFusionPipeline).
  bool fuse = true;
  /// Calibration probes on the fused model (an instrumented build).
  bool instrument = false;
  Quantization quantize = Quantization::None;
  /// Before rounding, scale the weights' input channels by the activations'
  /// magnitudes: "awq", "smooth" (SmoothQuant, with `alpha`), or "" for no.
  std::string scaling;
  double alpha = -1.0;
  /// Weights per scale; 0: per output channel (w8, w8a8), 32 (w4).
  int64_t groupSize = 0;
  /// Layers and weights whose ONNX names match this regex stay in f32.
  std::string keepFp32;
  /// The calibration statistics the scaling and static scales read.
  std::string statsFile;
  /// With w8a8: one calibrated scale per tensor ("static"), or one per row
  /// computed at run time ("dynamic").
  std::string activationScales = "dynamic";
};

/// The quantization passes (scale-activations, quantize-weights,
/// quantize-activations) as `options` asks; none without quantize.
void buildQuantizationPhase(mlir::OpPassManager &pm,
                            const CompressionOptions &options);

/// The whole compression pipeline: fusion, probes, quantization. sinterc
/// runs the same phases with calibration (which measures the model as
/// fused, before quantization) between them.
void buildCompressionPipeline(mlir::OpPassManager &pm,
                              const CompressionOptions &options);

/// Registers buildCompressionPipeline as `--sinter-compression-pipeline`.
void registerCompressionPipeline();

} // namespace sinter

#endif // SINTER_PASSES_PASSES_H
