//===- FoldConvScale.cpp - Per-channel scale and shift into conv ----------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectResourceBlobManager.h"

namespace sinter {
#define GEN_PASS_DEF_FOLDCONVSCALE
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {

/// The value of a constant for each output channel of `conv`'s result
/// (shaped [M, 1, ...], [1, M, 1, ...] or a scalar: every dimension but the
/// channel's is 1), or nullopt.
std::optional<SmallVector<double>> perChannel(Value value, ConvOp conv) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  RankedTensorType result = conv.getType();
  int64_t channels = result.getDimSize(1);
  if (!type || !type.hasStaticShape() || type.getRank() > result.getRank() ||
      ShapedType::isDynamic(channels))
    return std::nullopt;
  int64_t offset = result.getRank() - type.getRank();
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.getDimSize(d) != 1 &&
        (d + offset != 1 || type.getDimSize(d) != channels))
      return std::nullopt;
  std::optional<SmallVector<double>> values = constantElements(value);
  if (!values)
    return std::nullopt;
  if (values->size() == 1)
    values->assign(channels, values->front());
  return values;
}

/// The conv's weight (f32) and bias (zeros when absent), if constants.
struct ConvConstants {
  SmallVector<double> weight, bias;
};
std::optional<ConvConstants> convConstants(ConvOp conv) {
  if (!conv.getType().getElementType().isF32())
    return std::nullopt;
  std::optional<SmallVector<double>> weight =
      constantElements(conv.getWeight());
  if (!weight)
    return std::nullopt;
  ConvConstants constants{*weight, {}};
  if (Value bias = conv.getBias()) {
    std::optional<SmallVector<double>> values = constantElements(bias);
    if (!values)
      return std::nullopt;
    constants.bias = *values;
  } else {
    constants.bias.assign(conv.getType().getDimSize(1), 0.0);
  }
  return constants;
}

/// `conv` again with a new weight (when `weight` is given) and bias.
Value rebuildConv(PatternRewriter &rewriter, ConvOp conv,
                  std::optional<ArrayRef<double>> weight,
                  ArrayRef<double> bias) {
  Location loc = conv.getLoc();
  Value newWeight = conv.getWeight();
  if (weight) {
    auto type = cast<RankedTensorType>(newWeight.getType());
    SmallVector<float> values(weight->begin(), weight->end());
    auto attr = DenseF32ResourceElementsAttr::get(
        type, "folded_conv_weight",
        HeapAsmResourceBlob::allocateAndCopyInferAlign(
            ArrayRef<float>(values)));
    newWeight = ConstantOp::create(rewriter, loc, cast<ElementsAttr>(attr));
  }
  auto biasType = RankedTensorType::get({static_cast<int64_t>(bias.size())},
                                        rewriter.getF32Type());
  SmallVector<float> biasValues(bias.begin(), bias.end());
  Value newBias =
      ConstantOp::create(rewriter, loc,
                         cast<ElementsAttr>(DenseElementsAttr::get(
                             biasType, ArrayRef<float>(biasValues))));
  return ConvOp::create(rewriter, loc, conv.getInput(), newWeight, newBias,
                        conv.getStrides(), conv.getPads(), conv.getDilations(),
                        conv.getGroup())
      .getResult();
}

/// mul(conv(x, W, b), s) -> conv(x, W * s, b * s), s per output channel.
struct FoldScaleIntoConv : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [product, scaleValue] : bothOrders(op)) {
      auto conv = product.getDefiningOp<ConvOp>();
      if (!conv || !product.hasOneUse() || op.getType() != conv.getType())
        continue;
      std::optional<SmallVector<double>> scale = perChannel(scaleValue, conv);
      std::optional<ConvConstants> constants = convConstants(conv);
      if (!scale || !constants)
        continue;
      int64_t channels = scale->size();
      int64_t block = constants->weight.size() / channels;
      for (int64_t m = 0; m < channels; ++m) {
        for (int64_t i = 0; i < block; ++i)
          constants->weight[m * block + i] *= (*scale)[m];
        constants->bias[m] *= (*scale)[m];
      }
      rewriter.replaceOp(op, rebuildConv(rewriter, conv,
                                         ArrayRef<double>(constants->weight),
                                         constants->bias));
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not a conv by per-channel "
                                           "constants");
  }
};

/// add(conv(x, W, b), t) -> conv(x, W, b + t), t per output channel.
struct FoldShiftIntoConv : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [sum, shiftValue] : bothOrders(op)) {
      auto conv = sum.getDefiningOp<ConvOp>();
      if (!conv || !sum.hasOneUse() || op.getType() != conv.getType() ||
          !conv.getType().getElementType().isF32())
        continue;
      std::optional<SmallVector<double>> shift = perChannel(shiftValue, conv);
      if (!shift)
        continue;
      SmallVector<double> bias(shift->size(), 0.0);
      if (Value old = conv.getBias()) {
        std::optional<SmallVector<double>> values = constantElements(old);
        if (!values)
          continue;
        bias = *values;
      }
      for (size_t m = 0; m < bias.size(); ++m)
        bias[m] += (*shift)[m];
      rewriter.replaceOp(op, rebuildConv(rewriter, conv, std::nullopt, bias));
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not a conv plus per-channel "
                                           "constants");
  }
};

struct FoldConvScalePass : sinter::impl::FoldConvScaleBase<FoldConvScalePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldScaleIntoConv, FoldShiftIntoConv>(&getContext());
    applyFusionPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
