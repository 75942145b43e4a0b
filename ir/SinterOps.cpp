//===- SinterOps.cpp - Verifiers and type inference of sinter ops ---------===//
//
// Result type inference doubles as the shape verifier: it runs when an op is
// built and again when it is verified, so every shape rule lives here once and
// reports a message that names the offending operands. Folders are in
// SinterFolders.cpp.
//
//===----------------------------------------------------------------------===//

#include "ir/SinterOps.h"
#include "ir/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

#include <cmath>

using namespace mlir;
using namespace sinter;

namespace {

using TypeList = SmallVectorImpl<Type>;
using OptionalLoc = std::optional<Location>;

RankedTensorType rankedType(Value value) {
  return value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
}

Type elementTypeOf(Value value) {
  auto type = value ? dyn_cast<ShapedType>(value.getType()) : nullptr;
  return type ? type.getElementType() : Type();
}

/// The first element of a constant, as a double.
double elementAsDouble(DenseElementsAttr attr) {
  Type type = attr.getElementType();
  if (isa<FloatType>(type))
    return (*attr.value_begin<APFloat>()).convertToDouble();
  return static_cast<double>((*attr.value_begin<APInt>()).getSExtValue());
}

/// Two sizes are compatible when they are equal or either is dynamic.
bool compatibleSize(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

/// The more static of two compatible sizes.
int64_t refineSize(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) ? b : a;
}

/// "[1, ?, 64]": how shapes appear in diagnostics.
std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os, [&](int64_t size) {
    if (ShapedType::isDynamic(size))
      os << '?';
    else
      os << size;
  });
  os << ']';
  return text;
}

/// The types of `operands`, or failure if one is not a ranked tensor.
FailureOr<SmallVector<RankedTensorType>>
rankedOperands(std::optional<Location> loc, ValueRange operands) {
  SmallVector<RankedTensorType> types;
  for (Value operand : operands) {
    RankedTensorType type = rankedType(operand);
    if (!type)
      return emitOptionalError(loc, "expects ranked tensor operands, got ",
                               operand ? operand.getType() : Type());
    types.push_back(type);
  }
  return types;
}

/// The error of an inference given operands that are not ranked tensors (only
/// reachable from C++ builders: the verifier checks operand types first).
LogicalResult unrankedOperands(OptionalLoc loc) {
  return emitOptionalError(loc, "expects ranked tensor operands");
}

/// Checks that an optional `bias` is 1-D with `size` elements.
LogicalResult checkBias(std::optional<Location> loc, Value bias, int64_t size) {
  if (!bias)
    return success();
  ArrayRef<int64_t> shape = rankedType(bias).getShape();
  if (shape.size() != 1 || !compatibleSize(shape[0], size))
    return emitOptionalError(loc, "bias must have shape [", size, "], got ",
                             formatShape(shape));
  return success();
}

LogicalResult checkAxis(std::optional<Location> loc, int64_t axis, int64_t rank,
                        StringRef name = "axis") {
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, name, " ", axis, " is out of range for rank ",
                             rank, " (axes are non-negative)");
  return success();
}

/// Checks sizes written in an attribute: each is >= 0 or dynamic.
LogicalResult checkSizes(std::optional<Location> loc, ArrayRef<int64_t> sizes,
                         StringRef name) {
  for (int64_t size : sizes)
    if (size < 0 && !ShapedType::isDynamic(size))
      return emitOptionalError(loc, name, " has a negative size ", size);
  return success();
}

LogicalResult inferBroadcastResult(std::optional<Location> loc,
                                   ValueRange operands, Type elementType,
                                   TypeList &inferred) {
  FailureOr<SmallVector<RankedTensorType>> types =
      rankedOperands(loc, operands);
  if (failed(types))
    return failure();
  if (!elementType)
    return emitOptionalError(loc, "cannot infer the result element type");
  SmallVector<ArrayRef<int64_t>> shapes;
  for (RankedTensorType type : *types)
    shapes.push_back(type.getShape());
  std::optional<SmallVector<int64_t>> shape = broadcastShapes(shapes);
  if (!shape) {
    std::string list;
    llvm::raw_string_ostream os(list);
    llvm::interleaveComma(shapes, os,
                          [&](ArrayRef<int64_t> s) { os << formatShape(s); });
    return emitOptionalError(loc, "operand shapes ", list,
                             " are not broadcast-compatible");
  }
  inferred.push_back(RankedTensorType::get(*shape, elementType));
  return success();
}

