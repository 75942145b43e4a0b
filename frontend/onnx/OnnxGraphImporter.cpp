//===- OnnxGraphImporter.cpp - Walk an ONNX graph into a function ---------===//
//
// Reads the model file, checks the graph's structure (unique names, no
// cycles, no dangling inputs), checks that every node is supported before
// converting any, and converts nodes in topological order into one function
// of sinter ops. Every problem is reported; nothing is half-written.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"
#include "frontend/onnx/OnnxGraphImporter.h"
#include "ir/SinterOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"

#include <deque>
#include <stdexcept>

using namespace mlir;

namespace sinter {

//===----------------------------------------------------------------------===//
// Reading model files
//===----------------------------------------------------------------------===//

FailureOr<std::shared_ptr<OnnxModelFile>> readOnnxModel(MLIRContext &context,
                                                        StringRef path) {
  Location loc = NameLoc::get(StringAttr::get(&context, path));
  auto model = std::make_shared<OnnxModelFile>();
  model->path = path.str();
  SmallString<256> directory(path);
  llvm::sys::path::remove_filename(directory);
  if (directory.empty())
    directory = ".";
  SmallString<256> real;
  if (std::error_code ec = llvm::sys::fs::real_path(directory, real))
    return emitError(loc) << "cannot resolve the folder of '" << path
                          << "': " << ec.message();
  model->directory = std::string(real);

  if (path.ends_with(".onnxtext")) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
    if (!buffer)
      return emitError(loc) << "cannot read '" << path
                            << "': " << buffer.getError().message();
    // ONNX's text parser converts literals with std::stoll and std::stof,
    // which throw on numbers out of range ("1e999", 20-digit integers)
    // instead of returning an error status.
    onnx::Common::Status status;
    try {
      status =
          onnx::OnnxParser::Parse(model->proto, (*buffer)->getBufferStart());
    } catch (const std::exception &error) {
      return emitError(loc) << "'" << path
                            << "' is not a valid ONNX text model: a number "
                               "literal is out of range ("
                            << error.what() << ")";
    }
    if (!status.IsOK())
      return emitError(loc) << "'" << path
                            << "' is not a valid ONNX text model: "
                            << status.ErrorMessage();
  } else {
    // Parse straight from the file: protobuf reads it in small chunks, so
    // the only copy of the weights in memory is the one the model keeps.
    llvm::Expected<llvm::sys::fs::file_t> file =
        llvm::sys::fs::openNativeFileForRead(path);
    if (!file)
      return emitError(loc) << "cannot read '" << path
                            << "': " << llvm::toString(file.takeError());
    llvm::sys::fs::file_status status;
    std::error_code statusError = llvm::sys::fs::status(*file, status);
    bool parsed = !statusError && status.getSize() > 0 &&
                  model->proto.ParseFromFileDescriptor(*file);
    llvm::sys::fs::closeFile(*file);
    if (statusError)
      return emitError(loc) << "cannot read '" << path
                            << "': " << statusError.message();
    if (status.getSize() == 0)
      return emitError(loc) << "'" << path << "' is empty, not an ONNX model";
    if (!parsed)
      return emitError(loc)
             << "'" << path << "' is not a valid ONNX model: the protobuf "
             << "does not parse (the file is truncated, corrupt, larger than "
             << "2 GiB without external data, or not ONNX)";
  }
  if (!model->proto.has_graph())
    return emitError(loc) << "'" << path
                          << "' holds no graph: it is not an ONNX model";
  upgradeOnnxOpsets(*model);
  return model;
}

//===----------------------------------------------------------------------===//
// The graph importer
//===----------------------------------------------------------------------===//

/// How messages name a node: its name, or "OpType#index" if it has none.
static std::string displayName(const onnx::NodeProto &node, int index) {
  return node.name().empty() ? node.op_type() + "#" + std::to_string(index)
                             : node.name();
}

