//===- DataMovement.cpp - Transposes, reshapes, slices, gathers -----------===//
//
// Ops that move elements without computing on them: transpose, reshape,
// expand, slice, concat, split, gather (also through a dequantize),
// gather_elements, scatter_elements, range and trilu.
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "ir/ShapeInference.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::linalg_lowering;

namespace {

struct LowerTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    for (auto [d, from] : llvm::enumerate(op.getPerm()))
      if (op.getType().isDynamicDim(d))
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, op.getInput(), from));
    Value init = emptyTensor(rewriter, loc, op.getType(), sizes);
    rewriter.replaceOpWithNewOp<linalg::TransposeOp>(op, op.getInput(), init,
                                                     op.getPerm());
    return success();
  }
};

/// reshape: tensor.reshape with the target sizes as an index tensor.
struct LowerReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    auto dynamic = op.getDynamicShape().begin();
    for (int64_t size : op.getStaticShape())
      sizes.push_back(
          ShapedType::isDynamic(size)
              ? *dynamic++
              : Value(arith::ConstantIndexOp::create(rewriter, loc, size)));
    auto shapeType = RankedTensorType::get({static_cast<int64_t>(sizes.size())},
                                           rewriter.getIndexType());
    Value shape =
        tensor::FromElementsOp::create(rewriter, loc, shapeType, sizes);
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, op.getType(),
                                                   op.getInput(), shape);
    return success();
  }
};

/// expand: a broadcasting copy; dynamic target sizes come from the op.
struct LowerExpand : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType(), input = op.getInput().getType();
    ArrayRef<int64_t> target = op.getStaticShape();
    int64_t rank = result.getRank();
    SmallVector<Value> sizes;
    auto dynamic = op.getDynamicShape().begin();
    SmallVector<Value> targetValues;
    for (int64_t size : target)
      targetValues.push_back(ShapedType::isDynamic(size) ? *dynamic++
                                                         : Value());
    for (int64_t d = 0; d < rank; ++d) {
      if (!result.isDynamicDim(d))
        continue;
      int64_t j = d - (rank - static_cast<int64_t>(target.size()));
      int64_t i = d - (rank - input.getRank());
      if (j >= 0 && targetValues[j])
        sizes.push_back(targetValues[j]);
      else
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), i));
    }
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, result, op.getInput(),
                [](OpBuilder &, Location, ValueRange args) { return args[0]; },
                sizes));
    return success();
  }
};

/// A static ONNX slice of one dimension of static size `dim`, as
/// tensor.extract_slice takes it: the elements it reads, in increasing
/// order, and whether the slice wants them reversed (negative steps).
struct DimSlice {
  int64_t offset, size, stride;
  bool reversed;
};

DimSlice staticSlice(int64_t dim, int64_t start, int64_t end, int64_t step) {
  int64_t size = slicedDimSize(dim, start, end, step);
  if (size == 0)
    return {0, 0, 1, false};
  if (start < 0)
    start += dim;
  if (step > 0)
    return {std::clamp<int64_t>(start, 0, dim), size, step, false};
  // start, start + step, ... read backwards: the same elements from the
  // last one up, then reversed.
  start = std::clamp<int64_t>(start, 0, dim - 1);
  return {start + (size - 1) * step, size, -step, true};
}