/// Checks that `operand` (scale or bias of a norm) has the normalized shape
/// `expected`, i.e. the input's dimensions from the normalization axis on.
LogicalResult checkNormalizedShape(std::optional<Location> loc, Value operand,
                                   ArrayRef<int64_t> expected, StringRef name) {
  RankedTensorType type = rankedType(operand);
  if (!type)
    return emitOptionalError(loc, name, " must be a ranked tensor");
  ArrayRef<int64_t> shape = type.getShape();
  if (shape.size() != expected.size() ||
      !llvm::all_of(llvm::zip_equal(shape, expected), [](auto pair) {
        return compatibleSize(std::get<0>(pair), std::get<1>(pair));
      }))
    return emitOptionalError(loc, name, " shape ", formatShape(shape),
                             " does not match the normalized shape ",
                             formatShape(expected));
  return success();
}

LogicalResult inferNormResult(std::optional<Location> loc, Value input,
                              Value scale, Value bias, int64_t axis,
                              float epsilon, TypeList &inferred) {
  RankedTensorType inputType = rankedType(input);
  if (!inputType)
    return emitOptionalError(loc, "input must be a ranked tensor");
  if (failed(checkAxis(loc, axis, inputType.getRank())))
    return failure();
  if (!(epsilon >= 0.0f) || !std::isfinite(epsilon))
    return emitOptionalError(loc, "epsilon must be finite and >= 0, got ",
                             epsilon);
  ArrayRef<int64_t> normalized = inputType.getShape().drop_front(axis);
  if (failed(checkNormalizedShape(loc, scale, normalized, "scale")) ||
      (bias && failed(checkNormalizedShape(loc, bias, normalized, "bias"))))
    return failure();
  inferred.push_back(inputType);
  return success();
}

