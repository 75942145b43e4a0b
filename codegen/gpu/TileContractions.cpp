//===- TileContractions.cpp - Matmul-like ops as tiled GPU kernels --------===//
//
// Every f32 contraction on buffers (C += A B over one reduced dimension, with
// any batch dimensions: matmul, batched matmul, linear, attention's two
// products) becomes one launch of 128-thread blocks, each computing a 64x64
// tile of C for one batch index. The block walks the reduced dimension in
// slices of 16 words: its threads copy the 64-row slice of A and the
// 64-column slice of B into shared memory (zeros past the edges), then each
// of its four warps multiplies its 32x32 quarter from shared memory, on
// tensor cores (mma.sync: TF32 m16n8k8, or BF16 m16n8k16, both accumulating
// in f32) or with f32 FMAs. tf32x3 splits each value into a TF32 high part
// and a TF32 remainder, staged in a second pair of tiles, and adds the two
// cross products to the main one: f32's accuracy on tensor cores.
//
// A "word" is the 32-bit unit the tensor cores read: one TF32 value (an f32
// rounded to 10 mantissa bits, converted once when staged), two BF16 values
// of consecutive k, or one f32. Both shared tiles are stored k-minor ([row][k]
// for A, [column][k] for B), which is the layout of mma.sync's fragments:
// in word units TF32 m16n8k8 and BF16 m16n8k16 read the same positions, and
// the FMA path reads the positions of the same accumulators. Each thread
// holds 32 accumulators of C, at the positions mma.sync's C fragments give
// it (rows g and g+8, columns 2t and 2t+1 of each 16x8 piece, for lane
// 4g+t), in every precision.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/gpu/GpuPipeline.h"
#include "codegen/gpu/KernelBuilding.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_TILECONTRACTIONSFORGPU
#include "codegen/Passes.h.inc"

namespace {

// The tiling. Changing one of these changes the fragment arithmetic below.
constexpr int64_t kTileRows = 64, kTileCols = 64; // C per block
constexpr int64_t kThreads = 128;                 // 4 warps, 2 x 2
constexpr int64_t kWarpRows = 32, kWarpCols = 32; // C per warp
constexpr int64_t kSliceWords = 16;               // k per stage, in words
// A row of a shared tile is 16 words and 4 of padding: the eight rows that
// a fragment load touches (20g mod 32 for g < 8) fall on distinct banks.
constexpr int64_t kRowWords = kSliceWords + 4;
constexpr int64_t kStepWords = 8; // k of one mma.sync, in words
constexpr int64_t kMmaRows = 16, kMmaCols = 8;
constexpr int64_t kMTiles = kWarpRows / kMmaRows; // 2
constexpr int64_t kNTiles = kWarpCols / kMmaCols; // 4
constexpr int64_t kAccumulators = kMTiles * kNTiles * 4;
// Grid dimension y (the column tiles) is limited to 65535 blocks.
constexpr int64_t kMaxGridY = 65535;

enum class Precision { Fp32, Tf32, Tf32x3, Bf16 };

/// The roles of a contraction's loop dimensions.
struct Contraction {
  int64_t m, n, k;
  SmallVector<int64_t> batch; // in the order of C's dimensions
};

/// `op` as C += A B: two f32 inputs, one f32 output, one reduced dimension,
/// a body that multiplies the inputs and adds the product to the output,
/// and indexing maps whose results are dimensions or constants (the output:
/// each parallel dimension once). m is the last dimension of C that only A
/// indexes, n the last that only B indexes; the other parallel dimensions
/// are the batch.
std::optional<Contraction> matchContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isF32())
      return std::nullopt;
  }
  // The body: c + a * b, in either operand order.
  Block &body = *op.getBlock();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 3 || yield.getNumOperands() != 1)
    return std::nullopt;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value a = body.getArgument(0), b = body.getArgument(1),
        c = body.getArgument(2);
  Value product = add.getLhs() == c ? add.getRhs() : add.getLhs();
  if ((add.getLhs() != c && add.getRhs() != c) || product == c)
    return std::nullopt;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || !((mul.getLhs() == a && mul.getRhs() == b) ||
                (mul.getLhs() == b && mul.getRhs() == a)))
    return std::nullopt;

  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  if (reductions.size() != 1)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap out = maps[2];
  if (!out.isProjectedPermutation(/*allowZeroInResults=*/false) ||
      out.getNumResults() != op.getNumParallelLoops() ||
      out.isFunctionOfDim(reductions.front()))
    return std::nullopt;

  Contraction contraction;
  contraction.k = reductions.front();
  if (!maps[0].isFunctionOfDim(contraction.k) ||
      !maps[1].isFunctionOfDim(contraction.k))
    return std::nullopt;
  std::optional<int64_t> m, n;
  for (AffineExpr expr : out.getResults()) {
    int64_t d = cast<AffineDimExpr>(expr).getPosition();
    bool inA = maps[0].isFunctionOfDim(d), inB = maps[1].isFunctionOfDim(d);
    if (inA && !inB)
      m = d;
    else if (inB && !inA)
      n = d;
  }
  if (!m || !n)
    return std::nullopt;
  // m, n and k index the operands directly; other results are expressions
  // of the batch dimensions (a head shared by several, as in grouped-query
  // attention: h floordiv 2).
  for (AffineMap map : maps)
    for (AffineExpr expr : map.getResults()) {
      if (isa<AffineDimExpr, AffineConstantExpr>(expr))
        continue;
      for (int64_t d : {*m, *n, contraction.k})
        if (expr.isFunctionOfDim(d))
          return std::nullopt;
    }
  contraction.m = *m;
  contraction.n = *n;
  for (AffineExpr expr : out.getResults()) {
    int64_t d = cast<AffineDimExpr>(expr).getPosition();
    if (d != *m && d != *n)
      contraction.batch.push_back(d);
  }
  return contraction;
}

