//===- Calibration.cpp - sinterc --calibrate ------------------------------===//
//
// The instrumented build is linked into a temporary folder and loaded in
// this process, the way an application loads an artifact; the samples run
// through its C API and the probes' statistics are read back through it.
//
//===----------------------------------------------------------------------===//

#include "tools/sinterc/Calibration.h"

#include "ir/SinterOps.h"
#include "passes/Matchers.h"
#include "tools/common/ModelFiles.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <dlfcn.h>

using namespace mlir;
using namespace sinter::tools;
using llvm::StringRef;

namespace sinter {

namespace {

llvm::Error sampleError(const Twine &message) {
  return llvm::createStringError(message);
}

/// The sizes of input `info` with its dynamic dimensions at their bounds
/// (1 for a dynamic batch); an error names a dimension with no bound.
llvm::Expected<std::vector<int64_t>> boundShape(const sinter_tensor_info &info,
                                                bool sequenceLast) {
  std::vector<int64_t> shape;
  for (int d = 0; d < info.rank; ++d) {
    int64_t size = info.shape[d];
    if (size < 0)
      size = d + 1 == info.rank && sequenceLast ? info.max_shape[d] : 1;
    if (size < 0)
      return sampleError(
          std::string("input '") + info.name + "' has a sequence dimension '" +
          info.dim_names[d] +
          "' without a bound: compile with --dim or --max-dim " +
          info.dim_names[d] + "=N to cut the token ids into windows");
    shape.push_back(size);
  }
  return shape;
}

/// Token ids (whitespace-separated integers) from every .txt file, cut into
/// windows of the sequence length, `batch` windows per sample.
llvm::Error tokenSamples(ArrayRef<std::string> files,
                         const sinter_tensor_info &info,
                         std::vector<Sample> &samples) {
  if (info.dtype != SINTER_INT64 && info.dtype != SINTER_INT32)
    return sampleError(std::string("token ids need an integer input; '") +
                       info.name + "' is " + sinter_dtype_name(info.dtype));
  if (info.rank < 1 || info.rank > 2)
    return sampleError(std::string("token ids fill an input of shape [batch, "
                                   "sequence] or [sequence]; '") +
                       info.name + "' has rank " + std::to_string(info.rank));
  llvm::Expected<std::vector<int64_t>> shape = boundShape(info, true);
  if (!shape)
    return shape.takeError();
  std::vector<int64_t> ids;
  for (const std::string &file : files) {
    llvm::Expected<std::vector<int64_t>> fileIds = readTokenIds(file);
    if (!fileIds)
      return sampleError(llvm::toString(fileIds.takeError()));
    ids.insert(ids.end(), fileIds->begin(), fileIds->end());
  }
  int64_t perSample = elementCount(*shape);
  if ((int64_t)ids.size() < perSample)
    return sampleError("the token files hold " + Twine(ids.size()) +
                       " ids, fewer than one input of " + Twine(perSample) +
                       " (" + shapeString(*shape) + ")");
  size_t width = sinter_dtype_size(info.dtype);
  for (size_t start = 0; start + perSample <= ids.size(); start += perSample) {
    Sample sample;
    sample.source = files.front() + " (ids " + std::to_string(start) + ".." +
                    std::to_string(start + perSample - 1) + ")";
    HostTensor tensor;
    tensor.dtype = info.dtype;
    tensor.shape = *shape;
    tensor.source = sample.source;
    tensor.bytes.resize(perSample * width);
    for (int64_t i = 0; i < perSample; ++i) {
      int64_t id = ids[start + i];
      memcpy(tensor.bytes.data() + i * width, &id, width);
    }
    sample.inputs.push_back(std::move(tensor));
    sample.tokens = true;
    samples.push_back(std::move(sample));
  }
  return llvm::Error::success();
}

/// A .npy array as samples of a single-input model: the input itself, or
/// (when its first dimension is a multiple of the input's static first
/// dimension and the rest match) that many inputs stacked.
llvm::Error arraySamples(const std::string &file,
                         const sinter_tensor_info &info,
                         std::vector<Sample> &samples) {
  llvm::Expected<HostTensor> array = readTensor(file);
  if (!array)
    return array.takeError();
  auto matches = [&](size_t from) {
    for (int d = (int)from; d < info.rank; ++d)
      if (info.shape[d] >= 0 && array->shape[d] != info.shape[d])
        return false;
    return true;
  };
  if ((int)array->shape.size() != info.rank || !matches(1))
    return sampleError(file + " has shape " + shapeString(array->shape) +
                       ", input '" + info.name + "' needs " +
                       shapeString(std::vector<int64_t>(
                           info.shape, info.shape + info.rank)));
  int64_t leading = info.rank ? info.shape[0] : -1;
  if (info.rank == 0 || leading < 0 || array->shape[0] == leading) {
    samples.push_back({file, {std::move(*array)}, false});
    return llvm::Error::success();
  }
  if (leading == 0 || array->shape[0] % leading != 0)
    return sampleError(file + " has " + Twine(array->shape[0]) +
                       " rows, not a multiple of the " + Twine(leading) +
                       " that input '" + info.name + "' takes");
  int64_t count = array->shape[0] / leading;
  size_t bytes = array->bytes.size() / count;
  for (int64_t i = 0; i < count; ++i) {
    HostTensor part;
    part.dtype = array->dtype;
    part.shape = array->shape;
    part.shape[0] = leading;
    part.source = file + " (rows " + std::to_string(i * leading) + "..)";
    part.bytes.assign(array->bytes.begin() + i * bytes,
                      array->bytes.begin() + (i + 1) * bytes);
    samples.push_back({part.source, {std::move(part)}, false});
  }
  return llvm::Error::success();
}

/// Every sample in `dir` (docs/calibration.md): folders of numbered input
/// files (the backend-test layout), numbered files in `dir` itself, or for
/// single-input models .npy arrays and .txt token ids.
llvm::Error collectSamples(StringRef dir, const ModelApi &api,
                           sinter_session *session,
                           std::vector<Sample> &samples) {
  if (!llvm::sys::fs::is_directory(dir))
    return sampleError("'" + dir + "' is not a folder");
  int numInputs = api.numInputs(session);
  auto addNumbered = [&](StringRef folder) -> llvm::Error {
    Sample sample;
    sample.source = folder.str();
    for (const std::string &file : numberedFiles(folder, "input")) {
      llvm::Expected<HostTensor> tensor = readTensor(file);
      if (!tensor)
        return tensor.takeError();
      sample.inputs.push_back(std::move(*tensor));
    }
    samples.push_back(std::move(sample));
    return llvm::Error::success();
  };
  std::vector<std::string> folders, arrays, texts;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef path = it->path();
    if (llvm::sys::fs::is_directory(path) &&
        !numberedFiles(path, "input").empty())
      folders.push_back(path.str());
    else if (path.ends_with(".npy") &&
             !llvm::sys::path::filename(path).starts_with("output_"))
      arrays.push_back(path.str());
    else if (path.ends_with(".txt"))
      texts.push_back(path.str());
  }
  if (ec)
    return sampleError("cannot list " + dir + ": " + ec.message());
  llvm::sort(folders);
  llvm::sort(arrays);
  llvm::sort(texts);
  if (!folders.empty()) {
    for (const std::string &folder : folders)
      if (llvm::Error error = addNumbered(folder))
        return error;
  } else if (!numberedFiles(dir, "input").empty()) {
    if (llvm::Error error = addNumbered(dir))
      return error;
  } else if (!arrays.empty() || !texts.empty()) {
    if (numInputs != 1)
      return sampleError(
          "the model takes " + Twine(numInputs) +
          " inputs: give each sample as a folder of input_K.pb or "
          "input_K.npy files");
    const sinter_tensor_info &info = *api.inputInfo(session, 0);
    for (const std::string &file : arrays)
      if (llvm::Error error = arraySamples(file, info, samples))
        return error;
    if (!texts.empty())
      if (llvm::Error error = tokenSamples(texts, info, samples))
        return error;
  }
  if (samples.empty())
    return sampleError("no samples in '" + dir +
                       "' (folders of input_K.pb/.npy files, input_K files, "
                       ".npy arrays or .txt token ids)");
  return llvm::Error::success();
}

/// A double for JSON: non-finite values (the extremes of a probe that saw
/// nothing) become null.
llvm::json::Value number(double value) {
  if (std::isfinite(value))
    return value;
  return nullptr;
}

llvm::json::Array numbers(const double *values, int64_t count,
                          double divisor = 1) {
  llvm::json::Array array;
  for (int64_t i = 0; i < count; ++i)
    array.push_back(number(divisor > 0 ? values[i] / divisor : NAN));
  return array;
}

llvm::json::Array integers(const int64_t *values, int64_t count) {
  llvm::json::Array array;
  for (int64_t i = 0; i < count; ++i)
    array.push_back(values[i]);
  return array;
}

llvm::json::Object tensorStats(const sinter_probe_stats &p) {
  double count = (double)p.count;
  double mean = count > 0 ? p.sum / count : NAN;
  double rms = count > 0 ? std::sqrt(p.sum_squares / count) : NAN;
  // Elements per channel: the mean |x| of each channel divides by it.
  double perChannel = p.channels > 0 ? count / (double)p.channels : 0;
  return llvm::json::Object{
      {"count", p.count},
      {"nan_count", p.nan_count},
      {"min", number(p.min)},
      {"max", number(p.max)},
      {"mean", number(mean)},
      {"rms", number(rms)},
      {"histogram", integers(p.histogram, SINTER_PROBE_HISTOGRAM_BINS)},
      {"channels", p.channels},
      {"channel_mismatches", p.channel_mismatches},
      {"channel_abs_max",
       p.channel_abs_max ? numbers(p.channel_abs_max, p.channels)
                         : llvm::json::Array()},
      {"channel_abs_mean",
       p.channel_abs_sum ? numbers(p.channel_abs_sum, p.channels, perChannel)
                         : llvm::json::Array()},
      {"channel_mean",
       p.channel_sum ? numbers(p.channel_sum, p.channels, perChannel)
                     : llvm::json::Array()},
      {"channel_mean_square",
       p.channel_sq_sum ? numbers(p.channel_sq_sum, p.channels, perChannel)
                        : llvm::json::Array()}};
}

llvm::json::Object attentionStats(const sinter_probe_stats &p) {
  llvm::json::Array mass, keyRows;
  for (int64_t h = 0; h < p.heads && p.key_mass; ++h) {
    llvm::json::Array row;
    llvm::json::Array seen;
    for (int64_t j = 0; j < p.keys; ++j) {
      int64_t rows = p.key_rows[h * p.keys + j];
      row.push_back(
          number(rows > 0 ? p.key_mass[h * p.keys + j] / (double)rows : NAN));
      seen.push_back(rows);
    }
    mass.push_back(std::move(row));
    keyRows.push_back(std::move(seen));
  }
  double rows = (double)p.rows;
  return llvm::json::Object{
      {"heads", p.heads},
      {"keys", p.keys},
      {"rows", p.rows},
      {"mismatches", p.channel_mismatches},
      {"key_mass", std::move(mass)},
      {"key_rows", std::move(keyRows)},
      {"entropy",
       p.entropy_sum ? numbers(p.entropy_sum, p.heads, rows)
                     : llvm::json::Array()},
      {"output_norm", p.output_norm_sum
                          ? numbers(p.output_norm_sum, p.heads, rows)
                          : llvm::json::Array()}};
}

llvm::json::Object routingStats(const sinter_probe_stats &p) {
  return llvm::json::Object{
      {"experts", p.experts},
      {"count", p.count},
      {"out_of_range", p.out_of_range},
      {"choices", p.choices ? integers(p.choices, p.experts)
                            : llvm::json::Array()}};
}

} // namespace

