//===- FuzzOnnxGraph.cpp - Fuzz target: valid-but-odd ONNX graphs ---------===//
//
// Byte-level mutation of a model mostly damages its protobuf encoding, so
// the parser rejects it before any converter runs. This target reads its
// input as choices instead: an opset, graph inputs of random dtypes and
// (static, zero-sized or symbolic) shapes, small constant initializers, and
// a few nodes whose operators come from the importer's own table
// (supportedOnnxOps) with the input, output and attribute counts and types
// of ONNX's schema for them (unknown attributes, missing optional inputs
// and out-of-range values included). Every input is a well-formed model, so
// every one reaches the converters and shape inference; each must import
// into a module that verifies, or be refused with an error.
//
//===----------------------------------------------------------------------===//

#include "FuzzImport.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <limits>
#include <vector>

using namespace sinter;
using fuzz::ByteReader;

namespace {

const int32_t kDtypes[] = {
    onnx::TensorProto::FLOAT, onnx::TensorProto::FLOAT,
    onnx::TensorProto::INT64, onnx::TensorProto::INT32,
    onnx::TensorProto::BOOL,  onnx::TensorProto::FLOAT16,
    onnx::TensorProto::DOUBLE, onnx::TensorProto::UINT8,
    onnx::TensorProto::INT8,  onnx::TensorProto::BFLOAT16,
    onnx::TensorProto::STRING};

const int64_t kInts[] = {0, 1, 2, -1, 3, 4, -2, 1, 0, 5, -3, 7,
                         INT32_MAX, (int64_t)1 << 40, INT64_MIN, INT64_MAX};

const float kFloats[] = {0.0f, 1.0f, 0.5f, -1.0f, 1e-5f, 2.0f, 1e30f,
                         -1e30f, std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN()};

const char *const kStrings[] = {
    "", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect",
    "edge", "wrap", "linear", "nearest", "cubic", "half_pixel",
    "asymmetric", "align_corners", "pytorch_half_pixel", "round_prefer_floor",
    "floor", "ceil", "DCR", "CRD", "Tanh", "Sigmoid", "Relu", "forward",
    "reverse", "bidirectional", "tanh", "none", "mean", "sum", "max",
    "bilinear", "zeros", "border", "reflection", "i,j->ij", "ij,jk->ik",
    "bij,bjk->bik", "...ii->...i", "NCHW", "?"};

template <typename T, size_t N> const T &pick(ByteReader &in, const T (&pool)[N]) {
  return pool[in.below(N)];
}

void setShape(ByteReader &in, onnx::TypeProto::Tensor &tensor) {
  int rank = (int)in.below(5);
  auto *shape = tensor.mutable_shape();
  for (int d = 0; d < rank; ++d) {
    auto *dim = shape->add_dim();
    switch (in.below(8)) {
    case 0:
      dim->set_dim_param(in.flag() ? "n" : "m");
      break;
    case 1:
      dim->set_dim_value(0);
      break;
    case 2: // no value: an unknown size
      break;
    default:
      dim->set_dim_value(in.between(1, 6));
    }
  }
}

/// A small constant: an int64 vector (axes, shapes, pads, indices) or a
/// float one, of 0 to 4 elements, or a scalar.
void fillTensor(ByteReader &in, onnx::TensorProto &tensor) {
  bool floats = in.flag();
  tensor.set_data_type(floats ? onnx::TensorProto::FLOAT
                              : onnx::TensorProto::INT64);
  int64_t count = in.below(5);
  if (!in.flag() || count != 1)
    tensor.add_dims(count);
  for (int64_t i = 0; i < count; ++i) {
    if (floats)
      tensor.add_float_data(pick(in, kFloats));
    else
      tensor.add_int64_data(in.flag() ? in.between(-2, 6) : pick(in, kInts));
  }
}

void setAttribute(ByteReader &in, onnx::AttributeProto &attribute,
                  onnx::AttributeProto::AttributeType type,
                  const std::vector<std::string> &values) {
  attribute.set_type(type);
  switch (type) {
  case onnx::AttributeProto::INT:
    attribute.set_i(pick(in, kInts));
    break;
  case onnx::AttributeProto::FLOAT:
    attribute.set_f(pick(in, kFloats));
    break;
  case onnx::AttributeProto::STRING:
    attribute.set_s(pick(in, kStrings));
    break;
  case onnx::AttributeProto::INTS:
    for (int i = 0, n = in.below(6); i < n; ++i)
      attribute.add_ints(in.flag() ? in.between(0, 3) : pick(in, kInts));
    break;
  case onnx::AttributeProto::FLOATS:
    for (int i = 0, n = in.below(4); i < n; ++i)
      attribute.add_floats(pick(in, kFloats));
    break;
  case onnx::AttributeProto::STRINGS:
    for (int i = 0, n = in.below(4); i < n; ++i)
      attribute.add_strings(pick(in, kStrings));
    break;
  case onnx::AttributeProto::TENSOR:
    fillTensor(in, *attribute.mutable_t());
    break;
  case onnx::AttributeProto::GRAPH: {
    // A body that passes an outer value through (or nothing at all): the
    // control-flow converters must check the body's signature.
    onnx::GraphProto &body = *attribute.mutable_g();
    body.set_name("body");
    for (int i = 0, n = in.below(3); i < n; ++i) {
      auto *input = body.add_input();
      input->set_name("b" + std::to_string(i));
      auto *tensor = input->mutable_type()->mutable_tensor_type();
      tensor->set_elem_type(pick(in, kDtypes));
      setShape(in, *tensor);
    }
    if (!values.empty() && in.flag()) {
      auto *node = body.add_node();
      node->set_op_type("Identity");
      node->add_input(values[in.below(values.size())]);
      node->add_output("b_out");
      body.add_output()->set_name("b_out");
    }
    break;
  }
  default: // sparse tensors and type protos: left empty
    break;
  }
}

onnx::ModelProto buildModel(ByteReader &in) {
  onnx::ModelProto model;
  model.set_ir_version(in.flag() ? 8 : 3 + in.below(7));
  int64_t opset = in.flag() ? in.between(13, 18) : in.between(1, 23);
  auto *defaultDomain = model.add_opset_import();
  defaultDomain->set_domain("");
  defaultDomain->set_version(opset);
  auto *microsoft = model.add_opset_import();
  microsoft->set_domain("com.microsoft");
  microsoft->set_version(1);

  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name("fuzz");
  std::vector<std::string> values;
  for (int i = 0, n = 1 + in.below(3); i < n; ++i) {
    auto *input = graph.add_input();
    input->set_name("in" + std::to_string(i));
    auto *tensor = input->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(pick(in, kDtypes));
    setShape(in, *tensor);
    values.push_back(input->name());
  }
  for (int i = 0, n = in.below(3); i < n; ++i) {
    onnx::TensorProto *init = graph.add_initializer();
    init->set_name("init" + std::to_string(i));
    fillTensor(in, *init);
    values.push_back(init->name());
  }

  llvm::ArrayRef<OnnxOpSupport> ops = supportedOnnxOps();
  for (int k = 0, n = 1 + in.below(4); k < n; ++k) {
    const OnnxOpSupport &op = ops[in.below(ops.size())];
    const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(
        op.name.str(), (int)opset, op.domain.str());
    onnx::NodeProto &node = *graph.add_node();
    node.set_op_type(op.name.str());
    node.set_domain(op.domain.str());
    node.set_name("node" + std::to_string(k));
    int minIn = schema ? schema->min_input() : 1;
    int maxIn = schema ? std::min(schema->max_input(), minIn + 3) : 4;
    int inputs = (int)in.between(std::max(0, minIn - (in.below(8) == 0)),
                                 std::max(minIn, maxIn));
    for (int i = 0; i < inputs; ++i)
      node.add_input(i >= minIn && in.below(6) == 0
                         ? std::string()
                         : values[in.below(values.size())]);
    int minOut = schema ? std::max(1, schema->min_output()) : 1;
    int maxOut = schema ? std::min(schema->max_output(), minOut + 2) : 2;
    for (int i = 0, n = (int)in.between(minOut, std::max(minOut, maxOut));
         i < n; ++i) {
      node.add_output("v" + std::to_string(k) + "_" + std::to_string(i));
    }
    if (schema)
      for (const auto &[name, spec] : schema->attributes()) {
        if (!spec.required && !in.flag())
          continue;
        onnx::AttributeProto &attribute = *node.add_attribute();
        attribute.set_name(name);
        setAttribute(in, attribute, spec.type, values);
      }
    if (in.below(16) == 0) {
      onnx::AttributeProto &unknown = *node.add_attribute();
      unknown.set_name(in.flag() ? "fuzz_unknown" : "axis");
      setAttribute(in, unknown, onnx::AttributeProto::INT, values);
    }
    for (const std::string &output : node.output())
      values.push_back(output);
  }

  // The last node's outputs, and now and then another value (an input or an
  // initializer passed straight through), usually without a stated type.
  const onnx::NodeProto &last = graph.node(graph.node_size() - 1);
  for (const std::string &output : last.output())
    graph.add_output()->set_name(output);
  if (in.below(4) == 0)
    graph.add_output()->set_name(values[in.below(values.size())]);
  for (auto &output : *graph.mutable_output())
    if (in.below(4) == 0) {
      auto *tensor = output.mutable_type()->mutable_tensor_type();
      tensor->set_elem_type(pick(in, kDtypes));
      setShape(in, *tensor);
    }
  return model;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ByteReader in(data, size);
  bool checkAll = in.flag();
  onnx::ModelProto model = buildModel(in);
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    fuzz::finding("a built model does not serialize");
  std::string path = fuzz::writeScratchFile("graph.onnx", bytes);

  ImportOptions options;
  options.reportAllProblems = checkAll;
  fuzz::loadAndVerify(path, options);
  return 0;
}
