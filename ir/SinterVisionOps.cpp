//===- SinterVisionOps.cpp - Type inference of pooling and conv_transpose -===//
//
// The shape rules of the ops in SinterVisionOps.td. As in SinterOps.cpp,
// result type inference is also the verifier.
//
//===----------------------------------------------------------------------===//

#include "ir/SinterOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace sinter;

namespace {

using TypeList = SmallVectorImpl<Type>;
using OptionalLoc = std::optional<Location>;

RankedTensorType rankedType(Value value) {
  return value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
}

bool allAtLeast(ArrayRef<int64_t> values, int64_t least) {
  return llvm::all_of(values, [&](int64_t v) { return v >= least; });
}

/// Checks a window's attributes for `spatial` dimensions.
LogicalResult checkWindow(OptionalLoc loc, size_t spatial,
                          ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations) {
  if (kernel.size() != spatial || strides.size() != spatial ||
      dilations.size() != spatial || pads.size() != 2 * spatial)
    return emitOptionalError(loc, "expects ", spatial, " kernel sizes, ",
                             spatial, " strides, ", spatial, " dilations and ",
                             2 * spatial, " pads for ", spatial,
                             "-D input windows");
  if (!allAtLeast(kernel, 1) || !allAtLeast(strides, 1) ||
      !allAtLeast(dilations, 1) || !allAtLeast(pads, 0))
    return emitOptionalError(loc, "kernel sizes, strides and dilations must "
                                  "be >= 1 and pads >= 0");
  // Keeps the size arithmetic far from overflow.
  constexpr int64_t kLimit = int64_t(1) << 24;
  for (ArrayRef<int64_t> values : {kernel, strides, pads, dilations})
    if (llvm::any_of(values, [](int64_t v) { return v > kLimit; }))
      return emitOptionalError(loc, "window attributes must be at most ",
                               kLimit);
  return success();
}

/// The output size of one pooled dimension (ONNX and PyTorch rounding), or
/// std::nullopt when the window does not fit.
std::optional<int64_t> poolOutputSize(int64_t input, int64_t kernel,
                                      int64_t stride, int64_t padBegin,
                                      int64_t padEnd, int64_t dilation,
                                      bool ceilMode) {
  int64_t span = input + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0)
    return std::nullopt;
  int64_t out = (ceilMode ? llvm::divideCeil(span, stride) : span / stride) + 1;
  // A window that would start in the end padding is dropped.
  if (ceilMode && (out - 1) * stride >= input + padBegin)
    --out;
  return out;
}

/// The N x C x spatial result shape of a pooling window, or failure.
FailureOr<SmallVector<int64_t>>
poolShape(OptionalLoc loc, RankedTensorType input, ArrayRef<int64_t> kernel,
          ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
          ArrayRef<int64_t> dilations, bool ceilMode) {
  if (input.getRank() < 3)
    return emitOptionalError(loc, "input must be N x C x spatial..., got ",
                             input);
  size_t spatial = input.getRank() - 2;
  if (failed(checkWindow(loc, spatial, kernel, strides, pads, dilations)))
    return failure();
  SmallVector<int64_t> shape(input.getShape().take_front(2));
  for (size_t i = 0; i < spatial; ++i) {
    int64_t size = input.getDimSize(2 + i);
    if (ShapedType::isDynamic(size)) {
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    std::optional<int64_t> out =
        poolOutputSize(size, kernel[i], strides[i], pads[i], pads[spatial + i],
                       dilations[i], ceilMode);
    if (!out)
      return emitOptionalError(loc, "kernel size ", kernel[i],
                               " does not fit spatial dimension ", i,
                               " of size ", size, " with its padding");
    shape.push_back(*out);
  }
  return shape;
}

} // namespace

LogicalResult PoolOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                       Adaptor adaptor, TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "expects ranked tensor operands");
  PoolKind kind = adaptor.getKind();
  if (kind != PoolKind::Max && !isa<FloatType>(input.getElementType()))
    return emitOptionalError(loc, stringifyPoolKind(kind),
                             " pooling needs a float input, got ", input);
  if (kind == PoolKind::Lp && adaptor.getP() < 1)
    return emitOptionalError(loc, "p must be >= 1, got ", adaptor.getP());
  FailureOr<SmallVector<int64_t>> shape = poolShape(
      loc, input, adaptor.getKernelShape(), adaptor.getStrides(),
      adaptor.getPads(), adaptor.getDilations(), adaptor.getCeilMode());
  if (failed(shape))
    return failure();
  inferred.push_back(RankedTensorType::get(*shape, input.getElementType()));
  return success();
}

