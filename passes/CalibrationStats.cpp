//===- CalibrationStats.cpp - The stats file of sinterc --calibrate ------===//

#include "passes/CalibrationStats.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>
#include <memory>

using namespace mlir;

namespace sinter {

FailureOr<llvm::StringMap<ChannelStats>>
readStats(Operation *root, StringRef path, StringRef pass) {
  auto fail = [&](const Twine &why) {
    root->emitError() << pass << ": " << why;
    return failure();
  };
  if (path.empty())
    return fail("needs the stats file of sinterc --calibrate (option stats)");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail("cannot read " + path + ": " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fail(path + " is not JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *top = json->getAsObject();
  if (!top || top->getString("format") != "sinter-calibration-stats")
    return fail(path + " is not a sinter stats file");
  if (top->getInteger("version") != 1)
    return fail(path + " has version " +
                Twine(top->getInteger("version").value_or(-1)) +
                "; this compiler reads version 1");
  auto numbers = [](const llvm::json::Array *array) {
    std::vector<double> values;
    if (array)
      for (const llvm::json::Value &v : *array)
        values.push_back(v.getAsNumber().value_or(0.0));
    return values;
  };
  // The sampled rows, in the file the stats name beside themselves.
  std::unique_ptr<llvm::MemoryBuffer> rows;
  if (std::optional<StringRef> name = top->getString("samples_file")) {
    SmallString<256> rowsPath(llvm::sys::path::parent_path(path));
    llvm::sys::path::append(rowsPath, *name);
    auto rowsBuffer = llvm::MemoryBuffer::getFile(rowsPath);
    if (!rowsBuffer)
      return fail("cannot read " + rowsPath + " (the rows of " + path +
                  "): " + rowsBuffer.getError().message());
    rows = std::move(*rowsBuffer);
  }
  llvm::StringMap<ChannelStats> byLayer;
  const llvm::json::Array *tensors = top->getArray("tensors");
  if (!tensors)
    return fail(path + " has no tensors");
  for (const llvm::json::Value &entry : *tensors) {
    const llvm::json::Object *probe = entry.getAsObject();
    const llvm::json::Array *consumers =
        probe ? probe->getArray("consumers") : nullptr;
    if (!probe || !consumers)
      return fail(path + ": a tensor probe without consumers");
    ChannelStats stats;
    stats.min = probe->getNumber("min").value_or(0.0);
    stats.max = probe->getNumber("max").value_or(0.0);
    stats.absMax = numbers(probe->getArray("channel_abs_max"));
    stats.absMean = numbers(probe->getArray("channel_abs_mean"));
    stats.mean = numbers(probe->getArray("channel_mean"));
    stats.meanSquare = numbers(probe->getArray("channel_mean_square"));
    StringRef probeName = probe->getString("name").value_or("");
    size_t channels = stats.absMax.size();
    if (stats.absMean.size() != channels || stats.mean.size() != channels ||
        stats.meanSquare.size() != channels)
      return fail(path + ": the per-channel arrays of probe '" + probeName +
                  "' differ in length");
    int64_t sampleRows = probe->getInteger("sample_rows").value_or(0);
    int64_t offset = probe->getInteger("sample_offset").value_or(0);
    if (sampleRows < 0)
      return fail(path + ": probe '" + probeName + "' has " +
                  Twine(sampleRows) + " sampled rows");
    if (sampleRows > 0) {
      // In rows of the file, so that no product of the file's numbers can
      // overflow past the check.
      size_t rowBytes = std::max<size_t>(channels, 1) * sizeof(float);
      size_t available = rows ? rows->getBufferSize() : 0;
      if (!rows || offset < 0 || size_t(offset) > available ||
          size_t(sampleRows) > (available - size_t(offset)) / rowBytes)
        return fail(path + ": the sampled rows of probe '" + probeName +
                    "' lie outside its rows file");
      size_t bytes = size_t(sampleRows) * channels * sizeof(float);
      stats.sampleRows = sampleRows;
      stats.samples.resize(sampleRows * stats.absMax.size());
      if (bytes) // no channels: no samples (and a null data())
        std::memcpy(stats.samples.data(), rows->getBufferStart() + offset,
                    bytes);
    }
    for (const llvm::json::Value &consumer : *consumers)
      if (const llvm::json::Object *c = consumer.getAsObject())
        if (std::optional<StringRef> name = c->getString("name"))
          if (!name->empty())
            byLayer[*name] = stats;
  }
  return byLayer;
}

} // namespace sinter
