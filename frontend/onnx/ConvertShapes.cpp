//===- ConvertShapes.cpp - Shapes and known values ------------------------===//
//
// Shapes and known values: Shape, Size, Reshape, Flatten, (Un)Squeeze,
// Transpose, Expand and Tile. Shape computations that exporters leave in
// graphs are tracked as known integers, so that Reshape, Expand and friends
// get static sizes where they are static and index values where a symbolic
// dimension is involved.
// Tested by test/lit/frontend/onnx/shapes.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

using namespace mlir;

namespace sinter {
namespace {

/// a * b on sizes, folded when both are constant.
OpFoldResult multiply(OnnxNode &node, OpFoldResult a, OpFoldResult b) {
  std::optional<int64_t> x = getConstantIntValue(a), y = getConstantIntValue(b);
  int64_t product;
  if (x && y && !llvm::MulOverflow(*x, *y, product))
    return node.builder().getIndexAttr(product);
  if (x == 1)
    return b;
  if (y == 1)
    return a;
  return arith::MulIOp::create(node.builder(), node.loc(), node.indexValue(a),
                               node.indexValue(b))
      .getResult();
}

/// The sizes of `value` as known integers.
Known shapeOf(OnnxNode &node, Value value) {
  Known dims;
  for (int64_t d = 0; d < cast<RankedTensorType>(value.getType()).getRank();
       ++d)
    dims.push_back(node.dimSize(value, d));
  return dims;
}

/// Reshapes `value` to `sizes`; known integers pass through unchanged when
/// the result is still a 0-D or 1-D integer tensor.
FailureOr<Value> reshapeTo(OnnxNode &node, Value value,
                           ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, sizes, staticSizes, dynamicSizes);
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == ArrayRef<int64_t>(staticSizes) && dynamicSizes.empty())
    return value;
  FailureOr<ReshapeOp> op =
      node.create<ReshapeOp>(value, dynamicSizes, staticSizes);
  if (failed(op))
    return failure();
  return op->getResult();
}

/// Output 0 := reshape(input 0, sizes), forwarding known integers.
LogicalResult finishReshape(OnnxNode &node, ArrayRef<OpFoldResult> sizes) {
  FailureOr<Value> result = reshapeTo(node, node.input(0), sizes);
  if (failed(result))
    return failure();
  std::optional<Known> known = node.knownInts(0);
  if (sizes.size() > 1)
    known.reset();
  return finish(node, *result, known);
}

LogicalResult convertShape(OnnxNode &node) {
  Known dims = shapeOf(node, node.input(0));
  int64_t rank = dims.size();
  auto clampIndex = [&](int64_t index) {
    if (index < 0)
      index += rank;
    return std::clamp<int64_t>(index, 0, rank);
  };
  int64_t start = clampIndex(node.intAttr("start", 0));
  int64_t end = clampIndex(node.intAttr("end", rank));
  Known slice(dims.begin() + start, dims.begin() + std::max(start, end));
  return finish(node, node.materializeInts(slice, /*scalar=*/false), slice);
}

LogicalResult convertSize(OnnxNode &node) {
  OpFoldResult size = node.builder().getIndexAttr(1);
  for (OpFoldResult dim : shapeOf(node, node.input(0)))
    size = multiply(node, size, dim);
  Known known = {size};
  return finish(node, node.materializeInts(known, /*scalar=*/true), known);
}