LogicalResult inferReductionResult(std::optional<Location> loc, Value input,
                                   ArrayRef<int64_t> axes, bool keepdims,
                                   TypeList &inferred) {
  RankedTensorType type = rankedType(input);
  if (!type)
    return emitOptionalError(loc, "input must be a ranked tensor");
  llvm::SmallSet<int64_t, 4> reduced;
  for (int64_t axis : axes) {
    if (failed(checkAxis(loc, axis, type.getRank())))
      return failure();
    if (!reduced.insert(axis).second)
      return emitOptionalError(loc, "axis ", axis, " is reduced twice");
  }
  SmallVector<int64_t> shape;
  for (auto [i, size] : llvm::enumerate(type.getShape())) {
    if (!reduced.contains(i))
      shape.push_back(size);
    else if (keepdims)
      shape.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

/// Reshape and expand spell their target shape the same way: static sizes
/// inline, one index operand per dynamic size.
LogicalResult verifyDynamicShapeOperands(Operation *op, ValueRange dynamic,
                                         ArrayRef<int64_t> shape) {
  int64_t expected = llvm::count_if(shape, ShapedType::isDynamic);
  if (static_cast<int64_t>(dynamic.size()) != expected)
    return op->emitOpError("has ")
           << dynamic.size() << " dynamic size operands but its shape "
           << formatShape(shape) << " has " << expected << " dynamic sizes";
  return success();
}

} // namespace

#define GET_OP_CLASSES
#include "ir/SinterOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

LogicalResult ClipOp::verify() {
  FloatAttr min = getMinAttr(), max = getMaxAttr();
  if (min && max && min.getValueAsDouble() > max.getValueAsDouble())
    return emitOpError("min ")
           << min.getValueAsDouble() << " is greater than max "
           << max.getValueAsDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                         Adaptor adaptor, TypeList &inferred) {
  RankedTensorType lhs = rankedType(adaptor.getLhs());
  RankedTensorType rhs = rankedType(adaptor.getRhs());
  if (!lhs || !rhs)
    return unrankedOperands(loc);
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return emitOptionalError(loc, "operands must have rank >= 1, got ", lhs,
                             " and ", rhs);
  // numpy promotes a 1-D lhs to 1 x K and a 1-D rhs to K x 1, then drops the
  // promoted dimension from the result.
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  bool lhsIsVector = a.size() == 1, rhsIsVector = b.size() == 1;
  if (lhsIsVector)
    a.insert(a.begin(), 1);
  if (rhsIsVector)
    b.push_back(1);
  int64_t lhsK = a.back(), rhsK = b[b.size() - 2];
  if (!compatibleSize(lhsK, rhsK))
    return emitOptionalError(loc, "contraction sizes differ: lhs ",
                             formatShape(lhs.getShape()), " has K = ", lhsK,
                             ", rhs ", formatShape(rhs.getShape()),
                             " has K = ", rhsK);
  ArrayRef<int64_t> aBatch = ArrayRef<int64_t>(a).drop_back(2);
  ArrayRef<int64_t> bBatch = ArrayRef<int64_t>(b).drop_back(2);
  std::optional<SmallVector<int64_t>> shape = broadcastShapes({aBatch, bBatch});
  if (!shape)
    return emitOptionalError(loc, "batch dimensions ", formatShape(aBatch),
                             " and ", formatShape(bBatch),
                             " are not broadcast-compatible");
  if (!lhsIsVector)
    shape->push_back(a[a.size() - 2]);
  if (!rhsIsVector)
    shape->push_back(b.back());
  inferred.push_back(RankedTensorType::get(*shape, lhs.getElementType()));
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                         Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  if (!input || !weight)
    return unrankedOperands(loc);
  if (input.getRank() < 1)
    return emitOptionalError(loc, "input must have rank >= 1, got ", input);
  if (weight.getRank() != 2)
    return emitOptionalError(loc, "weight must be 2-D, got ", weight);
  bool transposed = adaptor.getTransposeWeight();
  int64_t weightK = weight.getDimSize(transposed ? 1 : 0);
  int64_t n = weight.getDimSize(transposed ? 0 : 1);
  int64_t k = input.getShape().back();
  if (!compatibleSize(k, weightK))
    return emitOptionalError(loc, "input has K = ", k, " but weight ",
                             formatShape(weight.getShape()),
                             " has K = ", weightK,
                             transposed ? " (transposed: N x K)" : " (K x N)");
  if (failed(checkBias(loc, adaptor.getBias(), n)))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = n;
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                       Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  if (!input || !weight)
    return unrankedOperands(loc);
  int64_t rank = input.getRank();
  if (rank < 3)
    return emitOptionalError(loc, "input must be N x C x spatial..., got ",
                             input);
  if (weight.getRank() != rank)
    return emitOptionalError(loc, "weight rank ", weight.getRank(),
                             " differs from input rank ", rank);
  size_t spatial = rank - 2;
  ArrayRef<int64_t> strides = adaptor.getStrides();
  ArrayRef<int64_t> pads = adaptor.getPads();
  ArrayRef<int64_t> dilations = adaptor.getDilations();
  if (strides.size() != spatial || dilations.size() != spatial ||
      pads.size() != 2 * spatial)
    return emitOptionalError(loc, "expects ", spatial, " strides, ", spatial,
                             " dilations and ", 2 * spatial, " pads for a ",
                             spatial, "-D convolution");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }) ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "strides and dilations must be >= 1 and "
                                  "pads >= 0");
  int64_t group = adaptor.getGroupAttr().getInt();
  if (group < 1)
    return emitOptionalError(loc, "group must be >= 1, got ", group);
  int64_t channels = input.getDimSize(1), outChannels = weight.getDimSize(0);
  int64_t groupChannels = weight.getDimSize(1);
  if (!ShapedType::isDynamic(channels) &&
      !ShapedType::isDynamic(groupChannels) &&
      channels != groupChannels * group)
    return emitOptionalError(loc, "input has ", channels,
                             " channels but weight expects ", groupChannels,
                             " per group x ", group, " groups");
  if (!ShapedType::isDynamic(outChannels) && outChannels % group != 0)
    return emitOptionalError(loc, "output channels ", outChannels,
                             " are not divisible by group ", group);
  if (failed(checkBias(loc, adaptor.getBias(), outChannels)))
    return failure();
  SmallVector<int64_t> shape = {input.getDimSize(0), outChannels};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t size = input.getDimSize(2 + i);
    int64_t kernel = weight.getDimSize(2 + i);
    if (ShapedType::isDynamic(size) || ShapedType::isDynamic(kernel)) {
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    std::optional<int64_t> out = convOutputSize(
        size, kernel, strides[i], pads[i], pads[spatial + i], dilations[i]);
    if (!out)
      return emitOptionalError(loc, "kernel size ", kernel,
                               " does not fit spatial dimension ", i,
                               " of size ", size, " with its padding");
    shape.push_back(*out);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations along an axis
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::inferReturnTypes(MLIRContext *context, OptionalLoc loc,
                                       Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "input must be a ranked tensor");
  int64_t axis = adaptor.getAxisAttr().getInt();
  int64_t k = adaptor.getKAttr().getInt();
  if (failed(checkAxis(loc, axis, input.getRank())))
    return failure();
  int64_t size = input.getDimSize(axis);
  if (k < 1 || (!ShapedType::isDynamic(size) && k > size))
    return emitOptionalError(
        loc, "k = ", k, " must be in [1, ",
        ShapedType::isDynamic(size) ? std::string("?") : std::to_string(size),
        "] for axis ", axis);
  SmallVector<int64_t> shape(input.getShape());
  shape[axis] = k;
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  inferred.push_back(
      RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                          Adaptor adaptor, TypeList &inferred) {
  Type elementType = elementTypeOf(adaptor.getInput());
  ArrayRef<int64_t> shape = adaptor.getStaticShape();
  if (!elementType || failed(checkSizes(loc, shape, "shape")))
    return failure();
  inferred.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (failed(verifyDynamicShapeOperands(*this, getDynamicShape(),
                                        getStaticShape())))
    return failure();
  std::optional<int64_t> from =
      staticElementCount(getInput().getType().getShape());
  std::optional<int64_t> to = staticElementCount(getStaticShape());
  if (from && to && *from != *to)
    return emitOpError("cannot reshape ")
           << *from << " elements "
           << formatShape(getInput().getType().getShape()) << " into " << *to
           << " elements " << formatShape(getStaticShape());
  return success();
}

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                         Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> target = adaptor.getStaticShape();
  if (!input || failed(checkSizes(loc, target, "shape")))
    return failure();
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes({input.getShape(), target});
  if (!shape)
    return emitOptionalError(loc, "input shape ", formatShape(input.getShape()),
                             " cannot be expanded to ", formatShape(target));
  inferred.push_back(RankedTensorType::get(*shape, input.getElementType()));
  return success();
}

