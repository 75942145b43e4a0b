//===- SinterDataMovementOps.cpp - Verifiers of pad and resize ------------===//
//
// Shape inference and verifiers of the ops in SinterDataMovementOps.td. As
// in SinterOps.cpp, inference doubles as the shape verifier; the verifiers
// check the attributes that inference does not read.
//
//===----------------------------------------------------------------------===//

#include "ir/SinterOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace sinter;

namespace {

using TypeList = SmallVectorImpl<Type>;
using OptionalLoc = std::optional<Location>;

bool isOneOf(StringRef value, ArrayRef<StringRef> allowed) {
  return llvm::is_contained(allowed, value);
}

} // namespace

//===----------------------------------------------------------------------===//
// pad
//===----------------------------------------------------------------------===//

LogicalResult PadOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                      Adaptor adaptor, TypeList &inferred) {
  auto input = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "input must be a ranked tensor");
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return emitOptionalError(loc, "pads has ", pads.size(),
                             " entries for rank ", rank, " (expected ",
                             2 * rank, ")");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = input.getDimSize(d);
    if (ShapedType::isDynamic(size)) {
      shape.push_back(size);
      continue;
    }
    int64_t padded;
    if (llvm::AddOverflow(size, pads[d], padded) ||
        llvm::AddOverflow(padded, pads[d + rank], padded))
      return emitOptionalError(loc, "pads of dimension ", d, " overflow");
    if (padded < 0)
      return emitOptionalError(loc, "pads ", pads[d], " and ", pads[d + rank],
                               " remove more than the ", size,
                               " elements of dimension ", d);
    shape.push_back(padded);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult PadOp::verify() {
  StringRef mode = getMode();
  if (!isOneOf(mode, {"constant", "reflect", "edge", "wrap"}))
    return emitOpError("unknown mode '") << mode << "'";
  if (getValue().getType().getRank() != 0)
    return emitOpError("value must be a 0-d tensor, not ")
           << getValue().getType();
  if (mode == "constant")
    return success();
  RankedTensorType input = getInput().getType();
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (input.getDimSize(d) == 0 &&
        (getPads()[d] > 0 || getPads()[d + input.getRank()] > 0))
      return emitOpError("mode '") << mode << "' cannot pad dimension " << d
                                   << ", which has no elements";
  return success();
}

//===----------------------------------------------------------------------===//
// resize
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *, OptionalLoc loc,
                                         Adaptor adaptor, TypeList &inferred) {
  auto input = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "input must be a ranked tensor");
  ArrayRef<int64_t> sizes = adaptor.getSizes();
  if (static_cast<int64_t>(sizes.size()) != input.getRank())
    return emitOptionalError(loc, "sizes has ", sizes.size(),
                             " entries for rank ", input.getRank());
  SmallVector<int64_t> shape;
  for (auto [d, size] : llvm::enumerate(sizes)) {
    if (!ShapedType::isDynamic(size) && size < 0)
      return emitOptionalError(loc, "size ", size, " of dimension ", d,
                               " is negative");
    shape.push_back(ShapedType::isDynamic(size) ? input.getDimSize(d) : size);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ResizeOp::verify() {
  StringRef mode = getMode(), coordinates = getCoordinateMode();
  if (!isOneOf(mode, {"nearest", "linear", "cubic"}))
    return emitOpError("unknown mode '") << mode << "'";
  if (!isOneOf(coordinates,
               {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                "tf_crop_and_resize"}))
    return emitOpError("unknown coordinate mode '") << coordinates << "'";
  if (!isOneOf(getNearestMode(),
               {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}))
    return emitOpError("unknown nearest mode '") << getNearestMode() << "'";
  RankedTensorType input = getInput().getType();
  int64_t rank = input.getRank();
  if (mode != "nearest" && !isa<FloatType>(input.getElementType()))
    return emitOpError("mode '")
           << mode << "' needs a float tensor, not " << input;
  ArrayRef<double> scales = getScales();
  if (static_cast<int64_t>(scales.size()) != rank)
    return emitOpError("scales has ")
           << scales.size() << " entries for rank " << rank;
  bool crop = coordinates == "tf_crop_and_resize";
  if (crop ? static_cast<int64_t>(getRoi().size()) != 2 * rank
           : !getRoi().empty())
    return emitOpError("roi has ")
           << getRoi().size() << " entries; expected " << (crop ? 2 * rank : 0)
           << " for coordinate mode '" << coordinates << "'";
  for (int64_t d = 0; d < rank; ++d) {
    if (!(scales[d] > 0) || !std::isfinite(scales[d]))
      return emitOpError("scale ") << scales[d] << " of dimension " << d
                                   << " is not positive and finite";
    bool kept = ShapedType::isDynamic(getSizes()[d]);
    if (kept &&
        (scales[d] != 1 || crop || coordinates == "tf_half_pixel_for_nn"))
      return emitOpError("dimension ")
             << d << " has a dynamic size, so it must be kept as it is "
             << "(scale 1, no crop, a coordinate mode that maps it to itself)";
    if (!kept && input.isDynamicDim(d))
      return emitOpError("dimension ")
             << d << " is resampled, so its input size must be static";
  }
  return success();
}
