//===- GpuPipeline.cpp - From sinter ops to PTX and host code -------------===//

#include "codegen/gpu/GpuPipeline.h"
#include "codegen/CpuPipeline.h"

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

std::string gpuLoweringPipeline(const GpuTarget &target) {
  return "buffer-deallocation-pipeline,"
         "convert-bufferization-to-memref,"
         "sinter-flash-attention-for-gpu,"
         "sinter-tile-contractions-for-gpu{precision=" +
         target.matmulPrecision +
         "},"
         "convert-linalg-to-parallel-loops,"
         "sinter-map-to-gpu,"
         // Integer powers become small functions, which outlining copies
         // into the kernel module with the kernels that call them.
         "convert-math-to-funcs{convert-ctlz=false},"
         "gpu-kernel-outlining,"
         // The GPU has no libm, and libdevice is part of CUDA, which
         // compiling must not need: every transcendental function becomes
         // arithmetic (f32 polynomials) before the kernels are lowered.
         "sinter-approximate-math{all=true},"
         "expand-strided-metadata,"
         "lower-affine,"
         "convert-scf-to-cf,"
         // PTX ISA 8.0 (CUDA 12.0 drivers and later) is the first to know
         // sm_90; it serves sm_80 as well.
         "nvvm-attach-target{chip=" +
         target.chip + " features=+ptx80 O=" + std::to_string(target.optLevel) +
         "},"
         // What is left of math (fma, floor, sqrt, ... in the polynomials)
         // calls libdevice's functions, defined here as NVPTX instructions.
         "gpu.module(convert-gpu-to-nvvm,sinter-define-device-math,"
         "canonicalize,cse,reconcile-unrealized-casts),"
         "gpu-to-llvm,"
         "gpu-module-to-binary{format=" +
         (target.kernelsAsBitcode ? "llvm" : "isa") +
         "},"
         "finalize-memref-to-llvm,"
         "convert-to-llvm,"
         "reconcile-unrealized-casts";
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
};
} // namespace

void registerGpuPipeline() {
  PassPipelineRegistration<GpuPipelineOptions>(
      "sinter-gpu-pipeline",
      "Lower sinter ops to GPU kernels in PTX and LLVM-dialect host code "
      "(what sinterc --target=cuda compiles)",
      [](OpPassManager &pm, const GpuPipelineOptions &options) {
        RuntimeKernels kernels;
        // Attention becomes the GPU's flash-attention kernel through the
        // CPU kernel's call (FlashAttentionForGpu).
        kernels.norm = kernels.matmul = false;
        GpuTarget target;
        target.chip = options.chip;
        target.optLevel = options.optLevel;
        target.matmulPrecision = options.matmulPrecision;
        (void)parsePassPipeline(bufferizationPipeline(kernels) +
                                    ",buffer-results-to-out-params,"
                                    "sinter-externalize-weights{min-bytes=0},"
                                    "sinter-plan-arena," +
                                    gpuLoweringPipeline(target),
                                pm, llvm::errs());
      });
}

} // namespace sinter
