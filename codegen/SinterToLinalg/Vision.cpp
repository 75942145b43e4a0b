//===- Vision.cpp - pool, max_pool_indices, conv_transpose, depthwise conv ===//
//
// The window ops of ir/SinterVisionOps.td as linalg generics over the
// padded input (an extra window operand gives the kernel loops their
// sizes, as linalg's own pooling ops do), transposed convolution as a
// convolution of the zero-interleaved input with the flipped weight, and
// depthwise conv without the reduction over one input channel that the
// grouped contraction of Contractions.cpp would keep.
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

/// `input` padded with `value` by `low` and `high` on the spatial
/// dimensions (N and C are not padded).
Value padSpatial(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                 ArrayRef<int64_t> high, Value value) {
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return input;
  RankedTensorType type = tensorType(input);
  SmallVector<OpFoldResult> lows(2, b.getIndexAttr(0)),
      highs(2, b.getIndexAttr(0));
  SmallVector<int64_t> shape(type.getShape());
  for (size_t i = 0; i < low.size(); ++i) {
    lows.push_back(b.getIndexAttr(low[i]));
    highs.push_back(b.getIndexAttr(high[i]));
    if (!ShapedType::isDynamic(shape[2 + i]))
      shape[2 + i] += low[i] + high[i];
  }
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input, lows,
      highs, value);
}

/// The maps of a window generic over (n, c, out..., k...): the padded
/// input at out * stride + k * dilation, the window, the output.
SmallVector<AffineMap> windowMaps(MLIRContext *context, int64_t spatial,
                                  ArrayRef<int64_t> strides,
                                  ArrayRef<int64_t> dilations) {
  int64_t loops = 2 + 2 * spatial;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
  SmallVector<AffineExpr> in = {d(0), d(1)}, window, out = {d(0), d(1)};
  for (int64_t i = 0; i < spatial; ++i) {
    in.push_back(d(2 + i) * strides[i] + d(2 + spatial + i) * dilations[i]);
    window.push_back(d(2 + spatial + i));
    out.push_back(d(2 + i));
  }
  return {AffineMap::get(loops, 0, in, context),
          AffineMap::get(loops, 0, window, context),
          AffineMap::get(loops, 0, out, context)};
}

SmallVector<utils::IteratorType> windowIterators(int64_t spatial) {
  SmallVector<utils::IteratorType> iterators(2 + spatial,
                                             utils::IteratorType::parallel);
  iterators.append(spatial, utils::IteratorType::reduction);
  return iterators;
}

/// The divisor of each output position of an average pool: the window's
/// elements inside the input (or the padded input), as a 1 x 1 x out...
/// constant. The count is a product over the spatial dimensions.
Value averageDivisor(OpBuilder &b, Location loc, PoolOp op) {
  RankedTensorType input = op.getInput().getType(), result = op.getType();
  int64_t spatial = input.getRank() - 2;
  ArrayRef<int64_t> pads = op.getPads();
  SmallVector<SmallVector<double>> counts;
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t size = input.getDimSize(2 + i);
    int64_t first = op.getCountIncludePad() ? -pads[i] : 0;
    int64_t last = op.getCountIncludePad() ? size + pads[spatial + i] : size;
    SmallVector<double> &count = counts.emplace_back();
    for (int64_t o = 0; o < result.getDimSize(2 + i); ++o) {
      int64_t n = 0;
      for (int64_t k = 0; k < op.getKernelShape()[i]; ++k) {
        int64_t at =
            o * op.getStrides()[i] + k * op.getDilations()[i] - pads[i];
        n += at >= first && at < last;
      }
      count.push_back(static_cast<double>(std::max<int64_t>(n, 1)));
    }
  }
  SmallVector<int64_t> shape = {1, 1};
  for (int64_t i = 0; i < spatial; ++i)
    shape.push_back(result.getDimSize(2 + i));
  auto type = RankedTensorType::get(shape, result.getElementType());
  SmallVector<APFloat> values;
  auto floatType = cast<FloatType>(result.getElementType());
  SmallVector<int64_t> position(spatial, 0);
  for (int64_t flat = 0, total = type.getNumElements(); flat < total; ++flat) {
    double divisor = 1.0;
    for (int64_t i = 0, rest = flat; i < spatial; ++i) {
      int64_t stride = 1;
      for (int64_t j = i + 1; j < spatial; ++j)
        stride *= shape[2 + j];
      divisor *= counts[i][rest / stride];
      rest %= stride;
    }
    APFloat value(divisor);
    bool lost;
    value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
    values.push_back(value);
  }
  return arith::ConstantOp::create(b, loc, type,
                                   DenseElementsAttr::get(type, values));
}

