//===- CpuPipeline.cpp - From sinter ops to CPU object code ---------------===//

#include "codegen/CpuPipeline.h"
#include "codegen/Artifact.h"
#include "codegen/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

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

void addSinterToLinalg(OpPassManager &pm, const RuntimeKernels &kernels) {
  // The kernel calls first: they read their operands' producers in place
  // while those are still sinter ops.
  LowerToKernelsOptions options;
  options.flashAttention = kernels.flashAttention;
  options.normKernel = kernels.norm;
  options.matmulKernel = kernels.matmul;
  pm.addPass(createLowerToKernels(options));
  pm.addPass(createConvertSinterToLinalg());
}

void buildBufferizationPhase(OpPassManager &pm, const RuntimeKernels &kernels) {
  if (kernels.mergeLinears)
    pm.addPass(createMergeSiblingLinears());
  addSinterToLinalg(pm, kernels);
  pm.addPass(createFuseElementwise());
  pm.addPass(createInterchangeContractions());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // The bodies of scf.while/scf.for imported from ONNX Loop, Scan and the
  // recurrent ops compute their carried tensors anew each iteration.
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
}

void buildPlacementPhase(OpPassManager &pm, StringRef entry,
                         int64_t minWeightBytes) {
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  ExternalizeWeightsOptions weights;
  weights.entry = entry.str();
  weights.minBytes = minWeightBytes;
  pm.addPass(createExternalizeWeights(weights));
  PlanArenaOptions arena;
  arena.entry = entry.str();
  pm.addPass(createPlanArena(arena));
}

void buildCpuLoweringPhase(OpPassManager &pm, bool threads) {
  bufferization::buildBufferDeallocationPipeline(pm);
  // The clones and deallocations the previous step inserted.
  pm.addPass(createConvertBufferizationToMemRefPass());
  if (threads) {
    // Each structured op becomes parallel loops; the big ones become OpenMP
    // worksharing loops (libomp), the rest plain loops.
    pm.addPass(createConvertLinalgToParallelLoopsPass());
    pm.addNestedPass<func::FuncOp>(createDistributeLoops());
    pm.addPass(createConvertSCFToOpenMPPass());
    // Inlines the memref.alloca_scope the previous pass wraps around each
    // loop body (they hold no allocas here), which would otherwise get
    // several blocks from scf-to-cf.
    pm.addPass(createCanonicalizerPass());
  } else {
    pm.addPass(createConvertLinalgToLoopsPass());
  }
  // expand-strided-metadata creates affine.apply: lower it after.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // tanh, erf, exp as arith: their loops vectorize.
  pm.addPass(createApproximateMath());
  // Integer powers become small functions; then math to LLVM intrinsics
  // (rsqrt becomes 1/sqrt), the rest (erf, tanh) to libm.
  ConvertMathToFuncsOptions mathToFuncs;
  mathToFuncs.convertCtlz = false;
  pm.addPass(createConvertMathToFuncs(mathToFuncs));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // bfloat16 conversions as integer ops: LLVM would call __truncsfbf2,
  // which older libgcc lacks.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  // An artifact's heap buffers come from the runtime (runtime/src/session/
  // heap.c), which ends a run whose buffer does not fit with
  // SINTER_OUT_OF_MEMORY; the JIT form keeps malloc and free.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = threads;
  // Aligned requests, so that the runtime sees the buffer's own size (the
  // other lowering pads it to align the pointer itself).
  memrefToLLVM.useAlignedAlloc = threads;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void buildCpuCodegenPipeline(OpPassManager &pm,
                             const CpuCodegenOptions &options) {
  if (options.entry.empty()) {
    // Results become out parameters of private functions only: a public
    // entry keeps returning its buffers, for JIT callers such as
    // mlir-runner.
    buildBufferizationPhase(pm, options.kernels);
    pm.addPass(bufferization::createBufferResultsToOutParamsPass());
    buildCpuLoweringPhase(pm, /*threads=*/false);
    return;
  }
  pm.addPass(
      createPrepareEntryPass(options.entry, IndexChecking::InputsAndComputed));
  buildBufferizationPhase(pm, options.kernels);
  buildPlacementPhase(pm, options.entry, ExternalizeWeightsOptions().minBytes);
  pm.addPass(createTakeWeightsPass(options.entry));
  buildCpuLoweringPhase(pm, /*threads=*/true);
}

namespace {
struct CpuPipelineOptions : PassPipelineOptions<CpuPipelineOptions> {
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("Compile this function as sinterc does for an artifact "
                     "(out parameters, weights file, arena, OpenMP loops); "
                     "empty: the JIT form for mlir-runner")};
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

void registerCpuCodegenPipeline() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "sinter-cpu-pipeline",
      "Lower sinter ops to the LLVM dialect for the CPU; with entry=NAME, "
      "exactly what sinterc compiles for that entry",
      [](OpPassManager &pm, const CpuPipelineOptions &options) {
        CpuCodegenOptions codegen;
        codegen.entry = options.entry;
        codegen.kernels.flashAttention = options.flashAttention;
        codegen.kernels.norm = options.normKernel;
        codegen.kernels.matmul = options.matmulKernel;
        codegen.kernels.mergeLinears = options.mergeLinears;
        buildCpuCodegenPipeline(pm, codegen);
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
