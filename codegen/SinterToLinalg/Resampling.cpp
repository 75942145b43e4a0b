//===- Resampling.cpp - pad and resize ------------------------------------===//
//
// pad: tensor.pad for a constant pad that only grows the tensor; otherwise
// a linalg.generic that maps each output coordinate back to the input
// (reflected, clamped, wrapped, or outside: the constant).
//
// resize: one linalg.generic per resampled dimension, the last first (the
// order of the ONNX reference, which matters where tf_crop_and_resize
// extrapolates). The taps of each output coordinate (input indices and
// weights) depend only on the static sizes and the attributes, so they are
// computed here in double precision, as the reference does, and read from
// constant tables; the generic extracts the taps' elements and sums them.
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace sinter;
using namespace sinter::linalg_lowering;

namespace {

//===----------------------------------------------------------------------===//
// pad
//===----------------------------------------------------------------------===//

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The input coordinate that output coordinate `o` of a dimension of
/// `size` elements reads under `mode`, `begin` elements being added before.
/// For `constant`, also sets `inside` to whether it lies in the input (the
/// coordinate is then clamped, so that the read stays in bounds).
Value sourceIndex(OpBuilder &b, Location loc, StringRef mode, Value o,
                  int64_t begin, Value size, Value &inside) {
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  Value i = arith::SubIOp::create(b, loc, o, indexConstant(b, loc, begin));
  Value last = arith::SubIOp::create(b, loc, size, one);
  auto clamp = [&](Value v) -> Value {
    return arith::MaxSIOp::create(b, loc, zero,
                                  arith::MinSIOp::create(b, loc, v, last));
  };
  if (mode == "constant" || mode == "edge") {
    if (mode == "constant") {
      Value low =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, i, zero);
      Value high =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, size);
      Value both = arith::AndIOp::create(b, loc, low, high);
      inside = inside ? arith::AndIOp::create(b, loc, inside, both) : both;
    }
    return clamp(i);
  }
  if (mode == "wrap") {
    Value r = arith::RemSIOp::create(b, loc, i, size);
    Value negative =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, zero);
    return arith::SelectOp::create(b, loc, negative,
                                   arith::AddIOp::create(b, loc, r, size), r);
  }
  // reflect: period 2 (size - 1), the edges not repeated; a dimension of
  // one element reads it everywhere.
  Value period = arith::MaxSIOp::create(
      b, loc, one,
      arith::MulIOp::create(b, loc, last, indexConstant(b, loc, 2)));
  Value negated = arith::SubIOp::create(b, loc, zero, i);
  Value magnitude = arith::MaxSIOp::create(b, loc, i, negated);
  Value m = arith::RemUIOp::create(b, loc, magnitude, period);
  Value beyond =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, m, size);
  return clamp(arith::SelectOp::create(
      b, loc, beyond, arith::SubIOp::create(b, loc, period, m), m));
}

struct LowerPad : OpRewritePattern<PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PadOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType input = op.getInput().getType(), result = op.getType();
    int64_t rank = input.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    StringRef mode = op.getMode();
    Value padValue =
        tensor::ExtractOp::create(rewriter, loc, op.getValue(), ValueRange());
    bool growsOnly = llvm::all_of(pads, [](int64_t p) { return p >= 0; });
    if (mode == "constant" && growsOnly) {
      SmallVector<OpFoldResult> low, high;
      for (int64_t d = 0; d < rank; ++d) {
        low.push_back(rewriter.getIndexAttr(pads[d]));
        high.push_back(rewriter.getIndexAttr(pads[d + rank]));
      }
      rewriter.replaceOpWithNewOp<tensor::PadOp>(op, result, op.getInput(), low,
                                                 high, padValue);
      return success();
    }
    if (mode == "constant" && input.hasStaticShape() &&
        input.getNumElements() == 0) {
      Value init = emptyTensor(rewriter, loc, result, {});
      rewriter.replaceOpWithNewOp<linalg::FillOp>(op, padValue, init);
      return success();
    }
    SmallVector<Value> inputSizes, outputSizes;
    for (int64_t d = 0; d < rank; ++d) {
      Value size =
          input.isDynamicDim(d)
              ? Value(tensor::DimOp::create(rewriter, loc, op.getInput(), d))
              : indexConstant(rewriter, loc, input.getDimSize(d));
      inputSizes.push_back(size);
      if (result.isDynamicDim(d))
        outputSizes.push_back(arith::AddIOp::create(
            rewriter, loc, size,
            indexConstant(rewriter, loc, pads[d] + pads[d + rank])));
    }
    Value data = op.getInput();
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, result, ValueRange(),
                [&](OpBuilder &b, Location l, ValueRange) -> Value {
                  Value inside;
                  SmallVector<Value> coords;
                  for (int64_t d = 0; d < rank; ++d) {
                    Value o = linalg::IndexOp::create(b, l, d);
                    coords.push_back(pads[d] == 0 && pads[d + rank] == 0
                                         ? o
                                         : sourceIndex(b, l, mode, o, pads[d],
                                                       inputSizes[d], inside));
                  }
                  Value element = tensor::ExtractOp::create(b, l, data, coords);
                  if (!inside)
                    return element;
                  return arith::SelectOp::create(b, l, inside, element,
                                                 padValue);
                },
                outputSizes));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// resize
