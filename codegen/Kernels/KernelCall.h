//===- KernelCall.h - Calls of the runtime's kernels ------------*- C++ -*-===//
//
// The scaffolding every call of a runtime kernel shares: the kernel's
// declaration in the module, views of the operands' buffers of the type the
// kernels' C interfaces take, the output buffers, the call, and the
// outputs taken back as tensors that bufferization then owns.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_KERNELS_KERNELCALL_H
#define SINTER_CODEGEN_KERNELS_KERNELCALL_H

#include "ir/SinterOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace sinter::kernels {

/// A view type of any sizes and strides of `rank` dimensions: what the
/// runtime kernels' C interfaces take.
mlir::MemRefType anyView(int64_t rank, mlir::Type elementType);

/// Whether `transpose` keeps the last dimension last: the kernels read
/// their operands' rows contiguously, so only such transposes can be views.
bool keepsLastDimension(TransposeOp transpose);

/// `buffer` viewed with its dimensions permuted as sinter.transpose's `perm`
/// permutes them (result dimension i is dimension perm[i]).
mlir::Value transposedView(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value buffer, llvm::ArrayRef<int64_t> perm);

/// An attention mask with leading 1s up to rank 4 (the kernels broadcast
/// them); null stays null.
mlir::Value maskAsRank4(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value mask);

/// `value` with a leading dimension of 1.
mlir::Value addLeadingUnit(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value value);

/// One call of a runtime kernel from inside `module`. Build the operands in
/// the kernel's order with the members below, then `call`.
class KernelCall {
public:
  KernelCall(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module)
      : b(b), loc(loc), module(module) {}

  /// The buffer of a tensor the kernel only reads, as anyView.
  mlir::Value view(mlir::Value tensor) const;

  /// The buffer of `tensor` read in place through the transposes, reshapes
  /// and splits that only rearrange its producer's elements, as anyView
  /// (see stridedView in KernelCall.cpp).
  mlir::Value inPlaceView(mlir::Value tensor) const;

  /// A new 64-byte aligned buffer for the kernel to write.
  mlir::Value allocate(llvm::ArrayRef<int64_t> shape, mlir::Type elementType,
                       mlir::ValueRange dynamicSizes) const;

  /// `buffer` (an allocated output or a view of one) as anyView.
  mlir::Value outputView(mlir::Value buffer) const;

  /// The view of an optional f32 vector (a bias): without one, any 1-D
  /// descriptor, which the kernel does not read without its flag.
  mlir::Value optionalVector(mlir::Value tensor) const;

  mlir::Value i32(int32_t value) const;
  mlir::Value i64(int64_t value) const;
  mlir::Value f32(double value) const;

  /// Calls kernel `name` on `operands`, declaring it in the module on first
  /// use with their types: private, called through its C interface, and
  /// known not to keep pointers to its arguments (so that its result
  /// buffers can live in the arena).
  void call(llvm::StringRef name, mlir::ValueRange operands) const;

  /// `buffer`, written by the call, as a tensor of `type`.
  mlir::Value asTensor(mlir::Value buffer, mlir::Type type) const;

  mlir::OpBuilder &b;
  mlir::Location loc;
  mutable mlir::ModuleOp module;
};

} // namespace sinter::kernels

#endif // SINTER_CODEGEN_KERNELS_KERNELCALL_H