/// The operand's indices at the iteration `ivs` (a value per loop
/// dimension; null for those the caller leaves out, which `map` must not
/// use).
SmallVector<Value> indicesAt(OpBuilder &b, Location loc, AffineMap map,
                             ArrayRef<Value> ivs) {
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      indices.push_back(ivs[dim.getPosition()]);
      continue;
    }
    SmallVector<OpFoldResult> operands;
    for (Value iv : ivs)
      operands.push_back(iv ? OpFoldResult(iv) : OpFoldResult(b.getIndexAttr(0)));
    indices.push_back(getValueOrCreateConstantIndexOp(
        b, loc,
        affine::makeComposedFoldedAffineApply(
            b, loc, AffineMap::get(map.getNumDims(), 0, expr), operands)));
  }
  return indices;
}

/// One launch for one contraction.
class ContractionKernel {
public:
  ContractionKernel(linalg::GenericOp op, const Contraction &shape,
                    Precision precision)
      : op(op), shape(shape), precision(precision),
        maps(op.getIndexingMapsArray()) {}

  /// Replaces the op with its launch; fails, leaving the op, if its column
  /// tiles would exceed the grid.
  LogicalResult rewrite() {
    OpBuilder b(op);
    Location loc = op.getLoc();
    for (Range range : cast<linalg::LinalgOp>(op.getOperation())
                            .createLoopRanges(b, loc))
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
    if (std::optional<int64_t> columns = getConstantIntValue(sizes[shape.n]))
      if (llvm::divideCeil(*columns, kTileCols) > kMaxGridY)
        return failure();

    Value one = index(b, 1);
    Value rowTiles = b.createOrFold<arith::CeilDivUIOp>(
        loc, sizes[shape.m], index(b, kTileRows));
    Value colTiles = b.createOrFold<arith::CeilDivUIOp>(
        loc, sizes[shape.n], index(b, kTileCols));
    batchCount = one;
    for (int64_t d : shape.batch)
      batchCount = b.createOrFold<arith::MulIOp>(loc, batchCount, sizes[d]);
    // An empty product still launches one block (a grid of zero blocks is
    // an error), in which every row is out of range.
    Value gridX = b.createOrFold<arith::MaxUIOp>(
        loc, b.createOrFold<arith::MulIOp>(loc, rowTiles, batchCount), one);
    Value gridY = b.createOrFold<arith::MaxUIOp>(loc, colTiles, one);
    Value someRowTiles = b.createOrFold<arith::MaxUIOp>(loc, rowTiles, one);

    Type word = precision == Precision::Fp32 ? Type(b.getF32Type())
                                             : Type(b.getI32Type());
    MemRefType tileA = sharedTile({kTileRows, kRowWords}, word);
    MemRefType tileB = sharedTile({kTileCols, kRowWords}, word);
    // tf32x3 keeps each value's TF32 remainder in a second pair of tiles.
    SmallVector<Type> tiles{tileA, tileB};
    if (precision == Precision::Tf32x3)
      tiles.append({tileA, tileB});
    auto launch = gpu::LaunchOp::create(
        b, loc, gridX, gridY, one, index(b, kThreads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, tiles,
        /*privateAttributions=*/{}, nullptr, nullptr, nullptr,
        kernelModule(b.getContext()));
    OpBuilder k = OpBuilder::atBlockEnd(&launch.getBody().front());
    auto terminator = gpu::TerminatorOp::create(k, loc);
    k.setInsertionPoint(terminator);
    sharedA = launch.getWorkgroupAttributions()[0];
    sharedB = launch.getWorkgroupAttributions()[1];
    if (precision == Precision::Tf32x3) {
      remainderA = launch.getWorkgroupAttributions()[2];
      remainderB = launch.getWorkgroupAttributions()[3];
    }
    buildKernel(k, loc, launch.getBlockIds().x, launch.getBlockIds().y,
                launch.getThreadIds().x, someRowTiles);
    op.erase();
    return success();
  }

private:
  Value index(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, op.getLoc(), value);
  }
  Value add(OpBuilder &b, Value x, Value y) {
    return b.createOrFold<arith::AddIOp>(op.getLoc(), x, y);
  }
  Value add(OpBuilder &b, Value x, int64_t y) {
    return y == 0 ? x : add(b, x, index(b, y));
  }
  Value mul(OpBuilder &b, Value x, int64_t y) {
    return b.createOrFold<arith::MulIOp>(op.getLoc(), x, index(b, y));
  }
  Value below(OpBuilder &b, Value x, Value limit) {
    return b.createOrFold<arith::CmpIOp>(op.getLoc(), arith::CmpIPredicate::ult,
                                         x, limit);
  }
  Value both(OpBuilder &b, Value x, Value y) {
    return b.createOrFold<arith::AndIOp>(op.getLoc(), x, y);
  }