/// slice: tensor.extract_slice of the elements it reads; dimensions with a
/// negative step are then reversed by a linalg.generic reading index
/// (size - 1 - i). Empty results are just empty tensors.
struct LowerSlice : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType input = op.getInput().getType(), result = op.getType();
    if (result.hasStaticShape() && result.getNumElements() == 0) {
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, result.getShape(),
                                                   result.getElementType());
      return success();
    }
    SmallVector<OpFoldResult> offsets, sizes, strides;
    SmallVector<AffineExpr> readExprs;
    bool reverse = false;
    for (int64_t d = 0; d < input.getRank(); ++d) {
      int64_t start = op.getStarts()[d], end = op.getEnds()[d],
              step = op.getSteps()[d];
      AffineExpr index = rewriter.getAffineDimExpr(d);
      if (input.isDynamicDim(d)) {
        // Only the whole of a dynamic dimension is handled so far.
        if (start != 0 || end != std::numeric_limits<int64_t>::max() ||
            step != 1)
          return rewriter.notifyMatchFailure(op, "partial dynamic slice");
        offsets.push_back(rewriter.getIndexAttr(0));
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, op.getInput(), d).getResult());
        strides.push_back(rewriter.getIndexAttr(1));
        readExprs.push_back(index);
        continue;
      }
      DimSlice slice = staticSlice(input.getDimSize(d), start, end, step);
      offsets.push_back(rewriter.getIndexAttr(slice.offset));
      sizes.push_back(rewriter.getIndexAttr(slice.size));
      strides.push_back(rewriter.getIndexAttr(slice.stride));
      readExprs.push_back(slice.reversed ? slice.size - 1 - index : index);
      reverse |= slice.reversed;
    }
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, result, op.getInput(), offsets, sizes, strides);
    if (!reverse) {
      rewriter.replaceOp(op, slice);
      return success();
    }
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < result.getRank(); ++d)
      if (result.isDynamicDim(d))
        dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, slice, d));
    Value init = emptyTensor(rewriter, loc, result, dynamicSizes);
    SmallVector<utils::IteratorType> iterators(result.getRank(),
                                               utils::IteratorType::parallel);
    auto reversed = linalg::GenericOp::create(
        rewriter, loc, result, slice, init,
        {AffineMap::get(result.getRank(), 0, readExprs, getContext()),
         rewriter.getMultiDimIdentityMap(result.getRank())},
        iterators, [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOp(op, reversed.getResult(0));
    return success();
  }
};

struct LowerConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, op.getType(),
                                                  op.getAxis(), op.getInputs());
    return success();
  }
};

struct LowerSplit : OpRewritePattern<SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType input = op.getInput().getType();
    int64_t axis = op.getAxis(), offset = 0;
    SmallVector<Value> pieces;
    for (auto [size, result] :
         llvm::zip_equal(op.getSizes(), op.getResults())) {
      SmallVector<OpFoldResult> offsets, sizes,
          strides(input.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d = 0; d < input.getRank(); ++d) {
        // An empty piece may start at the end; extract_slice wants it inside.
        offsets.push_back(
            rewriter.getIndexAttr(d == axis && size != 0 ? offset : 0));
        if (d == axis)
          sizes.push_back(rewriter.getIndexAttr(size));
        else if (input.isDynamicDim(d))
          sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d)
                              .getResult());
        else
          sizes.push_back(rewriter.getIndexAttr(input.getDimSize(d)));
      }
      auto pieceType = cast<RankedTensorType>(result.getType());
      if (size == 0) {
        // Nothing to read (and an input of size zero has no offset inside).
        SmallVector<Value> dynamicSizes;
        for (int64_t d = 0; d < pieceType.getRank(); ++d)
          if (d != axis)
            if (Value size = dynamicDim(rewriter, loc, op.getInput(), d))
              dynamicSizes.push_back(size);
        pieces.push_back(emptyTensor(rewriter, loc, pieceType, dynamicSizes));
      } else {
        pieces.push_back(tensor::ExtractSliceOp::create(
            rewriter, loc, pieceType, op.getInput(), offsets, sizes, strides));
      }
      offset += size;
    }
    rewriter.replaceOp(op, pieces);
    return success();
  }
};

/// The index read from an i32/i64 indices tensor, wrapped when negative.
Value wrapIndex(OpBuilder &b, Location loc, Value index, Value size) {
  index = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index,
                            arith::ConstantIndexOp::create(b, loc, 0));
  return arith::SelectOp::create(
      b, loc, negative, arith::AddIOp::create(b, loc, index, size), index);
}

