//===- Attention.cpp - Attention as the flash-attention kernel ------------===//

#include "codegen/Kernels/KernelCall.h"
#include "codegen/Kernels/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"
#include "sinter/runtime.h"

#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace sinter;
using namespace sinter::kernels;
using namespace sinter::linalg_lowering;

namespace {

/// f32 attention as a call of the runtime's flash-attention kernel
/// (runtime/src/attention.c): an online softmax over blocks of keys, so the
/// Sq x Sk scores never exist (LowerAttention's contractions materialize
/// them). The kernel reads strided views of Q, K, V and the mask, in place
/// through the transposes and splits that separate the heads
/// (inPlaceView), and writes a new buffer, which bufferization takes as the
/// op's result; when the only user transposes the heads back (keeping the
/// last dimension innermost), the kernel writes that transpose's buffer
/// through the inverse view instead. Runs before the ops it reads through
/// are lowered (sinter-lower-to-kernels runs before convert-sinter-to-linalg).
struct LowerAttentionToKernel : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType();
    Type f32 = rewriter.getF32Type();
    auto isF32 = [&](Value v) {
      return !v || getElementTypeOrSelf(v.getType()) == f32;
    };
    auto fitsKernel = [](int64_t headDim) {
      return !ShapedType::isDynamic(headDim) &&
             headDim <= SINTER_ATTENTION_MAX_HEAD_DIM;
    };
    auto module = op->getParentOfType<ModuleOp>();
    if (!isF32(op.getQuery()) || !isF32(op.getKey()) || !isF32(op.getValue()) ||
        !isF32(op.getMask()) ||
        !fitsKernel(op.getQuery().getType().getDimSize(3)) ||
        !fitsKernel(op.getValue().getType().getDimSize(3)) ||
        ShapedType::isDynamic(op.getKey().getType().getDimSize(1)) || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");

    KernelCall call(rewriter, loc, module);
    Value mask = maskAsRank4(rewriter, loc, op.getMask());
    TransposeOp heldBack;
    if (op->hasOneUse() && result.hasStaticShape())
      if (auto user = dyn_cast<TransposeOp>(*op->user_begin());
          user && keepsLastDimension(user))
        heldBack = user;
    // With heldBack, the buffer is in the transpose's order and the kernel
    // writes it through the inverse permutation (the result's shape).
    Value out = call.allocate(
        heldBack ? heldBack.getType().getShape() : result.getShape(), f32,
        heldBack ? SmallVector<Value>()
                 : attentionResultSizes(rewriter, loc, op));
    Value outView =
        heldBack ? transposedView(rewriter, loc, out,
                                  invertPermutationVector(heldBack.getPerm()))
                 : out;
    Value q = call.inPlaceView(op.getQuery());
    int32_t flags = (op.getCausal() ? SINTER_ATTENTION_CAUSAL : 0) |
                    (mask ? SINTER_ATTENTION_HAS_MASK : 0);
    SmallVector<Value> operands = {q,
                                   call.inPlaceView(op.getKey()),
                                   call.inPlaceView(op.getValue()),
                                   mask ? call.inPlaceView(mask) : q,
                                   call.outputView(outView),
                                   call.f32(op.getScale().convertToDouble()),
                                   call.i32(flags)};
    call.call(SINTER_ATTENTION_KERNEL, operands);
    Operation *replaced = heldBack ? heldBack.getOperation() : op;
    rewriter.replaceOp(replaced,
                       call.asTensor(out, replaced->getResult(0).getType()));
    if (heldBack)
      rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void sinter::populateAttentionKernelPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttentionToKernel>(patterns.getContext());
}