  int64_t elementsPerWord() const {
    return precision == Precision::Bf16 ? 2 : 1;
  }

  /// `value` rounded to TF32: to nearest (ties away, as cuBLAS does); the
  /// tensor cores would otherwise truncate the low 13 bits.
  Value toTf32(OpBuilder &b, Value value) {
    return NVVM::ConvertFloatToTF32Op::create(
        b, op.getLoc(), b.getI32Type(), value, NVVM::FPRoundingMode::RNA,
        NVVM::SaturationMode::NONE, /*relu=*/false);
  }

  /// The shared-memory word of `values` (elementsPerWord of them, k
  /// ascending); for tf32x3 the TF32 high part.
  Value packWord(OpBuilder &b, ArrayRef<Value> values) {
    Location loc = op.getLoc();
    switch (precision) {
    case Precision::Fp32:
      return values[0];
    case Precision::Tf32:
    case Precision::Tf32x3:
      return toTf32(b, values[0]);
    case Precision::Bf16: {
      // The first (lower-k) value in the low half, as mma.sync reads a
      // register of two BF16.
      Value word;
      for (auto [i, value] : llvm::enumerate(values)) {
        Value half = arith::TruncFOp::create(b, loc, b.getBF16Type(), value);
        half = arith::BitcastOp::create(b, loc, b.getI16Type(), half);
        half = arith::ExtUIOp::create(b, loc, b.getI32Type(), half);
        if (i > 0)
          half = arith::ShLIOp::create(
              b, loc, half,
              arith::ConstantIntOp::create(b, loc, b.getI32Type(), 16 * i));
        word = word ? arith::OrIOp::create(b, loc, word, half).getResult()
                    : half;
      }
      return word;
    }
    }
    llvm_unreachable("unknown precision");
  }

