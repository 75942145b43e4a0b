//===- Composites.cpp - Norms, attention, rotary embeddings ---------------===//
//
// Composite ops decomposed into the building blocks: layer/RMS norms,
// add_norm, attention (two contractions around a softmax) and rotary
// embeddings. The runtime's kernels take the f32 norms and attention first
// (codegen/Kernels/).
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::linalg_lowering;

namespace {

/// layer_norm and rms_norm, decomposed: statistics over the trailing
/// dimensions, then one elementwise pass with the scale (and bias).
template <typename OpTy> struct LowerNorm : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isLayerNorm = std::is_same_v<OpTy, LayerNormOp>;
    Location loc = op.getLoc();
    Value x = op.getInput();
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    SmallVector<int64_t> axes =
        llvm::to_vector(llvm::seq<int64_t>(op.getAxis(), type.getRank()));
    auto sub = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      return arith::SubFOp::create(b, l, a[0], a[1]);
    };
    auto square = [](OpBuilder &b, Location l, ValueRange a) -> Value {
      return arith::MulFOp::create(b, l, a[0], a[0]);
    };
    Value centered = x;
    if constexpr (isLayerNorm)
      centered = elementwise(rewriter, loc, type,
                             {x, mean(rewriter, loc, x, axes, true)}, sub);
    Value variance =
        mean(rewriter, loc, elementwise(rewriter, loc, type, centered, square),
             axes, true);
    double epsilon = op.getEpsilon().convertToDouble();
    SmallVector<Value> operands = {centered, variance, op.getScale()};
    if constexpr (isLayerNorm)
      if (Value bias = op.getBias())
        operands.push_back(bias);
    Value result = elementwise(
        rewriter, loc, type, operands,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value shifted = arith::AddFOp::create(
              b, l, a[1], scalar(b, l, elementType, epsilon));
          Value normalized = arith::MulFOp::create(
              b, l, a[0], math::RsqrtOp::create(b, l, shifted));
          Value scaled = arith::MulFOp::create(b, l, normalized, a[2]);
          return a.size() > 3 ? Value(arith::AddFOp::create(b, l, scaled, a[3]))
                              : scaled;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The dynamic sizes of attention's result B x Hq x Sq x Dv: the first

/// attention, unfused: scores = Q K^T (grouped-query heads read key/value
/// head h / group through the indexing maps, no copies), scaled, masked,
/// softmax over the keys, then P V. With the pass's flash-attention option,
/// LowerAttentionToKernel takes the attention the runtime kernel handles.
struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    RankedTensorType qType = op.getQuery().getType(),
                     kType = op.getKey().getType(), result = op.getType();
    int64_t heads = qType.getDimSize(1), kvHeads = kType.getDimSize(1);
    if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads))
      return rewriter.notifyMatchFailure(op, "dynamic head counts");
    int64_t group = heads / kvHeads;
    Type elementType = result.getElementType();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    AffineExpr kvHead = d(1).floorDiv(group);

    // scores[b, h, i, j] = sum_e q[b, h, i, e] * k[b, h / group, j, e]
    int64_t batch = result.getDimSize(0), sq = qType.getDimSize(2),
            sk = kType.getDimSize(2);
    auto scoresType =
        RankedTensorType::get({batch, heads, sq, sk}, elementType);
    SmallVector<Value> scoreSizes;
    if (Value size = dynamicDim(rewriter, loc, q, 0))
      scoreSizes.push_back(size);
    if (Value size = dynamicDim(rewriter, loc, q, 2))
      scoreSizes.push_back(size);
    if (Value size = dynamicDim(rewriter, loc, k, 2))
      scoreSizes.push_back(size);
    Value scores = contraction(
        rewriter, loc, q, k, zeroFilled(rewriter, loc, scoresType, scoreSizes),
        {AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, context),
         AffineMap::get(5, 0, {d(0), kvHead, d(3), d(4)}, context),
         AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, context)},
        5, 1);

    // Scale, add the mask, hide the future under causal masking (query i
    // sees keys up to i + (Sk - Sq), aligned to the end as in decoding).
    double scale = op.getScale().convertToDouble();
    bool causal = op.getCausal();
    Value offset;
    if (causal)
      offset = arith::SubIOp::create(
          rewriter, loc, tensor::DimOp::create(rewriter, loc, k, 2),
          tensor::DimOp::create(rewriter, loc, q, 2));
    SmallVector<Value> operands = {scores};
    if (Value mask = op.getMask())
      operands.push_back(mask);
    Value masked = elementwise(
        rewriter, loc, scoresType, operands,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = arith::MulFOp::create(b, l, args[0],
                                          scalar(b, l, elementType, scale));
          if (args.size() > 1)
            x = arith::AddFOp::create(b, l, x, args[1]);
          if (!causal)
            return x;
          Value i = linalg::IndexOp::create(b, l, 2);
          Value j = linalg::IndexOp::create(b, l, 3);
          Value last = arith::AddIOp::create(b, l, i, offset);
          Value future =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, j, last);
          Value ninf = arith::ConstantOp::create(
              b, l,
              b.getFloatAttr(
                  elementType,
                  APFloat::getInf(
                      cast<FloatType>(elementType).getFloatSemantics(),
                      /*Negative=*/true)));
          return arith::SelectOp::create(b, l, future, ninf, x);
        },
        scoreSizes);
    Value probabilities = softmax(rewriter, loc, masked, 3, false);

    // out[b, h, i, e] = sum_j p[b, h, i, j] * v[b, h / group, j, e]
    Value out =
        contraction(rewriter, loc, probabilities, v,
                    zeroFilled(rewriter, loc, result,
                               attentionResultSizes(rewriter, loc, op)),
                    {AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, context),
                     AffineMap::get(5, 0, {d(0), kvHead, d(4), d(3)}, context),
                     AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, context)},
                    5, 1);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// A view type of any sizes and strides of `rank` dimensions: what the