/// Target sizes of Reshape: 0 copies the input's size (unless allowzero),
/// -1 is inferred from the element count.
LogicalResult convertReshape(OnnxNode &node) {
  std::optional<Known> shape = node.knownInts(1);
  if (!shape)
    return node.error() << "unsupported dynamic value: the target shape of "
                           "Reshape ('"
                        << node.proto().input(1)
                        << "') is not known when the model is imported";
  Value input = node.input(0);
  Known dims = shapeOf(node, input);
  bool allowZero = node.intAttr("allowzero", 0) != 0;
  Known sizes;
  std::optional<size_t> inferred;
  for (auto [i, size] : llvm::enumerate(*shape)) {
    std::optional<int64_t> c = getConstantIntValue(size);
    if (c == 0 && !allowZero) {
      if (i >= dims.size())
        return node.error() << "target size 0 at position " << i
                            << " copies a dimension the input (rank "
                            << dims.size() << ") does not have";
      sizes.push_back(dims[i]);
    } else if (c == -1) {
      if (inferred)
        return node.error() << "the target shape has more than one -1";
      inferred = i;
      sizes.push_back(OpFoldResult());
    } else if (c && *c < -1) {
      return node.error() << "target size " << *c << " is invalid";
    } else {
      sizes.push_back(size);
    }
  }
  if (inferred) {
    // total / others, cancelling the dynamic sizes both contain: the
    // common {0, 0, heads, -1} of attention reshapes stays static.
    int64_t totalStatic = 1, otherStatic = 1;
    SmallVector<Value> totalDynamic, otherDynamic;
    bool overflow = false;
    auto collect = [&](OpFoldResult size, int64_t &product,
                       SmallVectorImpl<Value> &dynamic) {
      if (std::optional<int64_t> c = getConstantIntValue(size))
        overflow |= llvm::MulOverflow(product, *c, product);
      else
        dynamic.push_back(cast<Value>(size));
    };
    for (OpFoldResult dim : dims)
      collect(dim, totalStatic, totalDynamic);
    for (auto [i, size] : llvm::enumerate(sizes))
      if (i != *inferred)
        collect(size, otherStatic, otherDynamic);
    if (overflow)
      return node.error() << "the sizes of Reshape overflow 64 bits";
    for (auto it = otherDynamic.begin(); it != otherDynamic.end();) {
      auto match = llvm::find(totalDynamic, *it);
      if (match == totalDynamic.end()) {
        ++it;
        continue;
      }
      totalDynamic.erase(match);
      it = otherDynamic.erase(it);
    }
    if (totalDynamic.empty() && otherDynamic.empty()) {
      if (otherStatic == 0 || totalStatic % otherStatic != 0)
        return node.error()
               << "cannot reshape " << totalStatic
               << " elements: the other sizes multiply to " << otherStatic;
      sizes[*inferred] = node.builder().getIndexAttr(totalStatic / otherStatic);
    } else if (otherDynamic.empty() && otherStatic != 0 &&
               totalStatic % otherStatic == 0) {
      // Only the input has dynamic sizes: no division is needed.
      OpFoldResult size =
          node.builder().getIndexAttr(totalStatic / otherStatic);
      for (Value dynamic : totalDynamic)
        size = multiply(node, size, dynamic);
      sizes[*inferred] = size;
    } else {
      OpFoldResult total = node.builder().getIndexAttr(totalStatic),
                   others = node.builder().getIndexAttr(otherStatic);
      for (Value size : totalDynamic)
        total = multiply(node, total, size);
      for (Value size : otherDynamic)
        others = multiply(node, others, size);
      sizes[*inferred] = arith::DivUIOp::create(node.builder(), node.loc(),
                                                node.indexValue(total),
                                                node.indexValue(others))
                             .getResult();
    }
  }
  return finishReshape(node, sizes);
}

LogicalResult convertFlatten(OnnxNode &node) {
  Known dims = shapeOf(node, node.input(0));
  int64_t rank = dims.size(), axis = node.intAttr("axis", 1);
  if (axis < -rank || axis > rank)
    return node.error() << "axis " << axis << " is out of range for rank "
                        << rank;
  if (axis < 0)
    axis += rank;
  OpFoldResult outer = node.builder().getIndexAttr(1), inner = outer;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) =
        multiply(node, i < axis ? outer : inner, dims[i]);
  return finishReshape(node, {outer, inner});
}

LogicalResult convertUnsqueeze(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> axes =
      node.constantInts(1, "the axes of Unsqueeze");
  if (failed(axes))
    return failure();
  Known dims = shapeOf(node, node.input(0));
  int64_t rank = dims.size() + axes->size();
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, *axes, rank);
  if (failed(normalized))
    return failure();
  Known sizes;
  auto next = dims.begin();
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(llvm::is_contained(*normalized, i)
                        ? OpFoldResult(node.builder().getIndexAttr(1))
                        : *next++);
  return finishReshape(node, sizes);
}