/// Checks a node's arity against its ONNX schema, so that converters can
/// rely on their required inputs being present.
static LogicalResult checkArity(const onnx::NodeProto &node, StringRef domain,
                                int64_t opset, Location loc) {
  const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(
      node.op_type(), static_cast<int>(opset), domain.str());
  // Without a schema (operators newer than ONNX 1.12, com.microsoft's), the
  // converter checks what it reads; the first input, which every such
  // operator sinter converts requires, is checked here for all of them.
  if (!schema) {
    if (node.input_size() == 0 || node.input(0).empty())
      return emitError(loc) << "input 0 of " << node.op_type()
                            << " is required";
    return success();
  }
  // ONNX 1.12 knows opsets up to 17: a later node is checked against the
  // last schema it knows, whose minimums still hold (later opsets added
  // optional inputs, such as the axes of Reduce* and Pad, never required
  // ones); the converter checks the rest.
  const auto &known = onnx::OpSchemaRegistry::DomainToVersionRange::Instance();
  auto range = known.Map().find(domain.str());
  bool newer = range != known.Map().end() && opset > range->second.second;
  auto text = [](int min, int max) {
    return min == max ? std::to_string(min)
                      : std::to_string(min) + " to " + std::to_string(max);
  };
  int inputs = node.input_size(), outputs = node.output_size();
  int maxInputs = newer ? INT_MAX : schema->max_input();
  int maxOutputs = newer ? INT_MAX : schema->max_output();
  if (inputs < schema->min_input() || inputs > maxInputs)
    return emitError(loc) << node.op_type() << " takes "
                          << text(schema->min_input(), schema->max_input())
                          << " inputs, the node has " << inputs;
  if (outputs < schema->min_output() || outputs > maxOutputs)
    return emitError(loc) << node.op_type() << " has "
                          << text(schema->min_output(), schema->max_output())
                          << " outputs, the node has " << outputs;
  for (auto [i, param] : llvm::enumerate(schema->inputs())) {
    if (param.GetOption() == onnx::OpSchema::Single &&
        static_cast<int>(i) < inputs && node.input(i).empty())
      return emitError(loc) << "input " << i << " ('" << param.GetName()
                            << "') of " << node.op_type() << " is required";
    // A variadic list (Min, Concat, Sum) has no optional elements.
    if (param.GetOption() == onnx::OpSchema::Variadic)
      for (int k = static_cast<int>(i); k < inputs; ++k)
        if (node.input(k).empty())
          return emitError(loc) << "input " << k << " of " << node.op_type()
                                << " is empty: every input of its list '"
                                << param.GetName() << "' must be given";
  }
  return success();
}

Location OnnxGraphImporter::nodeLocation(const onnx::NodeProto &node,
                                         int index) {
  std::string name = displayName(node, index);
  return FusedLoc::get(&context, {NameLoc::get(StringAttr::get(&context, name))},
                       StringAttr::get(&context, node.op_type()));
}

Value OnnxGraphImporter::lookup(StringRef name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init == initializers.end())
    return Value();
  // Initializers live at the top of the function, in reading order.
  OpBuilder::InsertionGuard guard(builder);
  Block *body = entryBlock ? entryBlock : builder.getInsertionBlock();
  builder.setInsertionPoint(body, body->begin());
  while (builder.getInsertionPoint() != body->end() &&
         isa<ConstantOp>(*builder.getInsertionPoint()))
    builder.setInsertionPointAfter(&*builder.getInsertionPoint());
  Location loc = NameLoc::get(StringAttr::get(&context, name));
  FailureOr<ElementsAttr> value =
      importOnnxTensor(model, *init->second, loc,
                       ("initializer '" + name + "'").str());
  if (failed(value)) {
    poisoned.insert(name);
    initializers.erase(init);
    return Value();
  }
  Value constant = ConstantOp::create(builder, loc, *value);
  values[name] = constant;
  return constant;
}

LogicalResult OnnxGraphImporter::readOpsets() {
  for (const onnx::OperatorSetIdProto &opset : model.proto.opset_import()) {
    std::string domain = opset.domain() == "ai.onnx" ? "" : opset.domain();
    opsets[domain] = opset.version();
  }
  // A model without default-domain nodes needs no default opset; nodes
  // that need one are reported by checkSupport.
  auto it = opsets.find("");
  if (it == opsets.end())
    return success();
  int64_t version = it->second;
  if (version < kOldestOpset || version > kMaxOpset)
    return emitError(modelLocation())
           << "unsupported opset: the model uses opset " << version
           << " of the default ONNX domain; sinter imports opsets "
           << kOldestOpset << " to " << kMaxOpset;
  return success();
}

