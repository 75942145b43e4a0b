//===- Quantization.cpp - quantize, dequantize and their reads ------------===//
//
// quantize, dynamic_quantize and dequantize, and the DequantizedReader
// that reads a dequantized tensor's integers inside a linalg body.
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

/// `x` converted to the float type `type`.
Value convertFloat(OpBuilder &b, Location loc, Value x, Type type) {
  unsigned from = x.getType().getIntOrFloatBitWidth(),
           to = type.getIntOrFloatBitWidth();
  if (x.getType() == type)
    return x;
  if (from == to) // bf16 <-> f16: through f32
    x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
  if (x.getType().getIntOrFloatBitWidth() < to)
    return arith::ExtFOp::create(b, loc, type, x);
  return arith::TruncFOp::create(b, loc, type, x);
}

/// The coordinates of the scale (and zero point) of a (de)quantization for
/// the element at `coords`.
SmallVector<Value> scaleCoordinates(OpBuilder &b, Location loc,
                                    DequantizeOp::Granularity granularity,
                                    int64_t scaleRank, int64_t axis,
                                    int64_t block, ValueRange coords) {
  switch (granularity) {
  case DequantizeOp::Granularity::Tensor:
    return SmallVector<Value>(scaleRank,
                              arith::ConstantIndexOp::create(b, loc, 0));
  case DequantizeOp::Granularity::Axis:
    return {coords[axis]};
  case DequantizeOp::Granularity::Block: {
    SmallVector<Value> index(coords);
    index[axis] = arith::DivUIOp::create(
        b, loc, coords[axis], arith::ConstantIndexOp::create(b, loc, block));
    return index;
  }
  }
  llvm_unreachable("granularity");
}

} // namespace

namespace sinter::linalg_lowering {

std::optional<DequantizedReader>
DequantizedReader::create(OpBuilder &b, Location loc, DequantizeOp op) {
  DequantizedReader reader;
  reader.op = op;
  RankedTensorType input = op.getInput().getType();
  auto intType = cast<IntegerType>(input.getElementType());
  reader.isUnsigned = intType.isUnsigned();
  reader.bits = intType.getWidth();
  reader.scale = op.getScale();
  if (reader.bits == 4) {
    std::optional<std::vector<int64_t>> values = integerElements(op.getInput());
    if (!values || !input.hasStaticShape())
      return std::nullopt;
    std::vector<int8_t> packed((values->size() + 1) / 2, 0);
    for (size_t i = 0; i < values->size(); ++i)
      packed[i / 2] |= int8_t(((*values)[i] & 15) << (i % 2 ? 4 : 0));
    reader.input = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::getFromRawBuffer(
            RankedTensorType::get({int64_t(packed.size())},
                                  b.getIntegerType(8)),
            ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                           packed.size())));
    if (Value zeroPoint = op.getZeroPoint()) {
      std::optional<std::vector<int64_t>> zp = integerElements(zeroPoint);
      if (!zp)
        return std::nullopt;
      std::vector<int8_t> widened(zp->begin(), zp->end());
      reader.zeroPoint = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::getFromRawBuffer(
              RankedTensorType::get(tensorType(zeroPoint).getShape(),
                                    b.getIntegerType(8)),
              ArrayRef<char>(reinterpret_cast<const char *>(widened.data()),
                             widened.size())));
    }
  } else {
    reader.input = op.getInput();
    reader.zeroPoint = op.getZeroPoint();
  }
  return reader;
}

