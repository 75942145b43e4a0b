//===- IndexChecks.h - Run-time checks of gather and scatter indices -*- C++ -*-===//
//
// Which indices the runtime checks before a run (inputs that reach a
// gather or scatter unchanged), and the attribute through which
// `sinter-check-indices` names the ops whose computed indices the model
// checks itself and reports in its fault record after the run.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_INDEXCHECKS_H
#define SINTER_CODEGEN_INDEXCHECKS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"

namespace sinter {

/// For each argument of `entry` whose values reach the indices of a
/// gather, gather_elements or scatter_elements unchanged (through reshapes,
/// transposes, broadcasts, integer casts) and index a dimension of static
/// size: the smallest such size. The runtime checks these inputs against
/// [-size, size) before each run (docs/runtime-abi.md).
llvm::MapVector<unsigned, int64_t> inputIndexBounds(mlir::func::FuncOp entry);

/// The entry's attribute that names the ops `sinter-check-indices` checks
/// (an array of strings), in the order of their numbers in the fault
/// record (SINTER_INDEX_FAULT_*, sinter/runtime.h), which is then the
/// entry's last result.
inline constexpr llvm::StringLiteral kIndexCheckSitesAttr =
    "sinter.index_check_sites";

/// What `sinter-check-indices` does to the entry function: checks of the
/// indices that inputIndexBounds leaves to the model, and the fault record
/// as its last result. Nothing when there are none to check.
mlir::LogicalResult addIndexChecks(mlir::func::FuncOp entry);

} // namespace sinter

#endif // SINTER_CODEGEN_INDEXCHECKS_H
