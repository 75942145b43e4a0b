//===- Options.h - sinterc's command line -----------------------*- C++ -*-===//
//
// Every option of sinterc, read and checked in one place: the rest of the
// driver sees a DriverOptions, never a cl::opt.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_OPTIONS_H
#define SINTER_TOOLS_SINTERC_OPTIONS_H

#include "codegen/Artifact.h"
#include "frontend/ModelLoader.h"
#include "passes/Passes.h"

#include "llvm/Support/Error.h"

#include <string>

namespace sinter {

/// sinterc's exit codes (docs/compiling.md).
enum ExitCode {
  kExitOk = 0,
  /// The model cannot be read, is invalid or uses what sinter does not
  /// support; or an output cannot be written.
  kExitFailure = 1,
  /// The command line is wrong: an unknown option, a bad value, options
  /// that do not go together.
  kExitUsage = 2,
};

/// An error in the command line (exit code 2).
class UsageError : public llvm::ErrorInfo<UsageError, llvm::StringError> {
public:
  static char ID;
  using llvm::ErrorInfo<UsageError, llvm::StringError>::ErrorInfo;
};

/// The stage sinterc stops at and writes.
enum class Emit { None, Mlir, MlirLlvm, Llvm, Ptx, Nvvm, Obj, So };

/// How w8a8 chooses its activations' scales.
enum class ActivationScales { Auto, Dynamic, Static };

struct DriverOptions {
  std::string inputPath;
  /// -o as given; `stem` is the artifact's path without extension.
  std::string outputPath, stem;
  Emit emit = Emit::Mlir;
  bool listOps = false, check = false;
  ImportOptions import;
  /// Fusion, probes and quantization; the statistics file and the
  /// activation scales are set once calibration has run (finishCompression).
  CompressionOptions compression;
  ActivationScales activationScales = ActivationScales::Auto;
  /// --calibrate's folder, --calibration-stats's file.
  std::string calibrateDir, calibrationStats;
  int64_t calibrationSamples = 0;
  std::string evalDir;
  int64_t evalSamples = 0;
  std::string reportPath;
  bool timing = false, printIRAfterAll = false;
  /// The code generation options (kernels, target, entry, C API name).
  ArtifactOptions artifact;
};

/// Parses the command line and checks that its options go together; a
/// UsageError otherwise. Prints --help and --version itself (and exits).
llvm::Expected<DriverOptions> parseCommandLine(int argc, char **argv);

/// `options.compression` with the statistics file `statsPath` (from
/// --calibrate or --calibration-stats; empty for none) and the activation
/// scales it implies.
CompressionOptions finishCompression(const DriverOptions &options,
                                     llvm::StringRef statsPath);

/// What the compression options do, in words (for --eval).
std::string describeCompression(const CompressionOptions &compression);

} // namespace sinter

#endif // SINTER_TOOLS_SINTERC_OPTIONS_H
