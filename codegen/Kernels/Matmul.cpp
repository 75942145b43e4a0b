//===- Matmul.cpp - linear, matmul, conv as the runtime's GEMM kernels ----===//
//
// f32 linear, matmul of matrices and one-group conv as calls of the packed
// GEMM kernel on [batch, rows, cols] views (2-D convs through the conv
// kernel, which packs their windows itself); weights that are constants
// packed at compile time into the kernel's layout; dequantized constant
// weights (and int8 activations) as calls of the quantized kernels on their
// integers; depthwise convs as calls of the depthwise kernel.
//
//===----------------------------------------------------------------------===//

#include "codegen/Kernels/KernelCall.h"
#include "codegen/Kernels/Patterns.h"
#include "codegen/SinterToLinalg/Utils.h"
#include "sinter/runtime.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;
using namespace sinter;
using namespace sinter::kernels;
using namespace sinter::linalg_lowering;

namespace {

/// `value` (rank >= 2) as [batch, rows, cols] for the matmul kernel: with
/// `flattenRows`, every leading dimension is folded into the rows under a
/// batch of 1; otherwise the leading dimensions are folded into the batch
/// (a batch of 1 when there are none).
Value asBatchedMatrix(OpBuilder &b, Location loc, Value value,
                      bool flattenRows) {
  int64_t rank = tensorType(value).getRank();
  if (rank == 2)
    return addLeadingUnit(b, loc, value);
  if (flattenRows)
    return addLeadingUnit(
        b, loc,
        tensor::CollapseShapeOp::create(
            b, loc, value,
            SmallVector<ReassociationIndices>{
                llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), {rank - 1}}));
  if (rank == 3)
    return value;
  return tensor::CollapseShapeOp::create(
      b, loc, value,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)),
          {rank - 2},
          {rank - 1}});
}

/// A constant weight packed at compile time into the matmul kernel's layout
/// for B (SINTER_MATMUL_PACKED_B in runtime.h): for each of the `batch`
/// matrices, ceil(N / 16) slivers of K x 16, zero-padded. `weight` holds
/// the matrices as [batch, K, N], or [batch, N, K] with `transposed`. Null
/// when the weight is not a constant.
Value packedWeight(OpBuilder &b, Location loc, Value weight, int64_t batch,
                   int64_t k, int64_t n, bool transposed) {
  std::optional<std::vector<float>> values = f32Elements(weight);
  if (!values || int64_t(values->size()) != batch * k * n)
    return Value();
  const int64_t width = SINTER_MATMUL_PACK_WIDTH;
  int64_t slivers = (n + width - 1) / width;
  std::vector<float> packed(batch * slivers * k * width, 0.0f);
  for (int64_t p = 0; p < batch; ++p) {
    const float *matrix = values->data() + p * k * n;
    float *out = packed.data() + p * slivers * k * width;
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < k; ++i)
        out[(j / width) * k * width + i * width + j % width] =
            transposed ? matrix[j * k + i] : matrix[i * n + j];
  }
  auto type =
      RankedTensorType::get({batch, slivers, k * width}, b.getF32Type());
  ArrayRef<char> bytes(reinterpret_cast<const char *>(packed.data()),
                       packed.size() * sizeof(float));
  auto attr = DenseResourceElementsAttr::get(
      type, "sinter_packed_weight",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(float)));
  return arith::ConstantOp::create(b, loc, attr);
}

/// A constant convolution weight [M, C, window...] packed at compile time
/// into the conv kernel's layout for A (SINTER_CONV_PACKED_WEIGHT in
/// kernels.h): ceil(M / 12) slivers of 12 rows by the whole depth K, row m
/// of sliver s at depth k at s * 12 K + k * 12 + m % 12, zero-padded. Null
/// when the weight is not a constant.
Value packedConvWeight(OpBuilder &b, Location loc, Value weight) {
  RankedTensorType type = tensorType(weight);
  std::optional<std::vector<float>> values = f32Elements(weight);
  if (!values || !type.hasStaticShape() ||
      int64_t(values->size()) != type.getNumElements())
    return Value();
  const int64_t rows = SINTER_CONV_PACK_ROWS, m = type.getDimSize(0);
  const int64_t k = type.getNumElements() / m;
  const int64_t slivers = (m + rows - 1) / rows;
  std::vector<float> packed(slivers * rows * k, 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t d = 0; d < k; ++d)
      packed[(i / rows) * rows * k + d * rows + i % rows] =
          (*values)[i * k + d];
  auto packedType =
      RankedTensorType::get({1, slivers, rows * k}, b.getF32Type());
  ArrayRef<char> bytes(reinterpret_cast<const char *>(packed.data()),
                       packed.size() * sizeof(float));
  auto attr = DenseResourceElementsAttr::get(
      packedType, "sinter_packed_weight",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(float)));
  return arith::ConstantOp::create(b, loc, attr);
}

