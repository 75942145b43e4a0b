//===- CpuPipeline.cpp - From sinter ops to CPU object code ---------------===//

#include "codegen/CpuPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace sinter {

std::string bufferizationPipeline(const RuntimeKernels &kernels) {
  return std::string(kernels.mergeLinears ? "sinter-merge-sibling-linears,"
                                          : "") +
         "sinter-lower-to-kernels{flash-attention=" +
         (kernels.flashAttention ? "true" : "false") +
         " norm-kernel=" + (kernels.norm ? "true" : "false") +
         " matmul-kernel=" + (kernels.matmul ? "true" : "false") +
         "},"
         "convert-sinter-to-linalg,"
         "sinter-fuse-elementwise,"
         "sinter-interchange-contractions,"
         "one-shot-bufferize{bufferize-function-boundaries=true "
         "function-boundary-type-conversion=identity-layout-map}";
}

std::string bufferLoweringPipeline(bool threads) {
  // With threads, each structured op becomes parallel loops; the big ones
  // become OpenMP worksharing loops (libomp), the rest plain loops.
  std::string loops =
      threads ? "convert-linalg-to-parallel-loops,"
                "func.func(sinter-distribute-loops),"
                "convert-scf-to-openmp,"
                // Inlines the memref.alloca_scope the previous pass wraps
                // around each loop body (they hold no allocas here), which
                // would otherwise get several blocks from scf-to-cf.
                "canonicalize,"
              : "convert-linalg-to-loops,";
  return "buffer-deallocation-pipeline,"
         // The clones and deallocations the previous step inserted.
         "convert-bufferization-to-memref," +
         loops +
         // expand-strided-metadata creates affine.apply: lower it after.
         "expand-strided-metadata,"
         "lower-affine,"
         "convert-scf-to-cf,"
         // tanh, erf, exp as arith: their loops vectorize.
         "sinter-approximate-math,"
         // Integer powers become small functions; then math to LLVM
         // intrinsics (rsqrt becomes 1/sqrt), the rest (erf, tanh) to libm.
         "convert-math-to-funcs{convert-ctlz=false},"
         "convert-math-to-llvm,"
         "convert-math-to-libm,"
         // bfloat16 conversions as integer ops: LLVM would call
         // __truncsfbf2, which older libgcc lacks.
         "arith-expand{include-bf16=true},"
         "finalize-memref-to-llvm,"
         "convert-to-llvm,"
         "reconcile-unrealized-casts";
}

std::string cpuPipeline(const RuntimeKernels &kernels) {
  // Results become out parameters of private functions only: a public
  // entry keeps returning its buffers, for JIT callers such as mlir-runner.
  return bufferizationPipeline(kernels) +
         ",buffer-results-to-out-params," +
         bufferLoweringPipeline(/*threads=*/false);
}

namespace {
struct CpuPipelineOptions : PassPipelineOptions<CpuPipelineOptions> {
  Option<bool> flashAttention{
      *this, "flash-attention",
      llvm::cl::desc("Lower f32 attention to the runtime's flash-attention "
                     "kernel (needs libsinter_rt at run time)"),
      llvm::cl::init(true)};
  Option<bool> normKernel{
      *this, "norm-kernel",
      llvm::cl::desc("Lower f32 layer/RMS norms to the runtime's norm kernel "
                     "(needs libsinter_rt at run time)"),
      llvm::cl::init(true)};
  Option<bool> matmulKernel{
      *this, "matmul-kernel",
      llvm::cl::desc("Lower f32 matmul and linear to the runtime's matmul "
                     "kernel (needs libsinter_rt at run time)"),
      llvm::cl::init(true)};
  Option<bool> mergeLinears{
      *this, "merge-linears",
      llvm::cl::desc("Merge linear layers that read the same input into one "
                     "product (sinter-merge-sibling-linears)"),
      llvm::cl::init(true)};
};
} // namespace

void registerCpuPipeline() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "sinter-cpu-pipeline",
      "Lower sinter ops to the LLVM dialect for the CPU (what sinterc "
      "compiles)",
      [](OpPassManager &pm, const CpuPipelineOptions &options) {
        RuntimeKernels kernels;
        kernels.flashAttention = options.flashAttention;
        kernels.norm = options.normKernel;
        kernels.matmul = options.matmulKernel;
        kernels.mergeLinears = options.mergeLinears;
        (void)parsePassPipeline(cpuPipeline(kernels), pm, llvm::errs());
      });
}

void prepareForLowering(ModuleOp module) {
  module.walk([](func::FuncOp func) {
    if (!func.isPublic() || func.isExternal())
      return;
    // The caller's inputs are read-only: bufferization copies before it
    // would write into one.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (isa<TensorType>(func.getArgument(i).getType()))
        func.setArgAttr(i, "bufferization.writable",
                        BoolAttr::get(func.getContext(), false));
    // Public functions get C-callable wrappers (_mlir_ciface_*) that take
    // memref descriptors by pointer: the runtime calls those.
    func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(func.getContext()));
    // Names of inputs and outputs are for the artifact writer, not LLVM.
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      func.removeArgAttr(i, "sinter.name");
      func.removeArgAttr(i, "sinter.dim_names");
    }
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      func.removeResultAttr(i,
                            StringAttr::get(func.getContext(), "sinter.name"));
  });
}

LogicalResult lowerToLLVMDialect(ModuleOp module, PassManager &pm) {
  prepareForLowering(module);
  if (failed(parsePassPipeline(cpuPipeline(), pm, llvm::errs())))
    return emitError(module.getLoc()) << "the CPU pass pipeline does not parse";
  return pm.run(module);
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CpuTarget &target) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return llvm::createStringError(error);
  std::string cpu = target.cpu, features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") +
                  std::string(feature.second ? "+" : "-") +
                  feature.first().str();
  } else {
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        llvmTarget->createMCSubtargetInfo(triple, cpu, ""));
    if (!info || !info->isCPUStringValid(cpu))
      return llvm::createStringError("unknown CPU '" + cpu + "' for " +
                                     triple.str());
  }
  llvm::TargetOptions options;
  // Constructors (a CUDA model registers its kernels in one) go in
  // .init_array, which the dynamic loader runs; the shared object is linked
  // without the C runtime's start files that would run .ctors.
  options.UseInitArray = true;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
      target.optLevel >= 2 ? llvm::CodeGenOptLevel::Aggressive
                           : llvm::CodeGenOptLevel::Less));
  if (!machine)
    return llvm::createStringError("cannot create a target machine for " +
                                   triple.str());
  return machine;
}

FailureOr<std::unique_ptr<llvm::Module>>
translateToLLVMIR(ModuleOp module, llvm::LLVMContext &context,
                  llvm::TargetMachine &machine) {
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return emitError(module.getLoc()) << "translation to LLVM IR failed";
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  return llvmModule;
}

llvm::Error optimizeLLVMModule(llvm::Module &module,
                               llvm::TargetMachine &machine,
                               unsigned optLevel) {
  return makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                   &machine)(&module);
}

LogicalResult emitObjectFile(llvm::Module &module, llvm::TargetMachine &machine,
                             llvm::raw_pwrite_stream &os) {
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, os, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return failure();
  passes.run(module);
  return success();
}

} // namespace sinter
