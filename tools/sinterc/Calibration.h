//===- Calibration.h - sinterc --calibrate ----------------------*- C++ -*-===//
//
// Runs the instrumented build of a model on calibration inputs and writes
// what its probes recorded as the stats file (docs/calibration.md).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_CALIBRATION_H
#define SINTER_TOOLS_SINTERC_CALIBRATION_H

#include "codegen/Artifact.h"
#include "tools/common/ModelFiles.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace sinter {

/// Version of the stats file's format; readers refuse others.
constexpr int kStatsFormatVersion = 1;

struct CalibrationOptions {
  /// A folder of samples (docs/calibration.md says which layouts).
  std::string dataDir;
  /// At most this many samples (0: all).
  int64_t maxSamples = 0;
  /// Threads of the calibration runs (0: every core); the probes run on
  /// the calling thread anyway.
  int threads = 1;
  /// The file name (beside the stats file) of the sampled rows.
  std::string rowsFileName = "model.stats.rows";
};

/// The stats file and the rows the tensor probes sampled, which it
/// references by offset (raw little-endian float32, docs/calibration.md).
struct CalibrationResult {
  std::string stats, rows;
};

/// A layer that reads a probed value: its op and (ONNX node) name.
struct ProbeConsumer {
  std::string op, name;
};
/// What the stats file says of a probe beyond its statistics: the layers
/// whose input it measured, and the dimension of its channels (tensor
/// probes). Taken from the instrumented module before it is lowered.
struct ProbeInfo {
  int64_t channelAxis = -1;
  std::vector<ProbeConsumer> consumers;
};
using ProbeInfos = std::vector<ProbeInfo>; // by probe id
ProbeInfos collectProbeInfos(mlir::ModuleOp instrumented);

/// One run's inputs, and where they came from (for error messages).
struct Sample {
  std::string source;
  std::vector<tools::HostTensor> inputs;
  /// Windows of token ids from a .txt file (an LM's text).
  bool tokens = false;
};

/// A compiled model linked into a temporary folder and loaded in this
/// process through its C API (as an application loads it); the folder goes
/// with it. Errors start with `flag` (the option that asked for the runs).
class LoadedModel {
public:
  static llvm::Expected<std::unique_ptr<LoadedModel>>
  link(const CompiledModel &model, llvm::StringRef object, int threads,
       llvm::StringRef flag);
  ~LoadedModel();

  /// The samples in `dir` (docs/calibration.md), at most `max` (0: all).
  llvm::Expected<std::vector<Sample>> samples(llvm::StringRef dir,
                                              int64_t max);
  /// Runs one sample; the outputs live in the session until the next run.
  llvm::Expected<std::vector<sinter_tensor>> run(Sample &sample);

  tools::ModelApi api{};
  sinter_session *session = nullptr;

private:
  LoadedModel() = default;
  std::string flag;
  llvm::SmallString<256> folder;
  bool opened = false;
};

/// Links `model` (an instrumented build) into a temporary folder, runs it on
/// every sample, and returns the stats file's text and its rows. Errors
/// name the sample and the problem.
llvm::Expected<CalibrationResult>
runCalibration(const CompiledModel &model, llvm::StringRef object,
               const ArtifactOptions &artifact,
               const ProbeInfos &probes,
               const CalibrationOptions &options);

} // namespace sinter

#endif // SINTER_TOOLS_SINTERC_CALIBRATION_H
