//===- KernelBuilding.h - What the GPU passes build kernels from -*- C++ -*-===//
//
// Shared by the passes that write gpu.launch bodies (MapToGpu,
// TileContractions, FlashAttention).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_GPU_KERNELBUILDING_H
#define SINTER_CODEGEN_GPU_KERNELBUILDING_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace sinter {

/// The GPU module every launch names: all kernels of a model go into one,
/// one PTX text, loaded once.
inline mlir::FlatSymbolRefAttr kernelModule(mlir::MLIRContext *context) {
  return mlir::FlatSymbolRefAttr::get(context, "sinter_kernels");
}

/// A buffer of `shape` in the block's shared memory (a workgroup
/// attribution of the launch).
inline mlir::MemRefType sharedTile(llvm::ArrayRef<int64_t> shape,
                                   mlir::Type element) {
  return mlir::MemRefType::get(
      shape, element, mlir::MemRefLayoutAttrInterface(),
      mlir::gpu::AddressSpaceAttr::get(element.getContext(),
                                       mlir::gpu::AddressSpace::Workgroup));
}

/// `memref[indices]` where `inBounds`, else zero: reads past the edges of
/// a tile do not touch memory.
inline mlir::Value loadOrZero(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value memref, mlir::ValueRange indices,
                              mlir::Value inBounds) {
  mlir::Type element =
      mlir::cast<mlir::MemRefType>(memref.getType()).getElementType();
  auto ifOp = mlir::scf::IfOp::create(b, loc, element, inBounds,
                                      /*withElseRegion=*/true);
  mlir::OpBuilder then = ifOp.getThenBodyBuilder();
  mlir::scf::YieldOp::create(
      then, loc,
      mlir::memref::LoadOp::create(then, loc, memref, indices).getResult());
  mlir::OpBuilder otherwise = ifOp.getElseBodyBuilder();
  mlir::scf::YieldOp::create(
      otherwise, loc,
      mlir::arith::ConstantOp::create(otherwise, loc,
                                      b.getZeroAttr(element))
          .getResult());
  return ifOp.getResult(0);
}

} // namespace sinter

#endif // SINTER_CODEGEN_GPU_KERNELBUILDING_H
