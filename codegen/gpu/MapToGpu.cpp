//===- MapToGpu.cpp - Every loop nest and copy as a GPU kernel ------------===//
//
// After bufferization, the entry function's memrefs are device memory (the
// runtime passes device pointers for inputs, outputs, weights and arena);
// everything that reads or writes their contents must therefore run on the
// device. This pass makes each top-level loop nest a kernel launch with one
// thread per iteration, the iterations numbered so that consecutive threads
// take consecutive innermost indices (coalesced accesses), and moves the
// heap buffers to the device. Only shape buffers (the operands that
// memref.reshape reads on the host) stay in host memory.
//
//===----------------------------------------------------------------------===//

#include "codegen/BufferPlacement.h"
#include "codegen/Passes.h"
#include "codegen/gpu/KernelBuilding.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_MAPTOGPU
#include "codegen/Passes.h.inc"

namespace {

/// Memref values defined outside `op` whose contents `op` (with its
/// regions) may read or write: the values its memory effects name, or every
/// memref operand of a nested op whose effects are unknown.
SmallVector<Value> buffersTouchedBy(Operation *op) {
  SmallVector<Value> buffers;
  auto definedOutside = [&](Value value) {
    return !op->isAncestor(value.getParentBlock()->getParentOp());
  };
  op->walk([&](Operation *inner) {
    if (inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return;
    auto effects = dyn_cast<MemoryEffectOpInterface>(inner);
    if (!effects) {
      for (Value operand : inner->getOperands())
        if (isa<BaseMemRefType>(operand.getType()) && definedOutside(operand))
          buffers.push_back(operand);
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &instance : instances)
      if (Value value = instance.getValue())
        if (isa<BaseMemRefType>(value.getType()) && definedOutside(value))
          buffers.push_back(value);
  });
  return buffers;
}

class KernelBuilder {
public:
  explicit KernelBuilder(int64_t blockSize) : blockSize(blockSize) {}

  /// Emits, at `b`'s insertion point, a launch of ceil(total / blockSize)
  /// blocks in which each thread whose linear index is below `total` runs
  /// `body` with that index.
  void launchLinear(OpBuilder &b, Location loc, Value total,
                    function_ref<void(OpBuilder &, Location, Value)> body) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    int64_t threads = blockSize;
    std::optional<int64_t> constantTotal = getConstantIntValue(total);
    if (constantTotal && *constantTotal < threads)
      threads = std::max<int64_t>(*constantTotal, 1);
    Value block = arith::ConstantIndexOp::create(b, loc, threads);
    Value grid = b.createOrFold<arith::CeilDivUIOp>(loc, total, block);
    // A launch of zero blocks is an error on the device: a loop nest with
    // no iterations (a dynamic size of 0) launches nothing.
    Operation *guard = nullptr;
    if (!constantTotal) {
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                        total, zero);
      auto ifOp = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
      guard = ifOp;
    } else if (*constantTotal == 0) {
      return;
    }
    auto launch = gpu::LaunchOp::create(
        b, loc, grid, one, one, block, one, one, /*dynamicSharedMemorySize=*/
        nullptr, /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
        /*workgroupAttributions=*/{}, /*privateAttributions=*/{},
        /*clusterSizeX=*/nullptr, nullptr, nullptr, kernelModule(b.getContext()));
    OpBuilder inner = OpBuilder::atBlockEnd(&launch.getBody().front());
    auto terminator = gpu::TerminatorOp::create(inner, loc);
    inner.setInsertionPoint(terminator);
    Value index = arith::AddIOp::create(
        inner, loc,
        arith::MulIOp::create(inner, loc, launch.getBlockIds().x, block),
        launch.getThreadIds().x);
    Value inRange = arith::CmpIOp::create(
        inner, loc, arith::CmpIPredicate::ult, index, total);
    auto ifOp = scf::IfOp::create(inner, loc, inRange, false);
    inner.setInsertionPointToStart(ifOp.thenBlock());
    body(inner, loc, index);
    if (guard)
      b.setInsertionPointAfter(guard);
  }

  /// Emits a launch of one thread that runs `ops` (consecutive, in order),
  /// moved into it.
  void launchSingle(ArrayRef<Operation *> ops) {
    OpBuilder b(ops.front());
    Location loc = ops.front()->getLoc();
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto launch =
        gpu::LaunchOp::create(b, loc, one, one, one, one, one, one, nullptr,
                              nullptr, {}, {}, {}, nullptr, nullptr, nullptr,
                              kernelModule(b.getContext()));
    OpBuilder inner = OpBuilder::atBlockEnd(&launch.getBody().front());
    auto terminator = gpu::TerminatorOp::create(inner, loc);
    for (Operation *op : ops)
      op->moveBefore(terminator);
  }

