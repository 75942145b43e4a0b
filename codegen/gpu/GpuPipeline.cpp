//===- GpuPipeline.cpp - From sinter ops to PTX and host code -------------===//

#include "codegen/gpu/GpuPipeline.h"
#include "codegen/Artifact.h"
#include "codegen/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/Regex.h"

using namespace mlir;

namespace sinter {

bool isSupportedMatmulPrecision(StringRef precision) {
  return precision == "tf32" || precision == "tf32x3" || precision == "bf16" ||
         precision == "fp32";
}

bool isSupportedGpuChip(StringRef chip) {
  return chip == "sm_80" || chip == "sm_86" || chip == "sm_89" ||
         chip == "sm_90";
}

RuntimeKernels gpuRuntimeKernels(bool flashAttention) {
  RuntimeKernels kernels;
  // Attention becomes the GPU's flash-attention kernel through the CPU
  // kernel's call (FlashAttentionForGpu).
  kernels.flashAttention = flashAttention;
  kernels.norm = kernels.matmul = false;
  return kernels;
}

void buildGpuLoweringPhase(OpPassManager &pm, const GpuTarget &target) {
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createFlashAttentionForGpu());
  TileContractionsForGpuOptions tiling;
  tiling.precision = target.matmulPrecision;
  pm.addPass(createTileContractionsForGpu(tiling));
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createMapToGpu());
  // Integer powers become small functions, which outlining copies into the
  // kernel module with the kernels that call them.
  ConvertMathToFuncsOptions mathToFuncs;
  mathToFuncs.convertCtlz = false;
  pm.addPass(createConvertMathToFuncs(mathToFuncs));
  pm.addPass(createGpuKernelOutliningPass());
  // The GPU has no libm, and libdevice is part of CUDA, which compiling must
  // not need: every transcendental function becomes arithmetic (f32
  // polynomials) before the kernels are lowered.
  ApproximateMathOptions approximate;
  approximate.all = true;
  pm.addPass(createApproximateMath(approximate));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // PTX ISA 8.0 (CUDA 12.0 drivers and later) is the first to know sm_90;
  // it serves sm_80 as well.
  GpuNVVMAttachTargetOptions nvvm;
  nvvm.chip = target.chip;
  nvvm.features = "+ptx80";
  nvvm.optLevel = target.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(nvvm));
  // What is left of math (fma, floor, sqrt, ... in the polynomials) calls
  // libdevice's functions, defined here as NVPTX instructions.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createDefineDeviceMath());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = target.kernelsAsBitcode ? "llvm" : "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void buildGpuCodegenPipeline(OpPassManager &pm,
                             const GpuCodegenOptions &options) {
  RuntimeKernels kernels = gpuRuntimeKernels(options.flashAttention);
  if (options.entry.empty()) {
    buildBufferizationPhase(pm, kernels);
    pm.addPass(bufferization::createBufferResultsToOutParamsPass());
    ExternalizeWeightsOptions weights;
    weights.minBytes = 0;
    pm.addPass(createExternalizeWeights(weights));
    pm.addPass(createPlanArena());
  } else {
    pm.addPass(createPrepareEntryPass(options.entry, IndexChecking::Inputs));
    buildBufferizationPhase(pm, kernels);
    // Kernels read every constant from the device copy of the weights.
    buildPlacementPhase(pm, options.entry, /*minWeightBytes=*/0);
    pm.addPass(createTakeWeightsPass(options.entry));
  }
  buildGpuLoweringPhase(pm, options.target);
}

/// The contents of the module's kernel objects in `format`.
static std::string kernelObjects(ModuleOp module,
                                 gpu::CompilationTarget format) {
  std::string contents;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(attr))
        if (object.getFormat() == format)
          contents += object.getObject().getValue();
  });
  return contents;
}

std::string kernelBitcode(ModuleOp module) {
  return kernelObjects(module, gpu::CompilationTarget::Offload);
}

FailureOr<std::string> kernelPtx(ModuleOp module) {
  std::string ptx = kernelObjects(module, gpu::CompilationTarget::Assembly);
  // (No PTX: the model has nothing to compute, its outputs are empty.)
  // A call the PTX only declares would fail when the driver loads it.
  llvm::Regex external("\\.extern \\.func[^\n]*[ )]([A-Za-z_$][A-Za-z0-9_$]*)");
  SmallVector<StringRef> match;
  if (external.match(ptx, &match))
    return emitError(module.getLoc())
           << "unsupported on the GPU: the kernels call '" << match[1]
           << "', which has no GPU implementation";
  return ptx;
}

namespace {
struct GpuPipelineOptions : PassPipelineOptions<GpuPipelineOptions> {
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("Compile this function as sinterc --target=cuda does "
                     "for an artifact (weights file, arena)")};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("The architecture: sm_80 ... sm_90"),
                           llvm::cl::init("sm_90")};
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Kernel optimization level, 0-3"),
                            llvm::cl::init(3)};
  Option<std::string> matmulPrecision{
      *this, "matmul-precision",
      llvm::cl::desc("Contractions on tensor cores in tf32x3, tf32 or bf16, "
                     "or fp32"),
      llvm::cl::init("tf32x3")};
  Option<bool> flashAttention{
      *this, "flash-attention",
      llvm::cl::desc("Run f32 attention as one flash-attention kernel"),
      llvm::cl::init(true)};
};
} // namespace

void registerGpuCodegenPipeline() {
  PassPipelineRegistration<GpuPipelineOptions>(
      "sinter-gpu-pipeline",
      "Lower sinter ops to GPU kernels in PTX and LLVM-dialect host code; "
      "with entry=NAME, exactly what sinterc --target=cuda compiles for it",
      [](OpPassManager &pm, const GpuPipelineOptions &options) {
        GpuCodegenOptions codegen;
        codegen.entry = options.entry;
        codegen.target.chip = options.chip;
        codegen.target.optLevel = options.optLevel;
        codegen.target.matmulPrecision = options.matmulPrecision;
        codegen.flashAttention = options.flashAttention;
        buildGpuCodegenPipeline(pm, codegen);
      });
}

} // namespace sinter
