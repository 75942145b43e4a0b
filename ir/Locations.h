//===- Locations.h - The ONNX names in op locations ------------*- C++ -*-===//
//
// The importer gives each op the location of its ONNX node (a NameLoc in
// a FusedLoc whose metadata is the operator type); fusion keeps the names
// of the ops it fuses. These read them back for messages and statistics.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_LOCATIONS_H
#define SINTER_IR_LOCATIONS_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace sinter {

/// Every name in `loc`, outermost first: the ONNX node and initializer
/// names that the importer attaches (fusion keeps those of the fused ops).
void collectLocationNames(mlir::Location loc,
                          llvm::SmallVectorImpl<llvm::StringRef> &names);

/// The first of those names ("" when there is none): how calibration
/// statistics name a layer, and how the passes that read them find it.
std::string layerName(mlir::Operation *op);

} // namespace sinter

#endif // SINTER_IR_LOCATIONS_H
