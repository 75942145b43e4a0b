//===- ModelLoader.h - One entry point for every model format --*- C++ -*-===//
//
// sinterc and the tests load models through loadModel: an ONNX file (.onnx
// binary, .onnxtext text format) is imported, a .mlir file in the sinter
// dialect (the custom-graph path) is parsed and verified. Problems are
// reported through the context's diagnostic handler.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_MODELLOADER_H
#define SINTER_FRONTEND_MODELLOADER_H

#include "frontend/onnx/OnnxImporter.h"

namespace sinter {

/// The dialects a loaded module may contain; register them before parsing.
void registerModelDialects(mlir::DialectRegistry &registry);

/// Loads the model at `path`, choosing the format by its extension.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
loadModel(mlir::MLIRContext &context, llvm::StringRef path,
          const ImportOptions &options = {});

} // namespace sinter

#endif // SINTER_FRONTEND_MODELLOADER_H