/// Topological order of the nodes (Kahn's algorithm, stable in file order),
/// with every value defined once and read only after it is defined.
LogicalResult OnnxGraphImporter::orderNodes(const onnx::GraphProto &graph,
                                            SmallVectorImpl<int> &order) {
  bool ok = true;
  llvm::StringMap<int> producer; // value -> node index, -1 for graph values
  auto define = [&](const std::string &name, int node) {
    if (name.empty())
      return;
    auto [it, inserted] = producer.try_emplace(name, node);
    if (!inserted && node >= 0) {
      emitError(nodeLocation(graph.node(node), node))
          << "value '" << name << "' is defined twice ("
          << (it->second >= 0
                  ? "also by node '" +
                        displayName(graph.node(it->second), it->second) + "'"
                  : std::string("also a graph input or initializer"))
          << ")";
      ok = false;
    }
  };
  // Names must be unique among initializers and among graph inputs; an
  // initializer may also be listed as an input (IR version < 4).
  llvm::StringSet<> initializerNames, inputNames;
  for (const onnx::TensorProto &init : graph.initializer()) {
    if (!initializerNames.insert(init.name()).second) {
      emitError(modelLocation())
          << "two initializers are named '" << init.name() << "'";
      ok = false;
    }
    define(init.name(), -1);
  }
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (!inputNames.insert(input.name()).second) {
      emitError(modelLocation())
          << "two graph inputs are named '" << input.name() << "'";
      ok = false;
    }
    define(input.name(), -1);
  }
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string &output : graph.node(i).output())
      define(output, i);

  std::vector<int> pending(graph.node_size(), 0);
  std::vector<SmallVector<int>> readers(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    // A control-flow node also reads what its subgraphs capture.
    SmallVector<std::string> reads(node.input().begin(), node.input().end());
    llvm::StringSet<> captured;
    collectCapturedNames(node, captured);
    for (const auto &name : captured)
      reads.push_back(name.getKey().str());
    for (const std::string &input : reads) {
      if (input.empty())
        continue;
      usedNames.insert(input);
      auto it = producer.find(input);
      if (it == producer.end() && outerNames.contains(input))
        continue;
      if (it == producer.end()) {
        emitError(nodeLocation(node, i))
            << "reads '" << input
            << "', which no node, initializer or graph input defines";
        ok = false;
        continue;
      }
      if (it->second >= 0) {
        ++pending[i];
        readers[it->second].push_back(i);
      }
    }
  }
  for (const onnx::ValueInfoProto &output : graph.output()) {
    usedNames.insert(output.name());
    if (!producer.count(output.name()) && !outerNames.contains(output.name())) {
      emitError(modelLocation()) << "graph output '" << output.name()
                                 << "' is not computed by any node";
      ok = false;
    }
  }
  if (!ok)
    return failure();

  std::deque<int> ready;
  for (int i = 0; i < graph.node_size(); ++i)
    if (pending[i] == 0)
      ready.push_back(i);
  while (!ready.empty()) {
    int node = ready.front();
    ready.pop_front();
    order.push_back(node);
    for (int reader : readers[node])
      if (--pending[reader] == 0)
        ready.push_back(reader);
  }
  if (static_cast<int>(order.size()) == graph.node_size())
    return success();
  // The unordered nodes are on a cycle or downstream of one; peel off the
  // downstream ones (whose outputs no unordered node reads) to name only
  // the nodes of cycles.
  std::vector<bool> onCycle(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i)
    onCycle[i] = pending[i] > 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = 0; i < graph.node_size(); ++i)
      if (onCycle[i] && llvm::none_of(readers[i],
                                      [&](int r) { return onCycle[r]; })) {
        onCycle[i] = false;
        changed = true;
      }
  }
  InFlightDiagnostic diag = emitError(modelLocation())
                            << "the graph has a cycle through nodes";
  int listed = 0;
  for (int i = 0; i < graph.node_size() && listed < 8; ++i)
    if (onCycle[i])
      diag << (listed++ ? ", '" : " '") << displayName(graph.node(i), i)
           << "'";
  return failure();
}

