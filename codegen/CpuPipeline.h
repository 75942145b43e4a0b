//===- CpuPipeline.h - From sinter ops to CPU object code -------*- C++ -*-===//
//
// The CPU code generation path: the pass pipeline that lowers a module of
// sinter ops to the LLVM dialect, translation to LLVM IR for a target CPU,
// and object emission through LLVM's TargetMachine, all in-process.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_CPUPIPELINE_H
#define SINTER_CODEGEN_CPUPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace sinter {

struct CpuTarget {
  /// An LLVM CPU name ("skylake-avx512", "znver3"), or "native" for the
  /// machine sinter runs on (its CPU and features, e.g. AVX-512).
  std::string cpu = "native";
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 3;
};

/// Which sinter ops become calls of the runtime's hand-written kernels
/// (runtime/src) rather than generated loops; code that calls them needs
/// libsinter_rt (linked into every artifact), so a JIT without it turns
/// them off.
struct RuntimeKernels {
  /// f32 attention as the flash-attention kernel (otherwise two
  /// contractions around a softmax, which materialize the scores).
  bool flashAttention = true;
  /// f32 layer/RMS norms (and residual add + norm) as the norm kernel
  /// (otherwise reductions and elementwise passes over the whole tensor).
  bool norm = true;
  /// f32 matmul and linear as the packed GEMM kernel (otherwise
  /// contractions, vectorized by LLVM).
  bool matmul = true;
  /// Linear layers that read the same input as one product
  /// (sinter-merge-sibling-linears).
  bool mergeLinears = true;
};

/// What the CPU code generation pipeline (`--sinter-cpu-pipeline`) lowers
/// for.
struct CpuCodegenOptions {
  RuntimeKernels kernels;
  /// Empty: the JIT form that mlir-runner tests run (public functions keep
  /// returning their buffers, weights stay in the module, loops run on one
  /// thread). A function name: what sinterc compiles for that entry (the
  /// artifact form: out parameters, weights file, arena, OpenMP loops).
  std::string entry;
};

/// Adds the lowering of sinter ops to linalg on tensors, with the ops that
/// `kernels` names as calls of the runtime's kernels. The one place that
/// turns RuntimeKernels into pass options.
void addSinterToLinalg(mlir::OpPassManager &pm, const RuntimeKernels &kernels);

/// Phase 1: from sinter ops on tensors to linalg on buffers.
void buildBufferizationPhase(mlir::OpPassManager &pm,
                             const RuntimeKernels &kernels);

/// Phase 2 of the artifact form: function results become out parameters
/// (buffers hoisted to the caller), constants of at least `minWeightBytes`
/// that `entry` reads go to the weights file, and intermediates to the
/// arena.
void buildPlacementPhase(mlir::OpPassManager &pm, llvm::StringRef entry,
                         int64_t minWeightBytes);

/// Phase 3: from linalg on buffers (allocations not yet freed) to the LLVM
/// dialect; with `threads` (an artifact's code), the large loops become
/// OpenMP parallel loops (the code then needs libomp) and heap buffers come
/// from the runtime's allocation functions (runtime/src/session/heap.c).
void buildCpuLoweringPhase(mlir::OpPassManager &pm, bool threads);

/// The whole CPU pipeline: the phases above, with the artifact writer's
/// steps between them as passes when `options.entry` is set (Artifact.h).
void buildCpuCodegenPipeline(mlir::OpPassManager &pm,
                             const CpuCodegenOptions &options);

/// Gets public functions ready for the pipelines: inputs read-only, C
/// wrappers (_mlir_ciface_*) for callers outside MLIR, sinter's naming
/// attributes dropped.
void prepareForLowering(mlir::ModuleOp module);

/// Registers buildCpuCodegenPipeline as `--sinter-cpu-pipeline` (sinter-opt,
/// tests).
void registerCpuCodegenPipeline();

/// A TargetMachine for `target`, or an error naming the CPU.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CpuTarget &target);

/// Translates an LLVM-dialect module to LLVM IR for `machine`.
mlir::FailureOr<std::unique_ptr<llvm::Module>>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                  llvm::TargetMachine &machine);

/// LLVM's optimization pipeline at `optLevel` (0 to 3) for `machine`.
llvm::Error optimizeLLVMModule(llvm::Module &module,
                               llvm::TargetMachine &machine, unsigned optLevel);

/// Writes `module` as an object file for `machine`.
mlir::LogicalResult emitObjectFile(llvm::Module &module,
                                   llvm::TargetMachine &machine,
                                   llvm::raw_pwrite_stream &os);

} // namespace sinter

#endif // SINTER_CODEGEN_CPUPIPELINE_H
