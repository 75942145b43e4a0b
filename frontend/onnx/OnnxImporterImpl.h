//===- OnnxImporterImpl.h - Internals shared by the ONNX importer -*- C++ -*-===//
//
// Not installed: the pieces that the graph walk (OnnxGraphImporter.cpp), the
// tensor reader (OnnxTensors.cpp) and the converters (Convert<Family>.cpp)
// share.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_ONNX_ONNXIMPORTERIMPL_H
#define SINTER_FRONTEND_ONNX_ONNXIMPORTERIMPL_H

#include "frontend/onnx/ConverterTable.h"
#include "frontend/onnx/OnnxImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"

#include <deque>

#include "onnx/onnx_pb.h"

namespace sinter {

/// The largest number of elements sinter accepts in one tensor (2^40): larger
/// shapes in a model file are corrupt or hostile, not real.
constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

/// The opset one node of an upgraded model is read at.
struct OnnxNodeOpset {
  int64_t version;  ///< kMinOpset once upgraded, else the declared opset.
  int64_t declared; ///< The model's opset for the default domain.
  std::string upgradeError; ///< Why ONNX's version converter failed.
};

struct OnnxModelFile {
  std::string path;      ///< As given by the user; used in locations.
  std::string directory; ///< Canonical folder of the model (external data).
  onnx::ModelProto proto;
  /// External data files, mapped once each, kept alive by the resource blobs
  /// that point into them.
  llvm::StringMap<std::shared_ptr<llvm::sys::fs::mapped_file_region>>
      externalFiles;
  /// Values of frozen graph inputs (ImportOptions::frozenInputs).
  std::deque<onnx::TensorProto> frozenInputs;
  /// Nodes of the default domain of a model upgraded from an old opset
  /// (upgradeOnnxOpsets): the opset each is read at.
  llvm::DenseMap<const onnx::NodeProto *, OnnxNodeOpset> nodeOpsets;
};

/// Upgrades the default-domain nodes of a model declaring opset 7 to 12 to
/// opset 13 (OpsetUpgrade.cpp); nodes whose upgrade fails keep their opset
/// and the reason in `nodeOpsets`. Leaves other models alone.
void upgradeOnnxOpsets(OnnxModelFile &model);

/// The opset `node` is read at: its entry in `nodeOpsets`, else
/// `domainOpset` (its domain's opset in the model).
int64_t onnxNodeOpset(const OnnxModelFile &model, const onnx::NodeProto &node,
                      int64_t domainOpset);

/// The MLIR element type of an ONNX TensorProto data type, or null.
mlir::Type onnxElementType(mlir::MLIRContext *context, int32_t dataType);

/// The name of an ONNX data type ("FLOAT", "STRING", ...), for messages.
llvm::StringRef onnxDataTypeName(int32_t dataType);

/// Converts `tensor` (an initializer or a Constant's value) to an elements
/// attribute: dense for small tensors, dense_resource for the rest. Takes the
/// bytes out of `tensor` instead of copying when it holds them as raw_data;
/// maps external data. `what` names the tensor in messages.
mlir::FailureOr<mlir::ElementsAttr>
importOnnxTensor(OnnxModelFile &model, onnx::TensorProto &tensor,
                 mlir::Location loc, llvm::StringRef what);

class OnnxGraphImporter;

/// Adds to `names` every name that the subgraphs of `node` (If's branches,
/// Loop's and Scan's bodies, recursively) read from enclosing scopes.
void collectCapturedNames(const onnx::NodeProto &node,
                          llvm::StringSet<> &names);

/// The view of one ONNX node that an operator converter works with: its
/// inputs as MLIR values, its attributes, and ways to create ops whose shape
/// errors are reported at the node instead of aborting.
class OnnxNode {
public:
  OnnxNode(OnnxGraphImporter &graph, const onnx::NodeProto &proto,
           int64_t opset, mlir::Location loc);

  const onnx::NodeProto &proto() const { return nodeProto; }
  int64_t opset() const { return opsetVersion; }
  mlir::Location loc() const { return location; }
  mlir::OpBuilder &builder();
  mlir::MLIRContext *context();

  /// Reports an error at the node: "node 'name' (Op): ...".
  mlir::InFlightDiagnostic error();

  // Inputs. Optional inputs may be absent (missing or named "").
  size_t numInputs() const { return nodeProto.input_size(); }
  bool hasInput(size_t i) const;
  mlir::Value input(size_t i);
  mlir::RankedTensorType inputType(size_t i);

