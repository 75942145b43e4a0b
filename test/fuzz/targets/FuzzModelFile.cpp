//===- FuzzModelFile.cpp - Fuzz target: a model file, as sinterc reads it -===//
//
// The input is a model file: binary ONNX, ONNX text or a sinter .mlir graph
// (chosen by the first byte), optionally followed by an external-data file
// that the model's tensors may reference as "weights.bin". It goes through
// loadModel, as `sinterc model.onnx` does; an import that succeeds must
// produce a module that verifies. Diagnostics are dropped: a clean error
// is the expected outcome for most inputs.
//
//===----------------------------------------------------------------------===//

#include "FuzzImport.h"


using namespace sinter;

/// Between the model and its external data in an input.
static constexpr std::string_view kExternalDataSeparator =
    "\n--sinter-fuzz-external-data--\n";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  static const char *const extensions[] = {".onnx", ".onnxtext", ".mlir"};
  uint8_t selector = data[0];
  std::string_view input((const char *)data + 1, size - 1);
  auto [model, externalData] = fuzz::splitAt(input, kExternalDataSeparator);

  fuzz::writeScratchFile("weights.bin", externalData);
  std::string path = fuzz::writeScratchFile(
      std::string("model") + extensions[selector % 3], model);

  ImportOptions options;
  // sinterc --check: converts past the nodes that fail.
  options.reportAllProblems = selector & 4;
  fuzz::loadAndVerify(path, options);
  return 0;
}