/// wrapIndex, then clamped into [0, size - 1] for reading. ONNX makes an
/// index outside [-size, size) an error; a compiled model cannot report
/// one from inside a loop, and must never read outside its buffers (a
/// token id beyond the vocabulary is user input), so it reads the nearest
/// element instead.
Value readableIndex(OpBuilder &b, Location loc, Value index, Value size) {
  Value wrapped = wrapIndex(b, loc, index, size);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value last = arith::SubIOp::create(b, loc, size,
                                     arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MaxSIOp::create(b, loc, zero,
                                arith::MinSIOp::create(b, loc, wrapped, last));
}

/// gather: each result element reads data at the index from `indices`
/// (negative indices count from the end of the axis; out-of-range ones are
/// clamped, see readableIndex), or reads it through `table` when the data
/// is a dequantize read by its integers.
LogicalResult lowerGather(GatherOp op, PatternRewriter &rewriter,
                          const std::optional<DequantizedReader> &table) {
  Location loc = op.getLoc();
  MLIRContext *context = rewriter.getContext();
  Value data = op.getData(), indices = op.getIndices();
  RankedTensorType dataType = op.getData().getType(),
                   indexType = op.getIndices().getType(), result = op.getType();
  int64_t axis = op.getAxis(), indexRank = indexType.getRank();
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < result.getRank(); ++d) {
    if (!result.isDynamicDim(d))
      continue;
    if (d < axis)
      sizes.push_back(tensor::DimOp::create(rewriter, loc, data, d));
    else if (d < axis + indexRank)
      sizes.push_back(tensor::DimOp::create(rewriter, loc, indices, d - axis));
    else
      sizes.push_back(
          tensor::DimOp::create(rewriter, loc, data, d - indexRank + 1));
  }
  Value init = emptyTensor(rewriter, loc, result, sizes);
  SmallVector<AffineExpr> indexExprs;
  for (int64_t i = 0; i < indexRank; ++i)
    indexExprs.push_back(getAffineDimExpr(axis + i, context));
  SmallVector<AffineMap> maps = {
      AffineMap::get(result.getRank(), 0, indexExprs, context),
      rewriter.getMultiDimIdentityMap(result.getRank())};
  SmallVector<utils::IteratorType> iterators(result.getRank(),
                                             utils::IteratorType::parallel);
  Value axisSize = tensor::DimOp::create(rewriter, loc, data, axis);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, result, indices, init, maps, iterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value index = readableIndex(b, l, args[0], axisSize);
        SmallVector<Value> coords;
        for (int64_t d = 0; d < dataType.getRank(); ++d) {
          if (d < axis)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          else if (d == axis)
            coords.push_back(index);
          else
            coords.push_back(linalg::IndexOp::create(b, l, d + indexRank - 1));
        }
        linalg::YieldOp::create(
            b, l,
            table ? table->read(b, l, coords)
                  : Value(tensor::ExtractOp::create(b, l, data, coords)));
      });
  rewriter.replaceOp(op, generic.getResult(0));
  return success();
}

/// A gather whose table is a sinter.dequantize (a quantized embedding),
/// read through its integers: only the gathered rows are dequantized
/// (populateGatherOfDequantizedPatterns says when it runs).
struct LowerGatherOfDequantized : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    auto dq = op.getData().getDefiningOp<DequantizeOp>();
    if (!dq)
      return rewriter.notifyMatchFailure(op, "table not quantized");
    std::optional<DequantizedReader> table =
        DequantizedReader::create(rewriter, op.getLoc(), dq);
    if (!table)
      return rewriter.notifyMatchFailure(op, "table not readable");
    return lowerGather(op, rewriter, table);
  }
};

struct LowerGather : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    return lowerGather(op, rewriter, std::nullopt);
  }
};

/// layer_norm and rms_norm, decomposed: statistics over the trailing

struct LowerGatherElements : OpRewritePattern<GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData();
    int64_t axis = op.getAxis(), rank = op.getType().getRank();
    Value axisSize = tensor::DimOp::create(rewriter, loc, data, axis);
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < rank; ++i)
      if (Value size = dynamicDim(rewriter, loc, op.getIndices(), i))
        sizes.push_back(size);
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, op.getType(), op.getIndices(),
                [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                  SmallVector<Value> coords;
                  for (int64_t i = 0; i < rank; ++i)
                    coords.push_back(
                        i == axis ? readableIndex(b, l, args[0], axisSize)
                                  : Value(linalg::IndexOp::create(b, l, i)));
                  return tensor::ExtractOp::create(b, l, data, coords);
                },
                sizes));
    return success();
  }
};

