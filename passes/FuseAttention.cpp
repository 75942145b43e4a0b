//===- FuseAttention.cpp - Scaled dot-product attention -------------------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_FUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// Mask values at or below this hide a key: exp of it underflows to 0 next
/// to any score a model produces (-1e4 of old BERT exports included).
constexpr double kHidden = -1e4;

/// Which positions a boolean condition selects, when it is a causal
/// pattern: true at (i, j) exactly when j - i > offset (`future`) or
/// j - i <= offset (`past`).
struct Triangle {
  bool future;
  int64_t offset;
};

/// The elements of a constant shaped [1, ..., 1, rows, columns], which is
/// how exported masks over (query, key) are stored.
struct ConstantMatrix {
  int64_t rows, columns;
  SmallVector<double> elements;

  /// Whether `holds(i, j, element)` is true of every element.
  bool all(llvm::function_ref<bool(int64_t, int64_t, double)> holds) const {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < columns; ++j)
        if (!holds(i, j, elements[i * columns + j]))
          return false;
    return true;
  }
};

std::optional<ConstantMatrix> constantMatrix(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.hasStaticShape() || type.getRank() < 2 ||
      !dropLeadingOnes(type.getShape(), 2))
    return std::nullopt;
  std::optional<SmallVector<double>> elements = constantElements(value);
  if (!elements)
    return std::nullopt;
  return ConstantMatrix{type.getDimSize(type.getRank() - 2),
                        type.getShape().back(), std::move(*elements)};
}

bool isTrueSplat(Value value) {
  if (std::optional<double> splat = getSplatValue(value))
    return *splat != 0.0;
  if (auto splat = value.getDefiningOp<tensor::SplatOp>())
    return isSplatNear(splat.getInput(), 1.0, 0.0) ||
           matchPattern(splat.getInput(), m_One());
  return false;
}

/// A condition built as trilu of an all-true tensor, or a constant whose
/// elements form a triangle over its last two axes (leading axes of 1).
std::optional<Triangle> matchTriangle(Value condition) {
  if (auto negation = condition.getDefiningOp<NotOp>()) {
    std::optional<Triangle> inner = matchTriangle(negation.getInput());
    if (!inner)
      return std::nullopt;
    return Triangle{!inner->future, inner->offset};
  }
  auto type = cast<RankedTensorType>(condition.getType());
  if (type.getRank() < 2)
    return std::nullopt;
  if (auto trilu = condition.getDefiningOp<TriluOp>()) {
    if (!isTrueSplat(trilu.getInput()))
      return std::nullopt;
    int64_t k = trilu.getK();
    // upper keeps j - i >= k, i.e. j - i > k - 1; lower keeps j - i <= k.
    if (trilu.getUpper())
      return Triangle{true, k - 1};
    return Triangle{false, k};
  }
  std::optional<ConstantMatrix> matrix = constantMatrix(condition);
  if (!matrix)
    return std::nullopt;
  int64_t offset = matrix->columns - matrix->rows;
  for (bool future : {true, false})
    if (matrix->all([&](int64_t i, int64_t j, double element) {
          bool after = j - i > offset;
          return (element != 0.0) == (future ? after : !after);
        }))
      return Triangle{future, offset};
  return std::nullopt;
}

/// An additive constant mask that is 0 on and before the diagonal (aligned
/// to the end) and hides everything after it.
bool isCausalAdditiveMask(Value mask) {
  std::optional<ConstantMatrix> matrix = constantMatrix(mask);
  if (!matrix)
    return false;
  int64_t offset = matrix->columns - matrix->rows;
  return matrix->all([&](int64_t i, int64_t j, double element) {
    return j - i > offset ? element <= kHidden : element == 0.0;
  });
}

/// Whether a causal mask of shape [..., Sq', Sk'] applies to scores whose
/// last two sizes are Sq and Sk with the op's alignment (query i sees keys
/// up to i + Sk - Sq). The offset a triangle uses is the op's exactly when
/// both sizes are those of the scores.
bool alignsWithScores(Value mask, RankedTensorType scores, int64_t offset) {
  auto type = cast<RankedTensorType>(mask.getType());
  int64_t rank = type.getRank();
  int64_t sq = scores.getDimSize(2), sk = scores.getDimSize(3);
  int64_t mq = type.getDimSize(rank - 2), mk = type.getDimSize(rank - 1);
  if (!ShapedType::isDynamic(sq) && !ShapedType::isDynamic(sk))
    return mq == sq && mk == sk && offset == sk - sq;
  // Dynamic sizes: a square mask built from one size (trilu of a splat of
  // [n, n]) on square scores.
  if (offset != 0)
    return false;
  if (auto trilu = mask.getDefiningOp<TriluOp>()) {
    auto splat = trilu.getInput().getDefiningOp<tensor::SplatOp>();
    if (splat && splat.getDynamicSizes().size() == 2 &&
        splat.getDynamicSizes()[0] == splat.getDynamicSizes()[1])
      return true;
  }
  return false;
}

