//===- Report.h - sinterc --report ------------------------------*- C++ -*-===//
//
// The optimization report: one self-contained HTML page (inline CSS and
// SVG, no network) that shows the calibration statistics as plots and the
// transformations with their measured cost (docs/calibration.md).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_REPORT_H
#define SINTER_TOOLS_SINTERC_REPORT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace sinter {

/// The page, from the texts of a stats file and (optionally, empty for
/// none) an evaluation file.
llvm::Expected<std::string> renderReport(llvm::StringRef modelName,
                                         llvm::StringRef statsJson,
                                         llvm::StringRef evaluationJson);

} // namespace sinter

#endif // SINTER_TOOLS_SINTERC_REPORT_H
