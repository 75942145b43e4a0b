//===- SinterDialect.h - The sinter dialect ---------------------*- C++ -*-===//
//
// Declares the sinter dialect, its enums and attributes. Include
// "ir/SinterOps.h" for the ops.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_SINTERDIALECT_H
#define SINTER_IR_SINTERDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "ir/SinterDialect.h.inc"
#include "ir/SinterEnums.h.inc"

#endif // SINTER_IR_SINTERDIALECT_H
