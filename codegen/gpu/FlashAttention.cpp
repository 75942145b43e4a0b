//===- FlashAttention.cpp - Fused attention as one GPU kernel -------------===//
//
// sinterc lowers each f32 attention whose head sizes the flash-attention
// kernel takes (sinter-lower-to-kernels, Kernels/Attention.cpp) to a call
// of the runtime's CPU kernel on strided views of Q, K, V, the mask and the
// result. On the GPU, that call becomes one launch of a flash-attention
// kernel: the Sq x Sk scores never exist in memory.
//
// Each block takes 64 query rows of one (batch, head), one row a thread,
// and walks the keys in stages: its threads copy the stage's keys and
// values into shared memory, then each thread scores 16 keys at a time
// against its query row (held in registers, scaled), adds the mask, hides
// the future under causal masking, and folds them into its running
// maximum, sum and output row (registers) by the online softmax. A row
// whose keys are all hidden ends as zeros, as on the CPU.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/gpu/GpuPipeline.h"
#include "codegen/gpu/KernelBuilding.h"
#include "sinter/runtime.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_FLASHATTENTIONFORGPU
#include "codegen/Passes.h.inc"

namespace {

constexpr int64_t kRowsPerBlock = 64; // one query row a thread
constexpr int64_t kKeysPerStep = 16;  // scores held in registers at once
// Static shared memory is at most 48 KiB a block.
constexpr int64_t kSharedBytes = 48 * 1024;

/// The static size of dimension 3 (the head size) of a view the CPU
/// lowering passes (a cast to a fully dynamic view of a static one).
std::optional<int64_t> headSize(Value view) {
  if (auto widened = view.getDefiningOp<memref::CastOp>())
    view = widened.getSource();
  auto type = cast<MemRefType>(view.getType());
  if (type.isDynamicDim(3))
    return std::nullopt;
  return type.getDimSize(3);
}

class AttentionKernel {
public:
  AttentionKernel(func::CallOp call, int64_t d, int64_t dv, bool causal,
                  bool hasMask)
      : call(call), loc(call.getLoc()), d(d), dv(dv), causal(causal),
        hasMask(hasMask) {
    // As many keys a stage as fit, in steps of kKeysPerStep.
    keysPerStage = std::clamp<int64_t>(
        kSharedBytes / (4 * (d + dv)) / kKeysPerStep * kKeysPerStep,
        kKeysPerStep, 64);
  }

  void rewrite() {
    OpBuilder b(call);
    q = call.getOperand(0);
    k = call.getOperand(1);
    v = call.getOperand(2);
    mask = call.getOperand(3);
    out = call.getOperand(4);
    scale = call.getOperand(5);
    auto dim = [&](Value view, int64_t i) {
      return b.createOrFold<memref::DimOp>(loc, view, i);
    };
    batch = dim(q, 0);
    heads = dim(q, 1);
    queries = dim(q, 2);
    keys = dim(k, 2);
    Value kvHeads = dim(k, 1);
    group = b.createOrFold<arith::DivUIOp>(loc, heads, kvHeads);
    if (hasMask)
      for (int64_t i = 0; i < 4; ++i)
        maskSizes.push_back(dim(mask, i));
    Value one = index(b, 1);
    Value rowTiles = b.createOrFold<arith::MaxUIOp>(
        loc,
        b.createOrFold<arith::CeilDivUIOp>(loc, queries,
                                           index(b, kRowsPerBlock)),
        one);
    pairs = b.createOrFold<arith::MulIOp>(loc, batch, heads);
    // An empty batch still launches one block, whose rows are inactive.
    Value grid = b.createOrFold<arith::MaxUIOp>(
        loc, b.createOrFold<arith::MulIOp>(loc, rowTiles, pairs), one);

    auto tile = [&](int64_t width) {
      return sharedTile({keysPerStage, width}, b.getF32Type());
    };
    auto launch = gpu::LaunchOp::create(
        b, loc, grid, one, one, index(b, kRowsPerBlock), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, TypeRange{tile(d), tile(dv)},
        /*privateAttributions=*/{}, nullptr, nullptr, nullptr,
        kernelModule(b.getContext()));
    sharedK = launch.getWorkgroupAttributions()[0];
    sharedV = launch.getWorkgroupAttributions()[1];
    OpBuilder kb = OpBuilder::atBlockEnd(&launch.getBody().front());
    auto terminator = gpu::TerminatorOp::create(kb, loc);
    kb.setInsertionPoint(terminator);
    buildKernel(kb, launch.getBlockIds().x, launch.getThreadIds().x,
                rowTiles);
    call.erase();
  }

private:
  Value index(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value f32(OpBuilder &b, double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
  Value below(OpBuilder &b, Value x, Value limit) {
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x,
                                         limit);
  }

  /// The threads copy keys [first, first + keysPerStage) of K and V (zeros
  /// past the last key) into the shared tiles.
  void stage(OpBuilder &b, Value tid, Value first, Value batchIndex,
             Value kvHead) {
    for (auto [source, tile, width] :
         {std::make_tuple(k, sharedK, d), std::make_tuple(v, sharedV, dv)}) {
      auto loop = scf::ForOp::create(b, loc, tid,
                                     index(b, keysPerStage * width),
                                     index(b, kRowsPerBlock));
      OpBuilder body(loop.getBody()->getTerminator());
      Value element = loop.getInductionVar();
      Value key = body.createOrFold<arith::DivUIOp>(loc, element,
                                                    index(body, width));
      Value e = body.createOrFold<arith::RemUIOp>(loc, element,
                                                  index(body, width));
      Value globalKey = body.createOrFold<arith::AddIOp>(loc, first, key);
      Value value =
          loadOrZero(body, loc, source, {batchIndex, kvHead, globalKey, e},
                     below(body, globalKey, keys));
      memref::StoreOp::create(body, loc, value, tile, ValueRange{key, e});
    }
  }

  /// The mask's index in dimension `i` for `index` (0 where it broadcasts).
  Value maskIndex(OpBuilder &b, int64_t i, Value index) {
    Value broadcast = b.createOrFold<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, maskSizes[i], this->index(b, 1));
    return b.createOrFold<arith::SelectOp>(loc, broadcast, this->index(b, 0),
                                           index);
  }

