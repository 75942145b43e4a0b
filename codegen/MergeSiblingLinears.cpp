//===- MergeSiblingLinears.cpp - One product for linears sharing an input -===//
//
// Attention's Q, K and V projections, and a gated MLP's gate and up, read
// the same activations through separate weights. Laid side by side, the
// weights make one product: the GEMM packs the activations once instead of
// once per layer, and the wider output gives the threads more columns to
// share. A split hands each consumer its columns back.
//
//===----------------------------------------------------------------------===//

#include "codegen/BufferPlacement.h"
#include "codegen/Passes.h"
#include "ir/SinterOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/MapVector.h"
#include <numeric>

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_MERGESIBLINGLINEARS
#include "codegen/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// A linear that can join a merged product: its weight (and bias, if any)
/// a constant that nothing else reads, so that merging copies no weight.
struct Sibling {
  LinearOp op;
  ElementsAttr weight, bias;
};

/// What linears must agree on to share one weight matrix: the input, the
/// weight layout (transposed or not), the element type, the depth K, and
/// the block (the merged product goes before the first of them).
using GroupKey = std::tuple<Value, unsigned, Type, int64_t, Block *>;

/// The constant `value` holds when only `user` reads it.
ElementsAttr soleConstant(Value value, Operation *user) {
  ElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)) ||
      !value.hasOneUse() || *value.getUsers().begin() != user)
    return nullptr;
  return attr;
}

std::optional<Sibling> asSibling(LinearOp op) {
  RankedTensorType weight = op.getWeight().getType();
  Type element = weight.getElementType();
  if (!weight.hasStaticShape() || element.getIntOrFloatBitWidth() % 8 != 0)
    return std::nullopt;
  Sibling sibling{op, soleConstant(op.getWeight(), op), nullptr};
  if (!sibling.weight)
    return std::nullopt;
  if (Value bias = op.getBias()) {
    sibling.bias = soleConstant(bias, op);
    if (!sibling.bias || !op.getBias().getType().hasStaticShape())
      return std::nullopt;
  }
  return sibling;
}

/// The merged weight: N x K weights stacked (their rows follow one
/// another), K x N ones side by side (each row of the result is the
/// siblings' rows in turn).
FailureOr<std::vector<char>> mergedWeight(ArrayRef<Sibling> siblings,
                                          bool transposed, int64_t k,
                                          int64_t bytesPerElement) {
  std::vector<std::vector<char>> parts;
  int64_t total = 0;
  for (const Sibling &s : siblings) {
    FailureOr<std::vector<char>> bytes = elementBytes(
        s.weight, s.weight.getNumElements() * bytesPerElement);
    if (failed(bytes))
      return failure();
    total += bytes->size();
    parts.push_back(std::move(*bytes));
  }
  std::vector<char> merged;
  merged.reserve(total);
  if (transposed) {
    for (const std::vector<char> &part : parts)
      llvm::append_range(merged, part);
    return merged;
  }
  for (int64_t row = 0; row < k; ++row)
    for (const std::vector<char> &part : parts) {
      const int64_t rowBytes = int64_t(part.size()) / k;
      merged.insert(merged.end(), part.begin() + row * rowBytes,
                    part.begin() + (row + 1) * rowBytes);
    }
  return merged;
}

/// The merged bias: each sibling's, or zeros for one without.
FailureOr<std::vector<char>> mergedBias(ArrayRef<Sibling> siblings,
                                        ArrayRef<int64_t> widths,
                                        int64_t bytesPerElement) {
  std::vector<char> merged;
  for (auto [s, n] : llvm::zip_equal(siblings, widths)) {
    if (!s.bias) {
      merged.insert(merged.end(), n * bytesPerElement, 0);
      continue;
    }
    FailureOr<std::vector<char>> bytes =
        elementBytes(s.bias, n * bytesPerElement);
    if (failed(bytes))
      return failure();
    llvm::append_range(merged, *bytes);
  }
  return merged;
}

