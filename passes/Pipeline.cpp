//===- Pipeline.cpp - The fusion and compression pipelines ----------------===//

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
  pm.addPass(createFoldConvScale());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void registerTransformerFusionPipeline() {
  PassPipelineRegistration<>(
      "sinter-fuse-transformer",
      "Run every transformer fusion (what sinterc does by default)",
      buildTransformerFusionPipeline);
}

void buildQuantizationPhase(OpPassManager &pm,
                            const CompressionOptions &options) {
  if (options.quantize == Quantization::None)
    return;
  const unsigned bits = options.quantize == Quantization::W4 ? 4 : 8;
  if (!options.scaling.empty()) {
    ScaleActivationsOptions scaling;
    scaling.statsFile = options.statsFile;
    scaling.method = options.scaling;
    scaling.alpha = options.alpha;
    scaling.bits = bits;
    scaling.groupSize = options.groupSize;
    scaling.keepFp32 = options.keepFp32;
    pm.addPass(createScaleActivations(scaling));
  }
  QuantizeWeightsOptions weights;
  weights.bits = bits;
  weights.groupSize = options.groupSize;
  weights.keepFp32 = options.keepFp32;
  pm.addPass(createQuantizeWeights(weights));
  if (options.quantize == Quantization::W8A8) {
    QuantizeActivationsOptions activations;
    activations.scales = options.activationScales;
    activations.statsFile = options.statsFile;
    activations.keepFp32 = options.keepFp32;
    pm.addPass(createQuantizeActivations(activations));
  }
}

void buildCompressionPipeline(OpPassManager &pm,
                              const CompressionOptions &options) {
  if (options.fuse)
    buildTransformerFusionPipeline(pm);
  if (options.instrument)
    pm.addPass(createInsertProbes());
  buildQuantizationPhase(pm, options);
}

namespace {
struct CompressionPipelineOptions
    : PassPipelineOptions<CompressionPipelineOptions> {
  Option<bool> fuse{*this, "fuse",
                    llvm::cl::desc("Run the transformer fusion passes first"),
                    llvm::cl::init(true)};
  Option<bool> instrument{
      *this, "instrument",
      llvm::cl::desc("Insert calibration probes after fusion")};
  Option<Quantization> quantize{
      *this, "quantize", llvm::cl::desc("How the weights are stored"),
      llvm::cl::init(Quantization::None),
      llvm::cl::values(
          clEnumValN(Quantization::None, "none", "f32"),
          clEnumValN(Quantization::W8, "w8", "int8 per output channel"),
          clEnumValN(Quantization::W4, "w4", "uint4 in groups"),
          clEnumValN(Quantization::W8A8, "w8a8",
                     "int8 weights and activations"))};
  Option<std::string> scaling{
      *this, "scaling",
      llvm::cl::desc("Scale input channels first: awq or smooth")};
  Option<double> alpha{*this, "alpha",
                       llvm::cl::desc("SmoothQuant's migration strength"),
                       llvm::cl::init(-1.0)};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("Weights per scale"),
                            llvm::cl::init(0)};
  Option<std::string> keepFp32{
      *this, "keep-fp32",
      llvm::cl::desc("Keep layers whose ONNX names match this in f32")};
  Option<std::string> statsFile{
      *this, "stats", llvm::cl::desc("The calibration statistics file")};
  Option<std::string> activationScales{
      *this, "activation-scales",
      llvm::cl::desc("With w8a8: static or dynamic"),
      llvm::cl::init("dynamic")};
};
} // namespace

void registerCompressionPipeline() {
  PassPipelineRegistration<CompressionPipelineOptions>(
      "sinter-compression-pipeline",
      "Fuse, instrument and quantize as sinterc does before code generation",
      [](OpPassManager &pm, const CompressionPipelineOptions &options) {
        CompressionOptions compression;
        compression.fuse = options.fuse;
        compression.instrument = options.instrument;
        compression.quantize = options.quantize;
        compression.scaling = options.scaling;
        compression.alpha = options.alpha;
        compression.groupSize = options.groupSize;
        compression.keepFp32 = options.keepFp32;
        compression.statsFile = options.statsFile;
        compression.activationScales = options.activationScales;
        buildCompressionPipeline(pm, compression);
      });
}

} // namespace sinter
