//===- Passes.h - Passes of the FLOP-count plugin ---------------*- C++ -*-===//
//
// Declarations generated from Passes.td: the option structs, the create
// functions and the registration of every pass of the plugin.
//
//===----------------------------------------------------------------------===//

#ifndef FLOPS_PLUGIN_PASSES_H
#define FLOPS_PLUGIN_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace flops_plugin {
#define GEN_PASS_DECL
#include "Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Passes.h.inc"
} // namespace flops_plugin

#endif // FLOPS_PLUGIN_PASSES_H
