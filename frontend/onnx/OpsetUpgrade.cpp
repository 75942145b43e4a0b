//===- OpsetUpgrade.cpp - Old default-domain opsets, read as opset 13 -----===//
//
// Models written at opsets 7 to 12 of the default domain are upgraded, node
// by node, to kMinOpset with ONNX's own C++ version converter, after ONNX
// shape inference has given the adapters the types and ranks they read.
// Node by node rather than the whole model at once, so that an adapter that
// fails (or is missing) costs one node, not the model: that node keeps its
// declared opset and the reason, and the importer reports it there unless
// its converter reads the old form directly (a converter whose entry starts
// below kMinOpset, such as Softmax's coerce-to-2-D form). Nodes keep the
// user's name (unnamed ones get the name messages gave them before), so
// errors after the upgrade still name the node the user wrote.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include "llvm/ADT/StringSet.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <cerrno>
#include <csignal>
#include <exception>
#include <memory>
#include <optional>
#include <unordered_map>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sinter {
namespace {

/// Initializers larger than this are given to shape inference as typed
/// graph inputs instead of copies: it needs the values of shape-like
/// tensors only, and a copy of the weights would double the memory.
constexpr int64_t kMaxCopiedInitializerElements = 1024;

using TypeMap = std::unordered_map<std::string, onnx::TypeProto>;

/// The tensor's element count, INT64_MAX when its dims overflow (a damaged
/// model's); only compared against a limit here.
int64_t elementCount(const onnx::TensorProto &tensor) {
  int64_t count = 1;
  for (int64_t dim : tensor.dims())
    if (__builtin_mul_overflow(count, dim, &count))
      return INT64_MAX;
  return count;
}

onnx::TypeProto tensorType(const onnx::TensorProto &tensor) {
  onnx::TypeProto type;
  onnx::TypeProto::Tensor *t = type.mutable_tensor_type();
  t->set_elem_type(tensor.data_type());
  for (int64_t dim : tensor.dims())
    t->mutable_shape()->add_dim()->set_dim_value(dim);
  return type;
}

/// Calls `fn` on every graph of `graph`'s nodes' attributes, recursively.
template <typename GraphT, typename Fn>
void forSubgraphs(GraphT &graph, Fn fn) {
  for (auto &node : *graph.mutable_node())
    for (auto &attr : *node.mutable_attribute()) {
      if (attr.has_g())
        fn(*attr.mutable_g());
      for (auto &g : *attr.mutable_graphs())
        fn(g);
    }
}

/// Runs `work` in a forked child and gives the bytes it returns, or nullopt
/// when the child crashed, failed or ran past a minute: a shield around
/// library code that crashes on input it should reject.
template <typename Work>
std::optional<std::string> runIsolated(Work work) {
  int channel[2];
  if (pipe(channel) != 0)
    return std::nullopt;
  pid_t child = fork();
  if (child < 0) {
    close(channel[0]);
    close(channel[1]);
    return std::nullopt;
  }
  if (child == 0) {
    close(channel[0]);
    // What the library prints as it crashes (a sanitizer's report too) is
    // not the user's concern: the parent goes on without the result.
    int devNull = open("/dev/null", O_WRONLY);
    if (devNull >= 0)
      dup2(devNull, STDERR_FILENO);
    // A crash ends the child at once: no handler of the parent's (a
    // sanitizer's report, a fuzzer saving its input) runs for it.
    for (int crash : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
      signal(crash, SIG_DFL);
    alarm(60);
    std::string result = work();
    const char *data = result.data();
    size_t left = result.size();
    while (left > 0) {
      ssize_t written = write(channel[1], data, left);
      if (written <= 0)
        _exit(1);
      data += written;
      left -= size_t(written);
    }
    // _exit: no atexit handlers or static destructors of the parent's.
    _exit(0);
  }
  close(channel[1]);
  std::string bytes;
  char buffer[1 << 16];
  for (ssize_t n; (n = read(channel[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    bytes.append(buffer, size_t(n));
  }
  close(channel[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return std::nullopt;
  return bytes;
}

/// ONNX's schemas, but for RNN, GRU and LSTM before opset 7, whose shape
/// inference (ONNX 1.12's RNNShapeInference1) reads the first two sizes of
/// X without checking its rank and crashes when X has fewer: those are
/// handed out with the inference skipped for such an X (the importer then
/// reports the node's wrong input itself).
class GuardedSchemas final : public onnx::ISchemaRegistry {
public:
  const onnx::OpSchema *GetSchema(const std::string &key,
                                  const int maxInclusiveVersion,
                                  const std::string &domain) const override {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(key, maxInclusiveVersion, domain);
    bool recurrent = key == "RNN" || key == "GRU" || key == "LSTM";
    if (!schema || !recurrent || schema->since_version() >= 7 ||
        (!domain.empty() && domain != "ai.onnx"))
      return schema;
    std::unique_ptr<onnx::OpSchema> &guarded =
        copies[key + "-" + std::to_string(schema->since_version())];
    if (!guarded) {
      guarded = std::make_unique<onnx::OpSchema>(*schema);
      onnx::InferenceFunction infer = schema->GetTypeAndShapeInferenceFunction();
      guarded->TypeAndShapeInferenceFunction(
          [infer](onnx::InferenceContext &context) {
            const onnx::TypeProto *x =
                context.getNumInputs() ? context.getInputType(0) : nullptr;
            if (x && x->has_tensor_type() && x->tensor_type().has_shape() &&
                x->tensor_type().shape().dim_size() < 2)
              return;
            if (infer)
              infer(context);
          });
    }
    return guarded.get();
  }

private:
  mutable std::unordered_map<std::string, std::unique_ptr<onnx::OpSchema>>
      copies;
};

/// The types ONNX shape inference gives the model's values, at every graph
/// level (value names do not shadow outer ones).
TypeMap inferTypes(const onnx::ModelProto &model) {
  onnx::ModelProto copy;
  copy.set_ir_version(model.ir_version());
  *copy.mutable_opset_import() = model.opset_import();
  *copy.mutable_functions() = model.functions();
  onnx::GraphProto &graph = *copy.mutable_graph();
  const onnx::GraphProto &original = model.graph();
  graph.set_name(original.name().empty() ? "graph" : original.name());
  *graph.mutable_node() = original.node();
  *graph.mutable_input() = original.input();
  *graph.mutable_output() = original.output();
  *graph.mutable_value_info() = original.value_info();
  llvm::StringSet<> inputs;
  for (const onnx::ValueInfoProto &input : original.input())
    inputs.insert(input.name());
  for (const onnx::TensorProto &init : original.initializer()) {
    bool small = init.data_location() != onnx::TensorProto::EXTERNAL &&
                 elementCount(init) <= kMaxCopiedInitializerElements;
    if (small) {
      *graph.add_initializer() = init;
    } else if (!inputs.contains(init.name())) {
      onnx::ValueInfoProto *input = graph.add_input();
      input->set_name(init.name());
      *input->mutable_type() = tensorType(init);
    }
  }
  // ONNX 1.12's inference functions trust their node to match its schema
  // (Scan-9 reads num_scan_inputs without checking it is there, Conv reads
  // pads by kernel_shape's length): on a damaged or odd model they crash
  // rather than throw. So inference runs in a child process; when the child
  // fails, no value is typed, and the adapters that need a type fail on
  // their node alone.
  std::optional<std::string> inferred = runIsolated([&copy] {
    GuardedSchemas schemas;
    try {
      onnx::shape_inference::InferShapes(copy, &schemas);
    } catch (const std::exception &) {
      // Inference stops at what it cannot type.
    }
    return copy.SerializeAsString();
  });
  if (!inferred || !copy.ParseFromString(*inferred))
    return {};
  TypeMap types;
  auto collect = [&](auto &self, onnx::GraphProto &g) -> void {
    for (const onnx::TensorProto &init : g.initializer())
      types[init.name()] = tensorType(init);
    for (auto *list : {&g.input(), &g.value_info(), &g.output()})
      for (const onnx::ValueInfoProto &info : *list)
        if (info.has_type())
          types[info.name()] = info.type();
    forSubgraphs(g, [&](onnx::GraphProto &sub) { self(self, sub); });
  };
  collect(collect, *copy.mutable_graph());
  return types;
}

/// Whether the schema of `op` is the same at `from` and at `to`.
bool unchangedBetween(const std::string &op, int64_t from, int64_t to) {
  const onnx::OpSchema *old =
      onnx::OpSchemaRegistry::Schema(op, static_cast<int>(from), "");
  const onnx::OpSchema *now =
      onnx::OpSchemaRegistry::Schema(op, static_cast<int>(to), "");
  return old && now && old->since_version() == now->since_version();
}

class Upgrader {
public:
  Upgrader(OnnxModelFile &model, int64_t declared)
      : declared(declared), types(inferTypes(model.proto)) {
    collectNames(model.proto.graph());
  }

  void upgradeGraph(onnx::GraphProto &graph);

  /// Per node of the upgraded graphs, in order (pointers are taken once the
  /// node lists stop changing).
  std::vector<std::pair<onnx::GraphProto *, std::vector<OnnxNodeOpset>>>
      pending;

private:
  void collectNames(const onnx::GraphProto &graph);
  std::string freshName(const std::string &base);
  /// Converts `node` with ONNX's adapters into `out`; returns the error.
  std::string convert(const onnx::NodeProto &node,
                      std::vector<onnx::NodeProto> &out);
  void reshapeChannelSlope(onnx::NodeProto &node,
                           std::vector<onnx::NodeProto> &out);

  int64_t declared;
  TypeMap types;
  llvm::StringSet<> names;
};

void Upgrader::collectNames(const onnx::GraphProto &graph) {
  for (const onnx::TensorProto &init : graph.initializer())
    names.insert(init.name());
  for (const onnx::ValueInfoProto &input : graph.input())
    names.insert(input.name());
  for (const onnx::NodeProto &node : graph.node()) {
    for (const std::string &output : node.output())
      names.insert(output);
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        collectNames(attr.g());
      for (const onnx::GraphProto &g : attr.graphs())
        collectNames(g);
    }
  }
}

std::string Upgrader::freshName(const std::string &base) {
  for (int k = 0;; ++k) {
    std::string name = base + "_upgraded" + (k ? "_" + std::to_string(k) : "");
    if (names.insert(name).second)
      return name;
  }
}

/// Why ONNX's adapters must not see `node`, or "": they index inputs and
/// read shapes without checking (the broadcast adapters of opset 6 to 7
/// crash on a missing input or an unknown rank), so the node must fit its
/// schema and, below opset 7, every input must have a known rank.
std::string unsafeForAdapters(const onnx::NodeProto &node, int64_t opset,
                              const TypeMap &types) {
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset));
  if (!schema)
    return "ONNX has no " + node.op_type() + " at opset " +
           std::to_string(opset);
  if (node.input_size() < schema->min_input() ||
      node.input_size() > schema->max_input() ||
      node.output_size() < schema->min_output() ||
      node.output_size() > schema->max_output())
    return "its inputs or outputs do not fit its schema at opset " +
           std::to_string(opset);
  for (auto [i, input] : llvm::enumerate(node.input())) {
    if (input.empty() || opset >= 7)
      continue;
    auto it = types.find(input);
    if (it == types.end() || !it->second.has_tensor_type() ||
        !it->second.tensor_type().has_shape())
      return "the rank of input '" + input + "' is not known";
    // Gemm's 6-to-7 adapter reads two dimensions of A and B.
    if (node.op_type() == "Gemm" && i < 2 &&
        it->second.tensor_type().shape().dim_size() != 2)
      return "input '" + input + "' of Gemm is not a matrix";
  }
  return "";
}

std::string Upgrader::convert(const onnx::NodeProto &node,
                              std::vector<onnx::NodeProto> &out) {
  std::string unsafe = unsafeForAdapters(node, declared, types);
  if (!unsafe.empty())
    return unsafe;
  onnx::ModelProto mini;
  mini.set_ir_version(7); // The IR version of opset 13.
  onnx::OperatorSetIdProto *opset = mini.add_opset_import();
  opset->set_domain("");
  opset->set_version(declared);
  onnx::GraphProto &graph = *mini.mutable_graph();
  graph.set_name("upgrade");
  *graph.add_node() = node;
  auto declare = [&](auto *list, const std::string &name) {
    onnx::ValueInfoProto *info = list->Add();
    info->set_name(name);
    auto it = types.find(name);
    if (it != types.end())
      *info->mutable_type() = it->second;
  };
  llvm::StringSet<> declaredInputs;
  for (const std::string &input : node.input())
    if (!input.empty() && declaredInputs.insert(input).second)
      declare(graph.mutable_input(), input);
  for (const std::string &output : node.output())
    if (!output.empty())
      declare(graph.mutable_output(), output);

  onnx::ModelProto converted;
  try {
    converted = onnx::version_conversion::ConvertVersion(mini, kMinOpset);
  } catch (const std::exception &e) {
    // ONNX's messages start with the asserting file and line; keep what
    // follows "failed: " up to the end of the line.
    std::string message = e.what();
    size_t start = message.find("failed: ");
    start = start == std::string::npos ? 0 : start + 8;
    message = message.substr(start, message.find('\n', start) - start);
    return message.empty() ? "the adapter failed" : message;
  }
  // Values the adapters created get names no model value has; the node's
  // own outputs keep theirs.
  llvm::StringMap<std::string> renamed;
  llvm::StringSet<> kept;
  for (const std::string &output : node.output())
    kept.insert(output);
  for (const std::string &input : node.input())
    kept.insert(input);
  auto rename = [&](const std::string &name) -> std::string {
    if (name.empty() || kept.contains(name))
      return name;
    std::string &fresh = renamed[name];
    if (fresh.empty())
      fresh = freshName(node.output_size() ? node.output(0) : node.name());
    return fresh;
  };
  // Adapters that add initializers (Pad's pads) get a Constant node instead,
  // so that everything the upgrade adds belongs to the user's node.
  for (const onnx::TensorProto &init : converted.graph().initializer()) {
    onnx::NodeProto &constant = out.emplace_back();
    constant.set_op_type("Constant");
    constant.set_name(node.name());
    constant.add_output(rename(init.name()));
    onnx::AttributeProto *value = constant.add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    *value->mutable_t() = init;
    value->mutable_t()->clear_name();
  }
  for (const onnx::NodeProto &produced : converted.graph().node()) {
    onnx::NodeProto &copy = out.emplace_back(produced);
    copy.set_name(node.name());
    for (std::string &input : *copy.mutable_input())
      input = rename(input);
    for (std::string &output : *copy.mutable_output())
      output = rename(output);
  }
  // The graph's outputs may now come from a node the adapter appended
  // (Softmax's Reshape): its IR names them after the originals, kept above.
  return "";
}

/// Below opset 7, PRelu's slope is per channel: a slope of shape [C] scales
/// channel 1 of X (PyTorch's nn.PReLU exports it so). From opset 7 on it
/// broadcasts numpy-style to X, where [C] would meet X's last dimension, and
/// ONNX's 6-to-7 adapter leaves it as it is. Reshape it to [C, 1, ..., 1]
/// (opset-13 nodes in `out`) so that the upgraded node means what the old
/// one did.
void Upgrader::reshapeChannelSlope(onnx::NodeProto &node,
                                   std::vector<onnx::NodeProto> &out) {
  if (node.op_type() != "PRelu" || declared >= 7 || node.input_size() != 2)
    return;
  auto rankOf = [&](const std::string &name) -> int {
    auto it = types.find(name);
    if (it == types.end() || !it->second.tensor_type().has_shape())
      return -1;
    return it->second.tensor_type().shape().dim_size();
  };
  int rank = rankOf(node.input(0));
  if (rank < 3 || rankOf(node.input(1)) != 1)
    return;
  const onnx::TypeProto slopeType = types.at(node.input(1));
  if (!slopeType.tensor_type().shape().dim(0).has_dim_value() ||
      slopeType.tensor_type().shape().dim(0).dim_value() == 1)
    return;
  int64_t channels = slopeType.tensor_type().shape().dim(0).dim_value();
  std::string shapeName = freshName(node.input(1) + "_shape");
  std::string slopeName = freshName(node.input(1) + "_per_channel");
  onnx::NodeProto constant;
  constant.set_op_type("Constant");
  constant.set_name(node.name());
  constant.add_output(shapeName);
  onnx::AttributeProto *value = constant.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  onnx::TensorProto &shape = *value->mutable_t();
  shape.set_data_type(onnx::TensorProto::INT64);
  shape.add_dims(rank - 1);
  shape.add_int64_data(channels);
  for (int i = 2; i < rank; ++i)
    shape.add_int64_data(1);
  onnx::NodeProto reshape;
  reshape.set_op_type("Reshape");
  reshape.set_name(node.name());
  reshape.add_input(node.input(1));
  reshape.add_input(shapeName);
  reshape.add_output(slopeName);
  onnx::TypeProto reshaped = slopeType;
  for (int i = 2; i < rank; ++i)
    reshaped.mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(
        1);
  types[slopeName] = reshaped;
  node.set_input(1, slopeName);
  out.push_back(std::move(constant));
  out.push_back(std::move(reshape));
}

void Upgrader::upgradeGraph(onnx::GraphProto &graph) {
  std::vector<onnx::NodeProto> nodes;
  std::vector<OnnxNodeOpset> opsets;
  for (int index = 0; index < graph.node_size(); ++index) {
    onnx::NodeProto &node = *graph.mutable_node(index);
    // Messages name unnamed nodes "OpType#index": fix the name before the
    // upgrade moves the node, so that they name the node the user wrote.
    if (node.name().empty())
      node.set_name(node.op_type() + "#" + std::to_string(index));
    OnnxNodeOpset opset{declared, declared, ""};
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    const OnnxOpSupport *support = nullptr;
    for (const OnnxOpSupport &op : supportedOnnxOps())
      if (defaultDomain && op.domain.empty() && op.name == node.op_type())
        support = &op;
    bool hasSubgraphs = false;
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_g()) {
        upgradeGraph(*attr.mutable_g());
        hasSubgraphs = true;
      }
      for (onnx::GraphProto &g : *attr.mutable_graphs()) {
        upgradeGraph(g);
        hasSubgraphs = true;
      }
    }
    if (!defaultDomain) {
      opset.version = opset.declared = 0; // Not this domain's business.
    } else if (!support || support->minOpset <= declared) {
      // Unsupported (reported at the declared opset), or read directly.
    } else if (unchangedBetween(node.op_type(), declared, kMinOpset)) {
      opset.version = kMinOpset;
    } else if (hasSubgraphs) {
      // ONNX's adapters cannot see the values a subgraph captures; If and
      // Loop changed only in the types they accept from opset 11 on.
      if ((node.op_type() == "If" || node.op_type() == "Loop") &&
          declared >= 11)
        opset.version = kMinOpset;
      else
        opset.upgradeError = "nodes with subgraphs are upgraded from opset "
                             "11 only (If, Loop)";
    } else {
      std::vector<onnx::NodeProto> added;
      reshapeChannelSlope(node, added);
      for (onnx::NodeProto &produced : added) {
        nodes.push_back(std::move(produced));
        opsets.push_back({kMinOpset, declared, ""});
      }
      std::vector<onnx::NodeProto> converted;
      opset.upgradeError = convert(node, converted);
      if (opset.upgradeError.empty()) {
        opset.version = kMinOpset;
        for (onnx::NodeProto &produced : converted) {
          nodes.push_back(std::move(produced));
          opsets.push_back(opset);
        }
        continue;
      }
    }
    nodes.push_back(std::move(node));
    opsets.push_back(opset);
  }
  graph.clear_node();
  for (onnx::NodeProto &node : nodes)
    *graph.add_node() = std::move(node);
  pending.emplace_back(&graph, std::move(opsets));
}

} // namespace

void upgradeOnnxOpsets(OnnxModelFile &model) {
  int64_t declared = 0;
  onnx::OperatorSetIdProto *defaultOpset = nullptr;
  for (onnx::OperatorSetIdProto &opset : *model.proto.mutable_opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx") {
      defaultOpset = &opset;
      declared = opset.version();
    }
  if (!defaultOpset || declared < kOldestOpset || declared >= kMinOpset)
    return;
  Upgrader upgrader(model, declared);
  upgrader.upgradeGraph(*model.proto.mutable_graph());
  defaultOpset->set_version(kMinOpset);
  for (auto &[graph, opsets] : upgrader.pending)
    for (int i = 0; i < graph->node_size(); ++i)
      if (opsets[i].declared != 0)
        model.nodeOpsets[&graph->node(i)] = opsets[i];
}

int64_t onnxNodeOpset(const OnnxModelFile &model, const onnx::NodeProto &node,
                      int64_t domainOpset) {
  auto it = model.nodeOpsets.find(&node);
  return it == model.nodeOpsets.end() ? domainOpset : it->second.version;
}

} // namespace sinter