/// One call of the runtime's matmul kernel: C = A B (+ bias) on the
/// [batch, rows, cols] views `a` and `b` (b read as [batch, N, K] with
/// `transposeB`), returning C as a [batch, M, N] tensor; `batchFrom` is
/// the view whose batch C has. With `packedB` (packedWeight of b), the
/// kernel reads that instead and b only gives the shapes.
Value callMatmulKernel(OpBuilder &b, Location loc, ModuleOp module, Value a,
                       Value bMatrix, Value bias, bool transposeB,
                       Value batchFrom, Value packedB = Value()) {
  Type f32 = b.getF32Type();
  RankedTensorType aType = tensorType(a), bType = tensorType(bMatrix);
  int64_t nDim = transposeB ? 1 : 2;
  SmallVector<int64_t> shape = {tensorType(batchFrom).getDimSize(0),
                                aType.getDimSize(1), bType.getDimSize(nDim)};
  SmallVector<Value> sizes;
  for (auto [value, dim] :
       {std::make_pair(batchFrom, int64_t(0)), std::make_pair(a, int64_t(1)),
        std::make_pair(bMatrix, nDim)})
    if (Value size = dynamicDim(b, loc, value, dim))
      sizes.push_back(size);
  KernelCall call(b, loc, module);
  Value out = call.allocate(shape, f32, sizes);
  Value aView = call.view(a);
  int32_t flags = (transposeB ? SINTER_MATMUL_TRANSPOSE_B : 0) |
                  (bias ? SINTER_MATMUL_HAS_BIAS : 0) |
                  (packedB ? SINTER_MATMUL_PACKED_B : 0);
  call.call(SINTER_MATMUL_KERNEL,
            {aView, call.view(packedB ? packedB : bMatrix),
             call.optionalVector(bias), call.outputView(out), call.i32(flags)});
  return call.asTensor(out, RankedTensorType::get(shape, f32));
}

/// The kernel's [batch, M, N] result in the op's result shape: either the
/// rows unfolded (`flattenedRows`: [1, P, N] into [..., N]) or the batch.
Value fromBatchedMatrix(OpBuilder &b, Location loc, Value c,
                        RankedTensorType result, ValueRange likeDims,
                        bool flattenedRows) {
  int64_t rank = result.getRank();
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d)
    sizes.push_back(result.isDynamicDim(d)
                        ? OpFoldResult(likeDims[d])
                        : b.getIndexAttr(result.getDimSize(d)));
  SmallVector<ReassociationIndices> groups;
  if (flattenedRows) {
    // [1, P, N] -> [P, N] -> result.
    c = tensor::CollapseShapeOp::create(
        b, loc, c, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    if (rank == 2)
      return c;
    groups = {llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), {rank - 1}};
  } else {
    if (rank == 3)
      return c;
    if (rank == 2)
      return tensor::CollapseShapeOp::create(
          b, loc, c, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    groups = {llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)),
              {rank - 2},
              {rank - 1}};
  }
  return tensor::ExpandShapeOp::create(b, loc, result, c, groups, sizes);
}

/// The result's sizes as values (null where static), for fromBatchedMatrix.
SmallVector<Value> resultDims(OpBuilder &b, Location loc,
                              RankedTensorType result,
                              function_ref<Value(int64_t)> dynamicSize) {
  SmallVector<Value> dims;
  for (int64_t d = 0; d < result.getRank(); ++d)
    dims.push_back(result.isDynamicDim(d) ? dynamicSize(d) : Value());
  return dims;
}

/// A dequantized constant weight packed at compile time for the quantized
/// kernel (sinter_qweight_pack): the integers, scales and zero points
/// re-laid per output column n and group of k. The weight is [K, N], [N, K]
/// with `transposed`, or a batch of [K, N] matrices (MoE experts). Null when
/// it is not one the kernel reads: its scales must be per output channel,
/// per tensor or in blocks along k, its integers 4 or 8 bits.
Value packedQuantizedWeight(OpBuilder &b, Location loc, DequantizeOp dq,
                            bool transposed) {
  RankedTensorType type = dq.getType(), input = dq.getInput().getType();
  const int64_t rank = type.getRank();
  if (!type.getElementType().isF32() || !type.hasStaticShape() || rank < 2 ||
      (transposed && rank != 2))
    return Value();
  const int64_t kAxis = transposed ? 1 : rank - 2,
                nAxis = transposed ? 0 : rank - 1;
  const int64_t n = type.getDimSize(nAxis), k = type.getDimSize(kAxis);
  const int64_t batch = type.getNumElements() / (n * k);
  auto intType = cast<IntegerType>(input.getElementType());
  const unsigned bits = intType.getWidth();
  if (bits != 4 && bits != 8)
    return Value();
  int64_t group;
  DequantizeOp::Granularity granularity = dq.getGranularity();
  if (granularity == DequantizeOp::Granularity::Block &&
      int64_t(dq.getAxis()) == kAxis)
    group = dq.getBlock();
  else if (granularity == DequantizeOp::Granularity::Axis &&
           int64_t(dq.getAxis()) == nAxis && rank == 2)
    group = k;
  else if (granularity == DequantizeOp::Granularity::Tensor)
    group = k;
  else
    return Value();
  std::optional<std::vector<int64_t>> q = integerElements(dq.getInput());
  std::optional<std::vector<float>> scales = floatElements(dq.getScale());
  std::optional<std::vector<int64_t>> zeroPoints;
  if (dq.getZeroPoint()) {
    zeroPoints = integerElements(dq.getZeroPoint());
    if (!zeroPoints)
      return Value();
  }
  if (!q || !scales || int64_t(q->size()) != batch * n * k)
    return Value();
  const int64_t groups = (k + group - 1) / group;
  // Where matrix p's (n, group g) finds its scale and zero point in dq's
  // operands.
  auto scaleAt = [&](int64_t p, int64_t j, int64_t g) -> int64_t {
    switch (granularity) {
    case DequantizeOp::Granularity::Tensor:
      return 0;
    case DequantizeOp::Granularity::Axis:
      return j;
    case DequantizeOp::Granularity::Block:
      return p * groups * n + (transposed ? j * groups + g : g * n + j);
    }
    llvm_unreachable("granularity");
  };
  // The kernel's integers: 4 bits unsigned with zero points, 8 bits signed
  // (unsigned ones shifted by 128, their zero points with them).
  const int64_t shift = bits == 4 ? (intType.isUnsigned() ? 0 : 8)
                                  : (intType.isUnsigned() ? -128 : 0);
  std::vector<int8_t> kernelQ(batch * n * k),
      kernelZeroPoints(batch * n * groups);
  std::vector<float> kernelScales(batch * n * groups);
  bool anyZeroPoint = bits == 4 || shift != 0;
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t row = p * n + j;
      for (int64_t i = 0; i < k; ++i)
        kernelQ[row * k + i] = int8_t(
            (*q)[p * n * k + (transposed ? j * k + i : i * n + j)] + shift);
      for (int64_t g = 0; g < groups; ++g) {
        int64_t at = scaleAt(p, j, g);
        kernelScales[row * groups + g] = (*scales)[at];
        int64_t zp = (zeroPoints ? (*zeroPoints)[at] : 0) + shift;
        kernelZeroPoints[row * groups + g] = int8_t(zp);
        anyZeroPoint |= zp != 0;
      }
    }
  sinter_qweight_desc desc = {
      int32_t(bits),
      (anyZeroPoint ? SINTER_QWEIGHT_ZERO_POINTS : 0) |
          (dq.getScale().getType().getElementType().isBF16()
               ? SINTER_QWEIGHT_SCALES_BF16
               : 0),
      batch,
      n,
      k,
      group};
  int64_t size = sinter_qweight_packed_size(&desc);
  if (size < 0)
    return Value();
  std::vector<char> packed(size);
  if (sinter_qweight_pack(&desc, kernelQ.data(), kernelScales.data(),
                          anyZeroPoint ? kernelZeroPoints.data() : nullptr,
                          packed.data()) != 0)
    return Value();
  auto attr = DenseResourceElementsAttr::get(
      RankedTensorType::get({size}, b.getIntegerType(8)),
      "sinter_packed_qweight",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(packed, 64));
  return arith::ConstantOp::create(b, loc, attr);
}