/// Reports every node the importer cannot convert, all at once.
LogicalResult OnnxGraphImporter::checkSupport(const onnx::GraphProto &graph) {
  bool ok = true;
  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto &node = graph.node(index);
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.has_g() && failed(checkSupport(attr.g())))
        ok = false;
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto opset = opsets.find(domain);
    int64_t version =
        onnxNodeOpset(model, node, opset == opsets.end() ? 0 : opset->second);
    if (findOnnxConverter(domain, node.op_type(), version)) {
      if (failed(checkArity(node, domain, version,
                            nodeLocation(node, index)))) {
        ok = false;
        rejectedNodes.insert(&node);
      }
      continue;
    }
    ok = false;
    rejectedNodes.insert(&node);
    InFlightDiagnostic diag = emitError(nodeLocation(node, index))
                              << "unsupported operator " << node.op_type()
                              << " (domain "
                              << (domain.empty() ? "ai.onnx" : domain)
                              << ", opset ";
    auto upgrade = model.nodeOpsets.find(&node);
    if (opset == opsets.end())
      diag << "not imported by the model)";
    else if (upgrade != model.nodeOpsets.end() &&
             upgrade->second.declared != version)
      diag << version << ", upgraded from " << upgrade->second.declared << ")";
    else
      diag << version << ")";
    for (const OnnxOpSupport &op : supportedOnnxOps())
      if (op.name == node.op_type() && op.domain == domain)
        diag << "; sinter supports it in opsets " << op.minOpset << " to "
             << op.maxOpset;
    if (upgrade != model.nodeOpsets.end() &&
        !upgrade->second.upgradeError.empty())
      diag << "; ONNX's version converter cannot upgrade it to opset "
           << kMinOpset << ": " << upgrade->second.upgradeError;
  }
  return success(ok);
}

/// Turns the graph inputs named in ImportOptions::frozenInputs into
/// initializers holding the tensors read from their files.
LogicalResult OnnxGraphImporter::freezeInputs() {
  bool ok = true;
  for (const auto &entry : options.frozenInputs) {
    StringRef name = entry.getKey(), file = entry.getValue();
    Location loc = NameLoc::get(StringAttr::get(&context, file));
    const onnx::ValueInfoProto *input = nullptr;
    for (const onnx::ValueInfoProto &candidate : model.proto.graph().input())
      if (candidate.name() == name)
        input = &candidate;
    if (!input) {
      emitError(loc) << "--freeze-input names '" << name
                     << "', which is not a graph input";
      ok = false;
      continue;
    }
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(file);
    onnx::TensorProto &tensor = model.frozenInputs.emplace_back();
    if (!buffer || (*buffer)->getBufferSize() > static_cast<size_t>(INT_MAX) ||
        !tensor.ParseFromArray((*buffer)->getBufferStart(),
                               (*buffer)->getBufferSize())) {
      emitError(loc) << "cannot read a TensorProto for input '" << name
                     << "' from '" << file << "'";
      ok = false;
      continue;
    }
    const onnx::TypeProto::Tensor &declared = input->type().tensor_type();
    bool shapeFits = !declared.has_shape() ||
                     declared.shape().dim_size() == tensor.dims_size();
    for (int i = 0; shapeFits && declared.has_shape() && i < tensor.dims_size();
         ++i)
      shapeFits = !declared.shape().dim(i).has_dim_value() ||
                  declared.shape().dim(i).dim_value() == tensor.dims(i);
    if (tensor.data_type() != declared.elem_type() || !shapeFits) {
      emitError(loc) << "the tensor in '" << file
                     << "' does not match the type of graph input '" << name
                     << "'";
      ok = false;
      continue;
    }
    tensor.set_name(name.str());
    initializers[name] = &tensor;
  }
  return success(ok);
}