ProbeInfos collectProbeInfos(ModuleOp instrumented) {
  ProbeInfos infos;
  auto readersOf = [](Value value) {
    std::vector<ProbeConsumer> readers;
    for (Operation *user : value.getUsers())
      if (isa<LinearOp, MatmulOp, ConvOp>(user))
        readers.push_back(
            {user->getName().stripDialect().str(), layerName(user)});
    return readers;
  };
  instrumented.walk([&](Operation *op) {
    int64_t id = -1, axis = -1;
    std::vector<ProbeConsumer> readers;
    if (auto probe = dyn_cast<ProbeTensorOp>(op)) {
      id = probe.getId();
      axis = probe.getChannelAxis();
      readers = readersOf(probe.getInput());
    } else if (auto probe = dyn_cast<ProbeAttentionOp>(op)) {
      id = probe.getId();
      if (Operation *attention = probe.getOutput().getDefiningOp())
        readers.push_back({"attention", layerName(attention)});
    } else if (auto probe = dyn_cast<ProbeRoutingOp>(op)) {
      id = probe.getId();
      // The expert contractions the router feeds are found through the
      // top-k; its own name is what identifies the layer.
      if (Operation *topk = probe.getIndices().getDefiningOp())
        readers.push_back({"topk", layerName(topk)});
    }
    if (id < 0)
      return;
    if (id >= (int64_t)infos.size())
      infos.resize(id + 1);
    infos[id] = {axis, std::move(readers)};
  });
  return infos;
}