/// One call of the runtime's quantized matmul kernel: C = A W (+ bias) on
/// the [batch or 1, M, K] view `a` and the packed weight
/// (packedQuantizedWeight) of N output columns; returns C as a [batch, M,
/// N] tensor, its batch that of the [batch, ...] view `batchFrom` (a, or
/// the batch of weights). An f32 `a` runs sinter_qmatmul_f32; an int8 one
/// (W8A8) runs sinter_qmatmul_i8 with `aScales`, a 1-D tensor of one scale
/// or (`rowScales`) one per row of the view, and the zero point of its
/// values (uint8 ones with `aUnsigned`).
Value callQMatmulKernel(OpBuilder &b, Location loc, ModuleOp module, Value a,
                        Value packed, int64_t n, Value bias, Value batchFrom,
                        int64_t batch, Value aScales = Value(),
                        bool rowScales = false, int32_t aZeroPoint = 0,
                        bool aUnsigned = false) {
  Type f32 = b.getF32Type(), i8 = b.getIntegerType(8);
  SmallVector<int64_t> shape = {batch, tensorType(a).getDimSize(1), n};
  SmallVector<Value> sizes;
  if (ShapedType::isDynamic(batch))
    sizes.push_back(dynamicDim(b, loc, batchFrom, 0));
  if (Value rows = dynamicDim(b, loc, a, 1))
    sizes.push_back(rows);
  KernelCall call(b, loc, module);
  Value out = call.allocate(shape, f32, sizes);
  const bool int8 = tensorType(a).getElementType().isInteger(8);
  int32_t flags = (bias ? SINTER_QMATMUL_HAS_BIAS : 0) |
                  (int8 && rowScales ? SINTER_QMATMUL_ROW_SCALES : 0) |
                  (int8 && aUnsigned ? SINTER_QMATMUL_A_UNSIGNED : 0);
  SmallVector<Value> args = {call.view(a)};
  // uint8 crosses as the same bytes (the flags tell the kernel, and its
  // declaration takes one element type): a cast that the LLVM lowering
  // removes, as toSignless's.
  MemRefType aView = anyView(3, int8 ? i8 : f32);
  if (args[0].getType() != aView)
    args[0] =
        UnrealizedConversionCastOp::create(b, loc, aView, args[0]).getResult(0);
  if (int8)
    args.append({call.view(aScales), call.i32(aZeroPoint)});
  args.append({call.view(packed), call.optionalVector(bias),
               call.outputView(out), call.i32(flags)});
  call.call(int8 ? SINTER_QMATMUL_I8_KERNEL : SINTER_QMATMUL_KERNEL, args);
  return call.asTensor(out, RankedTensorType::get(shape, f32));
}

