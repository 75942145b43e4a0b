//===- InsertProbes.cpp - Instrument a model for calibration --------------===//
//
// The instrumented build that `sinterc --calibrate` runs: probes on what
// the compression passes need measured (the activations that enter the
// contractions, where attention heads look, which experts routers pick).
// Probes only read their operands, so the instrumented model's outputs are
// the model's outputs.
//
//===----------------------------------------------------------------------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_INSERTPROBES
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// True for values computed from constants alone through the ops that
/// stand between a weight and its use (dequantize, cast, layout changes):
/// the weights, which calibration does not measure.
bool isWeight(Value value) {
  Operation *op = value.getDefiningOp();
  if (!op)
    return false;
  if (op->hasTrait<OpTrait::ConstantLike>())
    return true;
  if (!isa<DequantizeOp, CastOp, TransposeOp, ReshapeOp, ExpandOp>(op))
    return false;
  return llvm::all_of(op->getOperands(), isWeight);
}

/// Gives each probe a unique name: the producing op's first location name
/// (an ONNX node name: for a fused op, the node of its main result), else
/// what it is and where ("linear#3", "input 0"); "#2", "#3"... when taken.
class ProbeNamer {
public:
  std::string nameOf(Value value) {
    if (Operation *op = value.getDefiningOp())
      return nameOf(op);
    return unique("input " +
                  std::to_string(cast<BlockArgument>(value).getArgNumber()));
  }

  std::string nameOf(Operation *op) {
    std::string name = layerName(op);
    if (name.empty())
      name = (op->getName().stripDialect() + "#" + Twine(ordinal(op))).str();
    return unique(std::move(name));
  }

private:
  int64_t ordinal(Operation *op) {
    auto [it, inserted] = ordinals.try_emplace(op, 0);
    if (inserted)
      it->second = counts[op->getName().getStringRef()]++;
    return it->second;
  }

  std::string unique(std::string name) {
    std::string candidate = name;
    for (int n = 2; !used.insert(candidate).second; ++n)
      candidate = name + "#" + std::to_string(n);
    return candidate;
  }

  llvm::StringSet<> used;
  llvm::StringMap<int64_t> counts;
  llvm::DenseMap<Operation *, int64_t> ordinals;
};

struct InsertProbesPass : sinter::impl::InsertProbesBase<InsertProbesPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    ProbeNamer namer;
    int64_t nextId = 0;
    llvm::DenseSet<std::pair<Value, int64_t>> probed;

    // Right after the value is defined, so that the probe does not keep it
    // alive longer than its readers do.
    auto probeTensor = [&](Value value, int64_t axis) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (!type || !type.getElementType().isF32() || isWeight(value) ||
          !probed.insert({value, axis}).second)
        return;
      if (Operation *def = value.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(value.getParentBlock());
      ProbeTensorOp::create(b, value.getLoc(), value, nextId++, axis,
                            namer.nameOf(value));
    };

    getOperation()->walk([&](Operation *op) {
      if (auto linear = dyn_cast<LinearOp>(op)) {
        probeTensor(linear.getInput(),
                    linear.getInput().getType().getRank() - 1);
      } else if (auto matmul = dyn_cast<MatmulOp>(op)) {
        // Channels are the contracted dimension: the last of the left side,
        // the second to last of the right (a 1-D side is its own K).
        int64_t lhsRank = matmul.getLhs().getType().getRank();
        int64_t rhsRank = matmul.getRhs().getType().getRank();
        probeTensor(matmul.getLhs(), lhsRank - 1);
        probeTensor(matmul.getRhs(), rhsRank >= 2 ? rhsRank - 2 : 0);
      } else if (auto conv = dyn_cast<ConvOp>(op)) {
        probeTensor(conv.getInput(), 1);
      } else if (auto attention = dyn_cast<AttentionOp>(op)) {
        if (!attention.getType().getElementType().isF32())
          return;
        b.setInsertionPointAfter(op);
        ProbeAttentionOp::create(
            b, op->getLoc(), attention.getQuery(), attention.getKey(),
            attention.getResult(), attention.getMask(),
            attention.getScaleAttr(), attention.getCausalAttr(),
            b.getI64IntegerAttr(nextId++), b.getStringAttr(namer.nameOf(op)));
      } else if (auto topk = dyn_cast<TopKOp>(op)) {
        Operation *source = topk.getInput().getDefiningOp();
        int64_t experts =
            topk.getInput().getType().getDimSize(int64_t(topk.getAxis()));
        if (!isa_and_present<SoftmaxOp, LinearOp>(source) ||
            ShapedType::isDynamic(experts) || topk.getSmallest())
          return;
        b.setInsertionPointAfter(op);
        ProbeRoutingOp::create(b, op->getLoc(), topk.getIndices(), experts,
                               nextId++, namer.nameOf(op));
      }
    });
  }
};

} // namespace