Value DequantizedReader::read(OpBuilder &b, Location loc,
                              ValueRange coords) const {
  Type resultType = op.getType().getElementType();
  Value value;
  if (bits == 4) {
    // flat index -> byte flat / 2, nibble flat % 2.
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    Value flat = arith::ConstantIndexOp::create(b, loc, 0);
    for (auto [coord, size] : llvm::zip(coords, shape))
      flat = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, flat,
                                arith::ConstantIndexOp::create(b, loc, size)),
          coord);
    Value two = arith::ConstantIndexOp::create(b, loc, 2);
    Value byte = tensor::ExtractOp::create(
        b, loc, input, ValueRange{arith::DivUIOp::create(b, loc, flat, two)});
    Value odd = arith::IndexCastOp::create(
        b, loc, b.getI8Type(), arith::RemUIOp::create(b, loc, flat, two));
    Value shift = arith::MulIOp::create(
        b, loc, odd, arith::ConstantIntOp::create(b, loc, b.getI8Type(), 4));
    Value nibble = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, byte, shift),
        arith::ConstantIntOp::create(b, loc, b.getI8Type(), 15));
    if (!isUnsigned) {
      Value eight = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 8);
      nibble = arith::SubIOp::create(
          b, loc, arith::XOrIOp::create(b, loc, nibble, eight), eight);
    }
    value = arith::SIToFPOp::create(b, loc, resultType, nibble);
  } else {
    value = toFloat(b, loc, tensor::ExtractOp::create(b, loc, input, coords),
                    resultType);
  }
  SmallVector<Value> scaleCoords = scaleCoordinates(
      b, loc, op.getGranularity(), op.getScale().getType().getRank(),
      op.getAxis(), op.getBlock(), coords);
  if (zeroPoint) {
    Value zp = tensor::ExtractOp::create(b, loc, zeroPoint, scaleCoords);
    value = arith::SubFOp::create(
        b, loc, value,
        bits == 4 ? arith::SIToFPOp::create(b, loc, resultType, zp).getResult()
                  : toFloat(b, loc, zp, resultType));
  }
  Value s = tensor::ExtractOp::create(b, loc, scale, scaleCoords);
  return arith::MulFOp::create(b, loc, value,
                               convertFloat(b, loc, s, resultType));
}

Value DequantizedReader::toFloat(OpBuilder &b, Location loc, Value integer,
                                 Type type) const {
  integer = toSignless(b, loc, integer);
  if (isUnsigned)
    return arith::UIToFPOp::create(b, loc, type, integer);
  return arith::SIToFPOp::create(b, loc, type, integer);
}

} // namespace sinter::linalg_lowering

namespace {

/// quantize: one generic, saturate(roundeven(x / scale) + zero point),
/// computed in f32 and converted to the integer type.
struct LowerQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType();
    auto intType = cast<IntegerType>(result.getElementType());
    unsigned width = intType.getWidth();
    // 4-bit values have no memory form outside constants (see
    // DequantizedReader), and f32 holds 32-bit ones only approximately.
    if (width == 4 || width > 16)
      return rewriter.notifyMatchFailure(op, "not 8 or 16 bits");
    bool isUnsigned = intType.isUnsigned();
    double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, width - 1),
           hi = isUnsigned ? std::ldexp(1.0, width) - 1
                           : std::ldexp(1.0, width - 1) - 1;
    Type signless = rewriter.getIntegerType(width);
    Value init =
        emptyTensor(rewriter, loc, result,
                    dynamicSizes(rewriter, loc, result, op.getInput()));
    int64_t rank = result.getRank();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Value scale = op.getScale(), zeroPoint = op.getZeroPoint();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), ValueRange{op.getInput()}, init,
        SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Type f32 = b.getF32Type();
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<Value> at = scaleCoordinates(
              b, l, op.getGranularity(), op.getScale().getType().getRank(),
              op.getAxis(), op.getBlock(), coords);
          Value x = convertFloat(b, l, args[0], f32);
          Value s = convertFloat(
              b, l, tensor::ExtractOp::create(b, l, scale, at), f32);
          Value v = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, x, s));
          if (zeroPoint) {
            Value zp = toSignless(
                b, l, tensor::ExtractOp::create(b, l, zeroPoint, at));
            v = arith::AddFOp::create(
                b, l, v,
                isUnsigned ? Value(arith::UIToFPOp::create(b, l, f32, zp))
                           : Value(arith::SIToFPOp::create(b, l, f32, zp)));
          }
          v = arith::MaximumFOp::create(b, l, v, scalar(b, l, f32, lo));
          v = arith::MinimumFOp::create(b, l, v, scalar(b, l, f32, hi));
          Value q = isUnsigned
                        ? Value(arith::FPToUIOp::create(b, l, signless, v))
                        : Value(arith::FPToSIOp::create(b, l, signless, v));
          linalg::YieldOp::create(b, l, fromSignless(b, l, q, intType));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// dynamic_quantize: the rows' largest magnitudes (one reduction), their
