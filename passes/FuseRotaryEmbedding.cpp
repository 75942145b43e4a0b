//===- FuseRotaryEmbedding.cpp - RoPE in its rotate-half and interleaved forms
////

#include "passes/Matchers.h"
#include "passes/Passes.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSEROTARYEMBEDDING
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// The last axis of a concat, as a non-negative index.
std::optional<int64_t> lastAxisOf(ConcatOp concat) {
  int64_t rank = concat.getType().getRank(), axis = concat.getAxis();
  if (axis < 0)
    axis += rank;
  if (axis != rank - 1)
    return std::nullopt;
  return axis;
}

/// Whether each angle of the table `value` appears twice along its last
/// axis: at i and i + D/2 (rotate-half), or at 2i and 2i + 1 (interleaved).
/// Checked on constants, and followed through the ops that keep the
/// property (elementwise functions of the table, gathers of rows, slices
/// and reshapes that leave the last axis alone).
bool repeatsAngles(Value value, bool interleaved, int depth = 0) {
  if (depth > 8)
    return false;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0 || type.isDynamicDim(type.getRank() - 1))
    return false;
  int64_t width = type.getShape().back(), half = width / 2;
  if (width % 2 != 0)
    return false;
  if (std::optional<SmallVector<double>> elements = constantElements(value)) {
    for (size_t row = 0; row < elements->size(); row += width)
      for (int64_t i = 0; i < half; ++i) {
        double a = (*elements)[row + (interleaved ? 2 * i : i)];
        double b = (*elements)[row + (interleaved ? 2 * i + 1 : i + half)];
        if (a != b)
          return false;
      }
    return true;
  }
  Operation *op = value.getDefiningOp();
  if (!op)
    return false;
  auto recurse = [&](Value input) {
    return repeatsAngles(input, interleaved, depth + 1);
  };
  if (auto concat = dyn_cast<ConcatOp>(op))
    return !interleaved && lastAxisOf(concat) &&
           concat.getInputs().size() == 2 &&
           concat.getInputs()[0] == concat.getInputs()[1];
  if (isa<CosOp, SinOp, NegOp, CastOp>(op))
    return recurse(op->getOperand(0));
  if (isa<MulOp, AddOp, SubOp, DivOp>(op))
    return llvm::all_of(op->getOperands(), [&](Value operand) {
      return isScalarLike(operand, value) || recurse(operand);
    });
  if (auto gather = dyn_cast<GatherOp>(op)) {
    int64_t axis = gather.getAxis();
    int64_t rank = cast<RankedTensorType>(gather.getData().getType()).getRank();
    return (axis < 0 ? axis + rank : axis) != rank - 1 &&
           recurse(gather.getData());
  }
  auto keepsLastAxis = [&](Value input) {
    auto inputType = cast<RankedTensorType>(input.getType());
    return inputType.getRank() > 0 && inputType.getShape().back() == width;
  };
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    // repeat_interleave spelled as unsqueeze(-1), expand to 2, flatten.
    if (interleaved)
      if (auto expand = reshape.getInput().getDefiningOp<ExpandOp>()) {
        ArrayRef<int64_t> from = expand.getInput().getType().getShape(),
                          to = expand.getType().getShape();
        if (to.size() >= 2 && to.back() == 2 && from.back() == 1 &&
            to[to.size() - 2] == half)
          return true;
      }
    return keepsLastAxis(reshape.getInput()) && recurse(reshape.getInput());
  }
  if (auto expand = dyn_cast<ExpandOp>(op))
    return keepsLastAxis(expand.getInput()) && recurse(expand.getInput());
  if (auto transpose = dyn_cast<TransposeOp>(op))
    return transpose.getPerm().back() ==
               static_cast<int64_t>(transpose.getPerm().size()) - 1 &&
           recurse(transpose.getInput());
  if (auto slice = dyn_cast<SliceOp>(op))
    return keepsLastAxis(slice.getInput()) && slice.getSteps().back() == 1 &&
           recurse(slice.getInput());
  return false;
}

/// Whether `rotated` is rotate_half(x): concat(-x[..., h:], x[..., :h]).
bool isRotateHalf(Value rotated, Value x) {
  auto concat = rotated.getDefiningOp<ConcatOp>();
  if (!concat || !lastAxisOf(concat) || concat.getInputs().size() != 2)
    return false;
  int64_t width = cast<RankedTensorType>(x.getType()).getShape().back();
  int64_t half = width / 2;
  Value high = negated(concat.getInputs()[0]);
  std::optional<LastAxisRange> upper =
      high ? matchLastAxisRange(high) : std::nullopt;
  std::optional<LastAxisRange> lower =
      matchLastAxisRange(concat.getInputs()[1]);
  return upper && lower && upper->source == x && lower->source == x &&
         upper->step == 1 && lower->step == 1 && upper->begin == half &&
         upper->end == width && lower->begin == 0 && lower->end == half;
}

/// x[..., start::2] seen through a trailing unit dimension, possibly
/// negated before or after it.
std::optional<LastAxisRange> strided(Value value, bool &negative) {
  negative = false;
  Value inner = value;
  if (Value n = negated(inner)) {
    negative = true;
    inner = n;
  }
  inner = stripReshapes(inner);
  if (Value n = negated(inner)) {
    negative = !negative;
    inner = n;
  }
  std::optional<LastAxisRange> range = matchLastAxisRange(inner);
  if (!range || range->step != 2)
    return std::nullopt;
  return range;
}

