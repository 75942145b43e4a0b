//===- KernelCall.cpp - Calls of the runtime's kernels --------------------===//

#include "codegen/Kernels/KernelCall.h"

#include "codegen/BufferPlacement.h"
#include "codegen/SinterToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <numeric>

using namespace mlir;
using namespace sinter::linalg_lowering;

namespace sinter::kernels {

MemRefType anyView(int64_t rank, Type elementType) {
  return cast<MemRefType>(
      bufferization::getMemRefTypeWithFullyDynamicLayout(RankedTensorType::get(
          SmallVector<int64_t>(rank, ShapedType::kDynamic), elementType)));
}

bool keepsLastDimension(TransposeOp transpose) {
  ArrayRef<int64_t> perm = transpose.getPerm();
  return !perm.empty() && perm.back() == int64_t(perm.size()) - 1;
}

Value transposedView(OpBuilder &b, Location loc, Value buffer,
                     ArrayRef<int64_t> perm) {
  SmallVector<unsigned> order(perm.begin(), perm.end());
  return memref::TransposeOp::create(
      b, loc, buffer,
      AffineMapAttr::get(AffineMap::getPermutationMap(order, b.getContext())));
}

/// The buffer of `tensor` as a strided view read in place through the ops
/// that only rearrange a producer's elements: a transpose that keeps the
/// last dimension innermost, a reshape that splits dimensions or merges
/// ones contiguous in the view, a piece of a split. A kernel that takes
/// strided operands then reads, say, one head's queries straight out of the
/// merged Q, K, V product instead of out of the copies that the transpose
/// and the split would make. Static shapes only (anything else is the
/// tensor's own buffer); read-only.
static Value stridedView(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto ownBuffer = [&]() -> Value {
    return bufferization::ToBufferOp::create(
        b, loc, bufferization::getMemRefTypeWithFullyDynamicLayout(type),
        tensor, /*readOnly=*/true);
  };
  if (!type.hasStaticShape())
    return ownBuffer();
  if (auto transpose = tensor.getDefiningOp<TransposeOp>();
      transpose && keepsLastDimension(transpose))
    return transposedView(b, loc, stridedView(b, loc, transpose.getInput()),
                          transpose.getPerm());
  if (auto reshape = tensor.getDefiningOp<ReshapeOp>();
      reshape && reshape.getInput().getType().hasStaticShape()) {
    RankedTensorType input = reshape.getInput().getType();
    const bool splits =
        input.getRank()<type.getRank(), merges = input.getRank()> type
            .getRank();
    // The reshape's dimension groups, seen from the side with fewer.
    std::optional<SmallVector<ReassociationIndices>> groups;
    if (splits)
      groups =
          getReassociationIndicesForCollapse(type.getShape(), input.getShape());
    else if (merges)
      groups =
          getReassociationIndicesForCollapse(input.getShape(), type.getShape());
    if (groups && splits) {
      Value source = stridedView(b, loc, reshape.getInput());
      FailureOr<MemRefType> expanded =
          memref::ExpandShapeOp::computeExpandedType(
              cast<MemRefType>(source.getType()), type.getShape(), *groups);
      if (succeeded(expanded))
        return memref::ExpandShapeOp::create(b, loc, *expanded, source,
                                             *groups);
    } else if (groups && merges) {
      // Merged dimensions are a view where they are contiguous in the
      // source's strides: the unit axis a split left, say (timm's ViT
      // splits [3, B, H, S, D] into [1, B, H, S, D] pieces and reshapes
      // them to [B, H, S, D]).
      Value source = stridedView(b, loc, reshape.getInput());
      if (memref::CollapseShapeOp::isGuaranteedCollapsible(
              cast<MemRefType>(source.getType()), *groups))
        return memref::CollapseShapeOp::create(b, loc, source, *groups);
    }
  }
  if (auto split = tensor.getDefiningOp<SplitOp>();
      split && split.getInput().getType().hasStaticShape()) {
    ArrayRef<int64_t> before =
        split.getSizes().take_front(cast<OpResult>(tensor).getResultNumber());
    const int64_t offset =
        std::accumulate(before.begin(), before.end(), int64_t(0));
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes,
        strides(type.getRank(), b.getIndexAttr(1));
    offsets[split.getAxis()] = b.getIndexAttr(offset);
    for (int64_t size : type.getShape())
      sizes.push_back(b.getIndexAttr(size));
    return memref::SubViewOp::create(
        b, loc, stridedView(b, loc, split.getInput()), offsets, sizes, strides);
  }
  return ownBuffer();
}

Value maskAsRank4(OpBuilder &b, Location loc, Value mask) {
  if (!mask || tensorType(mask).getRank() >= 4)
    return mask;
  SmallVector<int64_t> shape(4 - tensorType(mask).getRank(), 1);
  llvm::append_range(shape, tensorType(mask).getShape());
  auto type = RankedTensorType::get(shape, tensorType(mask).getElementType());
  return ReshapeOp::create(b, loc, type, mask,
                           broadcastSizes(b, loc, type, mask), shape);
}

Value addLeadingUnit(OpBuilder &b, Location loc, Value value) {
  RankedTensorType type = tensorType(value);
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, type.getShape());
  SmallVector<ReassociationIndices> groups = {{0, 1}};
  for (int64_t d = 1; d < type.getRank(); ++d)
    groups.push_back({d + 1});
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  llvm::append_range(sizes, tensor::getMixedSizes(b, loc, value));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      groups, sizes);
}