/// scatter_elements: every output element starts as data and takes the
/// update whose index along the axis names it; later updates win.
struct LowerScatterElements : OpRewritePattern<ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType data = op.getData().getType(),
                     indices = op.getIndices().getType();
    int64_t axis = op.getAxis(), rank = data.getRank();
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis && (indices.isDynamicDim(i) || data.isDynamicDim(i) ||
                        indices.getDimSize(i) != data.getDimSize(i)))
        return rewriter.notifyMatchFailure(
            op, "indices narrower than data outside the axis");
    // loops: the data dimensions, then t over the indices' axis.
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    SmallVector<AffineExpr> update, out;
    for (int64_t i = 0; i < rank; ++i) {
      update.push_back(i == axis ? d(rank) : d(i));
      out.push_back(d(i));
    }
    SmallVector<utils::IteratorType> iterators(rank + 1,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value axisSize = tensor::DimOp::create(rewriter, loc, op.getData(), axis);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, op.getType(),
        ValueRange{op.getIndices(), op.getUpdates()}, op.getData(),
        {AffineMap::get(rank + 1, 0, update, context),
         AffineMap::get(rank + 1, 0, update, context),
         AffineMap::get(rank + 1, 0, out, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value target = wrapIndex(b, l, args[0], axisSize);
          Value here = linalg::IndexOp::create(b, l, axis);
          Value match = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              target, here);
          linalg::YieldOp::create(
              b, l,
              Value(arith::SelectOp::create(b, l, match, args[1], args[2])));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// range: element i is start + i * delta; the length,
/// max(ceil((limit - start) / delta), 0), is computed at run time when the
/// result type does not give it.
struct LowerRange : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RangeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType();
    Type type = result.getElementType();
    bool isFloat = isa<FloatType>(type);
    auto scalarOf = [&](Value tensor) -> Value {
      return tensor::ExtractOp::create(rewriter, loc, tensor, ValueRange{});
    };
    Value start = scalarOf(op.getStart()), delta = scalarOf(op.getDelta());
    SmallVector<Value> sizes;
    if (result.isDynamicDim(0)) {
      Value limit = scalarOf(op.getLimit());
      Value count;
      if (isFloat) {
        Value span = arith::SubFOp::create(rewriter, loc, limit, start);
        Value steps = math::CeilOp::create(
            rewriter, loc, arith::DivFOp::create(rewriter, loc, span, delta));
        count = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                        steps);
      } else {
        Value span = arith::SubIOp::create(rewriter, loc, limit, start);
        count = arith::CeilDivSIOp::create(rewriter, loc, span, delta);
        if (!type.isInteger(64))
          count = arith::ExtSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                         count);
      }
      Value zero = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getI64IntegerAttr(0));
      count = arith::MaxSIOp::create(rewriter, loc, count, zero);
      sizes.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), count));
    }
    rewriter.replaceOp(
        op, elementwise(
                rewriter, loc, result, ValueRange{},
                [&](OpBuilder &b, Location l, ValueRange) -> Value {
                  Value i = arith::IndexCastOp::create(
                      b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 0));
                  if (isFloat) {
                    Value f = arith::SIToFPOp::create(b, l, type, i);
                    return arith::AddFOp::create(
                        b, l, start, arith::MulFOp::create(b, l, f, delta));
                  }
                  Value n = type.isInteger(64)
                                ? i
                                : Value(arith::TruncIOp::create(b, l, type, i));
                  return arith::AddIOp::create(
                      b, l, start, arith::MulIOp::create(b, l, n, delta));
                },
                sizes));
    return success();
  }
};

/// trilu: keeps element (i, j) of the last two dimensions where j - i <= k
/// (lower) or j - i >= k (upper), zero elsewhere.
struct LowerTrilu : OpRewritePattern<TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TriluOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank(), k = op.getK();
    bool upper = op.getUpper();
    rewriter.replaceOp(
        op,
        elementwise(rewriter, op.getLoc(), type, op.getInput(),
                    [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                      Value i = linalg::IndexOp::create(b, l, rank - 2);
                      Value j = linalg::IndexOp::create(b, l, rank - 1);
                      Value diagonal = arith::SubIOp::create(b, l, j, i);
                      Value kValue = arith::ConstantIndexOp::create(b, l, k);
                      Value keep = arith::CmpIOp::create(
                          b, l,
                          upper ? arith::CmpIPredicate::sge
                                : arith::CmpIPredicate::sle,
                          diagonal, kValue);
                      Value zero = scalar(b, l, type.getElementType(), 0.0);
                      return arith::SelectOp::create(b, l, keep, args[0], zero);
                    }));
    return success();
  }
};

/// cumsum as a masked reduction: out[i] sums x[t] over t <= i (t < i when
/// exclusive; t >= i / t > i when reversed). Quadratic in the axis, which
} // namespace

void sinter::populateDataMovementPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerTranspose, LowerReshape, LowerExpand, LowerSlice,
               LowerConcat, LowerSplit, LowerGather, LowerGatherElements,
               LowerScatterElements, LowerRange, LowerTrilu>(
      patterns.getContext());
}

void sinter::populateGatherOfDequantizedPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerGatherOfDequantized>(patterns.getContext());
}