/// Replaces `op` by the kernel's [1, rows, N] result `c`, the rows unfolded
/// back into the op's leading dimensions.
void replaceLinear(PatternRewriter &rewriter, LinearOp op, Value c) {
  Location loc = op.getLoc();
  RankedTensorType result = op.getType();
  SmallVector<Value> dims =
      resultDims(rewriter, loc, result, [&](int64_t d) -> Value {
        if (d < result.getRank() - 1)
          return tensor::DimOp::create(rewriter, loc, op.getInput(), d);
        return tensor::DimOp::create(rewriter, loc, op.getWeight(),
                                     op.getTransposeWeight() ? 0 : 1);
      });
  rewriter.replaceOp(op,
                     fromBatchedMatrix(rewriter, loc, c, result, dims, true));
}

/// f32 linear as one call of the runtime's matmul kernel: the leading
/// input dimensions are the rows, the weight read in place (transposed or
/// not), the bias the kernel's starting value.
struct LowerLinearToKernel : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType result = op.getType();
    if (result.getElementType() != f32 || result.getRank() < 2 || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");
    Value a = asBatchedMatrix(rewriter, loc, op.getInput(), true);
    Value w = addLeadingUnit(rewriter, loc, op.getWeight());
    RankedTensorType weight = op.getWeight().getType();
    bool transposed = op.getTransposeWeight();
    Value packed;
    if (weight.hasStaticShape())
      packed = packedWeight(rewriter, loc, op.getWeight(), 1,
                            weight.getDimSize(transposed ? 1 : 0),
                            weight.getDimSize(transposed ? 0 : 1), transposed);
    Value c = callMatmulKernel(rewriter, loc, module, a, w, op.getBias(),
                               transposed, a, packed);
    replaceLinear(rewriter, op, c);
    return success();
  }
};

/// f32 linear by a dequantized constant weight as one call of the
/// runtime's quantized kernel, which reads the integers packed at compile
/// time (packedQuantizedWeight): the f32 weight never exists. Weights the
/// kernel cannot read keep the dequantize + linear lowering.
struct LowerQuantizedLinearToKernel : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType result = op.getType();
    auto dq = op.getWeight().getDefiningOp<DequantizeOp>();
    if (!dq || !result.getElementType().isF32() || result.getRank() < 2 ||
        !module)
      return rewriter.notifyMatchFailure(op, "not a quantized f32 linear");
    bool transposed = op.getTransposeWeight();
    Value packed = packedQuantizedWeight(rewriter, loc, dq, transposed);
    if (!packed)
      return rewriter.notifyMatchFailure(op, "weight not for the kernel");
    RankedTensorType weight = op.getWeight().getType();
    int64_t n = weight.getDimSize(transposed ? 0 : 1);
    Value a = asBatchedMatrix(rewriter, loc, op.getInput(), true);
    Value c = callQMatmulKernel(rewriter, loc, module, a, packed, n,
                                op.getBias(), a, 1);
    replaceLinear(rewriter, op, c);
    return success();
  }
};

/// `value` as a 1-D tensor of its elements (row-major).
Value flattened(OpBuilder &b, Location loc, Value value) {
  RankedTensorType type = tensorType(value);
  if (type.getRank() == 1)
    return value;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1}, type.getElementType()), value,
        SmallVector<ReassociationIndices>{});
  return tensor::CollapseShapeOp::create(
      b, loc, value,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
}

/// W8A8: f32 linear whose input is dequantized int8 activations (one f32
/// scale, or one per row: sinter.quantize with a calibrated scale,
/// sinter.dynamic_quantize) and whose weight is a per-column int8
/// constant, as one call of sinter_qmatmul_i8 on the integers of both:
/// neither side exists in f32.
struct LowerW8A8LinearToKernel : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType result = op.getType();
    auto weight = op.getWeight().getDefiningOp<DequantizeOp>();
    auto input = op.getInput().getDefiningOp<DequantizeOp>();
    bool transposed = op.getTransposeWeight();
    if (!weight || !input || !result.getElementType().isF32() ||
        result.getRank() < 2 || !module ||
        !weight.isPerColumnInt8(transposed ? 1 : 0))
      return rewriter.notifyMatchFailure(op, "not an int8 x int8 linear");
    RankedTensorType activations = input.getInput().getType();
    const int64_t rank = activations.getRank();
    auto intType = dyn_cast<IntegerType>(activations.getElementType());
    if (!intType || intType.getWidth() != 8 || intType.isSigned() ||
        !input.getScale().getType().getElementType().isF32() ||
        activations.isDynamicDim(rank - 1))
      return rewriter.notifyMatchFailure(op, "input not 8-bit with f32 scales");
    // A zero point: one constant for the whole tensor (imported QDQ).
    int32_t zeroPoint = 0;
    if (Value zp = input.getZeroPoint()) {
      std::optional<std::vector<int64_t>> values = integerElements(zp);
      if (!values || values->size() != 1)
        return rewriter.notifyMatchFailure(op, "zero point not one constant");
      zeroPoint = int32_t(values->front());
    }
    bool rowScales;
    switch (input.getGranularity()) {
    case DequantizeOp::Granularity::Tensor:
      rowScales = false;
      break;
    case DequantizeOp::Granularity::Block:
      rowScales = int64_t(input.getAxis()) == rank - 1 &&
                  int64_t(input.getBlock()) >= activations.getDimSize(rank - 1);
      if (rowScales)
        break;
      [[fallthrough]];
    default:
      return rewriter.notifyMatchFailure(op, "input scales not per row");
    }
    Value packed = packedQuantizedWeight(rewriter, loc, weight, transposed);
    if (!packed)
      return rewriter.notifyMatchFailure(op, "weight not for the kernel");
    int64_t n = op.getWeight().getType().getDimSize(transposed ? 0 : 1);
    Value a = asBatchedMatrix(rewriter, loc, input.getInput(), true);
    Value c =
        callQMatmulKernel(rewriter, loc, module, a, packed, n, op.getBias(), a,
                          1, flattened(rewriter, loc, input.getScale()),
                          rowScales, zeroPoint, intType.isUnsigned());
    replaceLinear(rewriter, op, c);
    return success();
  }
};

