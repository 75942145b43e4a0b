//===- SinterDialect.cpp - The sinter dialect -----------------------------===//

#include "ir/SinterDialect.h"
#include "ir/SinterOps.h"

using namespace mlir;
using namespace sinter;

#include "ir/SinterDialect.cpp.inc"
#include "ir/SinterEnums.cpp.inc"

void SinterDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/SinterOps.cpp.inc"
      >();
}

Operation *SinterDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type || !isa<RankedTensorType>(type))
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
