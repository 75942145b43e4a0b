//===- NormMatching.cpp - What the two norm fusions share -----------------===//

#include "passes/NormMatching.h"

using namespace mlir;

namespace sinter {

std::optional<int64_t> trailingReductionAxis(ReduceMeanOp mean) {
  int64_t rank = mean.getInput().getType().getRank();
  if (!mean.getKeepdims() || rank == 0)
    return std::nullopt;
  SmallVector<int64_t> axes;
  for (int64_t axis : mean.getAxes())
    axes.push_back(axis < 0 ? axis + rank : axis);
  llvm::sort(axes);
  if (axes.empty() || axes.back() != rank - 1)
    return std::nullopt;
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[i - 1] + 1)
      return std::nullopt;
  // The normalized sizes must be static for the op's scale shape.
  for (int64_t axis : axes)
    if (mean.getInput().getType().isDynamicDim(axis))
      return std::nullopt;
  return axes.front();
}

namespace {

/// v + eps (either order) or v alone.
RootOfSum splitEpsilon(Value sum) {
  if (auto add = sum.getDefiningOp<AddOp>(); add && sum.hasOneUse()) {
    for (auto [v, eps] : bothOrders(add))
      if (std::optional<double> value = getSplatValue(eps);
          value && *value >= 0.0 && isScalarLike(eps, v) &&
          add.getType() == v.getType())
        return {v, *value};
  }
  return {sum, 0.0};
}

std::optional<RootOfSum> sqrtOf(Value value) {
  auto sqrt = value.getDefiningOp<SqrtOp>();
  if (!sqrt || !value.hasOneUse())
    return std::nullopt;
  return splitEpsilon(sqrt.getInput());
}

} // namespace

std::optional<RootOfSum> matchRoot(Value value, bool inverse) {
  if (!inverse)
    return sqrtOf(value);
  if (!value.hasOneUse())
    return std::nullopt;
  if (auto rsqrt = value.getDefiningOp<RsqrtOp>())
    return splitEpsilon(rsqrt.getInput());
  if (auto reciprocal = value.getDefiningOp<ReciprocalOp>())
    return sqrtOf(reciprocal.getInput());
  if (auto div = value.getDefiningOp<DivOp>();
      div && isSplatNear(div.getLhs(), 1.0, 0.0) &&
      isScalarLike(div.getLhs(), div.getRhs()))
    return sqrtOf(div.getRhs());
  return std::nullopt;
}

std::optional<RootOfSum> matchNormalization(Operation *op, Value numerator) {
  if (auto div = dyn_cast<DivOp>(op); div && div.getLhs() == numerator)
    return matchRoot(div.getRhs(), /*inverse=*/false);
  if (auto mul = dyn_cast<MulOp>(op))
    if (Value other = otherOperand(mul, numerator))
      return matchRoot(other, /*inverse=*/true);
  return std::nullopt;
}

namespace {

/// `operand` has the normalized shape (leading 1s allowed) and combining it
/// with `x` gives x's type.
bool isParameterFor(Value operand, Value x, Operation *op,
                    ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(operand.getType());
  std::optional<SmallVector<int64_t>> kept =
      dropLeadingOnes(type.getShape(), shape.size());
  return kept && ArrayRef<int64_t>(*kept) == shape &&
         op->getResult(0).getType() == x.getType();
}

} // namespace

Affine absorbAffine(Value normalized, ArrayRef<int64_t> shape, bool withBias) {
  Affine affine;
  Value current = normalized;
  if (auto mul = dyn_cast_or_null<MulOp>(singleUser(current))) {
    Value gamma = otherOperand(mul, current);
    if (gamma && gamma != current &&
        isParameterFor(gamma, current, mul, shape)) {
      affine.gamma = gamma;
      affine.last = mul;
      current = mul.getResult();
    }
  }
  if (!withBias)
    return affine;
  if (auto add = dyn_cast_or_null<AddOp>(singleUser(current))) {
    Value beta = otherOperand(add, current);
    if (beta && beta != current && isParameterFor(beta, current, add, shape)) {
      affine.beta = beta;
      affine.last = add;
    }
  }
  return affine;
}

Value normParameter(PatternRewriter &rewriter, Location loc, Value value,
                    ArrayRef<int64_t> shape, Type elementType,
                    bool onesWhenAbsent) {
  if (value)
    return reshapeTo(rewriter, loc, value, shape);
  if (!onesWhenAbsent)
    return nullptr;
  return splatConstant(rewriter, loc, RankedTensorType::get(shape, elementType),
                       1.0);
}

} // namespace sinter