SmallVector<int64_t> PoolOp::ceilPadding() {
  RankedTensorType input = getInput().getType(), result = getType();
  int64_t spatial = input.getRank() - 2;
  SmallVector<int64_t> extra(spatial, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t size = input.getDimSize(2 + i), out = result.getDimSize(2 + i);
    if (!getCeilMode() || ShapedType::isDynamic(size) ||
        ShapedType::isDynamic(out))
      continue;
    int64_t needed = (out - 1) * getStrides()[i] +
                     getDilations()[i] * (getKernelShape()[i] - 1) + 1;
    extra[i] = std::max<int64_t>(
        0, needed - (size + getPads()[i] + getPads()[spatial + i]));
  }
  return extra;
}

LogicalResult MaxPoolIndicesOp::inferReturnTypes(MLIRContext *context,
                                                 OptionalLoc loc,
                                                 Adaptor adaptor,
                                                 TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (!input)
    return emitOptionalError(loc, "expects ranked tensor operands");
  FailureOr<SmallVector<int64_t>> shape = poolShape(
      loc, input, adaptor.getKernelShape(), adaptor.getStrides(),
      adaptor.getPads(), adaptor.getDilations(), adaptor.getCeilMode());
  if (failed(shape))
    return failure();
  inferred.push_back(
      RankedTensorType::get(*shape, IntegerType::get(context, 64)));
  return success();
}

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                                Adaptor adaptor,
                                                TypeList &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  if (!input || !weight)
    return emitOptionalError(loc, "expects ranked tensor operands");
  int64_t rank = input.getRank();
  if (rank < 3)
    return emitOptionalError(loc, "input must be N x C x spatial..., got ",
                             input);
  if (weight.getRank() != rank)
    return emitOptionalError(loc, "weight rank ", weight.getRank(),
                             " differs from input rank ", rank);
  size_t spatial = rank - 2;
  ArrayRef<int64_t> strides = adaptor.getStrides(), pads = adaptor.getPads(),
                    dilations = adaptor.getDilations(),
                    outputPadding = adaptor.getOutputPadding();
  SmallVector<int64_t> kernel(weight.getShape().drop_front(2));
  for (int64_t &k : kernel)
    if (ShapedType::isDynamic(k))
      k = 1; // checked below, once static
  if (failed(checkWindow(loc, spatial, kernel, strides, pads, dilations)))
    return failure();
  if (outputPadding.size() != spatial || !allAtLeast(outputPadding, 0))
    return emitOptionalError(loc, "expects ", spatial,
                             " output paddings, each >= 0");
  int64_t group = adaptor.getGroupAttr().getInt();
  if (group < 1)
    return emitOptionalError(loc, "group must be >= 1, got ", group);
  int64_t channels = input.getDimSize(1), weightChannels = weight.getDimSize(0);
  if (!ShapedType::isDynamic(channels) &&
      !ShapedType::isDynamic(weightChannels) && channels != weightChannels)
    return emitOptionalError(loc, "input has ", channels,
                             " channels but the weight has ", weightChannels);
  if (!ShapedType::isDynamic(weightChannels) && weightChannels % group != 0)
    return emitOptionalError(loc, "input channels ", weightChannels,
                             " are not divisible by group ", group);
  int64_t outChannels = ShapedType::isDynamic(weight.getDimSize(1))
                            ? ShapedType::kDynamic
                            : weight.getDimSize(1) * group;
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> shape = rankedType(bias).getShape();
    if (shape.size() != 1 ||
        (!ShapedType::isDynamic(shape[0]) &&
         !ShapedType::isDynamic(outChannels) && shape[0] != outChannels))
      return emitOptionalError(loc, "bias must have ", outChannels,
                               " elements, got ", bias.getType());
  }
  SmallVector<int64_t> shape = {input.getDimSize(0), outChannels};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t size = input.getDimSize(2 + i), k = weight.getDimSize(2 + i);
    if (ShapedType::isDynamic(size) || ShapedType::isDynamic(k)) {
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    int64_t out = strides[i] * (size - 1) + outputPadding[i] +
                  dilations[i] * (k - 1) + 1 - pads[i] - pads[spatial + i];
    if (out < 1)
      return emitOptionalError(loc, "pads ", pads[i], " and ",
                               pads[spatial + i],
                               " leave no output in spatial dimension ", i);
    shape.push_back(out);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}