  /// The input as integer constants, or an error naming what must be constant.
  mlir::FailureOr<llvm::SmallVector<int64_t>> constantInts(size_t i,
                                                           llvm::StringRef what);
  /// The input (a 0-D or 1-D integer tensor) as sizes known at import time:
  /// constants, or index values for dynamic dimensions. Shape computations
  /// of exported graphs (Shape -> Gather -> Concat -> Reshape) reduce to
  /// these. Returns std::nullopt when nothing is known.
  std::optional<llvm::SmallVector<mlir::OpFoldResult>> knownInts(size_t i);
  /// A scalar constant input as a double, or std::nullopt.
  std::optional<double> constantScalar(size_t i);

  // Attributes.
  const onnx::AttributeProto *attribute(llvm::StringRef name) const;
  int64_t intAttr(llvm::StringRef name, int64_t defaultValue) const;
  float floatAttr(llvm::StringRef name, float defaultValue) const;
  std::optional<llvm::SmallVector<int64_t>>
  intsAttr(llvm::StringRef name) const;
  std::string stringAttr(llvm::StringRef name,
                         llvm::StringRef defaultValue) const;
  /// A tensor attribute (Constant's value) as an elements attribute.
  mlir::FailureOr<mlir::ElementsAttr> tensorAttribute(llvm::StringRef name);

  // Outputs.
  size_t numOutputs() const { return nodeProto.output_size(); }
  /// Whether output `i` exists and something (a node or the graph) reads it.
  bool outputUsed(size_t i) const;
  void setOutput(size_t i, mlir::Value value,
                 std::optional<llvm::SmallVector<mlir::OpFoldResult>> known =
                     std::nullopt);

  /// Normalizes an ONNX axis (negative counts from the end) for `rank`.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                         llvm::StringRef what = "axis");

  /// A graph attribute (If's branches, Loop's body), or null.
  const onnx::GraphProto *graphAttr(llvm::StringRef name) const;
  /// Imports `body` at the builder's insertion point with its graph inputs
  /// bound to `inputs`; names of the enclosing graphs stay visible. Gives
  /// the values of its graph outputs.
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  importSubgraph(const onnx::GraphProto &body, mlir::ValueRange inputs);

  /// Creates an op that infers its result types; inference or verifier
  /// errors are reported at the node and give failure (never an abort).
  template <typename OpTy, typename... Args>
  mlir::FailureOr<OpTy> create(Args &&...args) {
    auto op = OpTy::create(builder(), location, builder().getNoneType(),
                           std::forward<Args>(args)...);
    if (mlir::failed(inferAndVerify(op.getOperation())))
      return mlir::failure();
    return op;
  }
  /// The same for ops with several results; attributes are passed as
  /// attributes (ODS offers no unwrapped builder with a TypeRange).
  template <typename OpTy, typename... Args>
  mlir::FailureOr<OpTy> createWithResults(size_t numResults, Args &&...args) {
    llvm::SmallVector<mlir::Type> placeholders(numResults,
                                               builder().getNoneType());
    auto op = OpTy::create(builder(), location, mlir::TypeRange(placeholders),
                           std::forward<Args>(args)...);
    if (mlir::failed(inferAndVerify(op.getOperation())))
      return mlir::failure();
    return op;
  }
  /// Creates an op whose result types are given, then verifies it.
  template <typename OpTy, typename... Args>
  mlir::FailureOr<OpTy> createTyped(Args &&...args) {
    auto op = OpTy::create(builder(), location, std::forward<Args>(args)...);
    if (mlir::failed(verifyCreated(op.getOperation())))
      return mlir::failure();
    return op;
  }

  /// `size` as an index value (materializing constants).
  mlir::Value indexValue(mlir::OpFoldResult size);
  /// Dimension `dim` of `value`: a constant when static, tensor.dim if not.
  mlir::OpFoldResult dimSize(mlir::Value value, int64_t dim);
  /// A known integer list as an i64 tensor (0-D when `scalar`).
  mlir::Value materializeInts(llvm::ArrayRef<mlir::OpFoldResult> values,
                              bool scalar);
  /// A constant tensor of `type` holding `values`.
  mlir::Value constant(mlir::DenseElementsAttr values);

private:
  mlir::LogicalResult inferAndVerify(mlir::Operation *op);
  mlir::LogicalResult verifyCreated(mlir::Operation *op);

  OnnxGraphImporter &graph;
  const onnx::NodeProto &nodeProto;
  int64_t opsetVersion;
  mlir::Location location;
};

} // namespace sinter

#endif // SINTER_FRONTEND_ONNX_ONNXIMPORTERIMPL_H