LogicalResult ExpandOp::verify() {
  return verifyDynamicShapeOperands(*this, getDynamicShape(), getStaticShape());
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                            Adaptor adaptor,
                                            TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "input must be a ranked tensor");
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (static_cast<int64_t>(perm.size()) != input.getRank())
    return emitOptionalError(loc, "permutation ", formatShape(perm), " has ",
                             perm.size(), " entries for rank ",
                             input.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t dim : perm) {
    if (dim < 0 || dim >= input.getRank() || seen[dim])
      return emitOptionalError(loc, formatShape(perm),
                               " is not a permutation of the dimensions");
    seen[dim] = true;
    shape.push_back(input.getDimSize(dim));
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                        Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "input must be a ranked tensor");
  ArrayRef<int64_t> starts = adaptor.getStarts(), ends = adaptor.getEnds(),
                    steps = adaptor.getSteps();
  size_t rank = input.getRank();
  if (starts.size() != rank || ends.size() != rank || steps.size() != rank)
    return emitOptionalError(loc,
                             "expects one start, end and step per "
                             "dimension (rank ",
                             rank, "), got ", starts.size(), ", ", ends.size(),
                             " and ", steps.size());
  SmallVector<int64_t> shape;
  for (size_t i = 0; i < rank; ++i) {
    if (steps[i] == 0 || steps[i] == std::numeric_limits<int64_t>::min())
      return emitOptionalError(loc, "step of dimension ", i,
                               " must be non-zero and > INT64_MIN");
    int64_t size = input.getDimSize(i);
    shape.push_back(ShapedType::isDynamic(size)
                        ? ShapedType::kDynamic
                        : slicedDimSize(size, starts[i], ends[i], steps[i]));
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                         Adaptor adaptor, TypeList &inferred) {
  auto types = rankedOperands(loc, adaptor.getInputs());
  if (failed(types))
    return failure();
  if (types->empty())
    return emitOptionalError(loc, "expects at least one input");
  int64_t axis = adaptor.getAxisAttr().getInt();
  RankedTensorType first = types->front();
  if (failed(checkAxis(loc, axis, first.getRank())))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (auto [index, type] : llvm::enumerate(llvm::drop_begin(*types))) {
    if (type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOptionalError(loc, "input ", index + 1, " has type ", type,
                               ", which differs in rank or element type from ",
                               first);
    for (int64_t dim = 0; dim < first.getRank(); ++dim) {
      int64_t size = type.getDimSize(dim);
      if (dim == axis) {
        shape[dim] =
            ShapedType::isDynamic(shape[dim]) || ShapedType::isDynamic(size)
                ? ShapedType::kDynamic
                : shape[dim] + size;
      } else if (!compatibleSize(shape[dim], size)) {
        return emitOptionalError(loc, "input ", index + 1, " has size ", size,
                                 " in dimension ", dim, " where input 0 has ",
                                 shape[dim]);
      } else {
        shape[dim] = refineSize(shape[dim], size);
      }
    }
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                        Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "input must be a ranked tensor");
  int64_t axis = adaptor.getAxisAttr().getInt();
  if (failed(checkAxis(loc, axis, input.getRank())))
    return failure();
  ArrayRef<int64_t> sizes = adaptor.getSizes();
  if (sizes.empty())
    return emitOptionalError(loc, "expects at least one size");
  int64_t total = 0;
  for (int64_t size : sizes) {
    if (size < 0)
      return emitOptionalError(loc, "split sizes must be >= 0, got ",
                               formatShape(sizes));
    total += size;
  }
  int64_t dim = input.getDimSize(axis);
  if (!ShapedType::isDynamic(dim) && total != dim)
    return emitOptionalError(loc, "split sizes ", formatShape(sizes),
                             " add up to ", total, " but axis ", axis,
                             " has size ", dim);
  for (int64_t size : sizes) {
    SmallVector<int64_t> shape(input.getShape());
    shape[axis] = size;
    inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  }
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                         Adaptor adaptor, TypeList &inferred) {
  RankedTensorType data = rankedType(adaptor.getData());
  RankedTensorType indices = rankedType(adaptor.getIndices());
  if (!data || !indices)
    return unrankedOperands(loc);
  int64_t axis = adaptor.getAxisAttr().getInt();
  if (failed(checkAxis(loc, axis, data.getRank())))
    return failure();
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  inferred.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                                 Adaptor adaptor,
                                                 TypeList &inferred) {
  RankedTensorType data = rankedType(adaptor.getData());
  RankedTensorType indices = rankedType(adaptor.getIndices());
  if (!data || !indices)
    return unrankedOperands(loc);
  if (data.getRank() != indices.getRank())
    return emitOptionalError(loc, "indices rank ", indices.getRank(),
                             " differs from data rank ", data.getRank());
  if (failed(checkAxis(loc, adaptor.getAxisAttr().getInt(), data.getRank())))
    return failure();
  inferred.push_back(
      RankedTensorType::get(indices.getShape(), data.getElementType()));
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(MLIRContext *,
                                                  OptionalLoc loc,
                                                  Adaptor adaptor,
                                                  TypeList &inferred) {
  RankedTensorType data = rankedType(adaptor.getData());
  RankedTensorType indices = rankedType(adaptor.getIndices());
  RankedTensorType updates = rankedType(adaptor.getUpdates());
  if (!data || !indices || !updates)
    return unrankedOperands(loc);
  if (data.getRank() != indices.getRank() ||
      indices.getRank() != updates.getRank())
    return emitOptionalError(loc,
                             "data, indices and updates must have the "
                             "same rank, got ",
                             data, ", ", indices, " and ", updates);
  for (auto [a, b] : llvm::zip_equal(indices.getShape(), updates.getShape()))
    if (!compatibleSize(a, b))
      return emitOptionalError(
          loc, "indices shape ", formatShape(indices.getShape()),
          " differs from updates shape ", formatShape(updates.getShape()));
  if (failed(checkAxis(loc, adaptor.getAxisAttr().getInt(), data.getRank())))
    return failure();
  inferred.push_back(data);
  return success();
}

LogicalResult RangeOp::verify() {
  int64_t length = getType().getDimSize(0);
  DenseElementsAttr start, limit, delta;
  if (!matchPattern(getStart(), m_Constant(&start)) ||
      !matchPattern(getLimit(), m_Constant(&limit)) ||
      !matchPattern(getDelta(), m_Constant(&delta)))
    return success();
  // With constant operands the length is known; check the written one.
  double first = elementAsDouble(start), last = elementAsDouble(limit),
         step = elementAsDouble(delta);
  if (step == 0.0)
    return emitOpError("delta must be non-zero");
  int64_t expected =
      std::max<int64_t>(0, static_cast<int64_t>(std::ceil((last - first) / step)));
  if (!ShapedType::isDynamic(length) && length != expected)
    return emitOpError("has ") << length << " elements but its constant "
                               << "operands give " << expected;
  return success();
}

LogicalResult CumSumOp::verify() {
  return checkAxis(getLoc(), getAxis(), getInput().getType().getRank());
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// The granularity of a (de)quantization's scale for an integer tensor of
/// rank `rank` (the rules of sinter.dequantize).
static DequantizeOp::Granularity
quantizationGranularity(RankedTensorType scale,
                                                  int64_t rank, int64_t block) {
  if (block > 0)
    return DequantizeOp::Granularity::Block;
  if (scale.getRank() == 0 ||
      (scale.getRank() == 1 && scale.getDimSize(0) == 1 && rank != 1))
    return DequantizeOp::Granularity::Tensor;
  return DequantizeOp::Granularity::Axis;
}

/// Checks the scale and zero point of a (de)quantization between the
/// integer tensor `ints` and the float tensor `floats`.
static LogicalResult verifyQuantization(Operation *op, RankedTensorType ints,
                                 RankedTensorType floats, Value scaleValue,
                                 Value zeroPoint, int64_t axis, int64_t block) {
  RankedTensorType scale = cast<RankedTensorType>(scaleValue.getType());
  int64_t rank = ints.getRank();
  if (floats.getRank() != rank ||
      !llvm::all_of(llvm::zip(ints.getShape(), floats.getShape()),
                    [](auto dims) {
                      return compatibleSize(std::get<0>(dims),
                                            std::get<1>(dims));
                    }))
    return op->emitOpError("result shape ")
           << formatShape(op->getResult(0).getType() == ints
                              ? ints.getShape()
                              : floats.getShape())
           << " differs from input shape "
           << formatShape(op->getResult(0).getType() == ints
                              ? floats.getShape()
                              : ints.getShape());
  if (zeroPoint) {
    auto zp = cast<RankedTensorType>(zeroPoint.getType());
    if (zp.getElementType() != ints.getElementType())
      return op->emitOpError("zero point element type ")
             << zp.getElementType() << " differs from the integers' "
             << ints.getElementType();
    if (zp.getShape() != scale.getShape())
      return op->emitOpError("zero point shape ")
             << formatShape(zp.getShape()) << " differs from scale shape "
             << formatShape(scale.getShape());
  }
  if (block < 0)
    return op->emitOpError("block must be >= 0, got ") << block;
  DequantizeOp::Granularity granularity =
      quantizationGranularity(scale, rank, block);
  if (granularity == DequantizeOp::Granularity::Tensor)
    return success();
  if (failed(checkAxis(op->getLoc(), axis, rank)))
    return failure();
  if (granularity == DequantizeOp::Granularity::Axis) {
    if (scale.getRank() != 1 ||
        !compatibleSize(scale.getDimSize(0), ints.getDimSize(axis)))
      return op->emitOpError("a per-axis scale must be 1-D with ")
             << ints.getDimSize(axis) << " elements (dimension " << axis
             << " of the input), got " << formatShape(scale.getShape());
    return success();
  }
  SmallVector<int64_t> expected(ints.getShape());
  if (!ShapedType::isDynamic(expected[axis]))
    expected[axis] = (expected[axis] + block - 1) / block;
  if (scale.getRank() != rank ||
      !llvm::all_of(llvm::zip(expected, scale.getShape()), [](auto dims) {
        return compatibleSize(std::get<0>(dims), std::get<1>(dims));
      }))
    return op->emitOpError("a blocked scale must have shape ")
           << formatShape(expected) << " (blocks of " << block
           << " along dimension " << axis << "), got "
           << formatShape(scale.getShape());
  return success();
}

DequantizeOp::Granularity DequantizeOp::getGranularity() {
  return quantizationGranularity(getScale().getType(),
                                 getInput().getType().getRank(),
                                 int64_t(getBlock()));
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantization(*this, getInput().getType(), getType(),
                            getScale(), getZeroPoint(), int64_t(getAxis()),
                            int64_t(getBlock()));
}

DequantizeOp::Granularity QuantizeOp::getGranularity() {
  return quantizationGranularity(getScale().getType(), getType().getRank(),
                                 int64_t(getBlock()));
}

LogicalResult QuantizeOp::verify() {
  return verifyQuantization(*this, getType(), getInput().getType(),
                            getScale(), getZeroPoint(), int64_t(getAxis()),
                            int64_t(getBlock()));
}

bool DequantizeOp::isPerColumnInt8(int64_t kAxis) {
  RankedTensorType input = getInput().getType();
  if (!input.getElementType().isSignlessInteger(8) || input.getRank() != 2 ||
      !input.hasStaticShape())
    return false;
  // Zero points that are all 0 (QDQ exporters write them) are none.
  if (Value zeroPoint = getZeroPoint()) {
    auto constant = zeroPoint.getDefiningOp<ConstantOp>();
    auto dense = constant ? dyn_cast<DenseIntElementsAttr>(constant.getValue())
                          : DenseIntElementsAttr();
    if (!dense || !llvm::all_of(dense.getValues<APInt>(),
                                [](const APInt &v) { return v.isZero(); }))
      return false;
  }
  switch (getGranularity()) {
  case Granularity::Tensor:
    return true;
  case Granularity::Axis:
    return int64_t(getAxis()) != kAxis;
  case Granularity::Block:
    return int64_t(getAxis()) == kAxis &&
           int64_t(getBlock()) >= input.getDimSize(kAxis);
  }
  return false;
}

LogicalResult DynamicQuantizeOp::verify() {
  RankedTensorType input = getInput().getType(), result = getResult().getType(),
                   scale = getScale().getType();
  if (input.getRank() < 1)
    return emitOpError("input must have at least one dimension (the rows' "
                       "elements), got ")
           << input;
  if (failed(verifyCompatibleShape(input, result)))
    return emitOpError("result shape ")
           << result << " differs from the input's " << input;
  SmallVector<int64_t> rows(input.getShape());
  rows.back() = 1;
  if (failed(verifyCompatibleShape(scale.getShape(), rows)))
    return emitOpError("scale must have the input's shape with a last "
                       "dimension of 1, got ")
           << scale;
  return success();
}

//===----------------------------------------------------------------------===//
// Composite ops
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                            Adaptor adaptor,
                                            TypeList &inferred) {
  RankedTensorType q = rankedType(adaptor.getQuery());
  RankedTensorType k = rankedType(adaptor.getKey());
  RankedTensorType v = rankedType(adaptor.getValue());
  if (!q || !k || !v)
    return unrankedOperands(loc);
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOptionalError(loc,
                             "query, key and value must be 4-D "
                             "(batch x heads x sequence x head_dim), got ",
                             q, ", ", k, " and ", v);
  auto dims = [](RankedTensorType t) { return t.getShape(); };
  ArrayRef<int64_t> qs = dims(q), ks = dims(k), vs = dims(v);
  if (!compatibleSize(qs[0], ks[0]) || !compatibleSize(ks[0], vs[0]))
    return emitOptionalError(loc,
                             "batch sizes of query, key and value "
                             "differ: ",
                             qs[0], ", ", ks[0], ", ", vs[0]);
  if (!compatibleSize(ks[1], vs[1]))
    return emitOptionalError(loc, "key has ", ks[1], " heads but value has ",
                             vs[1]);
  int64_t kvHeads = refineSize(ks[1], vs[1]);
  if (!ShapedType::isDynamic(qs[1]) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads == 0 || qs[1] % kvHeads != 0))
    return emitOptionalError(loc, "query heads (", qs[1],
                             ") must be a multiple of key/value heads (",
                             kvHeads, ")");
  if (!compatibleSize(ks[2], vs[2]))
    return emitOptionalError(loc, "key sequence length ", ks[2],
                             " differs from value sequence length ", vs[2]);
  if (!compatibleSize(qs[3], ks[3]))
    return emitOptionalError(loc, "query head size ", qs[3],
                             " differs from key head size ", ks[3]);
  int64_t batch = refineSize(refineSize(qs[0], ks[0]), vs[0]);
  if (Value mask = adaptor.getMask()) {
    ArrayRef<int64_t> maskShape = rankedType(mask).getShape();
    SmallVector<int64_t> scores = {batch, qs[1], qs[2],
                                   refineSize(ks[2], vs[2])};
    if (!broadcastsTo(maskShape, scores))
      return emitOptionalError(loc, "mask shape ", formatShape(maskShape),
                               " does not broadcast to the scores shape ",
                               formatShape(scores));
  }
  float scale = adaptor.getScaleAttr().getValueAsDouble();
  if (!std::isfinite(scale) || scale == 0.0f)
    return emitOptionalError(loc, "scale must be finite and non-zero, got ",
                             scale);
  inferred.push_back(
      RankedTensorType::get({batch, qs[1], qs[2], vs[3]}, q.getElementType()));
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                            Adaptor adaptor,
                                            TypeList &inferred) {
  return inferNormResult(loc, adaptor.getInput(), adaptor.getScale(),
                         adaptor.getBias(), adaptor.getAxisAttr().getInt(),
                         adaptor.getEpsilonAttr().getValueAsDouble(), inferred);
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                          Adaptor adaptor, TypeList &inferred) {
  return inferNormResult(loc, adaptor.getInput(), adaptor.getScale(),
                         /*bias=*/Value(), adaptor.getAxisAttr().getInt(),
                         adaptor.getEpsilonAttr().getValueAsDouble(), inferred);
}

LogicalResult AddNormOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                          Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType residual = rankedType(adaptor.getResidual());
  if (!input || !residual)
    return unrankedOperands(loc);
  if (input.getRank() != residual.getRank() ||
      failed(verifyCompatibleShape(input, residual)))
    return emitOptionalError(loc, "input ", input, " and residual ", residual,
                             " must have the same shape");
  if (adaptor.getKind() == NormKind::Rms && adaptor.getBias())
    return emitOptionalError(loc, "rms normalization takes no bias");
  if (failed(inferNormResult(loc, adaptor.getInput(), adaptor.getScale(),
                             adaptor.getBias(), adaptor.getAxisAttr().getInt(),
                             adaptor.getEpsilonAttr().getValueAsDouble(),
                             inferred)))
    return failure();
  inferred.push_back(inferred.back());
  return success();
}