/// add_norm, decomposed: the add, then the norm (which LowerNorm lowers).
struct LowerAddNorm : OpRewritePattern<AddNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value sum = AddOp::create(rewriter, loc, op.getInput(), op.getResidual());
    Value normalized =
        op.getKind() == NormKind::Rms
            ? Value(RmsNormOp::create(rewriter, loc, sum, op.getScale(),
                                      op.getAxis(), op.getEpsilon()))
            : Value(LayerNormOp::create(rewriter, loc, sum, op.getScale(),
                                        op.getBias(), op.getAxis(),
                                        op.getEpsilon()));
    rewriter.replaceOp(op, {sum, normalized});
    return success();
  }
};

/// rotary_embedding: each output feature reads its own and its pair's
/// input feature and the angle of the pair (rotate-half pairs d with
/// d + R/2, interleaved pairs 2p with 2p + 1); features past R pass through.
struct LowerRotaryEmbedding : OpRewritePattern<RotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RotaryEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput(), cos = op.getCos(), sin = op.getSin();
    RankedTensorType type = op.getType(), angles = op.getCos().getType();
    bool interleaved = op.getInterleaved();
    Value half =
        tensor::DimOp::create(rewriter, loc, cos, angles.getRank() - 1);
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, type, x,
            [&](OpBuilder &b, Location l, ValueRange args) -> Value {
              SmallVector<Value> index;
              for (int64_t d = 0; d < 4; ++d)
                index.push_back(linalg::IndexOp::create(b, l, d));
              Value feature = index[3];
              Value one = arith::ConstantIndexOp::create(b, l, 1);
              Value two = arith::ConstantIndexOp::create(b, l, 2);
              Value rotary = arith::MulIOp::create(b, l, half, two);
              Value rotated = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::ult, feature, rotary);
              // pair: the angle index; first: whether this is the first of
              // the pair; partner: the other feature of the pair.
              Value pair, first, partner;
              if (interleaved) {
                pair = arith::DivUIOp::create(b, l, feature, two);
                Value odd = arith::RemUIOp::create(b, l, feature, two);
                first = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::eq, odd,
                    arith::ConstantIndexOp::create(b, l, 0));
                partner = arith::SelectOp::create(
                    b, l, first, arith::AddIOp::create(b, l, feature, one),
                    arith::SubIOp::create(b, l, feature, one));
              } else {
                first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                              feature, half);
                pair = arith::SelectOp::create(
                    b, l, first, feature,
                    arith::SubIOp::create(b, l, feature, half));
                partner = arith::SelectOp::create(
                    b, l, first, arith::AddIOp::create(b, l, feature, half),
                    arith::SubIOp::create(b, l, feature, half));
              }
              // Past the rotary dimensions, read something in bounds; the
              // value is not used.
              Value zero = arith::ConstantIndexOp::create(b, l, 0);
              pair = arith::SelectOp::create(b, l, rotated, pair, zero);
              partner =
                  arith::SelectOp::create(b, l, rotated, partner, feature);
              // cos/sin are [..., S, R/2], broadcast to [B, H, S, R/2].
              SmallVector<Value> angleIndex;
              int64_t angleRank = angles.getRank();
              for (int64_t i = 0; i < angleRank - 1; ++i) {
                int64_t d = 4 - angleRank + i;
                angleIndex.push_back(angles.getDimSize(i) == 1 &&
                                             type.getDimSize(d) != 1
                                         ? zero
                                         : index[d]);
              }
              angleIndex.push_back(pair);
              Value c = tensor::ExtractOp::create(b, l, cos, angleIndex);
              Value s = tensor::ExtractOp::create(b, l, sin, angleIndex);
              SmallVector<Value> partnerIndex(index.begin(), index.end() - 1);
              partnerIndex.push_back(partner);
              Value other = tensor::ExtractOp::create(b, l, x, partnerIndex);
              // first: x c - other s; second: x c + other s.
              Value xc = arith::MulFOp::create(b, l, args[0], c);
              Value os = arith::MulFOp::create(b, l, other, s);
              Value value = arith::SelectOp::create(
                  b, l, first, arith::SubFOp::create(b, l, xc, os),
                  arith::AddFOp::create(b, l, xc, os));
              return arith::SelectOp::create(b, l, rotated, value, args[0]);
            }));
    return success();
  }
};

/// `value` as [outer, channels, inner] around dimension `axis`: what the
} // namespace

void sinter::populateCompositePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerNorm<LayerNormOp>, LowerNorm<RmsNormOp>, LowerAddNorm,
               LowerAttention, LowerRotaryEmbedding>(patterns.getContext());
}
