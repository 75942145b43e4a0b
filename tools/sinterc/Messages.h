//===- Messages.h - What sinterc prints besides its files -------*- C++ -*-===//
//
// Diagnostics located at the model's node, tensor or file; the --check and
// --list-ops tables; the --stats figures.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_MESSAGES_H
#define SINTER_TOOLS_SINTERC_MESSAGES_H

#include "frontend/onnx/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace sinter::messages {

/// "node '/h.0/MatMul' (MatMul)", a tensor or file name, or file:line:col.
std::string describe(mlir::Location loc);

/// The diagnostic handler: each message prefixed by describe().
mlir::LogicalResult printDiagnostic(mlir::Diagnostic &diag);

/// --list-ops: the supported ONNX operators and their opsets.
void printSupportedOps();

/// --check: the model's operator histogram, then every problem the import
/// meets (unsupported operators, attribute values, values that must be known
/// at import time), each at its node; 0 when there is none, 1 otherwise.
int checkModel(mlir::MLIRContext &context, llvm::StringRef inputPath,
               const sinter::ImportOptions &options);

/// 1.50 MiB, 2.0 KiB, 12 B.
std::string formatBytes(int64_t bytes);

/// The composite ops the fusion passes create, and what is left unfused
/// that they look for, counted for --stats.
void printFusionStats(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace sinter::messages

#endif // SINTER_TOOLS_SINTERC_MESSAGES_H