/// scales m / 127, then one generic that rounds each element by its row's
/// scale (0 where the scale is 0).
struct LowerDynamicQuantize : OpRewritePattern<DynamicQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DynamicQuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value x = op.getInput();
    RankedTensorType input = op.getInput().getType();
    const int64_t rank = input.getRank();
    Type f32 = rewriter.getF32Type(), i8 = rewriter.getIntegerType(8);
    SmallVector<int64_t> rowShape(input.getShape());
    rowShape.back() = 1;
    SmallVector<Value> rowSizes;
    for (int64_t d = 0; d + 1 < rank; ++d)
      if (Value size = dynamicDim(rewriter, loc, x, d))
        rowSizes.push_back(size);
    auto rowType = RankedTensorType::get(rowShape, f32);
    // Row d0..d(r-2), 0: what each element's row reads and writes.
    SmallVector<AffineExpr> rowExprs;
    for (int64_t d = 0; d + 1 < rank; ++d)
      rowExprs.push_back(getAffineDimExpr(d, context));
    rowExprs.push_back(getAffineConstantExpr(0, context));
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank),
              rowMap = AffineMap::get(rank, 0, rowExprs, context);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value maxInit =
        linalg::FillOp::create(rewriter, loc, scalar(rewriter, loc, f32, 0.0),
                               emptyTensor(rewriter, loc, rowType, rowSizes))
            .getResult(0);
    Value largest =
        linalg::GenericOp::create(
            rewriter, loc, rowType, x, maxInit,
            SmallVector<AffineMap>{identity, rowMap}, iterators,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value larger = arith::MaximumFOp::create(
                  b, l, args[1], math::AbsFOp::create(b, l, args[0]));
              linalg::YieldOp::create(b, l, larger);
            })
            .getResult(0);
    Value scale =
        linalg::GenericOp::create(
            rewriter, loc, rowType, largest,
            emptyTensor(rewriter, loc, rowType, rowSizes),
            SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value quotient = arith::DivFOp::create(b, l, args[0],
                                                     scalar(b, l, f32, 127.0));
              linalg::YieldOp::create(b, l, quotient);
            })
            .getResult(0);
    RankedTensorType result = op.getResult().getType();
    Value init = emptyTensor(rewriter, loc, result,
                             dynamicSizes(rewriter, loc, result, x));
    Value q =
        linalg::GenericOp::create(
            rewriter, loc, result, ValueRange{x, scale}, init,
            SmallVector<AffineMap>{identity, rowMap, identity},
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value v = math::RoundEvenOp::create(
                  b, l, arith::DivFOp::create(b, l, args[0], args[1]));
              v = arith::MaximumFOp::create(b, l, v, scalar(b, l, f32, -127.0));
              v = arith::MinimumFOp::create(b, l, v, scalar(b, l, f32, 127.0));
              Value zero = scalar(b, l, f32, 0.0);
              Value isZero = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OEQ, args[1], zero);
              v = arith::SelectOp::create(b, l, isZero, zero, v);
              Value q8 = arith::FPToSIOp::create(b, l, i8, v);
              linalg::YieldOp::create(b, l, q8);
            })
            .getResult(0);
    if (scale.getType() != op.getScale().getType())
      scale =
          tensor::CastOp::create(rewriter, loc, op.getScale().getType(), scale);
    rewriter.replaceOp(op, {q, scale});
    return success();
  }
};

/// dequantize on its own: one generic that reads each element through a
/// DequantizedReader (a weight that feeds a kernel never gets here).
struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::optional<DequantizedReader> reader =
        DequantizedReader::create(rewriter, loc, op);
    if (!reader)
      return rewriter.notifyMatchFailure(op, "4-bit values not a constant");
    RankedTensorType result = op.getType();
    Value init =
        emptyTensor(rewriter, loc, result,
                    dynamicSizes(rewriter, loc, result, op.getInput()));
    SmallVector<utils::IteratorType> iterators(result.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, result, ValueRange{}, init,
        SmallVector<AffineMap>{
            rewriter.getMultiDimIdentityMap(result.getRank())},
        iterators, [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < result.getRank(); ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(b, l, reader->read(b, l, coords));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// gather: each result element reads data at the index from `indices`
/// (negative indices count from the end of the axis; out-of-range ones are
/// clamped, see readableIndex).
///
/// A table that is a sinter.dequantize (a quantized embedding) is read
/// through its integers: only the gathered rows are dequantized. With
/// `onlyQuantized`, the pattern takes only those gathers (the first round
} // namespace

void sinter::populateQuantizationPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerQuantize, LowerDynamicQuantize, LowerDequantize>(
      patterns.getContext());
}