/// f32 matmul of matrices (rank >= 2 both) as one call of the runtime's
/// matmul kernel: by a 2-D right side, the left side's leading dimensions
/// are rows; otherwise the batch dimensions, equal on both sides or all 1
/// on one side (broadcast; a 2-D left side broadcasts too), fold into one
/// batch. Vectors and other broadcasts keep the contraction.
///
/// A right side that is a dequantized constant (a quantized weight, MoE
/// experts) runs as the quantized kernel.
struct LowerMatmulToKernel : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType lhs = op.getLhs().getType(), rhs = op.getRhs().getType(),
                     result = op.getType();
    if (result.getElementType() != f32 || lhs.getElementType() != f32 ||
        rhs.getElementType() != f32 || lhs.getRank() < 2 || rhs.getRank() < 2 ||
        !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");
    bool byMatrix = rhs.getRank() == 2;
    Value batchFrom;
    if (!byMatrix && lhs.getRank() == 2) {
      // One matrix against a batch of them (all experts of an MoE layer on
      // the same tokens): the left side broadcasts.
      batchFrom = op.getRhs();
    } else if (!byMatrix) {
      if (lhs.getRank() != rhs.getRank())
        return rewriter.notifyMatchFailure(op, "batch ranks differ");
      ArrayRef<int64_t> lb = lhs.getShape().drop_back(2),
                        rb = rhs.getShape().drop_back(2);
      auto allOnes = [](ArrayRef<int64_t> dims) {
        return llvm::all_of(dims, [](int64_t d) { return d == 1; });
      };
      if (lb == rb || allOnes(rb))
        batchFrom = op.getLhs();
      else if (allOnes(lb))
        batchFrom = op.getRhs();
      else
        return rewriter.notifyMatchFailure(op, "partly broadcast batch");
    }
    Value quantized;
    if (auto dq = op.getRhs().getDefiningOp<DequantizeOp>())
      quantized = packedQuantizedWeight(rewriter, loc, dq, false);
    Value a = asBatchedMatrix(rewriter, loc, op.getLhs(), byMatrix);
    Value c;
    if (quantized) {
      bool fromLhs = byMatrix || batchFrom == op.getLhs();
      int64_t weights = rhs.getNumElements() /
                        (rhs.getShape().back() * rhs.getShape().end()[-2]);
      c = callQMatmulKernel(rewriter, loc, module, a, quantized,
                            rhs.getShape().back(), Value(), a,
                            fromLhs ? tensorType(a).getDimSize(0) : weights);
    } else {
      Value b = asBatchedMatrix(rewriter, loc, op.getRhs(), false);
      RankedTensorType bType = tensorType(b);
      Value packed;
      if (bType.hasStaticShape())
        packed = packedWeight(rewriter, loc, op.getRhs(), bType.getDimSize(0),
                              bType.getDimSize(1), bType.getDimSize(2), false);
      c = callMatmulKernel(rewriter, loc, module, a, b, Value(), false,
                           byMatrix || batchFrom == op.getLhs() ? a : b,
                           packed);
    }
    int64_t rank = result.getRank();
    SmallVector<Value> dims =
        resultDims(rewriter, loc, result, [&](int64_t d) -> Value {
          if (d == rank - 1)
            return tensor::DimOp::create(rewriter, loc, op.getRhs(),
                                         rhs.getRank() - 1);
          if (d == rank - 2)
            return tensor::DimOp::create(rewriter, loc, op.getLhs(),
                                         lhs.getRank() - 2);
          if (byMatrix)
            return tensor::DimOp::create(rewriter, loc, op.getLhs(), d);
          return tensor::DimOp::create(rewriter, loc, batchFrom, d);
        });
    rewriter.replaceOp(
        op, fromBatchedMatrix(rewriter, loc, c, result, dims, byMatrix));
    return success();
  }
};

/// The only reader of `last`'s result.
Operation *onlyUser(Operation *producer) {
  Value value = producer->getResult(0);
  return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
}

/// Whether the only reader of `last` is a ReLU or a clip, which a
/// convolution kernel applies to its output as a clamp to [lo, hi]; then
/// `last` becomes that op and lo and hi its bounds (ReLU: [0, inf]).
bool matchClampEpilogue(Operation *&last, float &lo, float &hi) {
  Operation *user = onlyUser(last);
  if (!user)
    return false;
  if (isa<ReluOp>(user)) {
    lo = 0.0f;
    hi = std::numeric_limits<float>::infinity();
  } else if (auto clip = dyn_cast<ClipOp>(user)) {
    lo = clip.getMin() ? static_cast<float>(clip.getMin()->convertToDouble())
                       : -std::numeric_limits<float>::infinity();
    hi = clip.getMax() ? static_cast<float>(clip.getMax()->convertToDouble())
                       : std::numeric_limits<float>::infinity();
  } else {
    return false;
  }
  last = user;
  return true;
}