/// Whether `rotated` is the interleaved rotation of x: pairs (2i, 2i + 1)
/// become (-x[2i + 1], x[2i]), stacked on a new last axis and flattened.
bool isRotateInterleaved(Value rotated, Value x) {
  auto reshape = rotated.getDefiningOp<ReshapeOp>();
  if (!reshape)
    return false;
  auto concat = reshape.getInput().getDefiningOp<ConcatOp>();
  if (!concat || !lastAxisOf(concat) || concat.getInputs().size() != 2 ||
      concat.getType().getShape().back() != 2)
    return false;
  bool firstNegative, secondNegative;
  std::optional<LastAxisRange> odd =
      strided(concat.getInputs()[0], firstNegative);
  std::optional<LastAxisRange> even =
      strided(concat.getInputs()[1], secondNegative);
  int64_t width = cast<RankedTensorType>(x.getType()).getShape().back();
  return odd && even && firstNegative && !secondNegative && odd->source == x &&
         even->source == x && odd->begin == 1 && even->begin == 0 &&
         odd->end >= width - 1 && even->end >= width - 1;
}

/// The first half of each pair of a repeated table: t[..., :D/2] or
/// t[..., ::2], as a table of rank 2 to 4 for the op.
Value halfTable(PatternRewriter &rewriter, Location loc, Value table,
                bool interleaved) {
  auto type = cast<RankedTensorType>(table.getType());
  if (type.getRank() < 2) {
    SmallVector<int64_t> shape(2 - type.getRank(), 1);
    llvm::append_range(shape, type.getShape());
    table = reshapeTo(rewriter, loc, table, shape);
    type = cast<RankedTensorType>(table.getType());
  }
  int64_t rank = type.getRank(), width = type.getShape().back();
  SmallVector<int64_t> starts(rank, 0), steps(rank, 1),
      ends(rank, std::numeric_limits<int64_t>::max());
  if (interleaved)
    steps.back() = 2;
  else
    ends.back() = width / 2;
  return SliceOp::create(rewriter, loc, table, starts, ends, steps);
}

/// x * cos + rotate(x) * sin, with the products on either side.
struct RotaryFromProducts : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    if (type.getRank() != 4 || !isa<FloatType>(type.getElementType()) ||
        type.isDynamicDim(3) || type.getDimSize(3) % 2 != 0)
      return rewriter.notifyMatchFailure(op, "not a 4-D float with even D");
    for (auto [direct, rotated] : bothOrders(op)) {
      auto cosMul = direct.getDefiningOp<MulOp>();
      auto sinMul = rotated.getDefiningOp<MulOp>();
      if (!cosMul || !sinMul || !direct.hasOneUse() || !rotated.hasOneUse())
        continue;
      for (auto [x, cos] : bothOrders(cosMul)) {
        if (x.getType() != type)
          continue;
        for (auto [rotation, sin] : bothOrders(sinMul)) {
          if (!rotation.hasOneUse() || rotation.getType() != type ||
              cos.getType() != sin.getType())
            continue;
          auto tableType = cast<RankedTensorType>(cos.getType());
          if (tableType.getRank() > 4 || tableType.getRank() == 0 ||
              tableType.getShape().back() != type.getDimSize(3))
            continue;
          bool interleaved;
          if (isRotateHalf(rotation, x))
            interleaved = false;
          else if (isRotateInterleaved(rotation, x))
            interleaved = true;
          else
            continue;
          if (!repeatsAngles(cos, interleaved) ||
              !repeatsAngles(sin, interleaved))
            continue;
          Location loc = op.getLoc();
          Value cosHalf = halfTable(rewriter, loc, cos, interleaved);
          Value sinHalf = halfTable(rewriter, loc, sin, interleaved);
          auto rope = RotaryEmbeddingOp::create(rewriter, loc, x, cosHalf,
                                                sinHalf, interleaved);
          rewriter.replaceOp(op, rope.getResult());
          return success();
        }
      }
    }
    return rewriter.notifyMatchFailure(op, "not x * cos + rotate(x) * sin");
  }
};

/// concat(rope(x[..., :R]), x[..., R:]) is a rotation of the first R
/// features of x: one op on the whole of x.
struct PartialRotary : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    if (!lastAxisOf(op) || op.getInputs().size() != 2)
      return failure();
    auto rope = op.getInputs()[0].getDefiningOp<RotaryEmbeddingOp>();
    if (!rope || !op.getInputs()[0].hasOneUse())
      return rewriter.notifyMatchFailure(op, "not concat(rope, rest)");
    std::optional<LastAxisRange> rotated = matchLastAxisRange(rope.getInput());
    std::optional<LastAxisRange> rest = matchLastAxisRange(op.getInputs()[1]);
    int64_t rotaryWidth =
        2 * cast<RankedTensorType>(rope.getCos().getType()).getShape().back();
    if (!rotated || !rest || rotated->source != rest->source ||
        rotated->step != 1 || rest->step != 1 || rotated->begin != 0 ||
        rotated->end != rest->begin || rotated->end != rotaryWidth ||
        rest->source.getType() != op.getType() ||
        rest->end != op.getType().getShape().back())
      return rewriter.notifyMatchFailure(op, "not a split of one tensor");
    rewriter.replaceOpWithNewOp<RotaryEmbeddingOp>(op, rotated->source,
                                                   rope.getCos(), rope.getSin(),
                                                   rope.getInterleaved());
    return success();
  }
};

struct FuseRotaryEmbeddingPass
    : sinter::impl::FuseRotaryEmbeddingBase<FuseRotaryEmbeddingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RotaryFromProducts, PartialRotary>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