FailureOr<func::FuncOp> OnnxGraphImporter::createFunction(ModuleOp module) {
  const onnx::GraphProto &graph = model.proto.graph();
  for (const onnx::TensorProto &init : graph.initializer())
    initializers[init.name()] =
        const_cast<onnx::TensorProto *>(&init); // owned by `model`, mutable

  bool ok = succeeded(freezeInputs());

  // Symbolic dimensions named on the command line must exist in the model.
  llvm::StringSet<> symbols;
  for (const onnx::ValueInfoProto &input : graph.input())
    for (const auto &dim : input.type().tensor_type().shape().dim())
      if (dim.has_dim_param())
        symbols.insert(dim.dim_param());
  for (const llvm::StringMap<int64_t> *names :
       {&options.dimSizes, &options.dimBounds})
    for (const auto &entry : *names)
      if (!symbols.contains(entry.getKey())) {
        std::string declared;
        for (const auto &symbol : symbols)
          declared += (declared.empty() ? "" : ", ") + symbol.getKey().str();
        emitError(modelLocation())
            << "dimension '" << entry.getKey()
            << "' is named on the command line but no graph input declares "
               "it (symbolic dimensions: "
            << (declared.empty() ? std::string("none") : declared) << ")";
        ok = false;
      }

  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<std::string> argNames;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializers.count(input.name()))
      continue; // IR < 4 lists initializers as inputs: they are constants.
    Location loc = NameLoc::get(StringAttr::get(&context, input.name()));
    if (!input.type().has_tensor_type()) {
      emitError(loc) << "unsupported graph input '" << input.name()
                     << "': sinter imports tensors, not sequences, maps or "
                        "optionals";
      ok = false;
      continue;
    }
    const onnx::TypeProto::Tensor &tensor = input.type().tensor_type();
    Type elementType = onnxElementType(&context, tensor.elem_type());
    if (!elementType) {
      emitError(loc) << "unsupported data type "
                     << onnxDataTypeName(tensor.elem_type())
                     << " of graph input '" << input.name() << "'";
      ok = false;
      continue;
    }
    if (!tensor.has_shape()) {
      emitError(loc) << "graph input '" << input.name()
                     << "' has no shape (not even a rank); sinter needs "
                        "ranked inputs";
      ok = false;
      continue;
    }
    SmallVector<int64_t> shape;
    SmallVector<Attribute> dimNames;
    bool named = false;
    int64_t elements = 1;
    for (const auto &dim : tensor.shape().dim()) {
      int64_t size = ShapedType::kDynamic;
      std::string symbol = dim.has_dim_param() ? dim.dim_param() : "";
      if (dim.has_dim_value()) {
        size = dim.dim_value();
      } else if (!symbol.empty() && options.dimSizes.count(symbol)) {
        size = options.dimSizes.lookup(symbol);
        symbol.clear();
      }
      if (!ShapedType::isDynamic(size) && elements >= 0 &&
          (size < 0 || llvm::MulOverflow(elements, size, elements) ||
           elements > kMaxTensorElements)) {
        emitError(loc) << "graph input '" << input.name()
                       << "' has an invalid or absurd size " << size
                       << " (sizes must be >= 0, at most 2^40 elements)";
        ok = false;
        elements = -1; // Reported once per input.
        size = 0;
      }
      named |= !symbol.empty();
      dimNames.push_back(StringAttr::get(&context, symbol));
      shape.push_back(size);
    }
    argTypes.push_back(RankedTensorType::get(shape, elementType));
    SmallVector<NamedAttribute> attrs = {
        builder.getNamedAttr("sinter.name",
                             builder.getStringAttr(input.name()))};
    if (named)
      attrs.push_back(builder.getNamedAttr("sinter.dim_names",
                                           builder.getArrayAttr(dimNames)));
    argAttrs.push_back(builder.getDictionaryAttr(attrs));
    argNames.push_back(input.name());
  }
  if (!ok)
    return failure();

  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, modelLocation(),
                                   options.functionName,
                                   builder.getFunctionType(argTypes, {}));
  func.setAllArgAttrs(argAttrs);
  if (!options.dimBounds.empty()) {
    SmallVector<NamedAttribute> bounds;
    for (const auto &entry : options.dimBounds)
      bounds.push_back(builder.getNamedAttr(
          entry.getKey(), builder.getI64IntegerAttr(entry.getValue())));
    func->setAttr("sinter.dim_bounds", builder.getDictionaryAttr(bounds));
  }
  Block *body = func.addEntryBlock();
  entryBlock = body;
  for (auto [name, arg] : llvm::zip_equal(argNames, body->getArguments()))
    values[name] = arg;
  builder.setInsertionPointToEnd(body);
  return func;
}

LogicalResult OnnxGraphImporter::convertNodes(const onnx::GraphProto &graph,
                                              ArrayRef<int> order) {
  bool ok = true;
  for (int index : order) {
    const onnx::NodeProto &node = graph.node(index);
    auto poison = [&] {
      for (const std::string &output : node.output())
        poisoned.insert(output);
    };
    bool skip = false;
    for (const std::string &input : node.input())
      if (!input.empty() && (poisoned.contains(input) || !lookup(input)))
        skip = true;
    if (skip) {
      ok = false;
      ++skippedNodes;
      poison();
      continue;
    }
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    int64_t opset = onnxNodeOpset(model, node, opsets.lookup(domain));
    const OnnxConverterEntry *entry =
        findOnnxConverter(domain, node.op_type(), opset);
    if (!entry || rejectedNodes.contains(&node)) {
      // Reported by checkSupport; reached only under reportAllProblems.
      ok = false;
      poison();
      continue;
    }
    OnnxNode view(*this, node, opset, nodeLocation(node, index));
    if (failed(entry->convert(view))) {
      ok = false;
      poison();
      continue;
    }
    for (auto [i, output] : llvm::enumerate(node.output())) {
      if (output.empty() || values.count(output) || !view.outputUsed(i))
        continue;
      view.error() << "unsupported output " << i << " ('" << output
                   << "') of " << node.op_type();
      ok = false;
      poison();
    }
  }
  return success(ok);
}

