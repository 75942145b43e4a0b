//===- IndexChecks.cpp - Run-time checks of gather and scatter indices ----===//
//
// The inputs the runtime checks before a run (inputIndexBounds), and
// `sinter-check-indices`, which makes the model check the indices it
// computes and return the first fault in a record the runtime reads after
// the run (docs/runtime-abi.md, "Inputs used as indices").
//
//===----------------------------------------------------------------------===//

#include "codegen/IndexChecks.h"

#include "codegen/BufferPlacement.h"
#include "codegen/Passes.h"
#include "ir/Locations.h"
#include "ir/SinterOps.h"
#include "sinter/runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <limits>

namespace sinter {
#define GEN_PASS_DEF_CHECKINDICES
#include "codegen/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {

/// An op that selects along dimension `axis` of `data` by `indices`.
struct IndexUse {
  Operation *op;
  Value data, indices;
  int64_t axis;
};

/// The indices `op` reads; none for other ops (and for an axis the
/// verifier would refuse).
std::optional<IndexUse> indexUse(Operation *op) {
  IndexUse use;
  if (auto gather = dyn_cast<GatherOp>(op))
    use = {op, gather.getData(), gather.getIndices(),
           int64_t(gather.getAxis())};
  else if (auto gather = dyn_cast<GatherElementsOp>(op))
    use = {op, gather.getData(), gather.getIndices(),
           int64_t(gather.getAxis())};
  else if (auto scatter = dyn_cast<ScatterElementsOp>(op))
    use = {op, scatter.getData(), scatter.getIndices(),
           int64_t(scatter.getAxis())};
  else
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(use.data.getType());
  if (!type || use.axis < 0 || use.axis >= type.getRank())
    return std::nullopt;
  return use;
}

bool indexesStaticDim(const IndexUse &use) {
  return !cast<RankedTensorType>(use.data.getType()).isDynamicDim(use.axis);
}

/// The entry's argument whose values `indices` are, through ops that keep
/// every value (reshapes, transposes, broadcasts, integer casts); null when
/// they are computed.
BlockArgument indicesArgument(Value indices, func::FuncOp entry) {
  while (Operation *producer = indices.getDefiningOp()) {
    if (isa<ReshapeOp, TransposeOp, ExpandOp>(producer)) {
      indices = producer->getOperand(0);
    } else if (auto cast = dyn_cast<CastOp>(producer)) {
      if (!isa<IntegerType>(getElementTypeOrSelf(cast.getInput().getType())))
        return nullptr;
      indices = cast.getInput();
    } else {
      return nullptr;
    }
  }
  auto argument = dyn_cast<BlockArgument>(indices);
  return argument && argument.getOwner() == &entry.getBody().front()
             ? argument
             : nullptr;
}

/// How an op is named in the runtime's message: its ONNX node and type
/// when the importer located it, else the op's name.
std::string siteName(Operation *op) {
  std::string name = layerName(op);
  if (name.empty())
    return op->getName().getStringRef().str();
  std::string text = "node '" + name + "'";
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc()))
    if (auto type = dyn_cast_if_present<StringAttr>(fused.getMetadata()))
      text += " (" + type.getValue().str() + ")";
  return text;
}

/// Constant indices into a dimension of static size: one outside its range
/// would fail every run (ONNX makes it an error), so it fails the compile,
/// naming the op, the index and its position.
LogicalResult checkConstantIndices(const IndexUse &use) {
  DenseIntElementsAttr values;
  if (!matchPattern(use.indices, m_Constant(&values)))
    return success(); // a resource: too large to be an index list
  int64_t size =
      cast<RankedTensorType>(use.data.getType()).getDimSize(use.axis);
  ArrayRef<int64_t> shape = values.getType().getShape();
  for (auto [at, value] : llvm::enumerate(values.getValues<APInt>())) {
    int64_t index = value.getSExtValue();
    if (index >= -size && index < size)
      continue;
    SmallVector<int64_t> position(shape.size());
    for (int64_t d = (int64_t)shape.size() - 1, rest = at; d >= 0; --d) {
      position[d] = rest % shape[d];
      rest /= shape[d];
    }
    InFlightDiagnostic diag = use.op->emitError()
                              << "constant index " << index << " at [";
    llvm::interleaveComma(position, diag);
    return diag << "] is outside [" << -size << ", " << size
                << "), the dimension it indexes: every run would fail";
  }
  return success();
}

