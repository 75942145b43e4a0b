//===- BufferPlacement.cpp - Weights in a file, intermediates in an arena -===//
//
// The two passes that decide where the buffers of a compiled model live: the
// constant ones in the weights file the runtime maps (ExternalizeWeights),
// the intermediate ones in one arena laid out at compile time from their
// live ranges (PlanArena). Both hand the code a trailing i8 buffer argument
// of the entry function and turn each buffer into a memref.view of it.
//
//===----------------------------------------------------------------------===//

#include "codegen/BufferPlacement.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_EXTERNALIZEWEIGHTS
#define GEN_PASS_DEF_PLANARENA
#include "codegen/Passes.h.inc"

func::FuncOp findEntryFunction(ModuleOp module, StringRef name) {
  if (name.empty()) {
    // @main, or else the module's only public function with a body.
    if (auto main = module.lookupSymbol<func::FuncOp>("main"))
      if (!main.isExternal())
        return main;
    SmallVector<func::FuncOp> candidates;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        candidates.push_back(func);
    if (candidates.size() == 1)
      return candidates.front();
    InFlightDiagnostic diag = emitError(module.getLoc());
    diag << "cannot tell which function to compile: the module has no "
            "@main and "
         << candidates.size() << " public functions";
    for (func::FuncOp func : candidates)
      diag.attachNote(func.getLoc()) << "candidate @" << func.getName();
    return nullptr;
  }
  auto func = module.lookupSymbol<func::FuncOp>(name);
  if (!func || func.isExternal()) {
    emitError(module.getLoc())
        << "the module has no function '" << name << "' to compile";
    return nullptr;
  }
  return func;
}

/// Appends `memref<?xi8> {sinter.abi = kind}` to the entry's arguments.
static FailureOr<BlockArgument> appendBufferArgument(func::FuncOp func,
                                                     StringRef kind) {
  Builder b(func.getContext());
  auto type = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  unsigned index = func.getNumArguments();
  if (failed(func.insertArgument(
          index, type,
          b.getDictionaryAttr(b.getNamedAttr(kAbiAttr, b.getStringAttr(kind))),
          func.getLoc())))
    return failure();
  return func.getArgument(index);
}

/// `memref.view %buffer[offset][sizes]` typed like `type`.
static Value viewAt(OpBuilder &b, Location loc, Value buffer, int64_t offset,
                    MemRefType type, ValueRange dynamicSizes) {
  Value shift = arith::ConstantIndexOp::create(b, loc, offset);
  return memref::ViewOp::create(b, loc, type, buffer, shift, dynamicSizes);
}

static int64_t alignTo(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

Value viewedBuffer(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view || view.getViewSource() == value)
      break;
    value = view.getViewSource();
  }
  return value;
}

std::optional<int64_t> staticByteSize(MemRefType type) {
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  unsigned bits = type.getElementTypeBitWidth();
  // i1 is a byte per element in memory, as LLVM lays out memrefs.
  int64_t bytes = bits == 1 ? 1 : bits / 8;
  if (bits != 1 && bits % 8 != 0)
    return std::nullopt;
  return bytes * type.getNumElements();
}

FailureOr<std::vector<char>> constantBytes(memref::GlobalOp global) {
  std::optional<int64_t> size = staticByteSize(global.getType());
  auto value = dyn_cast_if_present<ElementsAttr>(global.getConstantInitValue());
  if (!size || !value)
    return failure();
  return elementBytes(value, *size);
}

FailureOr<std::vector<char>> elementBytes(ElementsAttr value, int64_t size) {
  std::vector<char> bytes(size);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    const AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || (int64_t)blob->getData().size() != size)
      return failure();
    llvm::copy(blob->getData(), bytes.begin());
    return bytes;
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense)
    return failure();
  if (dense.getElementType().isInteger(1)) {
    for (auto [i, bit] : llvm::enumerate(dense.getValues<bool>()))
      bytes[i] = bit ? 1 : 0;
    return bytes;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (size_t at = 0; at + raw.size() <= bytes.size(); at += raw.size())
      llvm::copy(raw, bytes.begin() + at);
    return bytes;
  }
  if ((int64_t)raw.size() != size)
    return failure();
  llvm::copy(raw, bytes.begin());
  return bytes;
}