  /// Copies the slice of one operand at word `sliceWord` into its shared
  /// tile: `tile`'s rows are the operand's rows (A: m) or columns (B: n)
  /// from `first`, each of kSliceWords words of k. Neighbouring threads
  /// take neighbouring words of k where the operand is k-minor in memory,
  /// neighbouring rows otherwise, so that their global loads coalesce.
  void stage(OpBuilder &b, Value tid, Value sliceWord, int64_t operand,
             Value tile, Value remainderTile, int64_t rowDim, Value first,
             Value rowLimit, ArrayRef<Value> batchIvs) {
    Location loc = op.getLoc();
    AffineMap map = maps[operand];
    bool kMinor = false;
    if (auto last = dyn_cast<AffineDimExpr>(map.getResults().back()))
      kMinor = last.getPosition() == (unsigned)shape.k;
    Value kSize = sizes[shape.k];
    for (int64_t r = 0; r < kTileRows * kSliceWords / kThreads; ++r) {
      Value w = add(b, tid, kThreads * r);
      Value row, wordInRow;
      if (kMinor) {
        row = b.createOrFold<arith::DivUIOp>(loc, w, index(b, kSliceWords));
        wordInRow =
            b.createOrFold<arith::RemUIOp>(loc, w, index(b, kSliceWords));
      } else {
        row = b.createOrFold<arith::RemUIOp>(loc, w, index(b, kTileRows));
        wordInRow =
            b.createOrFold<arith::DivUIOp>(loc, w, index(b, kTileRows));
      }
      Value globalRow = add(b, first, row);
      Value rowInBounds = below(b, globalRow, rowLimit);
      Value firstK = mul(b, add(b, sliceWord, wordInRow), elementsPerWord());
      SmallVector<Value> values;
      for (int64_t e = 0; e < elementsPerWord(); ++e) {
        Value kIndex = add(b, firstK, e);
        SmallVector<Value> ivs(batchIvs);
        ivs[rowDim] = globalRow;
        ivs[shape.k] = kIndex;
        values.push_back(loadOrZero(
            b, loc, op.getDpsInputs()[operand],
            indicesAt(b, loc, map, ivs),
            both(b, rowInBounds, below(b, kIndex, kSize))));
      }
      Value word = packWord(b, values);
      memref::StoreOp::create(b, loc, word, tile, ValueRange{row, wordInRow});
      if (remainderTile) {
        // x = high + low with both in TF32: what rounding the high part
        // lost, itself rounded (2^-22 of x, near f32's 2^-24).
        Value high = arith::BitcastOp::create(b, loc, b.getF32Type(), word);
        Value low = toTf32(b, arith::SubFOp::create(b, loc, values[0], high));
        memref::StoreOp::create(b, loc, low, remainderTile,
                                ValueRange{row, wordInRow});
      }
    }
  }

