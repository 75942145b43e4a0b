//===- FuzzCalibrationStats.cpp - Fuzz target: calibration stats files ----===//
//
// The stats file of `sinterc --calibrate` (docs/calibration.md), which
// `--stats` reads back into the passes that calibration drives: JSON whose
// probes carry ranges, per-channel arrays and sampled rows. What is read
// must be consistent: per-channel arrays of one length, samples a whole
// number of rows of it. The input may carry, after kRowsSeparator, the
// binary rows file the stats name as "samples_file": "rows.bin".
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "passes/CalibrationStats.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

static constexpr std::string_view kRowsSeparator = "\n--sinter-fuzz-rows--\n";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto [json, rows] = sinter::fuzz::splitAt(
      std::string_view((const char *)data, size), kRowsSeparator);
  sinter::fuzz::writeScratchFile("rows.bin", rows);
  std::string path = sinter::fuzz::writeScratchFile("stats.json", json);
  static mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  static mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  static mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  mlir::FailureOr<llvm::StringMap<sinter::ChannelStats>> stats =
      sinter::readStats(*module, path, "fuzz");
  if (failed(stats))
    return 0;
  for (const auto &entry : *stats) {
    const sinter::ChannelStats &layer = entry.second;
    size_t channels = layer.absMax.size();
    if (layer.absMean.size() != channels || layer.mean.size() != channels ||
        layer.meanSquare.size() != channels)
      sinter::fuzz::finding("per-channel arrays of different lengths read");
    if (layer.sampleRows < 0 ||
        layer.samples.size() != (size_t)layer.sampleRows * channels)
      sinter::fuzz::finding("samples that are not whole rows read");
  }
  return 0;
}
