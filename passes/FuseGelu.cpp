//===- FuseGelu.cpp - GELU from its erf and tanh spellings ----------------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

#include <cmath>

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSEGELU
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

constexpr double kTanhCoefficient = 0.044715;

bool near(double actual, double expected) {
  return std::abs(actual - expected) <= 1e-4 * std::abs(expected);
}

/// `1 + f(u)` (either order) with f the given unary op; returns u.
template <typename Unary> Value onePlus(Value value) {
  auto add = value.getDefiningOp<AddOp>();
  if (!add || !value.hasOneUse())
    return nullptr;
  for (auto [one, other] : bothOrders(add)) {
    auto unary = dyn_cast_or_null<Unary>(other.getDefiningOp());
    if (unary && other.hasOneUse() && isSplatNear(one, 1.0, 0.0) &&
        isScalarLike(one, other))
      return unary.getInput();
  }
  return nullptr;
}

/// u == c * x exactly (as a product), with c near `coefficient`.
bool isScaled(Value u, Value x, double coefficient) {
  Product product = flattenProduct(u);
  return product.factors.size() == 1 && product.factors[0] == x &&
         near(product.coefficient, coefficient);
}

/// The tanh argument: sqrt(2/pi) * (x + 0.044715 x^3), or the factored
/// sqrt(2/pi) * x * (1 + 0.044715 x^2).
bool isTanhArgument(Value u, Value x) {
  Product outer = flattenProduct(u);
  if (!near(outer.coefficient, std::sqrt(2.0 / M_PI)))
    return false;
  // The factored form: the factors are x and (1 + c x^2).
  if (std::optional<SmallVector<Value>> rest = outer.without(x, 1);
      rest && rest->size() == 1) {
    auto add = (*rest)[0].getDefiningOp<AddOp>();
    if (!add || !(*rest)[0].hasOneUse())
      return false;
    for (auto [one, term] : bothOrders(add)) {
      Product square = flattenProduct(term);
      if (isSplatNear(one, 1.0, 0.0) && term.hasOneUse() &&
          square.without(x, 2) && square.without(x, 2)->empty() &&
          near(square.coefficient, kTanhCoefficient))
        return true;
    }
    return false;
  }
  // The expanded form: one factor, x + c x^3.
  if (outer.factors.size() != 1 || !outer.factors[0].hasOneUse())
    return false;
  auto add = outer.factors[0].getDefiningOp<AddOp>();
  if (!add)
    return false;
  for (auto [linear, cubic] : bothOrders(add)) {
    if (linear != x || !cubic.hasOneUse())
      continue;
    Product cube = flattenProduct(cubic);
    if (cube.without(x, 3) && cube.without(x, 3)->empty() &&
        near(cube.coefficient, kTanhCoefficient))
      return true;
  }
  return false;
}

/// Anchored on the outermost product: its factors are x and (1 + erf(...))
/// or (1 + tanh(...)) with coefficient 1/2.
struct GeluFromFormula : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<FloatType>(op.getType().getElementType()))
      return failure();
    Product product = flattenProduct(op.getResult());
    if (product.factors.size() != 2 || !near(product.coefficient, 0.5))
      return rewriter.notifyMatchFailure(op, "not 0.5 * a * b");
    for (int i = 0; i < 2; ++i) {
      Value x = product.factors[i], cdf = product.factors[1 - i];
      if (x.getType() != op.getType())
        continue;
      std::optional<GeluApproximation> form;
      if (Value u = onePlus<ErfOp>(cdf); u && isScaled(u, x, M_SQRT1_2))
        form = GeluApproximation::None;
      else if (Value u = onePlus<TanhOp>(cdf); u && isTanhArgument(u, x))
        form = GeluApproximation::Tanh;
      if (!form)
        continue;
      rewriter.replaceOpWithNewOp<GeluOp>(op, x, *form);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no GELU cdf factor");
  }
};

struct FuseGeluPass : sinter::impl::FuseGeluBase<FuseGeluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GeluFromFormula>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