  /// One k-step (kStepWords words from `stepWord` of the shared tiles) of
  /// the warp's 32x32 product into `acc`.
  void multiplyStep(OpBuilder &b, Value warpRow, Value warpCol, Value g,
                    Value t, int64_t stepWord, SmallVector<Value> &acc) {
    Location loc = op.getLoc();
    auto load = [&](Value tile, Value row, Value word) {
      return memref::LoadOp::create(b, loc, tile, ValueRange{row, word})
          .getResult();
    };
    if (precision == Precision::Fp32) {
      // The same accumulators as mma.sync's fragments: rows g, g + 8 of
      // each 16-row piece, columns 2t, 2t + 1 of each 8-column piece.
      for (int64_t kw = stepWord; kw < stepWord + kStepWords; ++kw) {
        Value word = index(b, kw);
        SmallVector<Value> a, bv;
        for (int64_t mi = 0; mi < kMTiles; ++mi)
          for (int64_t h = 0; h < 2; ++h)
            a.push_back(load(sharedA,
                             add(b, add(b, warpRow, mi * kMmaRows + 8 * h), g),
                             word));
        for (int64_t ni = 0; ni < kNTiles; ++ni)
          for (int64_t j = 0; j < 2; ++j)
            bv.push_back(load(sharedB,
                              add(b, add(b, warpCol, ni * kMmaCols + j),
                                  b.createOrFold<arith::MulIOp>(
                                      loc, t, index(b, 2))),
                              word));
        for (int64_t mi = 0; mi < kMTiles; ++mi)
          for (int64_t ni = 0; ni < kNTiles; ++ni)
            for (int64_t r = 0; r < 4; ++r) {
              Value &c = acc[(mi * kNTiles + ni) * 4 + r];
              c = math::FmaOp::create(b, loc, a[mi * 2 + r / 2],
                                      bv[ni * 2 + r % 2], c);
            }
      }
      return;
    }
    // A fragments (rows g, g + 8; words t, t + 4) and B fragments (column
    // g; words t, t + 4), in word units for both precisions.
    Value t4 = add(b, t, stepWord + 4);
    Value t0 = add(b, t, stepWord);
    auto fragmentsA = [&](Value tile) {
      SmallVector<std::array<Value, 4>> frags;
      for (int64_t mi = 0; mi < kMTiles; ++mi) {
        Value row = add(b, add(b, warpRow, mi * kMmaRows), g);
        Value row8 = add(b, row, 8);
        frags.push_back({load(tile, row, t0), load(tile, row8, t0),
                         load(tile, row, t4), load(tile, row8, t4)});
      }
      return frags;
    };
    auto fragmentsB = [&](Value tile) {
      SmallVector<std::array<Value, 2>> frags;
      for (int64_t ni = 0; ni < kNTiles; ++ni) {
        Value col = add(b, add(b, warpCol, ni * kMmaCols), g);
        frags.push_back({load(tile, col, t0), load(tile, col, t4)});
      }
      return frags;
    };
    SmallVector<std::array<Value, 4>> aFrags = fragmentsA(sharedA);
    SmallVector<std::array<Value, 2>> bFrags = fragmentsB(sharedB);
    SmallVector<std::array<Value, 4>> aLowFrags;
    SmallVector<std::array<Value, 2>> bLowFrags;
    if (precision == Precision::Tf32x3) {
      aLowFrags = fragmentsA(remainderA);
      bLowFrags = fragmentsB(remainderB);
    }
    Type f32 = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, f32));
    bool tf32 = precision != Precision::Bf16;
    std::array<NVVM::MMATypes, 2> types =
        tf32 ? std::array{NVVM::MMATypes::tf32, NVVM::MMATypes::tf32}
             : std::array{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16};
    auto multiplyAccumulate = [&](ArrayRef<Value> a, ArrayRef<Value> bv,
                                  int64_t first) {
      auto mma = NVVM::MmaOp::create(
          b, loc, resultType, a, bv, ArrayRef<Value>(acc).slice(first, 4),
          {kMmaRows, kMmaCols, tf32 ? 8 : 16}, std::nullopt, std::nullopt,
          types, std::array{NVVM::MMALayout::row, NVVM::MMALayout::col});
      for (int64_t r = 0; r < 4; ++r)
        acc[first + r] =
            LLVM::ExtractValueOp::create(b, loc, mma.getResult(), r);
    };
    for (int64_t mi = 0; mi < kMTiles; ++mi)
      for (int64_t ni = 0; ni < kNTiles; ++ni) {
        int64_t first = (mi * kNTiles + ni) * 4;
        // tf32x3: the two cross terms (small) before the main product; the
        // product of the remainders is below f32's precision.
        if (precision == Precision::Tf32x3) {
          multiplyAccumulate(aLowFrags[mi], bFrags[ni], first);
          multiplyAccumulate(aFrags[mi], bLowFrags[ni], first);
        }
        multiplyAccumulate(aFrags[mi], bFrags[ni], first);
      }
  }

  /// The position in C of each accumulator of the thread: rows and
  /// columns from the warp's corner.
  void forEachAccumulator(
      OpBuilder &b, Value rowBase, Value colBase, Value g, Value t,
      function_ref<void(int64_t, Value row, Value col)> fn) {
    Value t2 = b.createOrFold<arith::MulIOp>(op.getLoc(), t, index(b, 2));
    for (int64_t mi = 0; mi < kMTiles; ++mi)
      for (int64_t ni = 0; ni < kNTiles; ++ni)
        for (int64_t r = 0; r < 4; ++r) {
          Value row = add(b, add(b, rowBase, mi * kMmaRows + 8 * (r / 2)), g);
          Value col = add(b, add(b, colBase, ni * kMmaCols + r % 2), t2);
          fn((mi * kNTiles + ni) * 4 + r, row, col);
        }
  }

  void buildKernel(OpBuilder &b, Location loc, Value blockX, Value blockY,
                   Value tid, Value rowTiles) {
    Value warp = b.createOrFold<arith::DivUIOp>(loc, tid, index(b, 32));
    Value lane = b.createOrFold<arith::RemUIOp>(loc, tid, index(b, 32));
    Value g = b.createOrFold<arith::DivUIOp>(loc, lane, index(b, 4));
    Value t = b.createOrFold<arith::RemUIOp>(loc, lane, index(b, 4));
    Value warpRow = mul(b, b.createOrFold<arith::DivUIOp>(loc, warp,
                                                          index(b, 2)),
                        kWarpRows);
    Value warpCol = mul(b, b.createOrFold<arith::RemUIOp>(loc, warp,
                                                          index(b, 2)),
                        kWarpCols);

    // Block x: the row tile, then the batch index; block y: the column tile.
    Value rowTile = b.createOrFold<arith::RemUIOp>(loc, blockX, rowTiles);
    Value batchLinear = b.createOrFold<arith::DivUIOp>(loc, blockX, rowTiles);
    SmallVector<Value> ivs(sizes.size());
    Value rest = batchLinear;
    for (int64_t i = (int64_t)shape.batch.size() - 1; i >= 0; --i) {
      Value size = sizes[shape.batch[i]];
      ivs[shape.batch[i]] =
          i == 0 ? rest : b.createOrFold<arith::RemUIOp>(loc, rest, size);
      if (i > 0)
        rest = b.createOrFold<arith::DivUIOp>(loc, rest, size);
    }
    // The one block of an empty batch has no rows.
    Value rowLimit = arith::SelectOp::create(
        b, loc, below(b, batchLinear, batchCount), sizes[shape.m], index(b, 0));
    Value colLimit = sizes[shape.n];
    Value firstRow = mul(b, rowTile, kTileRows);
    Value firstCol = mul(b, blockY, kTileCols);
    Value rowBase = add(b, firstRow, warpRow);
    Value colBase = add(b, firstCol, warpCol);

    Value out = op.getDpsInits()[0];
    SmallVector<Value> acc(kAccumulators);
    forEachAccumulator(b, rowBase, colBase, g, t,
                       [&](int64_t i, Value row, Value col) {
                         SmallVector<Value> at(ivs);
                         at[shape.m] = row;
                         at[shape.n] = col;
                         acc[i] = loadOrZero(
                             b, loc, out, indicesAt(b, loc, maps[2], at),
                             both(b, below(b, row, rowLimit),
                                  below(b, col, colLimit)));
                       });

    Value words = b.createOrFold<arith::CeilDivUIOp>(
        loc, sizes[shape.k], index(b, elementsPerWord()));
    auto loop = scf::ForOp::create(b, loc, index(b, 0), words,
                                   index(b, kSliceWords), acc);
    {
      OpBuilder body = OpBuilder::atBlockBegin(loop.getBody());
      Value sliceWord = loop.getInductionVar();
      stage(body, tid, sliceWord, 0, sharedA, remainderA, shape.m, firstRow,
            rowLimit, ivs);
      stage(body, tid, sliceWord, 1, sharedB, remainderB, shape.n, firstCol,
            colLimit, ivs);
      gpu::BarrierOp::create(body, loc);
      SmallVector<Value> sums(loop.getRegionIterArgs());
      for (int64_t step = 0; step < kSliceWords; step += kStepWords)
        multiplyStep(body, warpRow, warpCol, g, t, step, sums);
      // The next slice overwrites the tiles only when every warp is done.
      gpu::BarrierOp::create(body, loc);
      scf::YieldOp::create(body, loc, sums);
    }

    forEachAccumulator(
        b, rowBase, colBase, g, t, [&](int64_t i, Value row, Value col) {
          SmallVector<Value> at(ivs);
          at[shape.m] = row;
          at[shape.n] = col;
          auto ifOp = scf::IfOp::create(
              b, loc,
              both(b, below(b, row, rowLimit), below(b, col, colLimit)),
              /*withElseRegion=*/false);
          OpBuilder then = ifOp.getThenBodyBuilder();
          memref::StoreOp::create(then, loc, loop.getResult(i), out,
                                  indicesAt(then, loc, maps[2], at));
        });
  }

  linalg::GenericOp op;
  Contraction shape;
  Precision precision;
  SmallVector<AffineMap> maps;
  SmallVector<Value> sizes; // per loop dimension, in host code
  Value batchCount;
  Value sharedA, sharedB;
  Value remainderA, remainderB; // tf32x3 only
};