/// What the scores are masked with: an additive tensor, a condition that
/// selects between the scores and a fill value, or the causal pattern.
struct Mask {
  Value additive;
  Value condition;
  double fill = 0.0;
  bool scoresWhenTrue = true;
  bool causal = false;

  /// The additive mask for the op (built from the condition if there is
  /// one), or null.
  Value build(PatternRewriter &rewriter, Location loc, Type elementType) const {
    if (!condition)
      return additive;
    auto scalarType = RankedTensorType::get({}, elementType);
    Value zero = splatConstant(rewriter, loc, scalarType, 0.0);
    Value hidden = splatConstant(rewriter, loc, scalarType, fill);
    return WhereOp::create(rewriter, loc, condition,
                           scoresWhenTrue ? zero : hidden,
                           scoresWhenTrue ? hidden : zero);
  }
};

/// What the softmax input adds to the scaled scores; `scores` is set to
/// the value under the mask. Creates nothing.
std::optional<Mask> peelMask(Value &scores, RankedTensorType scoresType) {
  Mask mask;
  Operation *op = scores.getDefiningOp();
  if (auto add = dyn_cast_or_null<AddOp>(op)) {
    // The scores side is the one computed from a product.
    for (auto [inner, additive] : bothOrders(add)) {
      if (inner.getType() != scoresType || !inner.hasOneUse() ||
          !isa_and_nonnull<MatmulOp, MulOp, DivOp>(inner.getDefiningOp()))
        continue;
      scores = inner;
      if (isCausalAdditiveMask(additive) &&
          alignsWithScores(additive, scoresType,
                           scoresType.getDimSize(3) - scoresType.getDimSize(2)))
        mask.causal = true;
      else
        mask.additive = additive;
      return mask;
    }
    return std::nullopt;
  }
  if (auto where = dyn_cast_or_null<WhereOp>(op)) {
    for (bool scoresWhenTrue : {true, false}) {
      Value inner =
          scoresWhenTrue ? where.getTrueValue() : where.getFalseValue();
      Value fill =
          scoresWhenTrue ? where.getFalseValue() : where.getTrueValue();
      std::optional<double> fillValue = getSplatValue(fill);
      if (inner.getType() != scoresType || !inner.hasOneUse() || !fillValue ||
          !isScalarLike(fill, inner))
        continue;
      scores = inner;
      Value condition = where.getCondition();
      // Keys hidden where the condition says "future" (fill when true) or
      // kept where it says "past" (scores when true).
      if (*fillValue <= kHidden)
        if (std::optional<Triangle> triangle = matchTriangle(condition))
          if (triangle->future != scoresWhenTrue &&
              alignsWithScores(condition, scoresType, triangle->offset)) {
            mask.causal = true;
            return mask;
          }
      mask.condition = condition;
      mask.fill = *fillValue;
      mask.scoresWhenTrue = scoresWhenTrue;
      return mask;
    }
    return std::nullopt;
  }
  return mask;
}

/// Multiplies `scale` by the constant that `value` is multiplied or divided
/// by, and returns the value without it.
Value peelScale(Value value, double &scale) {
  Operation *op = value.getDefiningOp();
  if (!op || !value.hasOneUse())
    return value;
  if (auto mul = dyn_cast<MulOp>(op))
    for (auto [inner, constant] : bothOrders(mul))
      if (std::optional<double> factor = getSplatValue(constant);
          factor && isScalarLike(constant, inner) &&
          inner.getType() == mul.getType()) {
        scale *= *factor;
        return inner;
      }
  if (auto div = dyn_cast<DivOp>(op))
    if (std::optional<double> divisor = getSplatValue(div.getRhs());
        divisor && *divisor != 0.0 &&
        isScalarLike(div.getRhs(), div.getLhs()) &&
        div.getLhs().getType() == div.getType()) {
      scale /= *divisor;
      return div.getLhs();
    }
  return value;
}

/// K or V before a grouped-query repetition (B x Hkv x S x D repeated to
/// B x Hkv*n x S x D with each head's copies adjacent), or `value` itself.
Value beforeRepetition(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  // reshape(expand(reshape(kv, [B, Hkv, 1, S, D]), [B, Hkv, n, S, D]))
  if (auto merge = value.getDefiningOp<ReshapeOp>()) {
    auto expand = merge.getInput().getDefiningOp<ExpandOp>();
    if (expand) {
      ArrayRef<int64_t> wide = expand.getType().getShape();
      Value source = stripReshapes(expand.getInput());
      auto sourceType = cast<RankedTensorType>(source.getType());
      ArrayRef<int64_t> narrow = expand.getInput().getType().getShape();
      if (wide.size() == 5 && narrow.size() == 5 && narrow[2] == 1 &&
          sourceType.getRank() == 4 &&
          sourceType.getShape() ==
              ArrayRef<int64_t>{narrow[0], narrow[1], narrow[3], narrow[4]} &&
          type.getDimSize(2) == wide[3] && type.getDimSize(3) == wide[4] &&
          wide[1] == narrow[1] && !ShapedType::isDynamic(wide[1]) &&
          !ShapedType::isDynamic(wide[2]) &&
          type.getDimSize(1) == wide[1] * wide[2])
        return source;
    }
  }
  return value;
}

