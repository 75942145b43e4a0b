//===- FlopsPlugin.cpp - Entry point of the FLOP-count pass plugin --------===//
//
// sinter-opt --load-pass-plugin=SinterFlopsPlugin.so calls
// mlirGetPassPluginInfo, whose callback registers the plugin's passes so that
// they can be named on the command line and in pipelines.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "SinterFlopsPlugin", LLVM_VERSION_STRING,
          [] { flops_plugin::registerFlopsPluginPasses(); }};
}