/// The fault record of one op: whether one of its indices lies outside
/// [-size, size), and the record's words for the first that does.
struct SiteFault {
  Value faulty;
  SmallVector<Value> words;
};

SiteFault checkSite(OpBuilder &b, const IndexUse &use, int64_t number) {
  Location loc = use.op->getLoc();
  MLIRContext *context = b.getContext();
  Type i64 = b.getI64Type();
  auto indicesType = cast<RankedTensorType>(use.indices.getType());
  int64_t rank = indicesType.getRank();
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, value);
  };
  auto toI64 = [&](Value index) -> Value {
    return arith::IndexCastOp::create(b, loc, i64, index);
  };
  Value size = toI64(tensor::DimOp::create(b, loc, use.data, use.axis));
  Value lowest = arith::SubIOp::create(b, loc, constant(0), size);
  SmallVector<Value> dims;
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(tensor::DimOp::create(b, loc, use.indices, d));

  // The smallest linear position of an index outside the range, or
  // `none`: one reduction over the indices, as cheap as reading them.
  const int64_t noneValue = std::numeric_limits<int64_t>::max();
  Value none = constant(noneValue);
  Value init = linalg::FillOp::create(
                   b, loc, none,
                   tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, i64)
                       .getResult())
                   .getResult(0);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, {}, context)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto firstFault = linalg::GenericOp::create(
      b, loc, init.getType(), use.indices, init, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value index = args[0];
        if (index.getType() != i64)
          index = arith::ExtSIOp::create(nb, nl, i64, index);
        Value below = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::slt, index, lowest);
        Value above =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, index, size);
        Value outside = arith::OrIOp::create(nb, nl, below, above);
        Value position = arith::ConstantIndexOp::create(nb, nl, 0);
        for (int64_t d = 0; d < rank; ++d)
          position = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, position, dims[d]),
              linalg::IndexOp::create(nb, nl, d));
        Value candidate = arith::SelectOp::create(
            nb, nl, outside,
            arith::IndexCastOp::create(nb, nl, i64, position), none);
        linalg::YieldOp::create(
            nb, nl,
            Value(arith::MinSIOp::create(nb, nl, args[1], candidate)));
      });
  Value first = tensor::ExtractOp::create(b, loc, firstFault.getResult(0),
                                          ValueRange{});
  Value faulty =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, first, none);

  // The position as coordinates (zeros when there is no fault).
  Value rest = arith::SelectOp::create(b, loc, faulty, first, constant(0));
  SmallVector<Value> coords(rank);
  for (int64_t d = rank - 1; d >= 0; --d) {
    Value extent = arith::MaxSIOp::create(b, loc, toI64(dims[d]), constant(1));
    coords[d] = arith::RemSIOp::create(b, loc, rest, extent);
    rest = arith::DivSIOp::create(b, loc, rest, extent);
  }
  // The index itself, read only when there is one to read (the indices
  // may be empty).
  auto read = scf::IfOp::create(
      b, loc, faulty,
      [&](OpBuilder &tb, Location tl) {
        SmallVector<Value> at;
        for (Value coord : coords)
          at.push_back(
              arith::IndexCastOp::create(tb, tl, tb.getIndexType(), coord));
        Value index = tensor::ExtractOp::create(tb, tl, use.indices, at);
        if (index.getType() != i64)
          index = arith::ExtSIOp::create(tb, tl, i64, index);
        scf::YieldOp::create(tb, tl, index);
      },
      [&](OpBuilder &eb, Location el) {
        scf::YieldOp::create(
            eb, el, Value(arith::ConstantIntOp::create(eb, el, i64, 0)));
      });

  SiteFault fault;
  fault.faulty = faulty;
  fault.words.assign(SINTER_INDEX_FAULT_WORDS, constant(0));
  fault.words[SINTER_INDEX_FAULT_CHECK] = constant(number + 1);
  fault.words[SINTER_INDEX_FAULT_VALUE] = read.getResult(0);
  fault.words[SINTER_INDEX_FAULT_BOUND] = size;
  fault.words[SINTER_INDEX_FAULT_RANK] = constant(rank);
  for (int64_t d = 0; d < rank; ++d)
    fault.words[SINTER_INDEX_FAULT_POSITION + d] = coords[d];
  return fault;
}

