//===- OnnxImporter.h - ONNX models to the sinter dialect -------*- C++ -*-===//
//
// The public entry points of the ONNX importer. Problems are reported through
// the MLIRContext's diagnostic handler, each at the location of the node or
// tensor it concerns; a failed import reports every problem it found.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_ONNX_ONNXIMPORTER_H
#define SINTER_FRONTEND_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace sinter {

/// How symbolic dimensions of the graph inputs are treated.
struct ImportOptions {
  /// Symbolic dimensions bound to a size (`--dim sequence=128`).
  llvm::StringMap<int64_t> dimSizes;
  /// Upper bounds of symbolic dimensions left dynamic (`--max-dim`); recorded
  /// on the function as `sinter.dim_bounds` for code generation.
  llvm::StringMap<int64_t> dimBounds;
  /// Graph inputs frozen to constants read from ONNX TensorProto files
  /// (`--freeze-input name=tensor.pb`): for inputs that carry shapes,
  /// axes or other values the importer must know.
  llvm::StringMap<std::string> frozenInputs;
  /// Name of the function the graph becomes.
  std::string functionName = "main";
  /// Report every problem of the model in one run (`sinterc --check`):
  /// nodes of unsupported operators do not stop the import of the others,
  /// and the nodes that read what a failed node computes are counted in a
  /// closing remark instead of being reported one by one.
  bool reportAllProblems = false;
};

/// An ONNX model read from disk, with the external data it references kept
/// mapped for as long as the model (and the module imported from it) lives.
struct OnnxModelFile;

/// Reads `path` (binary `.onnx`, or the ONNX text format `.onnxtext`) into a
/// model proto. Reports malformed, truncated or unreadable files.
mlir::FailureOr<std::shared_ptr<OnnxModelFile>>
readOnnxModel(mlir::MLIRContext &context, llvm::StringRef path);

/// Imports a model read by readOnnxModel into a module with one function.
/// Weights become dense resources that own (or map) the model's bytes, so the
/// model file object may be dropped afterwards.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxModel(mlir::MLIRContext &context, OnnxModelFile &model,
                const ImportOptions &options);

/// One supported ONNX operator: a domain ("" is the default domain), a name
/// and the range of opset versions the importer handles.
struct OnnxOpSupport {
  llvm::StringRef domain;
  llvm::StringRef name;
  int64_t minOpset;
  int64_t maxOpset;
};

/// Every operator the importer supports, sorted by domain and name.
llvm::ArrayRef<OnnxOpSupport> supportedOnnxOps();

/// What `sinterc --check` prints: the model's op histogram and the nodes the
/// importer cannot convert.
struct OnnxModelReport {
  struct OpCount {
    std::string domain, name;
    int64_t opset = 0, count = 0;
    bool supported = false;
  };
  std::vector<OpCount> ops;
  int64_t nodes = 0;
  int64_t unsupportedNodes = 0;
};
OnnxModelReport checkOnnxModel(const OnnxModelFile &model);

} // namespace sinter

#endif // SINTER_FRONTEND_ONNX_ONNXIMPORTER_H