  void buildKernel(OpBuilder &b, Value blockX, Value tid, Value rowTiles) {
    Value rowTile = b.createOrFold<arith::RemUIOp>(loc, blockX, rowTiles);
    Value pair = b.createOrFold<arith::DivUIOp>(loc, blockX, rowTiles);
    Value head = b.createOrFold<arith::RemUIOp>(loc, pair, heads);
    Value batchIndex = b.createOrFold<arith::DivUIOp>(loc, pair, heads);
    Value kvHead = b.createOrFold<arith::DivUIOp>(loc, head, group);
    Value row = b.createOrFold<arith::AddIOp>(
        loc, b.createOrFold<arith::MulIOp>(loc, rowTile,
                                           index(b, kRowsPerBlock)),
        tid);
    Value active = arith::AndIOp::create(b, loc, below(b, row, queries),
                                         below(b, pair, pairs));
    // Causal: row i sees the keys up to i + (Sk - Sq), aligned to the end
    // as in decoding; as a bound on key + Sq to stay unsigned.
    Value lastKeyPlusSq = b.createOrFold<arith::AddIOp>(loc, row, keys);
    // The mask's indices but the key's are the same for the whole row.
    if (hasMask)
      maskRowIndices = {maskIndex(b, 0, batchIndex), maskIndex(b, 1, head),
                        maskIndex(b, 2, row)};

    // The query row, scaled (as the CPU kernel does).
    SmallVector<Value> query;
    for (int64_t e = 0; e < d; ++e)
      query.push_back(arith::MulFOp::create(
          b, loc,
          loadOrZero(b, loc, q, {batchIndex, head, row, index(b, e)}, active),
          scale));

    Value negInf = f32(b, -std::numeric_limits<double>::infinity());
    SmallVector<Value> init = {negInf, f32(b, 0.0)};
    init.append(dv, f32(b, 0.0));
    auto stages = scf::ForOp::create(b, loc, index(b, 0), keys,
                                     index(b, keysPerStage), init);
    {
      OpBuilder body = OpBuilder::atBlockBegin(stages.getBody());
      Value first = stages.getInductionVar();
      stage(body, tid, first, batchIndex, kvHead);
      gpu::BarrierOp::create(body, loc);
      auto steps = scf::ForOp::create(body, loc, index(body, 0),
                                      index(body, keysPerStage),
                                      index(body, kKeysPerStep),
                                      stages.getRegionIterArgs());
      {
        OpBuilder step = OpBuilder::atBlockBegin(steps.getBody());
        SmallVector<Value> state(steps.getRegionIterArgs());
        foldKeys(step, first, steps.getInductionVar(), lastKeyPlusSq, query,
                 state);
        scf::YieldOp::create(step, loc, state);
      }
      // The next stage overwrites the tiles only when every row is done.
      gpu::BarrierOp::create(body, loc);
      scf::YieldOp::create(body, loc, steps.getResults());
    }

    // out = acc / sum; a row whose keys are all hidden attends to nothing.
    Value sum = stages.getResult(1);
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, sum,
                              f32(b, 0.0));
    Value inverse = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, f32(b, 1.0), sum),
        f32(b, 0.0));
    auto ifOp = scf::IfOp::create(b, loc, active, /*withElseRegion=*/false);
    OpBuilder then = ifOp.getThenBodyBuilder();
    for (int64_t e = 0; e < dv; ++e)
      memref::StoreOp::create(
          then, loc,
          arith::MulFOp::create(then, loc, stages.getResult(2 + e), inverse),
          out, ValueRange{batchIndex, head, row, index(then, e)});
  }

  /// Scores kKeysPerStep keys of the stage (from `offset` in the tiles)
  /// and folds them into `state`: running maximum, sum, output row.
  void foldKeys(OpBuilder &b, Value first, Value offset, Value lastKeyPlusSq,
                ArrayRef<Value> query, SmallVector<Value> &state) {
    Value negInf = f32(b, -std::numeric_limits<double>::infinity());
    SmallVector<Value> scores;
    SmallVector<Value> keyInTile;
    Value maximum = state[0];
    for (int64_t u = 0; u < kKeysPerStep; ++u) {
      Value local = b.createOrFold<arith::AddIOp>(loc, offset, index(b, u));
      keyInTile.push_back(local);
      Value key = b.createOrFold<arith::AddIOp>(loc, first, local);
      Value score = f32(b, 0.0);
      for (int64_t e = 0; e < d; ++e)
        score = math::FmaOp::create(
            b, loc, query[e],
            memref::LoadOp::create(b, loc, sharedK,
                                   ValueRange{local, index(b, e)}),
            score);
      Value visible = below(b, key, keys);
      if (hasMask) {
        // Past the last key the mask is not read (the index is clamped).
        Value safeKey = arith::SelectOp::create(b, loc, visible, key,
                                                index(b, 0));
        Value bias = memref::LoadOp::create(
            b, loc, mask,
            ValueRange{maskRowIndices[0], maskRowIndices[1],
                       maskRowIndices[2], maskIndex(b, 3, safeKey)});
        score = arith::AddFOp::create(b, loc, score, bias);
      }
      if (causal)
        visible = arith::AndIOp::create(
            b, loc, visible,
            arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::ule,
                b.createOrFold<arith::AddIOp>(loc, key, queries),
                lastKeyPlusSq));
      score = arith::SelectOp::create(b, loc, visible, score, negInf);
      scores.push_back(score);
      maximum = arith::MaximumFOp::create(b, loc, maximum, score);
    }
    // Every key so far hidden: the maximum stays -inf, and the shift by 0
    // keeps exp(-inf - shift) = 0 (no inf - inf).
    Value allHidden = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                            maximum, negInf);
    Value shift = arith::SelectOp::create(b, loc, allHidden, f32(b, 0.0),
                                          maximum);
    Value correction = math::ExpOp::create(
        b, loc, arith::SubFOp::create(b, loc, state[0], shift));
    Value sum = arith::MulFOp::create(b, loc, state[1], correction);
    SmallVector<Value> output;
    for (int64_t e = 0; e < dv; ++e)
      output.push_back(
          arith::MulFOp::create(b, loc, state[2 + e], correction));
    for (int64_t u = 0; u < kKeysPerStep; ++u) {
      Value p = math::ExpOp::create(
          b, loc, arith::SubFOp::create(b, loc, scores[u], shift));
      sum = arith::AddFOp::create(b, loc, sum, p);
      for (int64_t e = 0; e < dv; ++e)
        output[e] = math::FmaOp::create(
            b, loc, p,
            memref::LoadOp::create(b, loc, sharedV,
                                   ValueRange{keyInTile[u], index(b, e)}),
            output[e]);
    }
    state[0] = maximum;
    state[1] = sum;
    for (int64_t e = 0; e < dv; ++e)
      state[2 + e] = output[e];
  }

  func::CallOp call;
  Location loc;
  int64_t d, dv, keysPerStage;
  bool causal, hasMask;
  Value q, k, v, mask, out, scale;
  Value batch, heads, queries, keys, group, pairs;
  SmallVector<Value> maskSizes;
  SmallVector<Value, 3> maskRowIndices; // batch, head, query row
  Value sharedK, sharedV;
};