/// [N, C, W] as [N, C, 1, W]: a 1-D convolution's operand as a 2-D one's.
Value asRank4(OpBuilder &b, Location loc, Value value) {
  RankedTensorType type = tensorType(value);
  if (type.getRank() == 4)
    return value;
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + 2, 1);
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
}

/// A 1-D or 2-D conv's geometry as the conv kernels' eight i32 arguments
/// (kernel height and width, strides, dilations, top and left pads); a 1-D
/// conv is a 2-D one over a single row, whose height terms are 1 (kernel,
/// stride, dilation) and 0 (pad).
SmallVector<Value> convGeometry(KernelCall &call, ConvOp op) {
  const bool oneRow = op.getInput().getType().getRank() == 3;
  auto pair = [&](ArrayRef<int64_t> values, int64_t unit) {
    return oneRow ? std::make_pair(unit, values[0])
                  : std::make_pair(values[0], values[1]);
  };
  ArrayRef<int64_t> kernel = op.getWeight().getType().getShape().drop_front(2);
  SmallVector<Value> args;
  for (auto [h, w] : {pair(kernel, 1), pair(op.getStrides(), 1),
                      pair(op.getDilations(), 1), pair(op.getPads(), 0)}) {
    args.push_back(call.i32(static_cast<int32_t>(h)));
    args.push_back(call.i32(static_cast<int32_t>(w)));
  }
  return args;
}

/// The conv kernels' [N, M, OH, OW] output shape for `result` ([N, M, W]
/// as [N, M, 1, W]).
SmallVector<int64_t> rank4Shape(RankedTensorType result) {
  SmallVector<int64_t> shape(result.getShape());
  if (shape.size() == 3)
    shape.insert(shape.begin() + 2, 1);
  return shape;
}

/// The kernel's [N, M, 1, W] output back as `result` [N, M, W] (a 2-D
/// output as it is).
Value fromRank4(OpBuilder &b, Location loc, Value conv,
                RankedTensorType result) {
  if (result.getRank() == 4)
    return conv;
  return tensor::CollapseShapeOp::create(
      b, loc, result, conv,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
}

/// f32 conv with one group and one or two spatial dimensions as one call
/// of the runtime's convolution kernel (sinter_conv2d_f32), which packs the
/// windows from the input into its GEMM's blocks and writes the output
/// channels first: no padded copy, no im2col buffer, no transpose. A 1-D
/// conv is a 2-D one over a single row. Fewer than 4 output channels take
/// the im2col product below (the kernel would take its term-by-term loop).
struct LowerConv2dToKernel : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    int64_t spatial = input.getRank() - 2;
    if (result.getElementType() != f32 || op.getGroup() != 1 ||
        spatial < 1 || spatial > 2 || !input.hasStaticShape() ||
        !weight.hasStaticShape() || !result.hasStaticShape() ||
        weight.getDimSize(0) < 4 || !module)
      return rewriter.notifyMatchFailure(op, "not for the conv kernel");

    // The epilogue the kernel applies to each block of the output while it
    // is in cache: an add of a tensor of the output's shape (a residual
    // connection), then a ReLU or a clip, each the only reader of the value
    // before it. The call replaces the last of them, where every operand
    // is defined (a residual may be computed after the conv).
    Operation *last = op;
    AddOp add;
    Value residual;
    float lo = 0.0f, hi = std::numeric_limits<float>::infinity();
    if (auto user = dyn_cast_or_null<AddOp>(onlyUser(last))) {
      Value other = user.getLhs() == op.getResult() ? user.getRhs()
                                                     : user.getLhs();
      if (user.getType() == result && other.getType() == result &&
          other != op.getResult()) {
        add = user;
        residual = other;
        last = user;
      }
    }
    bool clamp = matchClampEpilogue(last, lo, hi);
    Location loc = last->getLoc();
    rewriter.setInsertionPoint(last);

    // The weight packed for the kernel where it is a constant; otherwise
    // as [1, M, C x window], its rows in the kernel's order.
    Value filters = packedConvWeight(rewriter, loc, op.getWeight());
    const bool isPacked = bool(filters);
    if (!isPacked)
      filters = addLeadingUnit(
          rewriter, loc,
          tensor::CollapseShapeOp::create(
              rewriter, loc, op.getWeight(),
              SmallVector<ReassociationIndices>{
                  {0}, llvm::to_vector(llvm::seq<int64_t>(1, 2 + spatial))}));
    KernelCall call(rewriter, loc, module);
    SmallVector<int64_t> outShape = rank4Shape(result);
    Value out = call.allocate(outShape, f32, {});
    Value bias = op.getBias();
    // Without a residual, any rank-4 descriptor (the output's).
    Value residualView =
        residual ? call.view(asRank4(rewriter, loc, residual)) : Value();
    Value outView = call.outputView(out);
    int32_t flags = (bias ? SINTER_CONV_HAS_BIAS : 0) |
                    (residual ? SINTER_CONV_HAS_RESIDUAL : 0) |
                    (clamp ? SINTER_CONV_CLAMP : 0) |
                    (isPacked ? SINTER_CONV_PACKED_WEIGHT : 0);
    SmallVector<Value> args = {
        call.view(asRank4(rewriter, loc, op.getInput())), call.view(filters),
        call.optionalVector(bias), residualView ? residualView : outView,
        outView};
    llvm::append_range(args, convGeometry(call, op));
    args.append({call.f32(lo), call.f32(hi), call.i32(flags)});
    call.call(SINTER_CONV_KERNEL, args);
    Value conv = call.asTensor(out, RankedTensorType::get(outShape, f32));
    rewriter.replaceOp(last, fromRank4(rewriter, loc, conv, result));
    if (add && last != add)
      rewriter.eraseOp(add);
    if (last != op)
      rewriter.eraseOp(op);
    return success();
  }
};

