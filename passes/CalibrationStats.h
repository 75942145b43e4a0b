//===- CalibrationStats.h - The stats file of sinterc --calibrate -*- C++ -*-===//
//
// What the passes driven by calibration (sinter-scale-activations,
// sinter-quantize-activations) read of a stats file (format
// sinter-calibration-stats, docs/calibration.md): per layer, the value it
// reads as measured by the tensor probes.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PASSES_CALIBRATIONSTATS_H
#define SINTER_PASSES_CALIBRATIONSTATS_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <cstdint>
#include <vector>

namespace sinter {

/// What the stats file says of the value a layer reads.
struct ChannelStats {
  /// The smallest and largest element seen.
  double min = 0.0, max = 0.0;
  /// Per channel (the last dimension): max |x|, mean |x|, mean x, mean x^2.
  std::vector<double> absMax, absMean, mean, meanSquare;
  /// Sampled rows of the value, [sampleRows, channels] (may be none).
  std::vector<float> samples;
  int64_t sampleRows = 0;
};

/// The discardable attribute (f64) with which a pass that changes a layer's
/// input after calibration (sinter-scale-activations) records the largest
/// magnitude that input now has over the calibration samples; passes that
/// need it (sinter-quantize-activations) prefer it to the stats file.
inline constexpr llvm::StringLiteral kCalibratedAbsMaxAttr =
    "sinter.calibrated_abs_max";

/// Reads the tensor probes of the stats file at `path`, by the names of
/// the layers that read each probed value (a probe's `consumers`); errors
/// are reported on `root`, prefixed with `pass`.
mlir::FailureOr<llvm::StringMap<ChannelStats>>
readStats(mlir::Operation *root, llvm::StringRef path, llvm::StringRef pass);

} // namespace sinter

#endif // SINTER_PASSES_CALIBRATIONSTATS_H
