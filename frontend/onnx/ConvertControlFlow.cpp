//===- ConvertControlFlow.cpp - If, Loop, Scan ----------------------------===//
//
// Control flow as upstream scf ops on tensors with sinter ops inside (the
// form torch-mlir and IREE hand to one-shot bufferization): If becomes
// scf.if, Loop scf.while, Scan scf.for. Subgraphs are imported into the
// regions and read the values of the enclosing graphs directly (scf regions
// are not isolated from above). docs/control-flow.md gives the reasons.
// Tested by test/lit/frontend/onnx/control-flow.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace sinter {
namespace {

/// The element of a one-element tensor (a 0-D or [1] condition, a trip
/// count) as a scalar.
Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices(type.getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

/// A 0-D tensor holding `scalar` (a body's iteration number, condition).
Value scalarTensor(OpBuilder &b, Location loc, Value scalar) {
  return tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, scalar.getType()), scalar);
}

/// The type both `a` and `b` fit: sizes that differ become dynamic. Null
/// when the element types or ranks differ, which sinter does not join.
RankedTensorType joinTypes(RankedTensorType a, RankedTensorType b) {
  if (a == b)
    return a;
  if (a.getElementType() != b.getElementType() || a.getRank() != b.getRank())
    return nullptr;
  SmallVector<int64_t> shape;
  for (auto [x, y] : llvm::zip_equal(a.getShape(), b.getShape()))
    shape.push_back(x == y ? x : ShapedType::kDynamic);
  return RankedTensorType::get(shape, a.getElementType());
}