llvm::Expected<std::unique_ptr<LoadedModel>>
LoadedModel::link(const CompiledModel &model, StringRef object, int threads,
                  StringRef flag) {
  auto loaded = std::unique_ptr<LoadedModel>(new LoadedModel());
  loaded->flag = flag.str();
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(
          "sinter-model", loaded->folder))
    return llvm::createStringError(ec, "cannot create a temporary folder: " +
                                           ec.message());
  auto pathIn = [&](StringRef name) {
    SmallString<256> path(loaded->folder);
    llvm::sys::path::append(path, name);
    return std::string(path);
  };
  std::string objectPath = pathIn("model.o"), library = pathIn("model.so"),
              weights = pathIn("model.weights");
  for (auto [path, bytes] :
       {std::pair<std::string, std::string>{objectPath, object.str()},
        {weights, weightsFileBytes(model)}}) {
    if (llvm::Error error = writeFileBytes(path, bytes))
      return error;
  }
  if (llvm::Error error = linkSharedLibrary(objectPath, library, "model.so"))
    return error;
  llvm::Expected<ModelApi> api = openArtifact(library);
  if (!api)
    return api.takeError();
  loaded->api = *api;
  loaded->opened = true;
  if (api->load(weights.c_str(), threads, &loaded->session) != SINTER_OK)
    return llvm::createStringError(loaded->flag + ": " +
                                   api->error(loaded->session));
  return loaded;
}

