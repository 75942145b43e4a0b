//===- ConvertDataMovement.cpp - Slicing, joining, gathering --------------===//
//
// Data movement: Slice, Concat, Split, Gather, GatherElements,
// ScatterElements and Trilu.
// Tested by test/lit/frontend/onnx/data-movement.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace sinter {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

LogicalResult convertSlice(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> starts =
      node.constantInts(1, "the starts of Slice");
  FailureOr<SmallVector<int64_t>> ends =
      node.constantInts(2, "the ends of Slice");
  if (failed(starts) || failed(ends))
    return failure();
  SmallVector<int64_t> axes =
      llvm::to_vector(llvm::seq<int64_t>(0, starts->size()));
  SmallVector<int64_t> steps(starts->size(), 1);
  if (node.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> given =
        node.constantInts(3, "the axes of Slice");
    if (failed(given))
      return failure();
    axes = *given;
  }
  if (node.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> given =
        node.constantInts(4, "the steps of Slice");
    if (failed(given))
      return failure();
    steps = *given;
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return node.error() << "starts, ends, axes and steps of Slice differ in "
                           "length";
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, axes, rank);
  if (failed(normalized))
    return failure();
  SmallVector<int64_t> allStarts(rank, 0), allEnds(rank, kInt64Max),
      allSteps(rank, 1);
  for (auto [i, axis] : llvm::enumerate(*normalized)) {
    if (steps[i] == 0)
      return node.error() << "the step of axis " << axes[i] << " is 0";
    allStarts[axis] = (*starts)[i];
    allEnds[axis] = (*ends)[i];
    allSteps[axis] = steps[i];
  }
  FailureOr<SliceOp> op =
      node.create<SliceOp>(node.input(0), allStarts, allEnds, allSteps);
  if (failed(op))
    return failure();
  // Slices of known 1-D sizes (shape[2:], shape[-1:]) stay known.
  std::optional<Known> known = node.knownInts(0);
  if (known && rank == 1 && !known->empty()) {
    int64_t size = known->size(), step = allSteps[0];
    int64_t count = slicedDimSize(size, allStarts[0], allEnds[0], step);
    int64_t start = allStarts[0] < 0 ? allStarts[0] + size : allStarts[0];
    start = step > 0 ? std::clamp<int64_t>(start, 0, size)
                     : std::clamp<int64_t>(start, 0, size - 1);
    Known sliced;
    for (int64_t i = 0; i < count; ++i)
      sliced.push_back((*known)[start + i * step]);
    return finish(node, op->getResult(), sliced);
  }
  return finish(node, op->getResult());
}

LogicalResult convertConcat(OnnxNode &node) {
  SmallVector<Value> inputs;
  std::optional<Known> known = Known();
  for (size_t i = 0; i < node.numInputs(); ++i) {
    if (!node.hasInput(i))
      continue;
    inputs.push_back(node.input(i));
    std::optional<Known> part = node.knownInts(i);
    if (known && part)
      known->append(*part);
    else
      known.reset();
  }
  if (inputs.empty())
    return node.error() << "Concat has no inputs";
  int64_t rank = cast<RankedTensorType>(inputs[0].getType()).getRank();
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", 0), rank);
  if (failed(axis))
    return failure();
  FailureOr<ConcatOp> op = node.create<ConcatOp>(inputs, *axis);
  if (failed(op))
    return failure();
  return finish(node, op->getResult(), rank == 1 ? known : std::nullopt);
}