struct FlashAttentionForGpuPass
    : impl::FlashAttentionForGpuBase<FlashAttentionForGpuPass> {
  void runOnOperation() override {
    SmallVector<func::CallOp> calls;
    getOperation().walk([&](func::CallOp call) {
      if (call.getCallee() == SINTER_ATTENTION_KERNEL)
        calls.push_back(call);
    });
    for (func::CallOp call : calls) {
      std::optional<int64_t> d = headSize(call.getOperand(0)),
                             dv = headSize(call.getOperand(2));
      std::optional<int64_t> flags = getConstantIntValue(call.getOperand(6));
      if (!d || !dv || !flags || *d > SINTER_ATTENTION_MAX_HEAD_DIM ||
          *dv > SINTER_ATTENTION_MAX_HEAD_DIM) {
        call.emitError("unsupported on the GPU: an attention whose head "
                       "sizes are not known at compile time");
        return signalPassFailure();
      }
      AttentionKernel(call, *d, *dv, *flags & SINTER_ATTENTION_CAUSAL,
                      *flags & SINTER_ATTENTION_HAS_MASK)
          .rewrite();
    }
    getOperation()->setAttr(
        kFlashAttentionsAttr,
        Builder(&getContext()).getI64IntegerAttr((int64_t)calls.size()));
    // The CPU kernel's declaration, now unused.
    if (auto kernel = getOperation().lookupSymbol<func::FuncOp>(
            SINTER_ATTENTION_KERNEL))
      if (kernel.symbolKnownUseEmpty(getOperation()))
        kernel.erase();
  }
};

} // namespace
} // namespace sinter