/// `value` as `type` (a tensor.cast to dynamic sizes where they differ).
Value castTo(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

/// A condition input as an i1 scalar, or an error.
FailureOr<Value> readCondition(OnnxNode &node, size_t i) {
  RankedTensorType type = node.inputType(i);
  if (!type.getElementType().isInteger(1) || type.getNumElements() != 1)
    return node.error() << "the condition (input " << i
                        << ") must hold one bool, not " << type;
  return extractScalar(node.builder(), node.loc(), node.input(i));
}

/// Imports `graph` into a new block detached from any op, with arguments
/// of `argTypes`; `prologue` turns the arguments into the subgraph's inputs.
struct DetachedBody {
  std::unique_ptr<Block> block = std::make_unique<Block>();
  SmallVector<Value> outputs;
};
FailureOr<DetachedBody> importDetached(
    OnnxNode &node, const onnx::GraphProto &graph, TypeRange argTypes,
    function_ref<SmallVector<Value>(OpBuilder &, Block &)> prologue) {
  OpBuilder &b = node.builder();
  OpBuilder::InsertionGuard guard(b);
  DetachedBody body;
  for (Type type : argTypes)
    body.block->addArgument(type, node.loc());
  b.setInsertionPointToEnd(body.block.get());
  SmallVector<Value> inputs = prologue(b, *body.block);
  if (static_cast<int>(inputs.size()) != graph.input_size())
    return node.error() << "the subgraph has " << graph.input_size()
                        << " inputs, " << inputs.size() << " expected";
  FailureOr<SmallVector<Value>> outputs = node.importSubgraph(graph, inputs);
  if (failed(outputs))
    return failure();
  body.outputs = std::move(*outputs);
  return body;
}

//===----------------------------------------------------------------------===//
// If
//===----------------------------------------------------------------------===//

LogicalResult convertIf(OnnxNode &node) {
  const onnx::GraphProto *thenGraph = node.graphAttr("then_branch");
  const onnx::GraphProto *elseGraph = node.graphAttr("else_branch");
  if (!thenGraph || !elseGraph)
    return node.error() << "If needs the graph attributes then_branch and "
                           "else_branch";
  if (thenGraph->output_size() != static_cast<int>(node.numOutputs()) ||
      elseGraph->output_size() != static_cast<int>(node.numOutputs()))
    return node.error() << "the branches of If must have one output per "
                           "output of the node ("
                        << node.numOutputs() << ")";
  // A condition known at import time selects its branch: the other is not
  // imported at all.
  if (std::optional<double> constant = node.constantScalar(0)) {
    FailureOr<SmallVector<Value>> outputs =
        node.importSubgraph(*constant != 0 ? *thenGraph : *elseGraph, {});
    if (failed(outputs))
      return failure();
    for (auto [i, value] : llvm::enumerate(*outputs))
      node.setOutput(i, value);
    return success();
  }
  FailureOr<Value> cond = readCondition(node, 0);
  if (failed(cond))
    return failure();
  auto noInputs = [](OpBuilder &, Block &) { return SmallVector<Value>(); };
  FailureOr<DetachedBody> thenBody =
      importDetached(node, *thenGraph, {}, noInputs);
  if (failed(thenBody))
    return failure();
  FailureOr<DetachedBody> elseBody =
      importDetached(node, *elseGraph, {}, noInputs);
  if (failed(elseBody))
    return failure();

  // Outputs whose static sizes differ between the branches get dynamic
  // sizes; different element types or ranks are refused.
  SmallVector<Type> types;
  for (auto [i, pair] :
       llvm::enumerate(llvm::zip(thenBody->outputs, elseBody->outputs))) {
    auto [a, b] = pair;
    RankedTensorType joined = joinTypes(cast<RankedTensorType>(a.getType()),
                                        cast<RankedTensorType>(b.getType()));
    if (!joined)
      return node.error() << "unsupported If: output " << i << " is a "
                          << a.getType() << " in then_branch and a "
                          << b.getType()
                          << " in else_branch (branches must agree on the "
                             "element type and rank)";
    types.push_back(joined);
  }
  OpBuilder &b = node.builder();
  auto ifOp = scf::IfOp::create(b, node.loc(), types, *cond,
                                /*addThenBlock=*/false,
                                /*addElseBlock=*/false);
  for (auto [region, body] : {std::pair(&ifOp.getThenRegion(), &*thenBody),
                              std::pair(&ifOp.getElseRegion(), &*elseBody)}) {
    Block *block = body->block.release();
    region->push_back(block);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(block);
    SmallVector<Value> yielded;
    for (auto [value, type] : llvm::zip_equal(body->outputs, types))
      yielded.push_back(castTo(b, node.loc(), value, type));
    scf::YieldOp::create(b, node.loc(), yielded);
  }
  for (auto [i, result] : llvm::enumerate(ifOp.getResults()))
    node.setOutput(i, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Loop
//===----------------------------------------------------------------------===//

/// Whether `value` is a constant true.
bool isConstantTrue(Value value) {
  DenseElementsAttr attr;
  return matchPattern(value, m_Constant(&attr)) &&
         attr.getElementType().isInteger(1) && attr.isSplat() &&
         attr.getSplatValue<bool>();
}

LogicalResult convertLoop(OnnxNode &node) {
  const onnx::GraphProto *graph = node.graphAttr("body");
  if (!graph)
    return node.error() << "Loop needs the graph attribute body";
  OpBuilder &b = node.builder();
  Location loc = node.loc();
  size_t numCarried = node.numInputs() - 2;
  if (graph->input_size() != static_cast<int>(numCarried + 2) ||
      graph->output_size() < static_cast<int>(numCarried + 1))
    return node.error() << "the body of Loop must take the iteration number, "
                           "the condition and the "
                        << numCarried << " carried values, and give the "
                        << "condition and the carried values first";
  size_t numScans = graph->output_size() - 1 - numCarried;

  // The trip count bounds the loop (and sizes the scan outputs).
  Value tripCount;
  if (node.hasInput(0)) {
    RankedTensorType type = node.inputType(0);
    if (!type.getElementType().isInteger(64) || type.getNumElements() != 1)
      return node.error() << "the trip count M must hold one int64, not "
                          << type;
    tripCount = arith::IndexCastOp::create(
        b, loc, b.getIndexType(), extractScalar(b, loc, node.input(0)));
  } else if (numScans) {
    return node.error() << "unsupported Loop: scan outputs need the trip "
                           "count M (sinter sizes them before the loop)";
  }
  Value cond = arith::ConstantIntOp::create(b, loc, 1, 1);
  if (node.hasInput(1)) {
    FailureOr<Value> read = readCondition(node, 1);
    if (failed(read))
      return failure();
    cond = *read;
  }
  SmallVector<Value> initial;
  SmallVector<Type> carriedTypes;
  for (size_t i = 0; i < numCarried; ++i) {
    if (!node.hasInput(2 + i))
      return node.error() << "carried value " << i << " has no initial value";
    initial.push_back(node.input(2 + i));
    carriedTypes.push_back(initial.back().getType());
  }

  // Import the body with the initial values' types; a carried value whose
  // sizes change from one iteration to the next is imported again with
  // dynamic sizes.
  FailureOr<DetachedBody> body = failure();
  Value condIn;
  for (int attempt = 0; attempt < 2; ++attempt) {
    SmallVector<Type> argTypes = {b.getIndexType(), b.getI1Type()};
    llvm::append_range(argTypes, carriedTypes);
    body = importDetached(
        node, *graph, argTypes, [&](OpBuilder &bb, Block &block) {
          // The iteration number as a known value (OnnxNode::knownInts),
          // for the shape arithmetic of the body.
          SmallVector<Value> inputs = {
              node.materializeInts({OpFoldResult(block.getArgument(0))},
                                   /*scalar=*/true),
              scalarTensor(bb, loc, block.getArgument(1))};
          condIn = inputs[1];
          llvm::append_range(inputs, block.getArguments().drop_front(2));
          return inputs;
        });
    if (failed(body))
      return failure();
    bool changed = false;
    for (size_t i = 0; i < numCarried; ++i) {
      auto in = cast<RankedTensorType>(carriedTypes[i]);
      auto out = cast<RankedTensorType>(body->outputs[1 + i].getType());
      RankedTensorType joined = joinTypes(in, out);
      if (!joined)
        return node.error()
               << "unsupported Loop: carried value " << i << " enters as " << in
               << " and leaves the body as " << out;
      changed |= joined != in;
      carriedTypes[i] = joined;
    }
    if (!changed)
      break;
    if (attempt == 1)
      return node.error() << "unsupported Loop: the types of the carried "
                             "values do not settle";
  }

  // The loop stops after M iterations or when the body's condition is
  // false; when that condition is the one it got (or true), the loop runs
  // exactly M times and the scan outputs keep static sizes.
  Value condOut = body->outputs[0];
  std::optional<int64_t> trips;
  if (std::optional<double> m =
          node.hasInput(0) ? node.constantScalar(0) : std::nullopt)
    trips = static_cast<int64_t>(*m);
  bool condTrue = !node.hasInput(1) || node.constantScalar(1) == 1.0;
  bool exactTrips =
      tripCount && condTrue && (condOut == condIn || isConstantTrue(condOut));
  Block *after = body->block.get();
  SmallVector<Value> scanInits;
  SmallVector<Type> scanTypes;
  for (size_t k = 0; k < numScans; ++k) {
    auto element =
        cast<RankedTensorType>(body->outputs[1 + numCarried + k].getType());
    if (!element.hasStaticShape())
      return node.error() << "unsupported Loop: scan output " << k
                          << " has dynamic sizes in the body (" << element
                          << ")";
    SmallVector<int64_t> shape = {trips ? *trips : ShapedType::kDynamic};
    llvm::append_range(shape, element.getShape());
    auto type = RankedTensorType::get(shape, element.getElementType());
    scanTypes.push_back(type);
    SmallVector<Value> dynamic;
    if (!trips)
      dynamic.push_back(tripCount);
    scanInits.push_back(tensor::EmptyOp::create(b, loc, type, dynamic));
    after->addArgument(type, loc);
  }

  // The body: the condition, the carried values, each scan element
  // written at row i of its output, then the next iteration number.
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(after);
    Value i = after->getArgument(0);
    SmallVector<Value> yielded = {
        arith::AddIOp::create(b, loc, i,
                              arith::ConstantIndexOp::create(b, loc, 1)),
        extractScalar(b, loc, condOut)};
    for (size_t c = 0; c < numCarried; ++c)
      yielded.push_back(castTo(b, loc, body->outputs[1 + c], carriedTypes[c]));
    for (size_t k = 0; k < numScans; ++k) {
      Value element = body->outputs[1 + numCarried + k];
      auto type = cast<RankedTensorType>(element.getType());
      SmallVector<OpFoldResult> offsets(type.getRank() + 1, b.getIndexAttr(0));
      offsets[0] = i;
      SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
      for (int64_t size : type.getShape())
        sizes.push_back(b.getIndexAttr(size));
      SmallVector<OpFoldResult> strides(type.getRank() + 1, b.getIndexAttr(1));
      Value acc = after->getArgument(2 + numCarried + k);
      yielded.push_back(tensor::InsertSliceOp::create(b, loc, element, acc,
                                                      offsets, sizes, strides));
    }
    scf::YieldOp::create(b, loc, yielded);
  }

  SmallVector<Value> inits = {arith::ConstantIndexOp::create(b, loc, 0), cond};
  for (auto [value, type] : llvm::zip_equal(initial, carriedTypes))
    inits.push_back(castTo(b, loc, value, type));
  llvm::append_range(inits, scanInits);
  SmallVector<Type> types = llvm::to_vector(ValueRange(inits).getTypes());
  auto whileOp = scf::WhileOp::create(b, loc, types, inits);
  SmallVector<Location> locs(types.size(), loc);
  Block *before = b.createBlock(&whileOp.getBefore(), {}, types, locs);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(before);
    Value go = before->getArgument(1);
    if (tripCount)
      go = arith::AndIOp::create(
          b, loc, go,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                before->getArgument(0), tripCount));
    scf::ConditionOp::create(b, loc, go, before->getArguments());
  }
  whileOp.getAfter().push_back(body->block.release());
  b.setInsertionPointAfter(whileOp);

  for (size_t c = 0; c < numCarried; ++c)
    node.setOutput(c, whileOp.getResult(2 + c));
  for (size_t k = 0; k < numScans; ++k) {
    Value all = whileOp.getResult(2 + numCarried + k);
    if (!exactTrips) {
      // Rows past the iteration that stopped the loop were never written.
      auto type = cast<RankedTensorType>(all.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = {whileOp.getResult(0)};
      for (int64_t size : type.getShape().drop_front())
        sizes.push_back(b.getIndexAttr(size));
      SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
      all =
          tensor::ExtractSliceOp::create(b, loc, all, offsets, sizes, strides);
    }
    node.setOutput(numCarried + k, all);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Scan
//===----------------------------------------------------------------------===//

/// Offsets, sizes and strides of step `t` of `type` along `axis` (a slice
/// of size 1 there, whole elsewhere).
void stepSlice(OnnxNode &node, Value tensor, int64_t axis, Value t,
               SmallVectorImpl<OpFoldResult> &offsets,
               SmallVectorImpl<OpFoldResult> &sizes,
               SmallVectorImpl<OpFoldResult> &strides) {
  OpBuilder &b = node.builder();
  auto type = cast<RankedTensorType>(tensor.getType());
  for (int64_t i = 0; i < type.getRank(); ++i) {
    offsets.push_back(i == axis ? OpFoldResult(t) : b.getIndexAttr(0));
    sizes.push_back(i == axis ? b.getIndexAttr(1) : node.dimSize(tensor, i));
    strides.push_back(b.getIndexAttr(1));
  }
}

LogicalResult convertScan(OnnxNode &node) {
  const onnx::GraphProto *graph = node.graphAttr("body");
  if (!graph)
    return node.error() << "Scan needs the graph attribute body";
  OpBuilder &b = node.builder();
  Location loc = node.loc();
  int64_t numScanIn = node.intAttr("num_scan_inputs", 0);
  if (numScanIn < 1 || numScanIn > static_cast<int64_t>(node.numInputs()))
    return node.error() << "num_scan_inputs is " << numScanIn
                        << "; Scan has " << node.numInputs() << " inputs";
  int64_t numState = static_cast<int64_t>(node.numInputs()) - numScanIn;
  int64_t numScanOut = graph->output_size() - numState;
  if (numScanOut < 0 || graph->input_size() != numState + numScanIn)
    return node.error() << "the body of Scan must take the " << numState
                        << " state values and " << numScanIn
                        << " scan elements, and give the states first";
  auto list = [&](StringRef name, int64_t count,
                  ArrayRef<Value> values) -> FailureOr<SmallVector<int64_t>> {
    SmallVector<int64_t> result(count, 0);
    if (std::optional<SmallVector<int64_t>> given = node.intsAttr(name)) {
      if (static_cast<int64_t>(given->size()) != count)
        return node.error() << name << " has " << given->size() << " entries, "
                            << count << " expected";
      result = *given;
    }
    for (auto [i, value] : llvm::enumerate(result)) {
      if (name.ends_with("directions")) {
        if (value != 0 && value != 1)
          return node.error() << name << " must hold 0 or 1, not " << value;
        continue;
      }
      int64_t rank = cast<RankedTensorType>(values[i].getType()).getRank();
      FailureOr<int64_t> axis = node.normalizeAxis(value, rank, name);
      if (failed(axis))
        return failure();
      value = *axis;
    }
    return result;
  };
  SmallVector<Value> states, scans;
  for (int64_t i = 0; i < numState; ++i)
    states.push_back(node.input(i));
  for (int64_t i = 0; i < numScanIn; ++i)
    scans.push_back(node.input(numState + i));
  FailureOr<SmallVector<int64_t>> inAxes =
      list("scan_input_axes", numScanIn, scans);
  FailureOr<SmallVector<int64_t>> inDirs =
      list("scan_input_directions", numScanIn, {});
  FailureOr<SmallVector<int64_t>> outDirs =
      list("scan_output_directions", numScanOut, {});
  if (failed(inAxes) || failed(inDirs) || failed(outDirs))
    return failure();
  SmallVector<int64_t> outAxes(numScanOut, 0);
  if (std::optional<SmallVector<int64_t>> given =
          node.intsAttr("scan_output_axes")) {
    if (static_cast<int64_t>(given->size()) != numScanOut)
      return node.error() << "scan_output_axes has " << given->size()
                          << " entries, " << numScanOut << " expected";
    outAxes = *given;
  }
  OpFoldResult trips = node.dimSize(scans[0], (*inAxes)[0]);
  Value tripCount = node.indexValue(trips);
  Value last = arith::SubIOp::create(b, loc, tripCount,
                                     arith::ConstantIndexOp::create(b, loc, 1));

  SmallVector<Type> argTypes = {b.getIndexType()};
  for (Value state : states)
    argTypes.push_back(state.getType());
  FailureOr<DetachedBody> body =
      importDetached(node, *graph, argTypes, [&](OpBuilder &bb, Block &block) {
        SmallVector<Value> inputs(block.getArguments().drop_front());
        Value t = block.getArgument(0);
        Value reversed = arith::SubIOp::create(bb, loc, last, t);
        for (auto [i, scan] : llvm::enumerate(scans)) {
          SmallVector<OpFoldResult> offsets, sizes, strides;
          stepSlice(node, scan, (*inAxes)[i], (*inDirs)[i] ? reversed : t,
                    offsets, sizes, strides);
          auto type = cast<RankedTensorType>(scan.getType());
          SmallVector<int64_t> shape(type.getShape());
          shape.erase(shape.begin() + (*inAxes)[i]);
          inputs.push_back(tensor::ExtractSliceOp::create(
              bb, loc, RankedTensorType::get(shape, type.getElementType()),
              scan, offsets, sizes, strides));
        }
        return inputs;
      });
  if (failed(body))
    return failure();
  Block *block = body->block.get();
  SmallVector<Value> inits(states);
  for (int64_t k = 0; k < numScanOut; ++k) {
    auto element =
        cast<RankedTensorType>(body->outputs[numState + k].getType());
    FailureOr<int64_t> axis = node.normalizeAxis(
        outAxes[k], element.getRank() + 1, "scan_output_axes");
    if (failed(axis))
      return failure();
    outAxes[k] = *axis;
    if (!element.hasStaticShape())
      return node.error() << "unsupported Scan: scan output " << k
                          << " has dynamic sizes in the body (" << element
                          << ")";
    SmallVector<int64_t> shape(element.getShape());
    std::optional<int64_t> staticTrips = getConstantIntValue(trips);
    shape.insert(shape.begin() + *axis,
                 staticTrips ? *staticTrips : ShapedType::kDynamic);
    auto type = RankedTensorType::get(shape, element.getElementType());
    SmallVector<Value> dynamic;
    if (!staticTrips)
      dynamic.push_back(tripCount);
    inits.push_back(tensor::EmptyOp::create(b, loc, type, dynamic));
    block->addArgument(type, loc);
  }
  for (int64_t i = 0; i < numState; ++i)
    if (body->outputs[i].getType() != states[i].getType())
      return node.error() << "unsupported Scan: state " << i << " enters as "
                          << states[i].getType() << " and leaves the body as "
                          << body->outputs[i].getType();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(block);
    Value t = block->getArgument(0);
    Value reversed = arith::SubIOp::create(b, loc, last, t);
    SmallVector<Value> yielded(body->outputs.begin(),
                               body->outputs.begin() + numState);
    for (int64_t k = 0; k < numScanOut; ++k) {
      Value acc = block->getArgument(1 + numState + k);
      SmallVector<OpFoldResult> offsets, sizes, strides;
      stepSlice(node, acc, outAxes[k], (*outDirs)[k] ? reversed : t, offsets,
                sizes, strides);
      yielded.push_back(tensor::InsertSliceOp::create(
          b, loc, body->outputs[numState + k], acc, offsets, sizes, strides));
    }
    scf::YieldOp::create(b, loc, yielded);
  }
  auto forOp = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0), tripCount,
      arith::ConstantIndexOp::create(b, loc, 1), inits);
  forOp.getRegion().front().erase();
  forOp.getRegion().push_back(body->block.release());
  for (auto [i, result] : llvm::enumerate(forOp.getResults()))
    node.setOutput(i, result);
  return success();
}

} // namespace

ArrayRef<OnnxConverterEntry> controlFlowConverters() {
  // If-1 and If-11 differ from 13 and 16 only in what they accept (11 lets
  // the branches' shapes differ, which the importer joins in any case);
  // Loop-11 likewise from 13 and 16.
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP_SINCE("If", 1, convertIf),
      SINTER_ONNX_OP_SINCE("Loop", 11, convertLoop),
      // Scan-8 has a batch axis and sequence_lens; 9 and later do not.
      SINTER_ONNX_OP_SINCE("Scan", 9, convertScan),
  };
  return entries;
}

} // namespace sinter