LogicalResult convertSplit(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> sizes;
  int64_t parts = node.numOutputs();
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> given =
        node.constantInts(1, "the split sizes");
    if (failed(given))
      return failure();
    sizes = *given;
    if (static_cast<int64_t>(sizes.size()) != parts)
      return node.error() << sizes.size() << " split sizes for " << parts
                          << " outputs";
  } else {
    int64_t size = type.getDimSize(*axis);
    if (ShapedType::isDynamic(size))
      return node.error() << "unsupported Split into equal parts of the "
                             "dynamic dimension "
                          << *axis;
    // From opset 18 on, num_outputs parts of ceil(size / parts) each, the
    // last one smaller where the size does not divide.
    if (const auto *numOutputs = node.attribute("num_outputs")) {
      if (numOutputs->i() != parts)
        return node.error() << "num_outputs is " << numOutputs->i()
                            << " but the node has " << parts << " outputs";
      int64_t chunk = llvm::divideCeil(size, parts);
      if (chunk * (parts - 1) >= size && parts > 1)
        return node.error() << "dimension " << *axis << " of size " << size
                            << " does not split into " << parts << " parts";
      sizes.assign(parts - 1, chunk);
      sizes.push_back(size - chunk * (parts - 1));
    } else if (size % parts != 0) {
      return node.error() << "dimension " << *axis << " of size " << size
                          << " does not split into " << parts << " equal parts";
    } else {
      sizes.assign(parts, size / parts);
    }
  }
  OpBuilder &b = node.builder();
  FailureOr<SplitOp> op = node.createWithResults<SplitOp>(
      parts, node.input(0), b.getI64IntegerAttr(*axis),
      b.getDenseI64ArrayAttr(sizes));
  if (failed(op))
    return failure();
  for (auto [i, result] : llvm::enumerate(op->getResults()))
    node.setOutput(i, result);
  return success();
}

LogicalResult convertGather(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  FailureOr<GatherOp> op =
      node.create<GatherOp>(node.input(0), node.input(1), *axis);
  if (failed(op))
    return failure();
  // Picking sizes out of a known shape: shape[i] or shape[[i, j]].
  std::optional<Known> data = node.knownInts(0);
  std::optional<Known> indices = node.knownInts(1);
  if (data && indices && type.getRank() == 1) {
    Known picked;
    for (OpFoldResult index : *indices) {
      std::optional<int64_t> i = getConstantIntValue(index);
      int64_t size = data->size();
      if (!i || *i < -size || *i >= size)
        return finish(node, op->getResult());
      picked.push_back((*data)[*i < 0 ? *i + size : *i]);
    }
    return finish(node, op->getResult(), picked);
  }
  return finish(node, op->getResult());
}

LogicalResult convertGatherElements(OnnxNode &node) {
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  FailureOr<GatherElementsOp> op =
      node.create<GatherElementsOp>(node.input(0), node.input(1), *axis);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertScatterElements(OnnxNode &node) {
  std::string reduction = node.stringAttr("reduction", "none");
  if (reduction != "none")
    return node.error() << "unsupported reduction '" << reduction
                        << "' of ScatterElements";
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), node.inputType(0).getRank());
  if (failed(axis))
    return failure();
  FailureOr<ScatterElementsOp> op = node.create<ScatterElementsOp>(
      node.input(0), node.input(1), node.input(2), *axis);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertTrilu(OnnxNode &node) {
  int64_t k = 0;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> given = node.constantInts(1, "k of Trilu");
    if (failed(given))
      return failure();
    if (given->size() != 1)
      return node.error() << "k of Trilu must be a scalar";
    k = (*given)[0];
  }
  OpBuilder &b = node.builder();
  FailureOr<TriluOp> op = node.create<TriluOp>(
      node.input(0), b.getI64IntegerAttr(k),
      node.intAttr("upper", 1) ? b.getUnitAttr() : UnitAttr());
  return failed(op) ? failure() : finish(node, op->getResult());
}

} // namespace

ArrayRef<OnnxConverterEntry> dataMovementConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Concat", convertConcat),
      SINTER_ONNX_OP("Gather", convertGather),
      SINTER_ONNX_OP("GatherElements", convertGatherElements),
      SINTER_ONNX_OP("ScatterElements", convertScatterElements),
      SINTER_ONNX_OP("Slice", convertSlice),
      SINTER_ONNX_OP("Split", convertSplit),
      SINTER_ONNX_OP_SINCE("Trilu", 14, convertTrilu),
  };
  return entries;
}

} // namespace sinter
