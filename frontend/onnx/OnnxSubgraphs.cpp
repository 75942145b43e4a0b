//===- OnnxSubgraphs.cpp - Control-flow subgraphs -------------------------===//
//
// ONNX subgraphs (If's branches, Loop's and Scan's bodies) may read any
// value of the graphs that enclose them by name. The importer orders a
// control-flow node after the producers of those values, as if they were
// inputs of the node: this file finds them, and imports a subgraph into
// the region its converter made.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxGraphImporter.h"

using namespace mlir;

namespace sinter {

/// Adds to `names` what `graph` reads without defining it itself.
static void collectFreeNames(const onnx::GraphProto &graph,
                             llvm::StringSet<> &names) {
  llvm::StringSet<> defined;
  for (const onnx::ValueInfoProto &input : graph.input())
    defined.insert(input.name());
  for (const onnx::TensorProto &init : graph.initializer())
    defined.insert(init.name());
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &output : node.output())
      defined.insert(output);
  auto read = [&](const std::string &name) {
    if (!name.empty() && !defined.contains(name))
      names.insert(name);
  };
  for (const onnx::NodeProto &node : graph.node()) {
    for (const std::string &input : node.input())
      read(input);
    llvm::StringSet<> nested;
    collectCapturedNames(node, nested);
    for (const auto &name : nested)
      read(name.getKey().str());
  }
  for (const onnx::ValueInfoProto &output : graph.output())
    read(output.name());
}

void collectCapturedNames(const onnx::NodeProto &node,
                          llvm::StringSet<> &names) {
  for (const onnx::AttributeProto &attr : node.attribute()) {
    if (attr.has_g())
      collectFreeNames(attr.g(), names);
    for (const onnx::GraphProto &graph : attr.graphs())
      collectFreeNames(graph, names);
  }
}

const onnx::GraphProto *OnnxNode::graphAttr(llvm::StringRef name) const {
  const onnx::AttributeProto *attr = attribute(name);
  return attr && attr->has_g() ? &attr->g() : nullptr;
}

FailureOr<SmallVector<Value>>
OnnxGraphImporter::importSubgraph(const onnx::GraphProto &graph,
                                  ValueRange inputs) {
  // The subgraph sees every name of the enclosing scopes (ONNX's lexical
  // scoping); what it defines is forgotten when it ends.
  llvm::StringMap<Value> savedValues = values;
  llvm::StringMap<onnx::TensorProto *> savedInitializers = initializers;
  DenseMap<std::pair<Value, int64_t>, Value> savedDims = std::move(dimSizes);
  // Values of a subgraph may be destroyed (a Loop body imported again), so
  // what is known about them must not outlive it.
  DenseMap<Value, SmallVector<OpFoldResult>> savedKnown = known;
  llvm::StringSet<> savedOuter = outerNames;
  dimSizes.clear();
  for (const auto &entry : values)
    outerNames.insert(entry.getKey());
  for (const auto &entry : initializers)
    outerNames.insert(entry.getKey());
  for (const onnx::TensorProto &init : graph.initializer())
    initializers[init.name()] = const_cast<onnx::TensorProto *>(&init);
  for (auto [input, value] : llvm::zip(graph.input(), inputs))
    values[input.name()] = value;
  SmallVector<int> order;
  FailureOr<SmallVector<Value>> results = failure();
  if (succeeded(orderNodes(graph, order)) &&
      succeeded(convertNodes(graph, order))) {
    SmallVector<Value> outputs;
    for (const onnx::ValueInfoProto &output : graph.output())
      if (Value value = lookup(output.name()))
        outputs.push_back(value);
    if (outputs.size() == static_cast<size_t>(graph.output_size()))
      results = std::move(outputs);
  }
  values = std::move(savedValues);
  initializers = std::move(savedInitializers);
  dimSizes = std::move(savedDims);
  known = std::move(savedKnown);
  outerNames = std::move(savedOuter);
  return results;
}

FailureOr<SmallVector<Value>>
OnnxNode::importSubgraph(const onnx::GraphProto &body, ValueRange inputs) {
  return graph.importSubgraph(body, inputs);
}

} // namespace sinter
