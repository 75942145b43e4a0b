//===- Evaluation.h - sinterc --eval ----------------------------*- C++ -*-===//
//
// The accuracy cost of compression: the reference build (the model as
// fused, f32) and the artifact run on the same evaluation samples, and
// their outputs compared (docs/calibration.md, "Accuracy accounting").
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_EVALUATION_H
#define SINTER_TOOLS_SINTERC_EVALUATION_H

#include "tools/sinterc/Calibration.h"

#include "llvm/Support/raw_ostream.h"

namespace sinter {

/// Version of the evaluation file's format.
constexpr int kEvaluationFormatVersion = 1;

struct EvaluationOptions {
  std::string dataDir;
  int64_t maxSamples = 0;
  /// What the artifact applies (the compression options), for the report.
  std::string transformations;
  /// Weights file sizes of the reference and the artifact.
  int64_t referenceBytes = 0, artifactBytes = 0;
};

/// Runs both models on every sample, prints one line per output to
/// `summary`, and returns the evaluation file's text (JSON).
llvm::Expected<std::string> evaluate(LoadedModel &reference,
                                     LoadedModel &artifact,
                                     const EvaluationOptions &options,
                                     llvm::raw_ostream &summary);

} // namespace sinter

#endif // SINTER_TOOLS_SINTERC_EVALUATION_H