LogicalResult RotaryEmbeddingOp::inferReturnTypes(MLIRContext *,
                                                  OptionalLoc loc,
                                                  Adaptor adaptor,
                                                  TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType cos = rankedType(adaptor.getCos());
  RankedTensorType sin = rankedType(adaptor.getSin());
  if (!input || !cos || !sin)
    return unrankedOperands(loc);
  if (input.getRank() != 4)
    return emitOptionalError(loc,
                             "input must be 4-D (batch x heads x "
                             "sequence x head_dim), got ",
                             input);
  if (cos != sin)
    return emitOptionalError(loc, "cos and sin types differ: ", cos, " vs ",
                             sin);
  if (cos.getRank() < 2 || cos.getRank() > 4)
    return emitOptionalError(loc,
                             "cos and sin must be [..., sequence, "
                             "rotary_dim / 2] of rank 2 to 4, got ",
                             cos);
  ArrayRef<int64_t> in = input.getShape(), angles = cos.getShape();
  int64_t half = angles.back(), headDim = in[3];
  if (!ShapedType::isDynamic(half) && !ShapedType::isDynamic(headDim) &&
      (half < 1 || 2 * half > headDim))
    return emitOptionalError(loc, "rotary dimension 2 x ", half,
                             " must be in [2, head_dim = ", headDim, "]");
  SmallVector<int64_t> target = {in[0], in[1], in[2], half};
  if (!broadcastsTo(angles, target))
    return emitOptionalError(loc, "cos/sin shape ", formatShape(angles),
                             " does not broadcast to ", formatShape(target));
  inferred.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// Calibration probes
//===----------------------------------------------------------------------===//

static LogicalResult verifyProbeId(Operation *op, int64_t id) {
  if (id < 0)
    return op->emitOpError("id must be non-negative, got ") << id;
  return success();
}

LogicalResult ProbeTensorOp::verify() {
  int64_t rank = getInput().getType().getRank();
  int64_t axis = getChannelAxis();
  if (rank == 0 ? axis != 0 : axis < 0 || axis >= rank)
    return emitOpError("channel_axis ")
           << axis << " is not a dimension of a rank " << rank << " tensor";
  return verifyProbeId(*this, getId());
}

LogicalResult ProbeAttentionOp::verify() {
  auto q = getQuery().getType(), k = getKey().getType(),
       o = getOutput().getType();
  if (q.getRank() != 4 || k.getRank() != 4 || o.getRank() != 4)
    return emitOpError("query, key and output must be 4-D, got ")
           << q << ", " << k << " and " << o;
  ArrayRef<int64_t> qs = q.getShape(), ks = k.getShape(), os = o.getShape();
  for (int d : {0, 1, 2})
    if (!compatibleSize(qs[d], os[d]))
      return emitOpError("output ") << o << " is not the result of query " << q;
  if (!compatibleSize(qs[0], ks[0]) || !compatibleSize(qs[3], ks[3]))
    return emitOpError("key ") << k << " does not match query " << q;
  if (!ShapedType::isDynamic(qs[1]) && !ShapedType::isDynamic(ks[1]) &&
      (ks[1] == 0 || qs[1] % ks[1] != 0))
    return emitOpError("query heads (")
           << qs[1] << ") must be a multiple of key heads (" << ks[1] << ")";
  if (Value mask = getMask()) {
    SmallVector<int64_t> scores = {qs[0], qs[1], qs[2], ks[2]};
    ArrayRef<int64_t> maskShape = cast<RankedTensorType>(mask.getType()).getShape();
    if (!broadcastsTo(maskShape, scores))
      return emitOpError("mask shape ")
             << formatShape(maskShape) << " does not broadcast to "
             << formatShape(scores);
  }
  return verifyProbeId(*this, getId());
}

LogicalResult ProbeRoutingOp::verify() {
  if (getExperts() < 1)
    return emitOpError("experts must be positive, got ") << getExperts();
  return verifyProbeId(*this, getId());
}