Value KernelCall::view(Value tensor) const {
  auto type = cast<TensorType>(tensor.getType());
  Value buffer = bufferization::ToBufferOp::create(
      b, loc, bufferization::getMemRefTypeWithFullyDynamicLayout(type), tensor,
      /*readOnly=*/true);
  return memref::CastOp::create(
      b, loc, anyView(type.getRank(), type.getElementType()), buffer);
}

Value KernelCall::inPlaceView(Value tensor) const {
  auto type = cast<RankedTensorType>(tensor.getType());
  return memref::CastOp::create(b, loc,
                                anyView(type.getRank(), type.getElementType()),
                                stridedView(b, loc, tensor));
}

Value KernelCall::allocate(ArrayRef<int64_t> shape, Type elementType,
                           ValueRange dynamicSizes) const {
  return memref::AllocOp::create(b, loc, MemRefType::get(shape, elementType),
                                 dynamicSizes, b.getI64IntegerAttr(64));
}

Value KernelCall::outputView(Value buffer) const {
  auto type = cast<MemRefType>(buffer.getType());
  return memref::CastOp::create(
      b, loc, anyView(type.getRank(), type.getElementType()), buffer);
}

Value KernelCall::optionalVector(Value tensor) const {
  if (tensor)
    return view(tensor);
  return memref::CastOp::create(
      b, loc, anyView(1, b.getF32Type()),
      memref::AllocaOp::create(b, loc, MemRefType::get({0}, b.getF32Type())));
}

Value KernelCall::i32(int32_t value) const {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(value));
}

Value KernelCall::i64(int64_t value) const {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(value));
}

Value KernelCall::f32(double value) const {
  return scalar(b, loc, b.getF32Type(), value);
}

void KernelCall::call(StringRef name, ValueRange operands) const {
  auto kernel = module.lookupSymbol<func::FuncOp>(name);
  if (!kernel) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    kernel = func::FuncOp::create(b, loc, name,
                                  b.getFunctionType(TypeRange(operands), {}));
    kernel.setPrivate();
    kernel->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
    kernel->setAttr(kNoCaptureAttr, b.getUnitAttr());
  }
  func::CallOp::create(b, loc, kernel, operands);
}

Value KernelCall::asTensor(Value buffer, Type type) const {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

} // namespace sinter::kernels