LoadedModel::~LoadedModel() {
  if (opened) {
    api.free(session);
    // The model's OpenMP workers go before its library can (see sinter-run).
    if (auto pause = reinterpret_cast<int (*)(int)>(
            dlsym(api.handle, "omp_pause_resource_all")))
      pause(/*omp_pause_hard=*/2);
  }
  if (!folder.empty())
    llvm::sys::fs::remove_directories(folder);
}

llvm::Expected<std::vector<Sample>> LoadedModel::samples(StringRef dir,
                                                         int64_t max) {
  std::vector<Sample> found;
  if (llvm::Error error = collectSamples(dir, api, session, found))
    return llvm::createStringError(flag + ": " +
                                   llvm::toString(std::move(error)));
  if (max > 0 && (int64_t)found.size() > max)
    found.resize(max);
  return found;
}

llvm::Expected<std::vector<sinter_tensor>> LoadedModel::run(Sample &sample) {
  int numInputs = api.numInputs(session), numOutputs = api.numOutputs(session);
  if ((int)sample.inputs.size() != numInputs)
    return llvm::createStringError(flag + ": " + sample.source +
                                   ": the model takes " + Twine(numInputs) +
                                   " inputs, the sample has " +
                                   Twine(sample.inputs.size()));
  std::vector<sinter_tensor> inputs, outputs(numOutputs);
  for (auto [i, tensor] : llvm::enumerate(sample.inputs)) {
    // ONNX test data holds bfloat16 as uint16 (the same bits).
    if (tensor.dtype == SINTER_UINT16 &&
        api.inputInfo(session, (int)i)->dtype == SINTER_BFLOAT16)
      tensor.dtype = SINTER_BFLOAT16;
    inputs.push_back({tensor.bytes.data(), (sinter_dtype)tensor.dtype,
                      (int32_t)tensor.shape.size(), tensor.shape.data()});
  }
  if (api.run(session, inputs.data(), numInputs, outputs.data(),
              numOutputs) != SINTER_OK)
    return llvm::createStringError(flag + ": " + sample.source + ": " +
                                   api.error(session));
  return outputs;
}