struct TileContractionsForGpuPass
    : impl::TileContractionsForGpuBase<TileContractionsForGpuPass> {
  using TileContractionsForGpuBase::TileContractionsForGpuBase;

  void runOnOperation() override {
    std::optional<Precision> mode =
        llvm::StringSwitch<std::optional<Precision>>(precision)
            .Case("fp32", Precision::Fp32)
            .Case("tf32", Precision::Tf32)
            .Case("tf32x3", Precision::Tf32x3)
            .Case("bf16", Precision::Bf16)
            .Default(std::nullopt);
    if (!mode) {
      getOperation().emitError("sinter-tile-contractions-for-gpu: precision "
                               "must be fp32, tf32, tf32x3 or bf16, got '")
          << precision << "'";
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) {
      // Only the host code's ops: one inside a kernel is already mapped.
      if (!op->getParentOfType<gpu::LaunchOp>())
        generics.push_back(op);
    });
    int64_t tiled = 0;
    for (linalg::GenericOp op : generics)
      if (std::optional<Contraction> shape = matchContraction(op))
        tiled += succeeded(ContractionKernel(op, *shape, *mode).rewrite());
    // For sinterc --stats (kTiledContractionsAttr).
    getOperation()->setAttr(kTiledContractionsAttr,
                            Builder(&getContext()).getI64IntegerAttr(tiled));
  }
};

} // namespace
} // namespace sinter