namespace {

struct ExternalizeWeightsPass
    : impl::ExternalizeWeightsBase<ExternalizeWeightsPass> {
  using ExternalizeWeightsBase::ExternalizeWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entryFunc = findEntryFunction(module, entry);
    if (!entryFunc)
      return signalPassFailure();
    FailureOr<BlockArgument> weights =
        appendBufferArgument(entryFunc, kAbiWeights);
    if (failed(weights))
      return signalPassFailure();

    // Shapes that memref.reshape reads are read by the host code, which on
    // a GPU target cannot read the (device) weights.
    llvm::StringSet<> shapes;
    module.walk([&](memref::ReshapeOp reshape) {
      if (auto get = viewedBuffer(reshape.getShape())
                         .getDefiningOp<memref::GetGlobalOp>())
        shapes.insert(get.getName());
    });

    int64_t offset = 0;
    OpBuilder b(module.getContext());
    for (auto global : llvm::make_early_inc_range(
             module.getBody()->getOps<memref::GlobalOp>())) {
      std::optional<int64_t> size = staticByteSize(global.getType());
      if (!global.getConstant() || !global.getConstantInitValue() || !size ||
          *size < minBytes || !global.getType().getLayout().isIdentity() ||
          shapes.contains(global.getSymName()))
        continue;
      // Only the entry function has the weights at hand.
      std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(global, module);
      if (!uses || llvm::any_of(*uses, [&](const SymbolTable::SymbolUse &use) {
            return !isa<memref::GetGlobalOp>(use.getUser()) ||
                   use.getUser()->getParentOfType<func::FuncOp>() != entryFunc;
          }))
        continue;
      offset = alignTo(offset, kWeightsAlignment);
      for (const SymbolTable::SymbolUse &use : *uses) {
        auto get = cast<memref::GetGlobalOp>(use.getUser());
        b.setInsertionPoint(get);
        get.replaceAllUsesWith(
            viewAt(b, get.getLoc(), *weights, offset, get.getType(), {}));
        get.erase();
      }
      global->setAttr(kWeightOffsetAttr, b.getI64IntegerAttr(offset));
      offset += *size;
    }
    module->setAttr(kWeightsSizeAttr, b.getI64IntegerAttr(offset));
  }
};

/// A buffer to place: the allocation, its byte size and its live range in
/// the entry block's op order.
struct LiveBuffer {
  memref::AllocOp alloc;
  int64_t size, alignment, first, last, offset = 0;
};

/// Whether a call may keep a reference to the memrefs it is given: unless
/// its callee is declared sinter.no_capture.
bool mayCapture(CallOpInterface call) {
  Operation *callee = call.resolveCallable();
  return !callee || !callee->hasAttr(kNoCaptureAttr);
}

/// The index of the last op of `block` that uses `root` or a view of it;
/// nullopt when the buffer escapes (returned, or passed to a call that may
/// keep it).
std::optional<int64_t>
lastUse(Value root, Block &block,
        const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(root.getDefiningOp());
  SmallVector<Value> worklist = {root};
  llvm::SmallPtrSet<Value, 8> seen = {root};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp>(user))
        return std::nullopt;
      if (auto call = dyn_cast<CallOpInterface>(user); call && mayCapture(call))
        return std::nullopt;
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top)
        return std::nullopt;
      last = std::max(last, position.lookup(top));
      // Anything that yields a memref from this one may alias it: views,
      // casts, and region ops carrying it through (scf.for iter_args).
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()) && seen.insert(result).second)
          worklist.push_back(result);
      for (Region &region : user->getRegions())
        for (Block &inner : region)
          for (BlockArgument arg : inner.getArguments())
            if (isa<BaseMemRefType>(arg.getType()) && seen.insert(arg).second)
              worklist.push_back(arg);
    }
  }
  return last;
}