//===----------------------------------------------------------------------===//

/// The taps of one resampled dimension: for output coordinate x, `count`
/// input indices (clamped into the input) and weights from x * count on,
/// and whether x falls outside a tf_crop_and_resize box.
struct Taps {
  int64_t count = 1;
  SmallVector<int64_t> index;
  SmallVector<double> weight;
  SmallVector<bool> outside;
  bool anyOutside = false;
  /// Every output coordinate reads its own input coordinate, unweighted.
  bool identity = true;
};

/// The input coordinate that output coordinate `x` maps to (the ONNX
/// reference's interpolate_1d_with_x), or nullopt outside a crop box.
std::optional<double> sourceCoordinate(ResizeOp op, int64_t d, double x,
                                       int64_t inSize, int64_t outSize) {
  StringRef mode = op.getCoordinateMode();
  double scale = op.getScales()[d];
  // The reference measures the output as scale * input, not the integer
  // size, in align_corners, pytorch_half_pixel and tf_crop_and_resize.
  double width = scale * static_cast<double>(inSize);
  double in = static_cast<double>(inSize);
  if (mode == "align_corners")
    return width == 1 ? 0.0 : x * (in - 1) / (width - 1);
  if (mode == "asymmetric")
    return x / scale;
  if (mode == "tf_half_pixel_for_nn")
    return (x + 0.5) / scale;
  if (mode == "pytorch_half_pixel")
    return width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  if (mode == "half_pixel_symmetric") {
    double adjustment = static_cast<double>(outSize) / width;
    double offset = in / 2 * (1 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  if (mode == "tf_crop_and_resize") {
    int64_t rank = op.getScales().size();
    double start = op.getRoi()[d], end = op.getRoi()[d + rank];
    double source = width == 1 ? (end - start) * (in - 1) / 2
                               : x * (end - start) * (in - 1) / (width - 1);
    source += start * (in - 1);
    if (source < 0 || source > in - 1)
      return std::nullopt;
    return source;
  }
  return (x + 0.5) / scale - 0.5; // half_pixel
}

/// The coefficients of the reference for `ratio` in (0, 1].
SmallVector<double> coefficients(ResizeOp op, double ratio) {
  StringRef mode = op.getMode();
  if (mode == "linear")
    return {1 - ratio, ratio};
  if (mode == "cubic") {
    double a = op.getCubicCoeffA().convertToDouble();
    auto far = [&](double t) {
      return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
    };
    auto near = [&](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };
    return {far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)};
  }
  StringRef rounding = op.getNearestMode();
  if (ratio == 1 || rounding == "ceil")
    return {0, 1};
  if (rounding == "floor")
    return {1, 0};
  bool up = rounding == "round_prefer_floor" ? ratio > 0.5 : ratio >= 0.5;
  return {up ? 0.0 : 1.0, up ? 1.0 : 0.0};
}

Taps resizeTaps(ResizeOp op, int64_t d, int64_t inSize, int64_t outSize) {
  Taps taps;
  bool nearest = op.getMode() == "nearest";
  for (int64_t x = 0; x < outSize; ++x) {
    std::optional<double> source =
        sourceCoordinate(op, d, static_cast<double>(x), inSize, outSize);
    SmallVector<double> coeffs = coefficients(op, 1);
    int64_t n = coeffs.size();
    SmallVector<int64_t> neighbours(n, 0);
    if (source) {
      double floor = std::floor(*source);
      coeffs = coefficients(op, *source == floor ? 1 : *source - floor);
      // The n nearest indices of the edge-padded input, the smaller first
      // on ties (get_neighbor_idxes), back in unpadded coordinates.
      int64_t pad = (n + 1) / 2, limit = inSize + 2 * pad;
      double padded = *source + pad;
      int64_t centre =
          std::clamp<int64_t>(static_cast<int64_t>(floor) + pad, 0, limit - 1);
      SmallVector<int64_t> candidates;
      for (int64_t i = std::max<int64_t>(0, centre - n);
           i < std::min(limit, centre + n + 1); ++i)
        candidates.push_back(i);
      llvm::stable_sort(candidates, [&](int64_t a, int64_t b) {
        return std::abs(padded - a) < std::abs(padded - b);
      });
      candidates.resize(n);
      llvm::sort(candidates);
      for (int64_t k = 0; k < n; ++k)
        neighbours[k] = candidates[k] - pad;
      if (op.getExcludeOutside()) {
        double sum = 0;
        for (int64_t k = 0; k < n; ++k) {
          if (neighbours[k] < 0 || neighbours[k] >= inSize)
            coeffs[k] = 0;
          sum += coeffs[k];
        }
        for (double &c : coeffs)
          c /= sum;
      }
    } else {
      std::fill(coeffs.begin(), coeffs.end(), 0.0);
    }
    taps.outside.push_back(!source);
    taps.anyOutside |= !source;
    if (nearest) {
      // One tap: the neighbour whose coefficient is 1.
      n = 1;
      int64_t chosen = coeffs[0] != 0 ? neighbours[0] : neighbours[1];
      taps.index.push_back(std::clamp<int64_t>(chosen, 0, inSize - 1));
      taps.weight.push_back(1);
    } else {
      for (int64_t k = 0; k < n; ++k) {
        taps.index.push_back(std::clamp<int64_t>(neighbours[k], 0, inSize - 1));
        taps.weight.push_back(coeffs[k]);
      }
    }
    taps.count = n;
    double own = 0;
    for (int64_t k = 0; k < n; ++k) {
      int64_t i = taps.index[x * n + k];
      double w = taps.weight[x * n + k];
      if (i == x)
        own += w;
      else if (w != 0)
        taps.identity = false;
    }
    taps.identity &= source && own == 1 && inSize == outSize;
  }
  return taps;
}

/// `value` resampled along dimension `d` to `outSize` elements.
Value resampleDim(OpBuilder &rewriter, Location loc, ResizeOp op, Value value,
                  int64_t d, const Taps &taps, int64_t outSize) {
  auto type = cast<RankedTensorType>(value.getType());
  Type elementType = type.getElementType();
  SmallVector<int64_t> shape(type.getShape());
  shape[d] = outSize;
  auto resultType = RankedTensorType::get(shape, elementType);
  int64_t n = taps.count;
  auto tableType = RankedTensorType::get({outSize, n}, rewriter.getI64Type());
  Value indices = arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(tableType, ArrayRef(taps.index)));
  Value weights;
  if (n > 1) {
    SmallVector<Attribute> ws;
    for (double w : taps.weight)
      ws.push_back(rewriter.getFloatAttr(elementType, w));
    weights = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({outSize, n}, elementType),
                               ws));
  }
  Value outside;
  if (taps.anyOutside) {
    SmallVector<Attribute> flags;
    for (bool flag : taps.outside)
      flags.push_back(rewriter.getBoolAttr(flag));
    outside = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({outSize}, rewriter.getI1Type()), flags));
  }
  SmallVector<Value> sizes = dynamicSizes(rewriter, loc, resultType, value);
  int64_t rank = type.getRank();
  double extrapolation = op.getExtrapolationValue().convertToDouble();
  return elementwise(
      rewriter, loc, resultType, ValueRange(),
      [&](OpBuilder &b, Location l, ValueRange) -> Value {
        SmallVector<Value> coords;
        for (int64_t i = 0; i < rank; ++i)
          coords.push_back(linalg::IndexOp::create(b, l, i));
        Value x = coords[d];
        Value sum;
        for (int64_t k = 0; k < n; ++k) {
          Value tap = indexConstant(b, l, k);
          Value index =
              tensor::ExtractOp::create(b, l, indices, ValueRange{x, tap});
          coords[d] = arith::IndexCastOp::create(b, l, b.getIndexType(), index);
          Value element = tensor::ExtractOp::create(b, l, value, coords);
          if (n == 1) {
            sum = element;
            break;
          }
          Value weight =
              tensor::ExtractOp::create(b, l, weights, ValueRange{x, tap});
          Value product = arith::MulFOp::create(b, l, weight, element);
          sum =
              sum ? Value(arith::AddFOp::create(b, l, sum, product)) : product;
        }
        if (!outside)
          return sum;
        Value isOutside = tensor::ExtractOp::create(b, l, outside, x);
        return arith::SelectOp::create(
            b, l, isOutside, scalar(b, l, elementType, extrapolation), sum);
      },
      sizes);
}