/// pool: padding that never wins (max) or adds nothing (avg, lp), a
/// window reduction, then the average's divisor or the p-th root.
struct LowerPool : OpRewritePattern<PoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType input = op.getInput().getType(), result = op.getType();
    int64_t spatial = input.getRank() - 2;
    if (hasUnsignedElements(op))
      return rewriter.notifyMatchFailure(op, "unsigned element types");
    if (llvm::any_of(input.getShape().drop_front(2), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic spatial sizes");
    Location loc = op.getLoc();
    Type elementType = result.getElementType();
    PoolKind kind = op.getKind();
    bool isMax = kind == PoolKind::Max;
    Value padValue = reductionInit(rewriter, loc, elementType, isMax, false);
    SmallVector<int64_t> high = op.ceilPadding();
    for (int64_t i = 0; i < spatial; ++i)
      high[i] += op.getPads()[spatial + i];
    Value padded = padSpatial(rewriter, loc, op.getInput(),
                              op.getPads().take_front(spatial), high, padValue);
    SmallVector<Value> sizes =
        dynamicSizes(rewriter, loc, result, op.getInput());
    Value init =
        linalg::FillOp::create(rewriter, loc, padValue,
                               emptyTensor(rewriter, loc, result, sizes))
            .getResult(0);
    Value window = tensor::EmptyOp::create(rewriter, loc, op.getKernelShape(),
                                           elementType);
    int64_t p = op.getP();
    Value pooled =
        linalg::GenericOp::create(
            rewriter, loc, result, ValueRange{padded, window}, init,
            windowMaps(rewriter.getContext(), spatial, op.getStrides(),
                       op.getDilations()),
            windowIterators(spatial),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value x = args[0], acc = args[2];
              if (isMax) {
                linalg::YieldOp::create(b, l,
                                        combine(b, l, Combine::Max, acc, x));
                return;
              }
              if (kind == PoolKind::Lp) {
                Value magnitude = math::AbsFOp::create(b, l, x);
                x = p == 1   ? magnitude
                    : p == 2 ? Value(arith::MulFOp::create(b, l, x, x))
                             : Value(math::PowFOp::create(
                                   b, l, magnitude,
                                   scalar(b, l, elementType,
                                          static_cast<double>(p))));
              }
              linalg::YieldOp::create(
                  b, l, Value(arith::AddFOp::create(b, l, acc, x)));
            })
            .getResult(0);
    if (kind == PoolKind::Avg) {
      pooled = elementwise(
          rewriter, loc, result,
          ValueRange{pooled, averageDivisor(rewriter, loc, op)},
          [](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(b, l, args[0], args[1]);
          },
          sizes);
    } else if (kind == PoolKind::Lp && p > 1) {
      pooled = elementwise(
          rewriter, loc, result, pooled,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            if (p == 2)
              return math::SqrtOp::create(b, l, args[0]);
            return math::PowFOp::create(b, l, args[0],
                                        scalar(b, l, elementType, 1.0 / p));
          },
          sizes);
    }
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

