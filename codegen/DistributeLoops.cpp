//===- DistributeLoops.cpp - Which loops run on threads -------------------===//
//
// One level of parallelism, on the loops big enough to pay for it, with the
// innermost dimension left sequential for the vectorizer. The loops that
// stay scf.parallel become OpenMP worksharing loops in the next pass.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_DISTRIBUTELOOPS
#include "codegen/Passes.h.inc"

namespace {

/// Loops whose trip count is not a constant are assumed this long.
constexpr uint64_t kUnknownTripCount = 1024;

uint64_t tripCount(Value lower, Value upper, Value step) {
  std::optional<int64_t> lb = getConstantIntValue(lower),
                         ub = getConstantIntValue(upper),
                         st = getConstantIntValue(step);
  if (!lb || !ub || !st || *st <= 0)
    return kUnknownTripCount;
  return std::max<int64_t>(0, (*ub - *lb + *st - 1) / *st);
}

/// Ops executed by one iteration of `block`, nested loops multiplied out
/// (saturating: only comparisons against a threshold are made).
uint64_t blockWork(Block &block) {
  uint64_t work = 0;
  for (Operation &op : block) {
    uint64_t opWork = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      opWork = llvm::SaturatingMultiply(
          tripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()),
          blockWork(*loop.getBody()));
    } else {
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          opWork = llvm::SaturatingAdd(opWork, blockWork(inner));
    }
    work = llvm::SaturatingAdd(work, opWork);
  }
  return work;
}

uint64_t parallelWork(scf::ParallelOp loop) {
  uint64_t iterations = 1;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
    iterations = llvm::SaturatingMultiply(iterations, tripCount(lb, ub, step));
  return llvm::SaturatingMultiply(iterations, blockWork(*loop.getBody()));
}

bool containsLoop(scf::ParallelOp loop) {
  return loop.getBody()
      ->walk([](LoopLikeOpInterface) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// scf.parallel (i0..in) -> scf.parallel (i0..in-1) { scf.for in }.
void makeInnermostSequential(RewriterBase &rewriter, scf::ParallelOp loop) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> lbs = loop.getLowerBound(), ubs = loop.getUpperBound(),
                     steps = loop.getStep(), ivs = loop.getInductionVars();
  scf::ParallelOp::create(
      rewriter, loc, ArrayRef(lbs).drop_back(), ArrayRef(ubs).drop_back(),
      ArrayRef(steps).drop_back(),
      [&](OpBuilder &b, Location l, ValueRange outerIvs) {
        scf::ForOp::create(
            b, l, lbs.back(), ubs.back(), steps.back(), ValueRange(),
            [&](OpBuilder &inner, Location il, Value iv, ValueRange) {
              IRMapping mapping;
              for (auto [from, to] :
                   llvm::zip(ArrayRef(ivs).drop_back(), outerIvs))
                mapping.map(from, to);
              mapping.map(ivs.back(), iv);
              for (Operation &op : loop.getBody()->without_terminator())
                inner.clone(op, mapping);
              scf::YieldOp::create(inner, il);
            });
      });
  rewriter.eraseOp(loop);
}

struct DistributeLoopsPass : impl::DistributeLoopsBase<DistributeLoopsPass> {
  using DistributeLoopsBase::DistributeLoopsBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Innermost first, so that each conversion sees no parallel loop in
    // its body.
    SmallVector<scf::ParallelOp> nested, outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      (loop->getParentOfType<scf::ParallelOp>() ? nested : outermost)
          .push_back(loop);
    });
    for (scf::ParallelOp loop : nested) {
      if (loop.getNumResults() != 0)
        continue;
      rewriter.setInsertionPoint(loop);
      if (failed(scf::parallelForToNestedFors(rewriter, loop)))
        return signalPassFailure();
    }
    for (scf::ParallelOp loop : outermost) {
      if (loop.getNumResults() != 0)
        continue;
      if (parallelWork(loop) < (uint64_t)std::max<int64_t>(0, minWork)) {
        rewriter.setInsertionPoint(loop);
        if (failed(scf::parallelForToNestedFors(rewriter, loop)))
          return signalPassFailure();
      } else if (loop.getNumLoops() > 1 && !containsLoop(loop)) {
        makeInnermostSequential(rewriter, loop);
      }
    }
  }
};

} // namespace
} // namespace sinter