struct CheckIndicesPass
    : sinter::impl::CheckIndicesBase<CheckIndicesPass> {
  using CheckIndicesBase::CheckIndicesBase;

  void runOnOperation() override {
    func::FuncOp entryFunc = findEntryFunction(getOperation(), entry);
    if (!entryFunc)
      return signalPassFailure();
    if (failed(addIndexChecks(entryFunc)))
      return signalPassFailure();
  }
};

} // namespace

llvm::MapVector<unsigned, int64_t>
sinter::inputIndexBounds(func::FuncOp entry) {
  llvm::MapVector<unsigned, int64_t> bounds;
  entry.walk([&](Operation *op) {
    std::optional<IndexUse> use = indexUse(op);
    if (!use || !indexesStaticDim(*use))
      return;
    BlockArgument argument = indicesArgument(use->indices, entry);
    if (!argument)
      return;
    int64_t size =
        cast<RankedTensorType>(use->data.getType()).getDimSize(use->axis);
    auto [it, inserted] = bounds.insert({argument.getArgNumber(), size});
    if (!inserted)
      it->second = std::min(it->second, size);
  });
  return bounds;
}

LogicalResult sinter::addIndexChecks(func::FuncOp entryFunc) {
  static_assert(SINTER_INDEX_FAULT_POSITION + SINTER_INDEX_FAULT_MAX_RANK <=
                SINTER_INDEX_FAULT_WORDS);
  // Once per entry; a body of several blocks has no one place where every
  // site's indices are known.
  if (entryFunc->hasAttr(kIndexCheckSitesAttr) ||
      !entryFunc.getBody().hasOneBlock())
    return success();
  Block &body = entryFunc.getBody().front();
  SmallVector<IndexUse> sites;
  for (Operation &op : body) {
    std::optional<IndexUse> use = indexUse(&op);
    if (!use)
      continue;
    // Constants into a dimension of known size are checked now; the
    // runtime checks these inputs before the run.
    if (indexesStaticDim(*use) && matchPattern(use->indices, m_Constant())) {
      if (failed(checkConstantIndices(*use)))
        return failure();
      continue;
    }
    if (indexesStaticDim(*use) && indicesArgument(use->indices, entryFunc))
      continue;
    if (cast<RankedTensorType>(use->indices.getType()).getRank() >
        SINTER_INDEX_FAULT_MAX_RANK)
      continue;
    sites.push_back(*use);
  }
  if (sites.empty())
    return success();

  auto terminator = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!terminator)
    return success();
  OpBuilder b(terminator);
  Location loc = entryFunc.getLoc();
  Type i64 = b.getI64Type();
  Value zero = arith::ConstantIntOp::create(b, loc, i64, 0);
  SmallVector<Value> record(SINTER_INDEX_FAULT_WORDS, zero);
  SmallVector<Attribute> names;
  for (auto [number, site] : llvm::enumerate(sites)) {
    SiteFault fault = checkSite(b, site, number);
    // The first site with a fault keeps the record.
    Value clean =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                              record[SINTER_INDEX_FAULT_CHECK], zero);
    Value take = arith::AndIOp::create(b, loc, clean, fault.faulty);
    for (auto [word, value] : llvm::zip(record, fault.words))
      word = arith::SelectOp::create(b, loc, take, value, word);
    names.push_back(b.getStringAttr(siteName(site.op)));
  }
  auto recordType = RankedTensorType::get({SINTER_INDEX_FAULT_WORDS}, i64);
  Value recordTensor =
      tensor::FromElementsOp::create(b, loc, recordType, record);
  unsigned result = entryFunc.getNumResults();
  terminator.getOperandsMutable().append(recordTensor);
  if (failed(entryFunc.insertResult(result, recordType, DictionaryAttr())))
    return failure();
  entryFunc->setAttr(kIndexCheckSitesAttr, b.getArrayAttr(names));
  return success();
}