/// An upper bound of an index value in the entry function, from constants
/// and the bounds of the arguments' dimensions (kMaxShapeAttr), through the
/// arithmetic that size computations use; nullopt when there is none.
/// Sizes are never negative, which makes sums and products of bounds
/// bounds.
std::optional<int64_t> upperBound(Value value, func::FuncOp func,
                                  unsigned depth = 0) {
  if (depth > 32)
    return std::nullopt;
  if (std::optional<int64_t> constant = getConstantIntValue(value))
    return constant;
  Operation *op = value.getDefiningOp();
  if (!op)
    return std::nullopt;
  auto bound = [&](Value operand) {
    return upperBound(operand, func, depth + 1);
  };
  auto both = [&](auto combine) -> std::optional<int64_t> {
    std::optional<int64_t> a = bound(op->getOperand(0)),
                           b = bound(op->getOperand(1));
    if (!a || !b || *a < 0 || *b < 0)
      return std::nullopt;
    return combine(*a, *b);
  };
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    auto type = dyn_cast<MemRefType>(dim.getSource().getType());
    if (!index || !type || *index < 0 || *index >= type.getRank())
      return std::nullopt;
    if (!type.isDynamicDim(*index))
      return type.getDimSize(*index);
    // The n-th dynamic size operand of an allocation or view gives it.
    auto dynamicOperand = [&](ValueRange sizes) -> std::optional<int64_t> {
      int64_t n = 0;
      for (int64_t d = 0; d < *index; ++d)
        n += type.isDynamicDim(d);
      if (n >= (int64_t)sizes.size())
        return std::nullopt;
      return bound(sizes[n]);
    };
    Value source = dim.getSource();
    if (auto alloc = source.getDefiningOp<memref::AllocOp>())
      return dynamicOperand(alloc.getDynamicSizes());
    if (auto view = source.getDefiningOp<memref::ViewOp>())
      return dynamicOperand(view.getSizes());
    auto arg = dyn_cast<BlockArgument>(source);
    if (!arg || arg.getOwner()->getParentOp() != func)
      return std::nullopt;
    auto maxShape = func.getArgAttrOfType<DenseI64ArrayAttr>(arg.getArgNumber(),
                                                             kMaxShapeAttr);
    if (!maxShape || *index >= (int64_t)maxShape.size() || maxShape[*index] < 0)
      return std::nullopt;
    return maxShape[*index];
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp>(op))
    return bound(op->getOperand(0));
  if (isa<arith::AddIOp>(op))
    return both([](int64_t a, int64_t b) { return a + b; });
  if (isa<arith::MulIOp>(op))
    return both([](int64_t a, int64_t b) { return a * b; });
  if (isa<arith::MaxSIOp, arith::MaxUIOp>(op))
    return both([](int64_t a, int64_t b) { return std::max(a, b); });
  if (isa<arith::MinSIOp, arith::MinUIOp>(op)) {
    std::optional<int64_t> a = bound(op->getOperand(0)),
                           b = bound(op->getOperand(1));
    if (a && b)
      return std::min(*a, *b);
    return a ? a : b;
  }
  if (auto select = dyn_cast<arith::SelectOp>(op)) {
    std::optional<int64_t> a = bound(select.getTrueValue()),
                           b = bound(select.getFalseValue());
    if (!a || !b)
      return std::nullopt;
    return std::max(*a, *b);
  }
  if (isa<arith::DivUIOp, arith::DivSIOp, arith::CeilDivSIOp,
          arith::CeilDivUIOp>(op)) {
    std::optional<int64_t> divisor = getConstantIntValue(op->getOperand(1));
    std::optional<int64_t> dividend = bound(op->getOperand(0));
    if (!divisor || *divisor <= 0 || !dividend)
      return std::nullopt;
    return (*dividend + *divisor - 1) / *divisor;
  }
  return std::nullopt;
}