LogicalResult convertSqueeze(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  SmallVector<int64_t> axes;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> constant =
        node.constantInts(1, "the axes of Squeeze");
    if (failed(constant))
      return failure();
    FailureOr<SmallVector<int64_t>> normalized =
        normalizeAxes(node, *constant, type.getRank());
    if (failed(normalized))
      return failure();
    axes = *normalized;
  } else {
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (type.isDynamicDim(i))
        return node.error() << "unsupported Squeeze without axes on " << type
                            << ": whether dimension " << i
                            << " is 1 is not known when importing";
      if (type.getDimSize(i) == 1)
        axes.push_back(i);
    }
  }
  Known sizes;
  for (auto [i, dim] : llvm::enumerate(shapeOf(node, node.input(0)))) {
    if (!llvm::is_contained(axes, static_cast<int64_t>(i))) {
      sizes.push_back(dim);
      continue;
    }
    if (getConstantIntValue(dim).value_or(1) != 1)
      return node.error() << "cannot squeeze dimension " << i << " of " << type
                          << ": its size is not 1";
  }
  return finishReshape(node, sizes);
}

LogicalResult convertTranspose(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  SmallVector<int64_t> perm = node.intsAttr("perm").value_or(
      llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
  FailureOr<TransposeOp> op = node.create<TransposeOp>(node.input(0), perm);
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertExpand(OnnxNode &node) {
  std::optional<Known> shape = node.knownInts(1);
  if (!shape)
    return node.error() << "unsupported dynamic value: the target shape of "
                           "Expand ('"
                        << node.proto().input(1)
                        << "') is not known when the model is imported";
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, *shape, staticSizes, dynamicSizes);
  FailureOr<ExpandOp> op =
      node.create<ExpandOp>(node.input(0), dynamicSizes, staticSizes);
  return failed(op) ? failure() : finish(node, op->getResult());
}

/// Tile as reshape + expand + reshape: [d0, d1] tiled [r0, r1] is
/// [1, d0, 1, d1] expanded to [r0, d0, r1, d1] and merged.
LogicalResult convertTile(OnnxNode &node) {
  FailureOr<SmallVector<int64_t>> repeats =
      node.constantInts(1, "the repeats of Tile");
  if (failed(repeats))
    return failure();
  Value input = node.input(0);
  Known dims = shapeOf(node, input);
  if (repeats->size() != dims.size())
    return node.error() << "Tile has " << repeats->size()
                        << " repeats for rank " << dims.size();
  if (llvm::all_of(*repeats, [](int64_t r) { return r == 1; }))
    return finish(node, input);
  OpBuilder &b = node.builder();
  Known spread, expanded, merged;
  for (auto [dim, repeat] : llvm::zip_equal(dims, *repeats)) {
    if (repeat < 0)
      return node.error() << "Tile repeats must be >= 0";
    spread.append({b.getIndexAttr(1), dim});
    expanded.append({b.getIndexAttr(repeat), dim});
    merged.push_back(multiply(node, b.getIndexAttr(repeat), dim));
  }
  FailureOr<Value> reshaped = reshapeTo(node, input, spread);
  if (failed(reshaped))
    return failure();
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, expanded, staticSizes, dynamicSizes);
  FailureOr<ExpandOp> expand =
      node.create<ExpandOp>(*reshaped, dynamicSizes, staticSizes);
  if (failed(expand))
    return failure();
  FailureOr<Value> result = reshapeTo(node, expand->getResult(), merged);
  return failed(result) ? failure() : finish(node, *result);
}

} // namespace

ArrayRef<OnnxConverterEntry> shapesConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Expand", convertExpand),
      SINTER_ONNX_OP("Flatten", convertFlatten),
      SINTER_ONNX_OP("Reshape", convertReshape),
      SINTER_ONNX_OP("Shape", convertShape),
      SINTER_ONNX_OP("Size", convertSize),
      SINTER_ONNX_OP("Squeeze", convertSqueeze),
      SINTER_ONNX_OP("Tile", convertTile),
      SINTER_ONNX_OP("Transpose", convertTranspose),
      SINTER_ONNX_OP("Unsqueeze", convertUnsqueeze),
  };
  return entries;
}

} // namespace sinter