LogicalResult OnnxGraphImporter::finishFunction(func::FuncOp func) {
  const onnx::GraphProto &graph = model.proto.graph();
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    Value value = lookup(output.name());
    if (!value)
      return failure();
    results.push_back(value);
    // A declared static size that differs from the computed one means the
    // model's metadata is wrong (or the importer is): say so.
    auto computed = cast<RankedTensorType>(value.getType());
    const onnx::TypeProto::Tensor &declared = output.type().tensor_type();
    if (declared.has_shape() &&
        declared.shape().dim_size() == computed.getRank()) {
      for (auto [i, dim] : llvm::enumerate(declared.shape().dim()))
        if (dim.has_dim_value() && !computed.isDynamicDim(i) &&
            dim.dim_value() != computed.getDimSize(i))
          emitWarning(modelLocation())
              << "graph output '" << output.name() << "' is declared with size "
              << dim.dim_value() << " in dimension " << i
              << " but computes " << computed;
    }
    resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "sinter.name", builder.getStringAttr(output.name()))));
  }
  func::ReturnOp::create(builder, func.getLoc(), results);
  func.setFunctionType(builder.getFunctionType(
      func.getArgumentTypes(), ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);

  // Shape computations that were fully evaluated at import time leave dead
  // ops behind; drop them so the module shows only what the model computes.
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) { ops.push_back(op); });
  for (Operation *op : llvm::reverse(ops))
    if (isOpTriviallyDead(op))
      op->erase();
  return success();
}

FailureOr<OwningOpRef<ModuleOp>> OnnxGraphImporter::run() {
  context.loadDialect<SinterDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect, scf::SCFDialect>();
  SmallVector<int> order;
  const onnx::GraphProto &graph = model.proto.graph();
  if (failed(readOpsets()) || failed(orderNodes(graph, order)))
    return failure();
  bool supported = succeeded(checkSupport(graph));
  if (!supported && !options.reportAllProblems)
    return failure();
  OwningOpRef<ModuleOp> module = ModuleOp::create(modelLocation());
  FailureOr<func::FuncOp> func = createFunction(*module);
  if (failed(func))
    return failure();
  bool converted = succeeded(convertNodes(graph, order));
  if (skippedNodes && options.reportAllProblems)
    emitRemark(modelLocation())
        << skippedNodes
        << (skippedNodes == 1 ? " node was not checked: it reads"
                              : " nodes were not checked: they read")
        << " values that failed nodes compute";
  if (!supported || !converted || failed(finishFunction(*func)))
    return failure();
  if (failed(verify(*module)))
    return failure();
  return module;
}

FailureOr<OwningOpRef<ModuleOp>> importOnnxModel(MLIRContext &context,
                                                 OnnxModelFile &model,
                                                 const ImportOptions &options) {
  OnnxGraphImporter importer(context, model, options);
  return importer.run();
}

OnnxModelReport checkOnnxModel(const OnnxModelFile &model) {
  llvm::StringMap<int64_t> opsets;
  for (const onnx::OperatorSetIdProto &opset : model.proto.opset_import())
    opsets[opset.domain() == "ai.onnx" ? "" : opset.domain()] =
        opset.version();
  std::map<std::pair<std::string, std::string>, OnnxModelReport::OpCount> ops;
  OnnxModelReport report;
  // The nodes of If's branches and Loop's and Scan's bodies count too.
  auto countNodes = [&](const onnx::GraphProto &graph, auto &self) -> void {
    for (const onnx::NodeProto &node : graph.node()) {
      std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
      OnnxModelReport::OpCount &count = ops[{domain, node.op_type()}];
      count.domain = domain;
      count.name = node.op_type();
      count.opset = onnxNodeOpset(model, node, opsets.lookup(domain));
      count.supported =
          findOnnxConverter(domain, node.op_type(), count.opset) != nullptr;
      ++count.count;
      ++report.nodes;
      report.unsupportedNodes += !count.supported;
      for (const onnx::AttributeProto &attr : node.attribute())
        if (attr.has_g())
          self(attr.g(), self);
    }
  };
  countNodes(model.proto.graph(), countNodes);
  for (auto &entry : ops)
    report.ops.push_back(entry.second);
  return report;
}

