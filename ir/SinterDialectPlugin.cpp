//===- SinterDialectPlugin.cpp - The sinter dialect as an MLIR plugin -----===//
//
// Lets tools built on libMLIR.so that know nothing of sinter (upstream
// mlir-opt, other projects' drivers) read and write sinter IR:
//   mlir-opt --load-dialect-plugin=<build>/lib/SinterDialectPlugin.so
//   model.mlir
//
//===----------------------------------------------------------------------===//

#include "ir/SinterDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "SinterDialect", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            registry->insert<sinter::SinterDialect>();
          }};
}
