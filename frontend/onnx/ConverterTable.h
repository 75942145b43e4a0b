//===- ConverterTable.h - The ONNX operators sinter converts ----*- C++ -*-===//
//
// Not installed. Each Convert<Family>.cpp lists the operators it converts;
// the lookup (ConverterTable.cpp) gathers the lists into one map at first
// use, so the order of the lists and of their entries does not matter.
// Free of ONNX headers, so that the unit tests can check the table.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FRONTEND_ONNX_CONVERTERTABLE_H
#define SINTER_FRONTEND_ONNX_CONVERTERTABLE_H

#include "frontend/onnx/OnnxImporter.h"

#include <vector>

namespace sinter {

class OnnxNode;

/// Converts one node; reports its own errors.
using OnnxConverter = mlir::LogicalResult (*)(OnnxNode &node);

struct OnnxConverterEntry {
  OnnxOpSupport support;
  OnnxConverter convert;
};

// One list per op family, in any order.
llvm::ArrayRef<OnnxConverterEntry> elementwiseConverters();
llvm::ArrayRef<OnnxConverterEntry> contractionsConverters();
llvm::ArrayRef<OnnxConverterEntry> reductionsConverters();
llvm::ArrayRef<OnnxConverterEntry> shapesConverters();
llvm::ArrayRef<OnnxConverterEntry> dataMovementConverters();
llvm::ArrayRef<OnnxConverterEntry> constantsConverters();
llvm::ArrayRef<OnnxConverterEntry> quantizationConverters();
llvm::ArrayRef<OnnxConverterEntry> comMicrosoftConverters();
llvm::ArrayRef<OnnxConverterEntry> controlFlowConverters();
llvm::ArrayRef<OnnxConverterEntry> recurrentConverters();
llvm::ArrayRef<OnnxConverterEntry> resizePadConverters();
llvm::ArrayRef<OnnxConverterEntry> visionConverters();
llvm::ArrayRef<OnnxConverterEntry> normalizationConverters();
llvm::ArrayRef<OnnxConverterEntry> activationsConverters();
llvm::ArrayRef<OnnxConverterEntry> mathConverters();
llvm::ArrayRef<OnnxConverterEntry> reductionFormsConverters();
llvm::ArrayRef<OnnxConverterEntry> generatorsConverters();

/// Every family's entries, one list after the other (not sorted).
std::vector<const OnnxConverterEntry *> allOnnxConverters();

/// The converter for `name` in `domain` at `opset`, or null.
const OnnxConverterEntry *
findOnnxConverter(llvm::StringRef domain, llvm::StringRef name, int64_t opset);

} // namespace sinter

#endif // SINTER_FRONTEND_ONNX_CONVERTERTABLE_H
