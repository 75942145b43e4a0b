//===- Probes.cpp - Probes as calls of the probe kernels ------------------===//
//
// The probes of an instrumented build (`sinter-insert-probes`) as calls of
// the runtime's probe kernels (runtime/src/probe.c).
//
//===----------------------------------------------------------------------===//

#include "codegen/SinterToLinalg/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "codegen/Kernels/KernelCall.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "sinter/runtime.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::kernels;
using namespace sinter::linalg_lowering;

namespace {

/// `value` as [outer, channels, inner] around dimension `axis`: what the
/// tensor probe kernel reads (unit sizes stand in for missing sides).
Value channelView(OpBuilder &b, Location loc, Value value, int64_t axis) {
  RankedTensorType type = tensorType(value);
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, type.getShape());
  shape.push_back(1);
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  llvm::append_range(sizes, tensor::getMixedSizes(b, loc, value));
  sizes.push_back(b.getIndexAttr(1));
  // Source dimension d becomes d + 1; the first and last take the units.
  SmallVector<ReassociationIndices> expand;
  for (int64_t d = 0; d < rank; ++d) {
    ReassociationIndices group = {d + 1};
    if (d == 0)
      group.insert(group.begin(), 0);
    if (d == rank - 1)
      group.push_back(rank + 1);
    expand.push_back(group);
  }
  Value padded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      expand, sizes);
  SmallVector<ReassociationIndices> collapse = {
      llvm::to_vector(llvm::seq<int64_t>(0, axis + 1)),
      {axis + 1},
      llvm::to_vector(llvm::seq<int64_t>(axis + 2, rank + 2))};
  return tensor::CollapseShapeOp::create(b, loc, padded, collapse);
}

/// The probes of an instrumented build (`sinter-insert-probes`) as calls of
/// the runtime's probe kernels (runtime/src/probe.c), which read the values
/// and record into the session that runs the model.
struct LowerProbeTensor : OpRewritePattern<ProbeTensorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ProbeTensorOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType type = op.getInput().getType();
    if (!type.getElementType().isF32() || !module)
      return rewriter.notifyMatchFailure(op, "the probe kernel reads f32");
    Value input = op.getInput();
    int64_t axis = op.getChannelAxis();
    if (type.getRank() == 0)
      input = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1}, type.getElementType()),
          input, ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    Value view = channelView(rewriter, loc, input, axis);
    KernelCall call(rewriter, loc, module);
    call.call(SINTER_PROBE_TENSOR_KERNEL,
              {call.i64(op.getId()), call.view(view)});
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerProbeAttention : OpRewritePattern<ProbeAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ProbeAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    Type f32 = rewriter.getF32Type();
    for (Value v : {Value(op.getQuery()), Value(op.getKey()),
                    Value(op.getOutput()), Value(op.getMask())})
      if (v && getElementTypeOrSelf(v.getType()) != f32)
        return rewriter.notifyMatchFailure(op, "the probe kernel reads f32");
    if (!module)
      return failure();
    // Only now: a pattern that fails must leave the IR as it found it.
    Value mask = maskAsRank4(rewriter, loc, op.getMask());
    KernelCall call(rewriter, loc, module);
    Value q = call.view(op.getQuery());
    int32_t flags = (op.getCausal() ? SINTER_ATTENTION_CAUSAL : 0) |
                    (mask ? SINTER_ATTENTION_HAS_MASK : 0);
    call.call(SINTER_PROBE_ATTENTION_KERNEL,
              {call.i64(op.getId()), q, call.view(op.getKey()),
               mask ? call.view(mask) : q, call.view(op.getOutput()),
               call.f32(op.getScale().convertToDouble()), call.i32(flags)});
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerProbeRouting : OpRewritePattern<ProbeRoutingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ProbeRoutingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return failure();
    Value indices = op.getIndices();
    RankedTensorType type = tensorType(indices);
    Type i64 = rewriter.getI64Type();
    if (type.getRank() == 0)
      indices = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1}, i64), indices,
          ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    else if (type.getRank() > 1)
      indices = tensor::CollapseShapeOp::create(
          rewriter, loc, indices,
          ArrayRef<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
    KernelCall call(rewriter, loc, module);
    call.call(
        SINTER_PROBE_ROUTING_KERNEL,
        {call.i64(op.getId()), call.view(indices), call.i64(op.getExperts())});
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void sinter::populateProbePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerProbeTensor, LowerProbeAttention, LowerProbeRouting>(
      patterns.getContext());
}