/// Best fit, largest first: each buffer goes at the lowest offset where it
/// overlaps no already placed buffer whose live range meets its own.
int64_t packBuffers(MutableArrayRef<LiveBuffer> buffers) {
  SmallVector<LiveBuffer *> order;
  for (LiveBuffer &buffer : buffers)
    order.push_back(&buffer);
  llvm::stable_sort(order, [](const LiveBuffer *a, const LiveBuffer *b) {
    return a->size > b->size;
  });
  int64_t arenaSize = 0;
  SmallVector<LiveBuffer *> placed;
  for (LiveBuffer *buffer : order) {
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (LiveBuffer *other : placed)
      if (other->first <= buffer->last && buffer->first <= other->last)
        taken.push_back({other->offset, other->offset + other->size});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [begin, end] : taken) {
      if (alignTo(offset, buffer->alignment) + buffer->size <= begin)
        break;
      offset = std::max(offset, end);
    }
    buffer->offset = alignTo(offset, buffer->alignment);
    arenaSize = std::max(arenaSize, buffer->offset + buffer->size);
    placed.push_back(buffer);
  }
  return arenaSize;
}

/// The bytes `alloc` takes at most: its static size, or with each dynamic
/// size at its upper bound.
std::optional<int64_t> byteSizeBound(memref::AllocOp alloc, func::FuncOp func) {
  MemRefType type = alloc.getType();
  if (type.hasStaticShape())
    return staticByteSize(type);
  SmallVector<int64_t> shape(type.getShape());
  auto dynamicSizes = alloc.getDynamicSizes();
  unsigned next = 0;
  for (int64_t &size : shape) {
    if (!ShapedType::isDynamic(size))
      continue;
    std::optional<int64_t> bound = upperBound(dynamicSizes[next++], func);
    if (!bound || *bound < 0)
      return std::nullopt;
    size = *bound;
  }
  return staticByteSize(MemRefType::get(shape, type.getElementType()));
}

struct PlanArenaPass : impl::PlanArenaBase<PlanArenaPass> {
  using PlanArenaBase::PlanArenaBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entryFunc = findEntryFunction(module, entry);
    if (!entryFunc)
      return signalPassFailure();
    FailureOr<BlockArgument> arena = appendBufferArgument(entryFunc, kAbiArena);
    if (failed(arena))
      return signalPassFailure();
    if (!entryFunc.getBody().hasOneBlock()) {
      // Control flow between blocks: live ranges are not intervals of one
      // op order. Every buffer stays on the heap.
      entryFunc->setAttr(kArenaSizeAttr,
                         OpBuilder(module).getI64IntegerAttr(0));
      return;
    }
    Block &block = entryFunc.getBody().front();
    llvm::DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(block))
      position[&op] = i;

    SmallVector<LiveBuffer> buffers;
    for (auto alloc : block.getOps<memref::AllocOp>()) {
      MemRefType type = alloc.getType();
      std::optional<int64_t> size = byteSizeBound(alloc, entryFunc);
      if (!size || !type.getLayout().isIdentity() || type.getMemorySpace())
        continue;
      std::optional<int64_t> last = lastUse(alloc, block, position);
      if (!last)
        continue;
      int64_t alignment =
          std::max<int64_t>(kArenaAlignment, alloc.getAlignment().value_or(1));
      buffers.push_back({alloc, std::max<int64_t>(*size, 1), alignment,
                         position[alloc], *last});
    }
    int64_t arenaSize = packBuffers(buffers);

    OpBuilder b(module.getContext());
    for (LiveBuffer &buffer : buffers) {
      b.setInsertionPoint(buffer.alloc);
      buffer.alloc.replaceAllUsesWith(
          viewAt(b, buffer.alloc.getLoc(), *arena, buffer.offset,
                 buffer.alloc.getType(), buffer.alloc.getDynamicSizes()));
      buffer.alloc.erase();
    }
    int64_t unshared = 0;
    for (const LiveBuffer &buffer : buffers)
      unshared += alignTo(buffer.size, kArenaAlignment);
    entryFunc->setAttr(kArenaSizeAttr, b.getI64IntegerAttr(arenaSize));
    entryFunc->setAttr(kArenaUnsharedSizeAttr, b.getI64IntegerAttr(unshared));
  }
};

} // namespace
} // namespace sinter