//===----------------------------------------------------------------------===//
// OnnxNode
//===----------------------------------------------------------------------===//

OnnxNode::OnnxNode(OnnxGraphImporter &graph, const onnx::NodeProto &proto,
                   int64_t opset, Location loc)
    : graph(graph), nodeProto(proto), opsetVersion(opset), location(loc) {}

OpBuilder &OnnxNode::builder() { return graph.builder; }
MLIRContext *OnnxNode::context() { return &graph.context; }

InFlightDiagnostic OnnxNode::error() { return emitError(location); }

bool OnnxNode::hasInput(size_t i) const {
  return i < numInputs() && !nodeProto.input(i).empty();
}

Value OnnxNode::input(size_t i) {
  return hasInput(i) ? graph.lookup(nodeProto.input(i)) : Value();
}

RankedTensorType OnnxNode::inputType(size_t i) {
  Value value = input(i);
  return value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
}

FailureOr<SmallVector<int64_t>> OnnxNode::constantInts(size_t i,
                                                       StringRef what) {
  std::optional<SmallVector<OpFoldResult>> ints = knownInts(i);
  SmallVector<int64_t> result;
  if (ints) {
    for (OpFoldResult value : *ints) {
      std::optional<int64_t> constant = getConstantIntValue(value);
      if (!constant)
        break;
      result.push_back(*constant);
    }
    if (result.size() == ints->size())
      return result;
  }
  return error() << "unsupported dynamic value: " << what << " (input " << i
                 << ", '" << nodeProto.input(i)
                 << "') must be a constant known when the model is imported";
}

std::optional<SmallVector<OpFoldResult>> OnnxNode::knownInts(size_t i) {
  Value value = input(i);
  if (!value)
    return std::nullopt;
  auto it = graph.known.find(value);
  if (it != graph.known.end())
    return it->second;
  DenseIntElementsAttr attr;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() > 1 || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<OpFoldResult> result;
  for (const APInt &element : attr.getValues<APInt>())
    result.push_back(builder().getIndexAttr(
        element.getBitWidth() == 1 ? element.getZExtValue()
                                   : element.getSExtValue()));
  return result;
}

/// The constant `value` holds: a constant op's, or what the ops computing it
/// from constants (a cast of a frozen input, shape arithmetic) fold to,
/// evaluated without changing the IR.
static DenseElementsAttr evaluateConstant(Value value, int depth = 0) {
  DenseElementsAttr attr;
  if (!value || matchPattern(value, m_Constant(&attr)))
    return attr;
  Operation *op = value.getDefiningOp();
  if (!op || depth > 8 || op->getNumResults() != 1 || op->getNumRegions())
    return {};
  SmallVector<Attribute> operands;
  for (Value operand : op->getOperands()) {
    DenseElementsAttr constant = evaluateConstant(operand, depth + 1);
    if (!constant)
      return {};
    operands.push_back(constant);
  }
  // Folders may update their op in place (merging a chain): fold a copy.
  Operation *copy = op->clone();
  SmallVector<OpFoldResult> results;
  DenseElementsAttr folded;
  if (succeeded(copy->fold(operands, results)) && results.size() == 1)
    if (auto attribute = dyn_cast<Attribute>(results.front()))
      folded = dyn_cast<DenseElementsAttr>(attribute);
  copy->destroy();
  return folded;
}

std::optional<double> OnnxNode::constantScalar(size_t i) {
  DenseElementsAttr attr = evaluateConstant(input(i));
  if (!attr || attr.getNumElements() != 1)
    return std::nullopt;
  if (isa<FloatType>(attr.getElementType()))
    return (*attr.value_begin<APFloat>()).convertToDouble();
  if (attr.getElementType().isInteger(1))
    return *attr.value_begin<bool>() ? 1.0 : 0.0;
  return static_cast<double>((*attr.value_begin<APInt>()).getSExtValue());
}