  /// The iteration space `sizes` (row-major), indexed by `linear`: the
  /// index of each dimension, the last varying fastest.
  static SmallVector<Value> delinearize(OpBuilder &b, Location loc,
                                        Value linear, ArrayRef<Value> sizes) {
    SmallVector<Value> indices(sizes.size());
    Value rest = linear;
    for (int64_t d = (int64_t)sizes.size() - 1; d >= 0; --d) {
      if (d == 0) {
        indices[d] = rest;
        break;
      }
      indices[d] = b.createOrFold<arith::RemUIOp>(loc, rest, sizes[d]);
      rest = b.createOrFold<arith::DivUIOp>(loc, rest, sizes[d]);
    }
    return indices;
  }

  static Value product(OpBuilder &b, Location loc, ArrayRef<Value> sizes) {
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (Value size : sizes)
      total = b.createOrFold<arith::MulIOp>(loc, total, size);
    return total;
  }

  /// scf.parallel (no reductions) as a launch over its iterations.
  void mapParallel(scf::ParallelOp loop) {
    OpBuilder b(loop);
    Location loc = loop.getLoc();
    SmallVector<Value> counts;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      Value extent = b.createOrFold<arith::SubIOp>(loc, ub, lb);
      extent = b.createOrFold<arith::MaxSIOp>(loc, extent, zero);
      counts.push_back(b.createOrFold<arith::CeilDivUIOp>(loc, extent, step));
    }
    launchLinear(b, loc, product(b, loc, counts),
                 [&](OpBuilder &inner, Location loc, Value linear) {
                   SmallVector<Value> indices =
                       delinearize(inner, loc, linear, counts);
                   IRMapping mapping;
                   for (auto [iv, index, lb, step] :
                        llvm::zip(loop.getInductionVars(), indices,
                                  loop.getLowerBound(), loop.getStep()))
                     mapping.map(iv, inner.createOrFold<arith::AddIOp>(
                                         loc, lb,
                                         inner.createOrFold<arith::MulIOp>(
                                             loc, index, step)));
                   for (Operation &op : loop.getBody()->without_terminator())
                     inner.clone(op, mapping);
                 });
    loop.erase();
  }

  /// memref.copy as a launch of one thread per element.
  void mapCopy(memref::CopyOp copy) {
    OpBuilder b(copy);
    Location loc = copy.getLoc();
    Value source = copy.getSource(), target = copy.getTarget();
    auto type = cast<MemRefType>(source.getType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      sizes.push_back(b.createOrFold<memref::DimOp>(loc, source, d));
    launchLinear(b, loc, product(b, loc, sizes),
                 [&](OpBuilder &inner, Location loc, Value linear) {
                   SmallVector<Value> indices =
                       delinearize(inner, loc, linear, sizes);
                   Value element =
                       memref::LoadOp::create(inner, loc, source, indices);
                   memref::StoreOp::create(inner, loc, element, target,
                                           indices);
                 });
    copy.erase();
  }

private:
  int64_t blockSize;
};

