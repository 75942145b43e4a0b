//===- SinterOps.h - Ops of the sinter dialect ------------------*- C++ -*-===//

#ifndef SINTER_IR_SINTEROPS_H
#define SINTER_IR_SINTEROPS_H

#include "ir/SinterDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#define GET_OP_CLASSES
#include "ir/SinterOps.h.inc"

#endif // SINTER_IR_SINTEROPS_H
