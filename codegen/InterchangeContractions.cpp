//===- InterchangeContractions.cpp - Vectorizable loop order --------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_INTERCHANGECONTRACTIONS
#include "codegen/Passes.h.inc"

namespace {

/// Whether `expr` moves by one element per step of loop `n`: d_n itself, or
/// d_n plus terms of other loops (a stride-1 convolution or pool reading
/// its window, d_n + d_k).
bool unitStrideAlong(AffineExpr expr, unsigned n) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dim.getPosition() == n;
  auto sum = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!sum || sum.getKind() != AffineExprKind::Add)
    return false;
  return (unitStrideAlong(sum.getLHS(), n) &&
          !sum.getRHS().isFunctionOfDim(n)) ||
         (unitStrideAlong(sum.getRHS(), n) && !sum.getLHS().isFunctionOfDim(n));
}

/// The loop order that puts the output's contiguous dimension innermost,
/// or nothing when the op is not such a contraction or is already so.
std::optional<SmallVector<unsigned>> vectorizableOrder(linalg::GenericOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1)
    return std::nullopt;
  AffineMap output = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (output.getNumResults() == 0)
    return std::nullopt;
  auto last = dyn_cast<AffineDimExpr>(output.getResults().back());
  if (!last)
    return std::nullopt;
  unsigned n = last.getPosition();
  unsigned loops = op.getNumLoops();
  if (n == loops - 1)
    return std::nullopt;
  // Worth it only when an input reads along n contiguously too (B[k, n],
  // or a depthwise convolution's x[c, h + i, w + j]); a reduction along an
  // input's last dimension (a row sum) is not.
  bool contiguousInput =
      llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *input) {
        AffineMap map = op.getMatchingIndexingMap(input);
        return map.getNumResults() > 0 &&
               unitStrideAlong(map.getResults().back(), n);
      });
  if (!contiguousInput)
    return std::nullopt;
  SmallVector<unsigned> order;
  for (unsigned d = 0; d < loops; ++d)
    if (d != n)
      order.push_back(d);
  order.push_back(n);
  return order;
}

struct InterchangeContractionsPass
    : impl::InterchangeContractionsBase<InterchangeContractionsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) { ops.push_back(op); });
    for (linalg::GenericOp op : ops) {
      std::optional<SmallVector<unsigned>> order = vectorizableOrder(op);
      if (!order)
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, *order)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace sinter