struct MapToGpuPass : impl::MapToGpuBase<MapToGpuPass> {
  using MapToGpuBase::MapToGpuBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(mapFunction(func)))
        return signalPassFailure();
  }

  LogicalResult mapFunction(func::FuncOp func) {
    if (!func.getBody().hasOneBlock())
      return func.emitError("unsupported on the GPU: a function with "
                            "control flow between blocks");
    // Shape operands are read by the host code that builds descriptors.
    llvm::DenseSet<Value> hostBuffers;
    func.walk([&](memref::ReshapeOp reshape) {
      hostBuffers.insert(viewedBuffer(reshape.getShape()));
    });
    auto onHost = [&](Operation *op) {
      return llvm::all_of(buffersTouchedBy(op), [&](Value buffer) {
        return hostBuffers.contains(viewedBuffer(buffer));
      });
    };

    KernelBuilder kernels(blockSize);
    SmallVector<Operation *> ops = llvm::map_to_vector(
        func.getBody().front(), [](Operation &op) { return &op; });
    for (Operation *op : ops) {
      // Already moved into a kernel with the sequential code before it.
      if (op->getParentOp() != func.getOperation() ||
          isa<func::ReturnOp, gpu::LaunchOp>(op))
        continue;
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        if (!loop.getInitVals().empty())
          return loop.emitError(
              "unsupported on the GPU: a parallel loop with reductions");
        if (failed(checkNoAllocations(loop)))
          return failure();
        kernels.mapParallel(loop);
        continue;
      }
      if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        if (!onHost(copy))
          kernels.mapCopy(copy);
        continue;
      }
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (hostBuffers.contains(alloc.getResult()))
          continue;
        OpBuilder b(alloc);
        Location loc = alloc.getLoc();
        auto device = gpu::AllocOp::create(
            b, loc, alloc.getType(), tokenType(b), startAsync(b, loc),
            alloc.getDynamicSizes(), alloc.getSymbolOperands(),
            /*hostShared=*/nullptr);
        gpu::WaitOp::create(b, loc, Type(), device.getAsyncToken());
        alloc.replaceAllUsesWith(device.getMemref());
        alloc.erase();
        continue;
      }
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        if (hostBuffers.contains(viewedBuffer(dealloc.getMemref())))
          continue;
        OpBuilder b(dealloc);
        Location loc = dealloc.getLoc();
        auto device = gpu::DeallocOp::create(
            b, loc, tokenType(b), startAsync(b, loc), dealloc.getMemref());
        gpu::WaitOp::create(b, loc, Type(), device.getAsyncToken());
        dealloc.erase();
        continue;
      }
      if (isa<memref::AllocaOp>(op) && !onHost(op))
        return op->emitError("unsupported on the GPU: a stack buffer in "
                             "host code that kernels would read");
      if (isa<CallOpInterface>(op))
        return op->emitError("unsupported on the GPU: a call in the model's "
                             "host code (the runtime's CPU kernels are not "
                             "available on the GPU)");
      if (isMemoryEffectFree(op) || onHost(op))
        continue;
      // Sequential code that touches device memory (a loop that writes a
      // scalar, a store; a load and the arithmetic on it up to the store of
      // the result, as in a 0-d op) runs as one device thread.
      FailureOr<SmallVector<Operation *>> sequence = sequentialCode(op);
      if (failed(sequence))
        return failure();
      for (Operation *member : *sequence)
        if (failed(checkNoAllocations(member)))
          return failure();
      kernels.launchSingle(*sequence);
    }
    return success();
  }

  /// `op` and the ops after it in its block up to the first point where no
  /// value they define is used outside them: what must run on the device
  /// with `op`. Fails where such a value reaches host code that cannot
  /// move (a launch, a loop nest, an allocation, the return).
  static FailureOr<SmallVector<Operation *>> sequentialCode(Operation *op) {
    SmallVector<Operation *> sequence{op};
    llvm::SmallPtrSet<Operation *, 8> members{op};
    auto escapes = [&] {
      for (Operation *member : sequence)
        for (Operation *user : member->getUsers())
          if (!llvm::any_of(members, [&](Operation *m) {
                return m->isAncestor(user);
              }))
            return true;
      return false;
    };
    for (Operation *next = op->getNextNode(); escapes();
         next = next->getNextNode()) {
      if (!next || next->hasTrait<OpTrait::IsTerminator>() ||
          isa<scf::ParallelOp, gpu::LaunchOp, memref::AllocOp,
              memref::DeallocOp, CallOpInterface>(next))
        return op->emitError("unsupported on the GPU: host code computes a "
                             "value from the contents of device memory");
      sequence.push_back(next);
      members.insert(next);
    }
    return sequence;
  }

  /// Device allocations are stream-ordered (the lowering of gpu.alloc
  /// needs a stream): each takes a token of the stream that the runtime
  /// gives every launch of a run, and the wait after it, which the runtime
  /// does not block on, ends the token.
  static Type tokenType(OpBuilder &b) {
    return gpu::AsyncTokenType::get(b.getContext());
  }
  static SmallVector<Value> startAsync(OpBuilder &b, Location loc) {
    return {gpu::WaitOp::create(b, loc, tokenType(b), ValueRange())
                .getAsyncToken()};
  }

  /// Buffers allocated inside a loop nest would be allocated per device
  /// thread.
  static LogicalResult checkNoAllocations(Operation *op) {
    WalkResult result = op->walk([](Operation *inner) {
      if (isa<memref::AllocOp, memref::AllocaOp>(inner)) {
        inner->emitError("unsupported on the GPU: a buffer allocated inside "
                         "a loop nest");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }
};

} // namespace
} // namespace sinter
