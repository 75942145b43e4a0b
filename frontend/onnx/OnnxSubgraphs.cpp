//===- OnnxSubgraphs.cpp - What control-flow subgraphs read from outside --===//
//
// ONNX subgraphs (If's branches, Loop's and Scan's bodies) may read any
// value of the graphs that enclose them by name. The importer orders a
// control-flow node after the producers of those values, as if they were
// inputs of the node: this file finds them.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImporterImpl.h"

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

} // namespace sinter