Value resourceConstant(OpBuilder &b, Location loc, RankedTensorType type,
                       StringRef name, ArrayRef<char> bytes) {
  auto attr = DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64));
  return ConstantOp::create(b, loc, cast<ElementsAttr>(attr));
}

/// Replaces the siblings (in block order, all reading the same input) by one
/// linear and a split of its last axis.
LogicalResult merge(MutableArrayRef<Sibling> siblings) {
  LinearOp first = siblings.front().op;
  const bool transposed = first.getTransposeWeight();
  RankedTensorType weightType = first.getWeight().getType();
  Type element = weightType.getElementType();
  const int64_t k = weightType.getDimSize(transposed ? 1 : 0);
  const int64_t bytesPerElement = element.getIntOrFloatBitWidth() / 8;
  SmallVector<int64_t> widths;
  SmallVector<Location> locs;
  bool anyBias = false;
  for (Sibling &s : siblings) {
    widths.push_back(s.op.getWeight().getType().getDimSize(transposed ? 0 : 1));
    locs.push_back(s.op.getLoc());
    anyBias |= bool(s.bias);
  }
  const int64_t n = std::accumulate(widths.begin(), widths.end(), int64_t(0));
  FailureOr<std::vector<char>> weight =
      mergedWeight(siblings, transposed, k, bytesPerElement);
  if (failed(weight))
    return failure();
  FailureOr<std::vector<char>> bias = std::vector<char>();
  if (anyBias && failed(bias = mergedBias(siblings, widths, bytesPerElement)))
    return failure();

  OpBuilder b(first);
  Location loc = FusedLoc::get(first.getContext(), locs);
  Value mergedWeightValue = resourceConstant(
      b, loc,
      RankedTensorType::get(transposed ? SmallVector<int64_t>{n, k}
                                       : SmallVector<int64_t>{k, n},
                            element),
      "sinter_merged_weight", *weight);
  Value mergedBiasValue;
  if (anyBias)
    mergedBiasValue = resourceConstant(b, loc, RankedTensorType::get({n}, element),
                                       "sinter_merged_bias", *bias);
  auto product = LinearOp::create(b, loc, first.getInput(), mergedWeightValue,
                                  mergedBiasValue, transposed);
  RankedTensorType productType = product.getType();
  const int64_t axis = productType.getRank() - 1;
  SmallVector<Type> pieceTypes;
  for (Sibling &s : siblings)
    pieceTypes.push_back(s.op.getType());
  auto split = SplitOp::create(b, loc, pieceTypes, product.getResult(),
                               b.getI64IntegerAttr(axis),
                               b.getDenseI64ArrayAttr(widths));
  for (auto [s, piece] : llvm::zip_equal(siblings, split.getResults())) {
    Operation *weightOp = s.op.getWeight().getDefiningOp();
    Operation *biasOp = s.bias ? s.op.getBias().getDefiningOp() : nullptr;
    s.op.getResult().replaceAllUsesWith(piece);
    s.op.erase();
    weightOp->erase();
    if (biasOp)
      biasOp->erase();
  }
  return success();
}

struct MergeSiblingLinearsPass
    : sinter::impl::MergeSiblingLinearsBase<MergeSiblingLinearsPass> {
  void runOnOperation() override {
    // Program order within each block: a group's first linear is where the
    // merged one goes, before every use of the siblings.
    llvm::MapVector<GroupKey, SmallVector<Sibling>> groups;
    getOperation()->walk([&](LinearOp op) {
      std::optional<Sibling> sibling = asSibling(op);
      if (!sibling)
        return;
      RankedTensorType weight = op.getWeight().getType();
      const bool transposed = op.getTransposeWeight();
      groups[{op.getInput(), transposed, weight.getElementType(),
              weight.getDimSize(transposed ? 1 : 0), op->getBlock()}]
          .push_back(*sibling);
    });
    // A group whose constants cannot be read (a resource not loaded) stays
    // as it is: merging is only faster, never needed.
    for (auto &[key, siblings] : groups)
      if (siblings.size() >= 2)
        (void)merge(siblings);
  }
};

} // namespace