const onnx::AttributeProto *OnnxNode::attribute(StringRef name) const {
  for (const onnx::AttributeProto &attr : nodeProto.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t OnnxNode::intAttr(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = attribute(name);
  return attr ? attr->i() : defaultValue;
}

float OnnxNode::floatAttr(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attr = attribute(name);
  return attr ? attr->f() : defaultValue;
}

std::optional<SmallVector<int64_t>>
OnnxNode::intsAttr(StringRef name) const {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

std::string OnnxNode::stringAttr(StringRef name,
                                 StringRef defaultValue) const {
  const onnx::AttributeProto *attr = attribute(name);
  return attr ? attr->s() : defaultValue.str();
}

FailureOr<ElementsAttr> OnnxNode::tensorAttribute(StringRef name) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr || !attr->has_t())
    return error() << "attribute '" << name << "' must hold a tensor";
  // The proto belongs to the importer's own copy of the model, so the
  // tensor's bytes may be taken instead of copied.
  auto &tensor = const_cast<onnx::TensorProto &>(attr->t());
  if (tensor.name().empty() && numOutputs() > 0)
    tensor.set_name(nodeProto.output(0));
  return importOnnxTensor(graph.model, tensor, location,
                          ("attribute '" + name + "'").str());
}

bool OnnxNode::outputUsed(size_t i) const {
  return i < numOutputs() && !nodeProto.output(i).empty() &&
         graph.usedNames.contains(nodeProto.output(i));
}

void OnnxNode::setOutput(size_t i, Value value,
                         std::optional<SmallVector<OpFoldResult>> known) {
  if (i >= numOutputs() || nodeProto.output(i).empty())
    return;
  graph.values[nodeProto.output(i)] = value;
  if (known)
    graph.known[value] = std::move(*known);
}

FailureOr<int64_t> OnnxNode::normalizeAxis(int64_t axis, int64_t rank,
                                           StringRef what) {
  if (axis < -rank || axis >= rank)
    return error() << what << " " << axis << " is out of range for rank "
                   << rank;
  return axis < 0 ? axis + rank : axis;
}

LogicalResult OnnxNode::inferAndVerify(Operation *op) {
  auto infer = dyn_cast<InferTypeOpInterface>(op);
  SmallVector<Type> types;
  if (infer &&
      failed(infer.inferReturnTypes(
          op->getContext(), op->getLoc(), op->getOperands(),
          op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
          op->getRegions(), types))) {
    op->erase();
    return failure();
  }
  for (auto [result, type] : llvm::zip_equal(op->getResults(), types))
    result.setType(type);
  return verifyCreated(op);
}

LogicalResult OnnxNode::verifyCreated(Operation *op) {
  if (succeeded(verify(op, /*verifyRecursively=*/false)))
    return success();
  op->erase();
  return failure();
}

Value OnnxNode::indexValue(OpFoldResult size) {
  if (auto value = dyn_cast<Value>(size))
    return value;
  return arith::ConstantIndexOp::create(builder(), location,
                                        *getConstantIntValue(size));
}

OpFoldResult OnnxNode::dimSize(Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(dim))
    return builder().getIndexAttr(type.getDimSize(dim));
  // One tensor.dim per dimension, so that sizes computed from the same
  // dimension are the same value (Reshape's -1 cancels them).
  Value &size = graph.dimSizes[{value, dim}];
  if (!size)
    size = tensor::DimOp::create(builder(), location, value, dim);
  return size;
}

Value OnnxNode::materializeInts(ArrayRef<OpFoldResult> values, bool scalar) {
  OpBuilder &b = builder();
  SmallVector<int64_t> shape;
  if (!scalar)
    shape.push_back(values.size());
  auto type = RankedTensorType::get(shape, b.getI64Type());
  SmallVector<int64_t> constants;
  for (OpFoldResult value : values)
    if (std::optional<int64_t> c = getConstantIntValue(value))
      constants.push_back(*c);
  if (constants.size() == values.size())
    return constant(DenseElementsAttr::get(type, ArrayRef(constants)));
  SmallVector<Value> elements;
  for (OpFoldResult value : values)
    elements.push_back(arith::IndexCastOp::create(
        b, location, b.getI64Type(), indexValue(value)));
  Value tensor = tensor::FromElementsOp::create(b, location, type, elements);
  graph.known[tensor] = SmallVector<OpFoldResult>(values);
  return tensor;
}

Value OnnxNode::constant(DenseElementsAttr values) {
  return ConstantOp::create(builder(), location, cast<ElementsAttr>(values));
}

} // namespace sinter
