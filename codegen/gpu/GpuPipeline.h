//===- GpuPipeline.h - From sinter ops to PTX and host code -----*- C++ -*-===//
//
// The CUDA code generation path: linalg on buffers becomes GPU kernels
// (contractions as tiled kernels on tensor cores, every other loop nest with
// one thread per iteration), the kernels become NVVM and PTX
// through LLVM's NVPTX backend, in-process, and the host code becomes LLVM
// dialect calls of the runtime's kernel-launch functions. The PTX is
// embedded in the artifact and loaded by the runtime through the CUDA
// driver at run time; nothing of CUDA is needed to compile.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_GPU_GPUPIPELINE_H
#define SINTER_CODEGEN_GPU_GPUPIPELINE_H

#include "codegen/CpuPipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace sinter {

struct GpuTarget {
  /// The NVIDIA architecture the PTX targets: sm_80 (A100) or sm_90 (H100,
  /// H200); the driver compiles the PTX for the device it runs on, which
  /// must be at least this architecture.
  std::string chip = "sm_90";
  /// LLVM optimization level of the kernels, 0 to 3.
  unsigned optLevel = 3;
  /// How contractions (matmuls, linear layers, attention's products)
  /// multiply: on tensor cores with f32 accumulation "tf32x3" (each value
  /// as two TF32 parts, three products: f32 accuracy), "tf32" or "bf16";
  /// or "fp32" with FMAs.
  std::string matmulPrecision = "tf32x3";
  /// The kernels as LLVM bitcode for NVPTX instead of PTX: to read them
  /// (sinterc --emit=nvvm), or to run them on the CPU in the emulated-GPU
  /// tests. An artifact needs PTX.
  bool kernelsAsBitcode = false;
};

/// The precisions --gpu-matmul-precision accepts.
bool isSupportedMatmulPrecision(llvm::StringRef precision);

/// The module attribute in which --sinter-tile-contractions-for-gpu counts
/// the contractions it made tiled kernels of.
constexpr llvm::StringLiteral kTiledContractionsAttr =
    "sinter.gpu.tiled_contractions";

/// ... and in which --sinter-flash-attention-for-gpu counts its kernels.
constexpr llvm::StringLiteral kFlashAttentionsAttr =
    "sinter.gpu.flash_attentions";

/// The architectures --gpu-arch accepts.
bool isSupportedGpuChip(llvm::StringRef chip);

/// What the GPU code generation pipeline (`--sinter-gpu-pipeline`) lowers
/// for.
struct GpuCodegenOptions {
  GpuTarget target;
  /// f32 attention as one flash-attention kernel (otherwise two
  /// contractions around a softmax).
  bool flashAttention = true;
  /// Empty: every constant to the weights, results as out parameters of
  /// private functions only. A function name: what sinterc --target=cuda
  /// compiles for that entry (CpuCodegenOptions::entry).
  std::string entry;
};

/// The ops that run as the runtime's kernels on the GPU path: attention
/// (which FlashAttentionForGpu turns into a GPU kernel), nothing else.
RuntimeKernels gpuRuntimeKernels(bool flashAttention);

/// The last phase: from linalg on buffers (weights and arena placed,
/// allocations not yet freed) to the LLVM dialect, with the kernels as PTX
/// (or bitcode) in a gpu.binary.
void buildGpuLoweringPhase(mlir::OpPassManager &pm, const GpuTarget &target);

/// The whole GPU pipeline: bufferization and placement
/// (CpuPipeline.h) and the GPU lowering phase.
void buildGpuCodegenPipeline(mlir::OpPassManager &pm,
                             const GpuCodegenOptions &options);

/// The PTX text of the module's kernels (after buildGpuLoweringPhase), empty
/// for a model without kernels (its outputs are empty); an error if the PTX
/// calls a function it does not define.
mlir::FailureOr<std::string> kernelPtx(mlir::ModuleOp module);

/// The LLVM bitcode of the module's kernels (after buildGpuLoweringPhase with
/// kernelsAsBitcode), empty for a model without kernels.
std::string kernelBitcode(mlir::ModuleOp module);

/// Registers buildGpuCodegenPipeline as `--sinter-gpu-pipeline` (sinter-opt,
/// tests).
void registerGpuCodegenPipeline();

} // namespace sinter

#endif // SINTER_CODEGEN_GPU_GPUPIPELINE_H