/// f32 depthwise conv (each group reads one input channel) with one or two
/// spatial dimensions as one call of the runtime's depthwise kernel
/// (sinter_depthwise2d_f32), with a ReLU or clip after it as the kernel's
/// clamp: each input plane is read once, no padded copy of the input, no
/// bias broadcast, no pass of its own for the activation.
struct LowerDepthwiseConvToKernel : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    int64_t spatial = input.getRank() - 2;
    if (result.getElementType() != f32 || spatial < 1 || spatial > 2 ||
        !input.hasStaticShape() || !weight.hasStaticShape() ||
        !result.hasStaticShape() || op.getGroup() == 1 ||
        int64_t(op.getGroup()) != input.getDimSize(1) ||
        weight.getDimSize(1) != 1 || !module)
      return rewriter.notifyMatchFailure(op, "not a depthwise conv");

    Operation *last = op;
    float lo = 0.0f, hi = std::numeric_limits<float>::infinity();
    bool clamp = matchClampEpilogue(last, lo, hi);
    Location loc = last->getLoc();
    rewriter.setInsertionPoint(last);

    // The weight [M, 1, window...] as [M, window].
    Value filters = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getWeight(),
        SmallVector<ReassociationIndices>{
            {0}, llvm::to_vector(llvm::seq<int64_t>(1, 2 + spatial))});
    KernelCall call(rewriter, loc, module);
    SmallVector<int64_t> outShape = rank4Shape(result);
    Value out = call.allocate(outShape, f32, {});
    Value bias = op.getBias();
    int32_t flags =
        (bias ? SINTER_CONV_HAS_BIAS : 0) | (clamp ? SINTER_CONV_CLAMP : 0);
    SmallVector<Value> args = {
        call.view(asRank4(rewriter, loc, op.getInput())), call.view(filters),
        call.optionalVector(bias), call.outputView(out)};
    llvm::append_range(args, convGeometry(call, op));
    args.append({call.f32(lo), call.f32(hi), call.i32(flags)});
    call.call(SINTER_DEPTHWISE_KERNEL, args);
    Value conv = call.asTensor(out, RankedTensorType::get(outShape, f32));
    rewriter.replaceOp(last, fromRank4(rewriter, loc, conv, result));
    if (last != op)
      rewriter.eraseOp(op);
    return success();
  }
};

/// f32 conv with one group and three spatial dimensions as a GEMM on the
/// runtime's matmul kernel: the padded input's windows laid out as rows
/// (im2col: [N, output positions, C x window]), times the weight read as
/// [M, C x window] transposed, with the bias as the kernel's starting
/// value; then [N, positions, M] back to N x M x spatial. The copy of the
/// windows costs window-size times the input, against a contraction that
/// LLVM vectorizes poorly.
struct LowerConvToKernel : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    auto module = op->getParentOfType<ModuleOp>();
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    if (result.getElementType() != f32 || op.getGroup() != 1 ||
        !input.hasStaticShape() || !weight.hasStaticShape() ||
        !result.hasStaticShape() || !module)
      return rewriter.notifyMatchFailure(op, "not for the f32 kernel");
    int64_t spatial = input.getRank() - 2;
    int64_t batch = input.getDimSize(0), channels = input.getDimSize(1),
            outputs = weight.getDimSize(0);
    Value padded = paddedConvInput(rewriter, loc, op);

    // windows[n, o..., c, k...] = padded[n, c, o * stride + k * dilation]
    int64_t loops = 2 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    SmallVector<int64_t> windowShape = {batch};
    SmallVector<AffineExpr> inputExprs = {d(0), d(1 + spatial)};
    for (int64_t i = 0; i < spatial; ++i) {
      windowShape.push_back(result.getDimSize(2 + i));
      inputExprs.push_back(d(1 + i) * op.getStrides()[i] +
                           d(2 + spatial + i) * op.getDilations()[i]);
    }
    windowShape.push_back(channels);
    for (int64_t i = 0; i < spatial; ++i)
      windowShape.push_back(weight.getDimSize(2 + i));
    auto windowType = RankedTensorType::get(windowShape, f32);
    Value windows = linalg::GenericOp::create(
                        rewriter, loc, windowType, padded,
                        emptyTensor(rewriter, loc, windowType, {}),
                        SmallVector<AffineMap>{
                            AffineMap::get(loops, 0, inputExprs, context),
                            rewriter.getMultiDimIdentityMap(loops)},
                        SmallVector<utils::IteratorType>(
                            loops, utils::IteratorType::parallel),
                        [](OpBuilder &b, Location l, ValueRange args) {
                          linalg::YieldOp::create(b, l, args[0]);
                        })
                        .getResult(0);
    Value rows = tensor::CollapseShapeOp::create(
        rewriter, loc, windows,
        SmallVector<ReassociationIndices>{
            {0},
            llvm::to_vector(llvm::seq<int64_t>(1, 1 + spatial)),
            llvm::to_vector(llvm::seq<int64_t>(1 + spatial, loops))});
    Value filters = addLeadingUnit(
        rewriter, loc,
        tensor::CollapseShapeOp::create(
            rewriter, loc, op.getWeight(),
            SmallVector<ReassociationIndices>{
                {0}, llvm::to_vector(llvm::seq<int64_t>(1, 2 + spatial))}));
    int64_t depth = tensorType(filters).getDimSize(2);
    Value products = callMatmulKernel(
        rewriter, loc, module, rows, filters, op.getBias(),
        /*transposeB=*/true, rows,
        packedWeight(rewriter, loc, op.getWeight(), 1, depth, outputs, true));

    // [N, positions, M] -> [N, M, positions] -> N x M x spatial.
    int64_t positions = tensorType(rows).getDimSize(1);
    auto channelsFirst =
        RankedTensorType::get({batch, outputs, positions}, f32);
    Value transposed = linalg::TransposeOp::create(
                           rewriter, loc, products,
                           emptyTensor(rewriter, loc, channelsFirst, {}),
                           ArrayRef<int64_t>{0, 2, 1})
                           .getResult()[0];
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, result, transposed,
        SmallVector<ReassociationIndices>{
            {0}, {1}, llvm::to_vector(llvm::seq<int64_t>(2, 2 + spatial))});
    return success();
  }
};