/// max_pool_indices: a window reduction into (maximum, index) pairs; a
/// later element replaces the pair only when strictly larger, so the
/// first maximum wins. Padding never wins and has no index of its own.
struct LowerMaxPoolIndices : OpRewritePattern<MaxPoolIndicesOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxPoolIndicesOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType input = op.getInput().getType(), result = op.getType();
    if (hasUnsignedElements(op) || !input.hasStaticShape() ||
        !result.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "unsigned or dynamic shapes");
    Location loc = op.getLoc();
    int64_t spatial = input.getRank() - 2;
    Type elementType = input.getElementType(), i64 = rewriter.getI64Type();
    ArrayRef<int64_t> pads = op.getPads();
    Value lowest = reductionInit(rewriter, loc, elementType, true, false);
    SmallVector<int64_t> high(spatial);
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t needed = (result.getDimSize(2 + i) - 1) * op.getStrides()[i] +
                       op.getDilations()[i] * (op.getKernelShape()[i] - 1) + 1;
      high[i] = std::max<int64_t>(pads[spatial + i],
                                  needed - input.getDimSize(2 + i) - pads[i]);
    }
    Value padded = padSpatial(rewriter, loc, op.getInput(),
                              pads.take_front(spatial), high, lowest);
    auto valueType = RankedTensorType::get(result.getShape(), elementType);
    Value values =
        linalg::FillOp::create(rewriter, loc, lowest,
                               emptyTensor(rewriter, loc, valueType, {}))
            .getResult(0);
    Value indices =
        linalg::FillOp::create(rewriter, loc, scalar(rewriter, loc, i64, 0),
                               emptyTensor(rewriter, loc, result, {}))
            .getResult(0);
    Value window = tensor::EmptyOp::create(rewriter, loc, op.getKernelShape(),
                                           elementType);
    SmallVector<AffineMap> maps = windowMaps(
        rewriter.getContext(), spatial, op.getStrides(), op.getDilations());
    maps.push_back(maps.back());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valueType, result}, ValueRange{padded, window},
        ValueRange{values, indices}, maps, windowIterators(spatial),
        [&](OpBuilder &b, Location l, ValueRange args) {
          // The flat index: ((n * C + c) * D1 + d1) * D2 + d2 ..., with the
          // spatial dimensions taken last to first when column-major.
          auto index = [&](int64_t dim) {
            return arith::IndexCastOp::create(
                b, l, i64, linalg::IndexOp::create(b, l, dim));
          };
          auto mulAdd = [&](Value acc, int64_t size, Value x) -> Value {
            return arith::AddIOp::create(
                b, l, arith::MulIOp::create(b, l, acc, scalar(b, l, i64, size)),
                x);
          };
          Value flat = mulAdd(index(0), input.getDimSize(1), index(1));
          for (int64_t j = 0; j < spatial; ++j) {
            int64_t i = op.getColumnMajor() ? spatial - 1 - j : j;
            // at = out * stride + k * dilation - pad_begin
            Value at = arith::SubIOp::create(
                b, l,
                mulAdd(arith::MulIOp::create(
                           b, l, index(2 + i),
                           scalar(b, l, i64, op.getStrides()[i])),
                       1,
                       arith::MulIOp::create(
                           b, l, index(2 + spatial + i),
                           scalar(b, l, i64, op.getDilations()[i]))),
                scalar(b, l, i64, pads[i]));
            flat = mulAdd(flat, input.getDimSize(2 + i), at);
          }
          Value larger =
              isa<FloatType>(elementType)
                  ? Value(arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                                args[0], args[2]))
                  : Value(arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt,
                                                args[0], args[2]));
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, larger, args[0], args[2]),
                  arith::SelectOp::create(b, l, larger, flat, args[3])});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

