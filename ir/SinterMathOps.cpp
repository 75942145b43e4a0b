//===- SinterMathOps.cpp - Math and index-reduction ops -------------------===//
//
// Type inference of the arg reductions and the folder of reduce_prod (the
// ops of SinterMathOps.td; the elementwise ones need no C++ of their own).
//
//===----------------------------------------------------------------------===//

#include "ir/SinterOps.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace sinter;

namespace {

/// The i64 result type of an arg reduction of `input` along `axis`.
LogicalResult inferArgReduction(std::optional<Location> loc, Value input,
                                int64_t axis, bool keepdims,
                                SmallVectorImpl<Type> &inferred) {
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (!type)
    return emitOptionalError(loc, "input must be a ranked tensor");
  if (axis < 0 || axis >= type.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             type.getRank());
  SmallVector<int64_t> shape;
  for (auto [i, size] : llvm::enumerate(type.getShape())) {
    if (static_cast<int64_t>(i) != axis)
      shape.push_back(size);
    else if (keepdims)
      shape.push_back(1);
  }
  inferred.push_back(
      RankedTensorType::get(shape, IntegerType::get(type.getContext(), 64)));
  return success();
}

} // namespace

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  return inferArgReduction(loc, adaptor.getInput(), adaptor.getAxis(),
                           adaptor.getKeepdims(), inferred);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  return inferArgReduction(loc, adaptor.getInput(), adaptor.getAxis(),
                           adaptor.getKeepdims(), inferred);
}

OpFoldResult ReduceProdOp::fold(FoldAdaptor) {
  // Reducing over no axes is the identity.
  if (getAxes().empty() && getInput().getType() == getType())
    return getInput();
  return {};
}
