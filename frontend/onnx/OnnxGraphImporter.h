//===- OnnxGraphImporter.h - The ONNX graph walk ---------------*- C++ -*-===//
//
// Not installed: the importer's state, shared by the graph walk
// (OnnxGraphImporter.cpp) and the import of control-flow subgraphs
// (OnnxSubgraphs.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_ONNX_ONNXGRAPHIMPORTER_H
#define SINTER_FRONTEND_ONNX_ONNXGRAPHIMPORTER_H

#include "frontend/onnx/OnnxImporterImpl.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

namespace sinter {

class OnnxGraphImporter {
public:
  OnnxGraphImporter(mlir::MLIRContext &context, OnnxModelFile &model,
                    const ImportOptions &options)
      : context(context), model(model), options(options), builder(&context) {}

  mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> run();

  mlir::Value lookup(llvm::StringRef name);
  mlir::Location nodeLocation(const onnx::NodeProto &node, int index);

  mlir::MLIRContext &context;
  OnnxModelFile &model;
  const ImportOptions &options;
  mlir::OpBuilder builder;
  /// ONNX value name -> the MLIR value computing it.
  llvm::StringMap<mlir::Value> values;
  /// Initializers, imported when first read.
  llvm::StringMap<onnx::TensorProto *> initializers;
  /// Integer shape values known at import time (see OnnxNode::knownInts).
  llvm::DenseMap<mlir::Value, llvm::SmallVector<mlir::OpFoldResult>> known;
  /// tensor.dim of each dynamic dimension read so far (OnnxNode::dimSize).
  llvm::DenseMap<std::pair<mlir::Value, int64_t>, mlir::Value> dimSizes;
  /// Names read by some node or by the graph's outputs.
  llvm::StringSet<> usedNames;
  /// Opset version per domain ("" is the default domain).
  llvm::StringMap<int64_t> opsets;
  /// Names of values whose producer failed: their readers are skipped
  /// instead of reporting follow-on errors.
  llvm::StringSet<> poisoned;
  /// Nodes skipped because they read a poisoned value.
  int64_t skippedNodes = 0;
  /// Nodes checkSupport reported (an unsupported operator, or inputs and
  /// outputs that do not fit the operator): never converted, even when
  /// ImportOptions::reportAllProblems goes on past them.
  llvm::DenseSet<const onnx::NodeProto *> rejectedNodes;
  /// Imports a control-flow node's subgraph at the builder's insertion
  /// point, in a scope of its own (OnnxSubgraphs.cpp).
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  importSubgraph(const onnx::GraphProto &graph, mlir::ValueRange inputs);
  /// The function's entry block: where initializers become constants.
  mlir::Block *entryBlock = nullptr;
  /// Names that enclosing graphs define, while a subgraph is imported.
  llvm::StringSet<> outerNames;

private:
  mlir::Location modelLocation() {
    return mlir::NameLoc::get(mlir::StringAttr::get(&context, model.path));
  }
  mlir::LogicalResult readOpsets();
  mlir::LogicalResult orderNodes(const onnx::GraphProto &graph,
                                 llvm::SmallVectorImpl<int> &order);
  mlir::LogicalResult checkSupport(const onnx::GraphProto &graph);
  mlir::FailureOr<mlir::func::FuncOp> createFunction(mlir::ModuleOp module);
  mlir::LogicalResult freezeInputs();
  mlir::LogicalResult convertNodes(const onnx::GraphProto &graph,
                                   llvm::ArrayRef<int> order);
  mlir::LogicalResult finishFunction(mlir::func::FuncOp func);
};

} // namespace sinter

#endif // SINTER_FRONTEND_ONNX_ONNXGRAPHIMPORTER_H