/// conv_transpose as a stride-1 convolution: the input interleaved with
/// stride - 1 zeros, padded by dilation * (k - 1) minus the pads on each
/// side (plus output_padding at the end; negative amounts crop), read by
/// the weight flipped in every spatial dimension, with the weight's two
/// channel dimensions swapped within each group.
struct LowerConvTranspose : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    if (!input.hasStaticShape() || !weight.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    int64_t spatial = input.getRank() - 2, group = op.getGroup();
    Type elementType = result.getElementType();
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();

    // The interleaved input inside its (non-negative) padding.
    SmallVector<int64_t> shape(input.getShape().take_front(2)), low(spatial),
        crop(spatial);
    SmallVector<OpFoldResult> offsets(2, rewriter.getIndexAttr(0)),
        steps(2, rewriter.getIndexAttr(1)), extent;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t reach = dilations[i] * (weight.getDimSize(2 + i) - 1);
      int64_t before = reach - pads[i],
              after = reach + op.getOutputPadding()[i] - pads[spatial + i];
      int64_t interleaved = (input.getDimSize(2 + i) - 1) * strides[i] + 1;
      shape.push_back(interleaved + std::max<int64_t>(before, 0) +
                      std::max<int64_t>(after, 0));
      low[i] = std::max<int64_t>(before, 0);
      crop[i] = std::max<int64_t>(-before, 0);
      offsets.push_back(rewriter.getIndexAttr(low[i]));
      steps.push_back(rewriter.getIndexAttr(strides[i]));
    }
    for (int64_t size : input.getShape())
      extent.push_back(rewriter.getIndexAttr(size));
    Value spread = tensor::InsertSliceOp::create(
        rewriter, loc, op.getInput(),
        zeroFilled(rewriter, loc, RankedTensorType::get(shape, elementType),
                   {}),
        offsets, extent, steps);
    if (llvm::any_of(crop, [](int64_t c) { return c != 0; })) {
      SmallVector<OpFoldResult> cropOffsets(2, rewriter.getIndexAttr(0)),
          cropSizes, ones(input.getRank(), rewriter.getIndexAttr(1));
      cropSizes.push_back(rewriter.getIndexAttr(shape[0]));
      cropSizes.push_back(rewriter.getIndexAttr(shape[1]));
      for (int64_t i = 0; i < spatial; ++i) {
        cropOffsets.push_back(rewriter.getIndexAttr(crop[i]));
        cropSizes.push_back(rewriter.getIndexAttr(shape[2 + i] - crop[i]));
      }
      spread = tensor::ExtractSliceOp::create(rewriter, loc, spread,
                                              cropOffsets, cropSizes, ones);
    }

    // The weight as a conv's, M x Cg x k...: w'[m, c, k] =
    // w[g * Cg + c, m mod Mg, K - 1 - k] with g = m floordiv Mg.
    int64_t groupInputs = weight.getDimSize(0) / group,
            groupOutputs = weight.getDimSize(1);
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    int64_t rank = weight.getRank();
    SmallVector<int64_t> flippedShape = {groupOutputs * group, groupInputs};
    SmallVector<AffineExpr> readExprs = {
        d(0).floorDiv(groupOutputs) * groupInputs + d(1), d(0) % groupOutputs};
    for (int64_t i = 0; i < spatial; ++i) {
      flippedShape.push_back(weight.getDimSize(2 + i));
      readExprs.push_back(weight.getDimSize(2 + i) - 1 - d(2 + i));
    }
    auto flippedType = RankedTensorType::get(flippedShape, elementType);
    Value flipped =
        linalg::GenericOp::create(
            rewriter, loc, flippedType, op.getWeight(),
            emptyTensor(rewriter, loc, flippedType, {}),
            SmallVector<AffineMap>{AffineMap::get(rank, 0, readExprs, context),
                                   rewriter.getMultiDimIdentityMap(rank)},
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(b, l, args[0]);
            })
            .getResult(0);
    // out[n, m, o] += spread[n, g * Cg + c, o + k * d] * w'[m, c, k]
    int64_t loops = 2 + spatial + 1 + spatial;
    AffineExpr channel =
        d(1).floorDiv(groupOutputs) * groupInputs + d(2 + spatial);
    SmallVector<AffineExpr> inExprs = {d(0), channel},
                            wExprs = {d(1), d(2 + spatial)},
                            outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < spatial; ++i) {
      AffineExpr k = d(3 + spatial + i);
      inExprs.push_back(d(2 + i) + k * dilations[i]);
      wExprs.push_back(k);
      outExprs.push_back(d(2 + i));
    }
    rewriter.replaceOp(
        op, contraction(rewriter, loc, spread, flipped,
                        channelBiasOrZeros(rewriter, loc, result, op.getBias()),
                        {AffineMap::get(loops, 0, inExprs, context),
                         AffineMap::get(loops, 0, wExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1 + spatial));
    return success();
  }
};

/// Depthwise conv (one input channel per group): each output channel
/// reads its one input channel, so the contraction keeps no channel loop
/// and no division in its input map when the multiplier is one.
struct LowerDepthwiseConv : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    if (op.getGroup() == 1 || weight.getDimSize(1) != 1 ||
        !input.hasStaticShape() || !weight.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "not a static depthwise conv");
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    int64_t spatial = input.getRank() - 2;
    int64_t multiplier = weight.getDimSize(0) / op.getGroup();
    // Iteration space: n, m, out spatial..., kernel spatial...
    int64_t loops = 2 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    SmallVector<AffineExpr> inExprs = {d(0), multiplier == 1
                                                 ? d(1)
                                                 : d(1).floorDiv(multiplier)},
                            wExprs = {d(1), getAffineConstantExpr(0, context)},
                            outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < spatial; ++i) {
      inExprs.push_back(d(2 + i) * op.getStrides()[i] +
                        d(2 + spatial + i) * op.getDilations()[i]);
      wExprs.push_back(d(2 + spatial + i));
      outExprs.push_back(d(2 + i));
    }
    rewriter.replaceOp(
        op, contraction(rewriter, loc, paddedConvInput(rewriter, loc, op),
                        op.getWeight(),
                        channelBiasOrZeros(rewriter, loc, result, op.getBias()),
                        {AffineMap::get(loops, 0, inExprs, context),
                         AffineMap::get(loops, 0, wExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, spatial));
    return success();
  }
};

} // namespace

void sinter::populateVisionPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<LowerPool, LowerMaxPoolIndices, LowerConvTranspose>(context);
  // Before the grouped contraction of Contractions.cpp.
  patterns.add<LowerDepthwiseConv>(context, /*benefit=*/2);
}
