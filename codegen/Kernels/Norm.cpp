//===- Norm.cpp - Norms as the runtime's norm kernel ----------------------===//

#include "codegen/Kernels/KernelCall.h"
#include "codegen/Kernels/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"
#include "sinter/runtime.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::kernels;
using namespace sinter::linalg_lowering;

namespace {

/// `value` (rank r, normalized from `axis`) as the norm kernel's 2-D
/// [rows, cols]: dimensions before `axis` flattened into rows, the others
/// into cols. A leading 1 stands in for the rows when `axis` is 0.
Value normRows(OpBuilder &b, Location loc, Value value, int64_t axis) {
  if (axis == 0) {
    value = addLeadingUnit(b, loc, value);
    axis = 1;
  }
  int64_t rank = tensorType(value).getRank();
  if (rank == 2 && axis == 1)
    return value;
  SmallVector<ReassociationIndices> groups = {
      llvm::to_vector(llvm::seq<int64_t>(0, axis)),
      llvm::to_vector(llvm::seq<int64_t>(axis, rank))};
  return tensor::CollapseShapeOp::create(b, loc, value, groups);
}

/// The inverse of normRows: `rows` [rows, cols] back in the shape of
/// `like`.
Value unflattenRows(OpBuilder &b, Location loc, Value rows, Value like,
                    int64_t axis) {
  RankedTensorType type = tensorType(like);
  int64_t rank = type.getRank();
  if (rank == 2 && axis == 1)
    return rows;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  SmallVector<int64_t> shape(type.getShape());
  if (axis == 0) {
    sizes.insert(sizes.begin(), b.getIndexAttr(1));
    shape.insert(shape.begin(), 1);
    ++axis;
    ++rank;
  }
  SmallVector<ReassociationIndices> groups = {
      llvm::to_vector(llvm::seq<int64_t>(0, axis)),
      llvm::to_vector(llvm::seq<int64_t>(axis, rank))};
  Value result = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), rows, groups,
      sizes);
  if (rank == type.getRank())
    return result;
  SmallVector<ReassociationIndices> dropLeading = {{0, 1}};
  for (int64_t d = 2; d < rank; ++d)
    dropLeading.push_back({d});
  return tensor::CollapseShapeOp::create(b, loc, result, dropLeading);
}

/// f32 layer_norm, rms_norm and add_norm as one call of the runtime's norm
/// kernel (runtime/src/norm.c), which reads each row once where the
/// decomposition makes a pass over the whole tensor per statistic.
template <typename OpTy> struct LowerNormToKernel : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto module = op->template getParentOfType<ModuleOp>();
    Value input = op.getInput(), residual, bias;
    int32_t flags = 0;
    if constexpr (std::is_same_v<OpTy, AddNormOp>) {
      residual = op.getResidual();
      bias = op.getBias();
      flags |= SINTER_NORM_HAS_RESIDUAL;
      if (op.getKind() == NormKind::Rms)
        flags |= SINTER_NORM_RMS;
    } else if constexpr (std::is_same_v<OpTy, LayerNormOp>) {
      bias = op.getBias();
    } else {
      flags |= SINTER_NORM_RMS;
    }
    if (bias)
      flags |= SINTER_NORM_HAS_BIAS;
    if (getElementTypeOrSelf(input.getType()) != f32 || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");

    int64_t axis = op.getAxis();
    auto asVector = [&](Value weights) -> Value {
      if (tensorType(weights).getRank() == 1)
        return weights;
      return tensor::CollapseShapeOp::create(
          rewriter, loc, weights,
          SmallVector<ReassociationIndices>{llvm::to_vector(
              llvm::seq<int64_t>(0, tensorType(weights).getRank()))});
    };
    Value rows = normRows(rewriter, loc, input, axis);
    RankedTensorType rowsType = tensorType(rows);
    SmallVector<Value> rowsSizes;
    for (int64_t d = 0; d < 2; ++d)
      if (Value size = dynamicDim(rewriter, loc, rows, d))
        rowsSizes.push_back(size);
    KernelCall call(rewriter, loc, module);
    auto allocRows = [&]() -> Value {
      return call.allocate(rowsType.getShape(), f32, rowsSizes);
    };

    Value x = call.view(rows);
    Value scale = call.view(asVector(op.getScale()));
    Value out = allocRows(), sum;
    if (residual)
      sum = allocRows();
    SmallVector<Value> operands = {
        x,
        residual ? call.view(normRows(rewriter, loc, residual, axis)) : x,
        scale,
        bias ? call.view(asVector(bias)) : scale,
        call.outputView(out),
        sum ? call.outputView(sum) : x,
        call.f32(op.getEpsilon().convertToDouble()),
        call.i32(flags)};
    call.call(SINTER_NORM_KERNEL, operands);
    auto result = [&](Value buffer) {
      return unflattenRows(rewriter, loc, call.asTensor(buffer, rowsType),
                           input, axis);
    };
    if (residual)
      rewriter.replaceOp(op, {result(sum), result(out)});
    else
      rewriter.replaceOp(op, result(out));
    return success();
  }
};

} // namespace

void sinter::populateNormKernelPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerNormToKernel<LayerNormOp>, LowerNormToKernel<RmsNormOp>,
               LowerNormToKernel<AddNormOp>>(patterns.getContext());
}