struct LowerResize : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ResizeOp op,
                                PatternRewriter &rewriter) const override {
    if (hasUnsignedElements(op) && op.getMode() != "nearest")
      return rewriter.notifyMatchFailure(op, "unsigned interpolation");
    RankedTensorType input = op.getInput().getType();
    Value value = op.getInput();
    for (int64_t d = input.getRank() - 1; d >= 0; --d) {
      int64_t outSize = op.getSizes()[d];
      if (ShapedType::isDynamic(outSize))
        continue;
      int64_t inSize = input.getDimSize(d);
      if (inSize == 0 || outSize == 0) {
        if (inSize != outSize) {
          if (op.getType().hasStaticShape()) {
            rewriter.replaceOpWithNewOp<tensor::EmptyOp>(
                op, op.getType().getShape(), op.getType().getElementType());
            return success();
          }
          return rewriter.notifyMatchFailure(op, "empty resampled dimension");
        }
        continue;
      }
      Taps taps = resizeTaps(op, d, inSize, outSize);
      if (taps.identity)
        continue;
      value = resampleDim(rewriter, op.getLoc(), op, value, d, taps, outSize);
    }
    if (value.getType() != op.getType())
      value =
          tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), value);
    rewriter.replaceOp(op, value);
    return success();
  }
};

} // namespace

void sinter::populateResamplingPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerPad, LowerResize>(patterns.getContext());
}
