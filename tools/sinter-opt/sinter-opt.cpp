//===- sinter-opt.cpp - The sinter pass driver ----------------------------===//
//
// mlir-opt with the sinter dialect: runs passes and pipelines over .mlir
// files, for tests and for pass authors. Pass and dialect plugins load with
// --load-pass-plugin / --load-dialect-plugin.
//
//===----------------------------------------------------------------------===//

#include "codegen/CpuPipeline.h"
#include "codegen/Passes.h"
#include "ir/SinterDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  sinter::registerSinterCodegenPasses();
  sinter::registerCpuPipeline();
  sinter::registerSinterGraphPasses();
  sinter::registerTransformerFusionPipeline();

  mlir::DialectRegistry registry;
  registry.insert<sinter::SinterDialect>();
  // The upstream dialects that sinter lowers through, with their interfaces.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "sinter pass driver\n", registry));
}
