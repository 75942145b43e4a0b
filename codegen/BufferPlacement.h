//===- BufferPlacement.h - Weights file and arena placement -----*- C++ -*-===//
//
// Shared by the passes that place buffers (BufferPlacement.cpp) and the
// artifact writer that reads their decisions back.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_BUFFERPLACEMENT_H
#define SINTER_CODEGEN_BUFFERPLACEMENT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <vector>

namespace sinter {

/// Argument attribute naming the runtime-provided buffers of the entry
/// function, and its values.
inline constexpr llvm::StringLiteral kAbiAttr = "sinter.abi";
inline constexpr llvm::StringLiteral kAbiWeights = "weights";
inline constexpr llvm::StringLiteral kAbiArena = "arena";
/// On the entry function's arguments, optional: the largest size of each
/// dimension (-1: unbounded), from --max-dim; the arena holds buffers whose
/// dynamic sizes these bound.
inline constexpr llvm::StringLiteral kMaxShapeAttr = "sinter.max_shape";
/// On each externalized memref.global: its byte offset in the weights data.
inline constexpr llvm::StringLiteral kWeightOffsetAttr = "sinter.weight_offset";
/// On the module: the byte size of the weights data.
inline constexpr llvm::StringLiteral kWeightsSizeAttr = "sinter.weights_size";
/// On the entry function: the byte size of the arena.
inline constexpr llvm::StringLiteral kArenaSizeAttr = "sinter.arena_size";
/// On the entry function: what the planned buffers would take without
/// sharing (the sum of their sizes), for --stats.
inline constexpr llvm::StringLiteral kArenaUnsharedSizeAttr =
    "sinter.arena_unshared_size";
/// On a function declaration: it keeps no reference to its memref
/// arguments once it returns (the runtime's kernels), so a buffer passed to
/// it does not escape and can live in the arena.
inline constexpr llvm::StringLiteral kNoCaptureAttr = "sinter.no_capture";
/// SINTER_WEIGHTS_ALIGNMENT of the runtime (static_assert in Artifact.cpp).
inline constexpr int64_t kWeightsAlignment = 64;
/// Offsets in the arena: a cache line, the widest vector.
inline constexpr int64_t kArenaAlignment = 64;

/// The non-external function `name` of `module`; for an empty name, @main
/// or else the only public function. Null with an error otherwise.
mlir::func::FuncOp findEntryFunction(mlir::ModuleOp module,
                                     llvm::StringRef name);

/// The buffer that `value` views (through subviews, reshapes, casts, views
/// of the weights or arena), or `value` itself.
mlir::Value viewedBuffer(mlir::Value value);

/// Bytes of a statically shaped memref in memory (i1 is one byte per
/// element); nullopt for dynamic shapes and sub-byte element types.
std::optional<int64_t> staticByteSize(mlir::MemRefType type);

/// The in-memory bytes of a constant global's initial value.
mlir::FailureOr<std::vector<char>> constantBytes(mlir::memref::GlobalOp global);

/// The in-memory bytes of `value` (dense, splat or resource; i1 one byte per
/// element), which must come to `size` bytes.
mlir::FailureOr<std::vector<char>> elementBytes(mlir::ElementsAttr value,
                                                int64_t size);

} // namespace sinter

#endif // SINTER_CODEGEN_BUFFERPLACEMENT_H
