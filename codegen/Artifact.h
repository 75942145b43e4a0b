//===- Artifact.h - Compiling a model into a deployable artifact -*- C++
//-*-===//
//
// What `sinterc model.onnx -o out/model` produces: out/model.so (the code,
// with libsinter_rt linked in), out/model.h (the model's C API) and
// out/model.weights (the constants, mapped read-only by the runtime).
// docs/runtime-abi.md is the contract between these files and the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_ARTIFACT_H
#define SINTER_CODEGEN_ARTIFACT_H

#include "codegen/CpuPipeline.h"
#include "codegen/gpu/GpuPipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/Module.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sinter {

struct ArtifactOptions {
  /// Prefix of the C API (`<name>_load`, `<name>_run`...): a C identifier.
  std::string name = "model";
  /// The model file, named in the header.
  std::string sourceName;
  /// The function the runtime calls; empty: @main, or the module's only
  /// public function.
  std::string entry;
  /// The host CPU (on a GPU target, the CPU that launches the kernels).
  CpuTarget target;
  /// Set for a CUDA artifact: every op runs on the GPU, and the runtime
  /// keeps the weights and intermediates in device memory.
  std::optional<GpuTarget> gpu;
  /// Extra passes on linalg-on-buffers code before it is lowered further
  /// (a textual pipeline, e.g. from a plugin); empty for none.
  std::string extraPasses;
  /// Which ops run as the runtime's kernels.
  RuntimeKernels kernels;
  /// Stop once the module is in the LLVM dialect (sinterc --emit=mlir-llvm):
  /// the result has no LLVM module.
  bool stopAtLLVMDialect = false;
  /// Record, for each input used as indices (a Gather's, a GatherElements'
  /// or a ScatterElements'), the range of the dimension it indexes, which
  /// the runtime checks its values against before each run; and, on the
  /// CPU, check the indices the model computes (`sinter-check-indices`).
  bool checkInputIndices = true;
};

/// Which gather and scatter indices a compiled model checks
/// (docs/runtime-abi.md, "Inputs used as indices").
enum class IndexChecking {
  None,
  /// Inputs that reach the indices unchanged, by the runtime before a run.
  Inputs,
  /// ... and the indices the model computes, by the model itself.
  InputsAndComputed,
};

/// One input or output of the entry function, as the descriptor and the
/// header spell it.
struct TensorDescription {
  std::string name;
  int dtype = 0; // ONNX TensorProto.DataType numbering (sinter_dtype)
  std::string dtypeName;
  std::vector<int64_t> shape;    // -1 where dynamic
  std::vector<int64_t> maxShape; // bound (or -1) where dynamic
  std::vector<std::string> dimNames;
  /// An input the model uses as indices: every value must lie in
  /// [-indexBound, indexBound), the size of the dimension it indexes (the
  /// smallest, where it indexes several); -1 for none.
  int64_t indexBound = -1;
};

/// A calibration probe of an instrumented model (`sinter.probe_*`), as the
/// descriptor lists it: its index is its id.
struct ProbeDescription {
  int kind = 0; // sinter_probe_kind
  std::string name;
};

struct CompiledModel {
  std::unique_ptr<llvm::Module> llvmModule;
  std::vector<ProbeDescription> probes;
  std::vector<TensorDescription> inputs, outputs;
  /// The ops whose computed indices the model checks, by their numbers in
  /// the fault record (the entry's last result when there are any).
  std::vector<std::string> indexChecks;
  /// The weights data (without the file header) and its checksum.
  std::vector<char> weights;
  uint64_t weightsChecksum = 0;
  int64_t arenaBytes = 0;
  /// The arena's buffers laid end to end, without sharing.
  int64_t arenaUnsharedBytes = 0;
  /// Allocations left on the heap (dynamic shapes, nested regions).
  int64_t heapAllocations = 0;
  std::string descriptor;
  /// CUDA artifacts: the kernels' PTX (also embedded in the code), and the
  /// device as the descriptor names it ("cuda sm_90"); empty for the CPU.
  std::string ptx;
  std::string device;
  /// With GpuTarget::kernelsAsBitcode, the kernels as LLVM bitcode (and no
  /// PTX).
  std::string kernelBitcode;
  /// CUDA artifacts: how many kernels are tiled contractions (matmuls,
  /// linear layers, attention's products) and in which precision.
  int64_t tiledContractions = 0;
  /// ... and how many are flash attentions.
  int64_t flashAttentions = 0;
  std::string matmulPrecision;
};

/// Applied to each pass manager compileModel runs: the caller's
/// instrumentation (timing, IR printing).
using PassManagerSetup = std::function<void(mlir::PassManager &)>;

/// Lowers `module` (sinter ops on tensors) to optimized LLVM IR with the
/// runtime's entry point and C API, and the weights taken out.
mlir::FailureOr<CompiledModel> compileModel(mlir::ModuleOp module,
                                            const PassManagerSetup &setup,
                                            llvm::LLVMContext &context,
                                            llvm::TargetMachine &machine,
                                            const ArtifactOptions &options);

/// compileModel's steps between its pass phases, as passes that the
/// registered pipelines run with `entry=` (what sinterc compiles for that
/// entry): the first describes the entry and runs prepareForLowering, the
/// second (after placement) takes the weights out of the module, which
/// sinterc writes to the weights file and these drop.
std::unique_ptr<mlir::Pass> createPrepareEntryPass(std::string entry,
                                                  IndexChecking checking);
std::unique_ptr<mlir::Pass> createTakeWeightsPass(std::string entry);

/// The artifact's files, as bytes: the weights file and the C header.
std::string weightsFileBytes(const CompiledModel &model);
std::string headerText(const CompiledModel &model,
                       const ArtifactOptions &options);

/// Links `objectPath` and the embedded runtime into the shared library
/// `libraryPath` (whose DT_SONAME is `soname`) with ld.lld; the error names
/// the linker and its output.
llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath,
                              llvm::StringRef soname);

/// `name` as a C identifier: other characters become '_', a leading digit
/// gets a '_' before it.
std::string toCIdentifier(llvm::StringRef name);

} // namespace sinter

#endif // SINTER_CODEGEN_ARTIFACT_H
