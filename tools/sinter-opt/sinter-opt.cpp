//===- sinter-opt.cpp - The sinter pass driver ----------------------------===//
//
// mlir-opt with the sinter dialect: runs passes and pipelines over .mlir
// files, for tests and for pass authors. Pass and dialect plugins load with
// --load-pass-plugin / --load-dialect-plugin.
//
//===----------------------------------------------------------------------===//

#include "codegen/CpuPipeline.h"
#include "codegen/Passes.h"
#include "codegen/gpu/GpuPipeline.h"
#include "ir/SinterDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  sinter::registerSinterCodegenPasses();
  sinter::registerCpuCodegenPipeline();
  sinter::registerGpuCodegenPipeline();
  sinter::registerSinterGraphPasses();
  sinter::registerTransformerFusionPipeline();
  sinter::registerCompressionPipeline();

  mlir::DialectRegistry registry;
  registry.insert<sinter::SinterDialect>();
  // The upstream dialects that sinter lowers through, with their interfaces.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR in-process.
  mlir::registerAllToLLVMIRTranslations(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "sinter pass driver\n", registry));
}