llvm::Expected<CalibrationResult>
runCalibration(const CompiledModel &model, StringRef object,
               const ArtifactOptions &artifact, const ProbeInfos &probes,
               const CalibrationOptions &options) {
  llvm::Expected<std::unique_ptr<LoadedModel>> loaded =
      LoadedModel::link(model, object, options.threads, "--calibrate");
  if (!loaded)
    return loaded.takeError();
  const ModelApi &api = (*loaded)->api;
  sinter_session *session = (*loaded)->session;
  if (!api.numProbes || !api.probe)
    return llvm::createStringError(
        "internal error: the instrumented build has no probes interface");
  llvm::Expected<std::vector<Sample>> samples =
      (*loaded)->samples(options.dataDir, options.maxSamples);
  if (!samples)
    return samples.takeError();
  for (Sample &sample : *samples)
    if (llvm::Error error = (*loaded)->run(sample).takeError())
      return error;

  CalibrationResult result;
  llvm::json::Array tensors, attention, routing;
  for (int i = 0, e = api.numProbes(session); i < e; ++i) {
    const sinter_probe_stats &p = *api.probe(session, i);
    llvm::json::Array readers;
    ProbeInfo info = i < (int)probes.size() ? probes[i] : ProbeInfo();
    for (const ProbeConsumer &consumer : info.consumers)
      readers.push_back(
          llvm::json::Object{{"op", consumer.op}, {"name", consumer.name}});
    llvm::json::Object entry{{"id", i},
                             {"name", p.name},
                             {"calls", p.calls},
                             {"consumers", std::move(readers)}};
    llvm::json::Object stats = p.kind == SINTER_PROBE_TENSOR ? tensorStats(p)
                               : p.kind == SINTER_PROBE_ATTENTION
                                   ? attentionStats(p)
                                   : routingStats(p);
    for (auto &field : stats)
      entry[field.first] = std::move(field.second);
    if (p.kind == SINTER_PROBE_TENSOR) {
      entry["channel_axis"] = info.channelAxis;
      entry["rows_seen"] = p.rows_seen;
      entry["sample_rows"] = p.samples ? p.sample_rows : 0;
      entry["sample_offset"] = (int64_t)result.rows.size();
      if (p.samples)
        result.rows.append(reinterpret_cast<const char *>(p.samples),
                           p.sample_rows * p.channels * sizeof(float));
    }
    (p.kind == SINTER_PROBE_TENSOR      ? tensors
     : p.kind == SINTER_PROBE_ATTENTION ? attention
                                        : routing)
        .push_back(std::move(entry));
  }
  llvm::json::Object root{
      {"format", "sinter-calibration-stats"},
      {"version", kStatsFormatVersion},
      {"model", artifact.sourceName},
      {"samples", (int64_t)samples->size()},
      {"samples_file", options.rowsFileName},
      {"histogram",
       llvm::json::Object{
           {"bins", SINTER_PROBE_HISTOGRAM_BINS},
           {"min_exponent", SINTER_PROBE_HISTOGRAM_MIN_EXPONENT},
           {"bins_per_octave", SINTER_PROBE_HISTOGRAM_BINS_PER_OCTAVE}}},
      {"tensors", std::move(tensors)},
      {"attention", std::move(attention)},
      {"routing", std::move(routing)}};
  llvm::raw_string_ostream os(result.stats);
  os << llvm::json::Value(std::move(root)) << "\n";
  return result;
}

} // namespace sinter