/// conv_transpose whose kernel tiles its output: kernel = strides, no
/// pads, dilations or output_padding, one group (the 2x2 stride-2
/// upsampling of U-Nets and feature pyramids). Each input position then
/// writes its own block, out[n, m, i*s + a, ...] = sum_c x[n, c, i, ...]
/// w[c, m, a, ...], so the product of x read as [N*H*W, C] and the weight
/// read as [C, M*kh*kw] holds every block: one call of the GEMM kernel,
/// and a transpose puts the blocks in place. The general form (overlapping
/// windows) keeps the linalg lowering, which reads a zero-interleaved
/// input.
struct LowerTilingConvTransposeToMatmul : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType input = op.getInput().getType(),
                     weight = op.getWeight().getType(), result = op.getType();
    int64_t spatial = input.getRank() - 2;
    auto ones = [](ArrayRef<int64_t> values) {
      return llvm::all_of(values, [](int64_t v) { return v == 1; });
    };
    auto zeros = [](ArrayRef<int64_t> values) {
      return llvm::all_of(values, [](int64_t v) { return v == 0; });
    };
    if (!result.getElementType().isF32() || !input.hasStaticShape() ||
        !weight.hasStaticShape() || op.getGroup() != 1 ||
        !ones(op.getDilations()) || !zeros(op.getPads()) ||
        !zeros(op.getOutputPadding()) ||
        op.getStrides() != weight.getShape().drop_front(2))
      return rewriter.notifyMatchFailure(op, "windows overlap or skip");
    Location loc = op.getLoc();
    int64_t batch = input.getDimSize(0), channels = input.getDimSize(1),
            outputs = weight.getDimSize(1);
    int64_t positions = input.getNumElements() / (batch * channels);
    int64_t window = weight.getNumElements() / (channels * outputs);
    auto reshape = [&](Value value, ArrayRef<int64_t> shape) -> Value {
      auto type = RankedTensorType::get(shape, result.getElementType());
      return ReshapeOp::create(rewriter, loc, type, value, ValueRange(),
                               shape);
    };
    // x as [N*H*W, C]: channels last.
    SmallVector<int64_t> channelsLast = {0};
    for (int64_t i = 0; i < spatial; ++i)
      channelsLast.push_back(2 + i);
    channelsLast.push_back(1);
    Value rows = reshape(
        TransposeOp::create(rewriter, loc, op.getInput(), channelsLast),
        {batch * positions, channels});
    Value blocks = MatmulOp::create(
        rewriter, loc, rows,
        reshape(op.getWeight(), {channels, outputs * window}));
    // [N, H..., M, k...] -> [N, M, H0, k0, H1, k1, ...] -> the output.
    SmallVector<int64_t> split = {batch};
    llvm::append_range(split, input.getShape().drop_front(2));
    split.push_back(outputs);
    llvm::append_range(split, weight.getShape().drop_front(2));
    SmallVector<int64_t> interleave = {0, 1 + spatial};
    for (int64_t i = 0; i < spatial; ++i)
      interleave.append({1 + i, 2 + spatial + i});
    Value output = reshape(
        TransposeOp::create(rewriter, loc, reshape(blocks, split), interleave),
        result.getShape());
    if (Value bias = op.getBias()) {
      SmallVector<int64_t> shape(result.getRank(), 1);
      shape[1] = outputs;
      output = AddOp::create(rewriter, loc, output, reshape(bias, shape));
    }
    rewriter.replaceOp(op, output);
    return success();
  }
};

} // namespace

void sinter::populateMatmulKernelPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  // A linear takes the most specific kernel that reads it: int8 on both
  // sides, then a quantized weight, then f32.
  patterns.add<LowerW8A8LinearToKernel>(context, /*benefit=*/3);
  patterns.add<LowerQuantizedLinearToKernel>(context, /*benefit=*/2);
  patterns.add<LowerLinearToKernel, LowerMatmulToKernel, LowerConvToKernel>(
      context);
  // The convolution kernel before the im2col product where both apply.
  patterns.add<LowerConv2dToKernel, LowerDepthwiseConvToKernel>(
      context, /*benefit=*/2);
  patterns.add<LowerTilingConvTransposeToMatmul>(context);
}