/// Where K comes from, given K^T (B x H x D x Sk): the producer of a
/// transpose, to be permuted by `perm` (none when it is the identity).
struct KeySource {
  Value base;
  SmallVector<int64_t> perm;
};

KeySource keySource(Value kt) {
  if (auto transpose = kt.getDefiningOp<TransposeOp>()) {
    SmallVector<int64_t> perm(transpose.getPerm());
    std::swap(perm[2], perm[3]);
    if (perm == ArrayRef<int64_t>{0, 1, 2, 3})
      perm.clear();
    return {transpose.getInput(), perm};
  }
  return {kt, {0, 1, 3, 2}};
}

int64_t dim(Value value, int64_t i) {
  return cast<RankedTensorType>(value.getType()).getDimSize(i);
}

/// Anchored on P x V with P a softmax over the last axis.
struct AttentionFromSoftmax : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType resultType = op.getType();
    if (resultType.getRank() != 4 ||
        !isa<FloatType>(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "not a 4-D float product");
    auto softmax = op.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax || !op.getLhs().hasOneUse() ||
        (static_cast<int64_t>(softmax.getAxis()) != 3 &&
         static_cast<int64_t>(softmax.getAxis()) != -1))
      return rewriter.notifyMatchFailure(op, "not softmax(...) x V");
    RankedTensorType scoresType = softmax.getType();

    // Walk back from the softmax: mask, scale, then Q K^T.
    Value scores = softmax.getInput();
    if (!scores.hasOneUse())
      return rewriter.notifyMatchFailure(op, "scores have other uses");
    std::optional<Mask> mask = peelMask(scores, scoresType);
    if (!mask)
      return rewriter.notifyMatchFailure(op, "unrecognized mask");
    double scale = 1.0;
    Value product = peelScale(scores, scale);
    auto qk = product.getDefiningOp<MatmulOp>();
    if (!qk || !product.hasOneUse() || qk.getType() != scoresType)
      return rewriter.notifyMatchFailure(op, "scores are not Q x K^T");
    Value query = peelScale(qk.getLhs(), scale);
    Value keyT = peelScale(qk.getRhs(), scale);
    Value value = op.getRhs();
    if (cast<RankedTensorType>(query.getType()).getRank() != 4 ||
        cast<RankedTensorType>(keyT.getType()).getRank() != 4 ||
        cast<RankedTensorType>(value.getType()).getRank() != 4 ||
        !std::isfinite(scale) || scale == 0.0 ||
        !std::isfinite(static_cast<float>(scale)))
      return rewriter.notifyMatchFailure(op, "not 4-D or no usable scale");

    // Grouped-query K and V: read them before their repetition, on both
    // sides or neither (a one-sided peel would pair the wrong heads).
    KeySource key = keySource(keyT);
    Value unrepeatedKey =
        key.perm.empty() ? beforeRepetition(key.base) : key.base;
    Value unrepeatedValue = beforeRepetition(value);
    if (unrepeatedKey != key.base && unrepeatedValue != value &&
        dim(unrepeatedKey, 1) == dim(unrepeatedValue, 1)) {
      key.base = unrepeatedKey;
      value = unrepeatedValue;
    }
    // The op does not broadcast batch or sequence sizes, and its heads are
    // grouped, not broadcast: check what numpy's matmul let through.
    int64_t batch = dim(query, 0), heads = dim(query, 1);
    int64_t keyHeads =
        key.perm.empty() ? dim(key.base, 1) : dim(key.base, key.perm[1]);
    int64_t keyBatch =
        key.perm.empty() ? dim(key.base, 0) : dim(key.base, key.perm[0]);
    if (batch != keyBatch || batch != dim(value, 0) ||
        keyHeads != dim(value, 1) || ShapedType::isDynamic(heads) ||
        ShapedType::isDynamic(keyHeads) || keyHeads == 0 ||
        heads % keyHeads != 0)
      return rewriter.notifyMatchFailure(op, "batch or head counts differ");

    Location loc = rewriter.getFusedLoc({qk.getLoc(), op.getLoc()});
    Value keyValue = key.base;
    if (!key.perm.empty())
      keyValue = TransposeOp::create(rewriter, loc, key.base, key.perm);
    Value additive = mask->build(rewriter, loc, resultType.getElementType());
    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, query, keyValue, value, additive,
        rewriter.getF32FloatAttr(static_cast<float>(scale)),
        mask->causal ? rewriter.getUnitAttr() : nullptr);
    return success();
  }
};

struct FuseAttentionPass : sinter::impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionFromSoftmax>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
