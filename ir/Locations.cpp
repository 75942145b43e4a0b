//===- Locations.cpp - The ONNX names in op locations ---------------------===//

#include "ir/Locations.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

std::string sinter::layerName(Operation *op) {
  SmallVector<StringRef> names;
  collectLocationNames(op->getLoc(), names);
  return names.empty() ? "" : names.front().str();
}

void sinter::collectLocationNames(Location loc,
                                  SmallVectorImpl<StringRef> &names) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    names.push_back(name.getName().getValue());
    collectLocationNames(name.getChildLoc(), names);
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location inner : fused.getLocations())
      collectLocationNames(inner, names);
  } else if (auto callSite = dyn_cast<CallSiteLoc>(loc)) {
    collectLocationNames(callSite.getCallee(), names);
  }
}
