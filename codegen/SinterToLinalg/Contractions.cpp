//===- Contractions.cpp - matmul, linear, conv as contractions ------------===//
//
// matmul (numpy semantics), linear and conv as contraction generics; the
// runtime's matmul kernel takes the f32 ones first (codegen/Kernels/).
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::linalg_lowering;

namespace {

/// matmul with numpy semantics as one contraction: iteration dimensions
/// (batch..., m, n, k), 1-D operands without their promoted dimension.
struct LowerMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (hasUnsignedElements(op))
      return rewriter.notifyMatchFailure(op, "unsigned element types");
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType lhs = op.getLhs().getType(), rhs = op.getRhs().getType(),
                     result = op.getType();
    bool lhsVector = lhs.getRank() == 1, rhsVector = rhs.getRank() == 1;
    int64_t batch = result.getRank() - !lhsVector - !rhsVector;
    // Iteration space: batch dims, then m (if any), n (if any), k.
    int64_t m = batch, n = batch + !lhsVector, k = n + !rhsVector;
    int64_t loops = k + 1;
    auto dim = [&](int64_t d) { return getAffineDimExpr(d, context); };
    auto batchExprs = [&](RankedTensorType type, int64_t matrixRank) {
      SmallVector<AffineExpr> exprs;
      int64_t own = type.getRank() - matrixRank;
      for (int64_t i = 0; i < own; ++i) {
        int64_t d = batch - own + i;
        bool broadcast = type.getDimSize(i) == 1 && result.getDimSize(d) != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, context) : dim(d));
      }
      return exprs;
    };
    SmallVector<AffineExpr> lhsExprs = batchExprs(lhs, lhsVector ? 1 : 2);
    if (!lhsVector)
      lhsExprs.push_back(dim(m));
    lhsExprs.push_back(dim(k));
    SmallVector<AffineExpr> rhsExprs = batchExprs(rhs, rhsVector ? 1 : 2);
    rhsExprs.push_back(dim(k));
    if (!rhsVector)
      rhsExprs.push_back(dim(n));
    SmallVector<AffineExpr> outExprs;
    for (int64_t d = 0; d < result.getRank(); ++d)
      outExprs.push_back(dim(d));

    // Dynamic result sizes: batch from whichever operand is dynamic there,
    // m from lhs, n from rhs.
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < result.getRank(); ++d) {
      if (!result.isDynamicDim(d))
        continue;
      if (d < batch) {
        for (auto [value, type, matrixRank] :
             {std::make_tuple(op.getLhs(), lhs, lhsVector ? 1 : 2),
              std::make_tuple(op.getRhs(), rhs, rhsVector ? 1 : 2)}) {
          int64_t i = d - (batch - (type.getRank() - matrixRank));
          if (i >= 0 && type.isDynamicDim(i)) {
            sizes.push_back(tensor::DimOp::create(rewriter, loc, value, i));
            break;
          }
        }
      } else if (d == m && !lhsVector) {
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getLhs(),
                                              lhs.getRank() - 2));
      } else {
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getRhs(),
                                              rhs.getRank() - 1));
      }
    }
    rewriter.replaceOp(
        op, contraction(rewriter, loc, op.getLhs(), op.getRhs(),
                        zeroFilled(rewriter, loc, result, sizes),
                        {AffineMap::get(loops, 0, lhsExprs, context),
                         AffineMap::get(loops, 0, rhsExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1));
    return success();
  }
};

/// linear: a contraction over the last input dimension, accumulating into
/// the broadcast bias (or zeros).
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType result = op.getType();
    int64_t rank = result.getRank(), loops = rank + 1;
    int64_t n = rank - 1, k = rank;
    auto dim = [&](int64_t d) { return getAffineDimExpr(d, context); };
    SmallVector<AffineExpr> inputExprs, outExprs;
    for (int64_t d = 0; d < rank - 1; ++d)
      inputExprs.push_back(dim(d));
    inputExprs.push_back(dim(k));
    for (int64_t d = 0; d < rank; ++d)
      outExprs.push_back(dim(d));
    SmallVector<AffineExpr> weightExprs =
        op.getTransposeWeight() ? SmallVector<AffineExpr>{dim(n), dim(k)}
                                : SmallVector<AffineExpr>{dim(k), dim(n)};
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!result.isDynamicDim(d))
        continue;
      if (d < rank - 1)
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d));
      else
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getWeight(),
                                              op.getTransposeWeight() ? 0 : 1));
    }
    Value init;
    if (Value bias = op.getBias())
      init = elementwise(
          rewriter, loc, result, bias,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; },
          sizes);
    else
      init = zeroFilled(rewriter, loc, result, sizes);
    rewriter.replaceOp(
        op, contraction(rewriter, loc, op.getInput(), op.getWeight(), init,
                        {AffineMap::get(loops, 0, inputExprs, context),
                         AffineMap::get(loops, 0, weightExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1));
    return success();
  }
};

/// conv (N-d, grouped): zero-pad the input, then one contraction over the
/// input channels of the group and the kernel window.
struct LowerConv : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    // A dynamic batch (tf2onnx's unk__ dimension) is fine: it only sizes
    // the outermost parallel loop.
    if (!weight.hasStaticShape() ||
        !input.clone(input.getShape().drop_front()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic convolution shapes");
    int64_t spatial = input.getRank() - 2, group = op.getGroup();
    int64_t groupChannels = weight.getDimSize(1),
            groupOutputs = weight.getDimSize(0) / group;
    Value padded = paddedConvInput(rewriter, loc, op);
    // Iteration space: n, m, out spatial..., c, kernel spatial...
    int64_t loops = 2 + spatial + 1 + spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    AffineExpr channel =
        d(1).floorDiv(groupOutputs) * groupChannels + d(2 + spatial);
    SmallVector<AffineExpr> inExprs = {d(0), channel},
                            wExprs = {d(1), d(2 + spatial)},
                            outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < spatial; ++i) {
      inExprs.push_back(d(2 + i) * op.getStrides()[i] +
                        d(3 + spatial + i) * op.getDilations()[i]);
      wExprs.push_back(d(3 + spatial + i));
      outExprs.push_back(d(2 + i));
    }
    SmallVector<Value> batch;
    if (Value size = dynamicDim(rewriter, loc, op.getInput(), 0))
      batch.push_back(size);
    Value init =
        channelBiasOrZeros(rewriter, loc, result, op.getBias(), batch);
    rewriter.replaceOp(
        op, contraction(rewriter, loc, padded, op.getWeight(), init,
                        {AffineMap::get(loops, 0, inExprs, context),
                         AffineMap::get(loops, 0, wExprs, context),
                         AffineMap::get(loops, 0, outExprs, context)},
                        loops, 1 + spatial));
    return success();
  }
};

/// topk by ranking: element i's rank is the number of elements before it
/// in the output order (larger, or equal with a lower index); the element
/// of rank r < k goes to position r. Quadratic in the axis length, which
} // namespace

void sinter::populateContractionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMatmul, LowerLinear, LowerConv>(patterns.getContext());
}
