//===- sinter-run.cpp - Run, check and time a compiled model --------------===//
//
//   sinter-run out/gpt.so --data model/test_data_set_0      check vs reference
//   sinter-run out/gpt.so --input ids.npy --runs 50 --json  time, JSON report
//   sinter-run out/gpt.so --dim sequence=128                random inputs
//
// Loads an artifact the way an application does (dlopen, its <name>_* C
// API), feeds it ONNX TensorProto (.pb) or NumPy (.npy) inputs or seeded
// random data, compares outputs with references numpy-style (an element
// fails where |out - ref| > atol + rtol * |ref|) and times runs.
//
//===----------------------------------------------------------------------===//

#include "tools/common/CommandLine.h"
#include "tools/common/ModelFiles.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <random>

namespace cl = llvm::cl;
using llvm::StringRef;
using namespace sinter::tools;

namespace {

cl::OptionCategory category("sinter-run options");
cl::opt<std::string> artifactPath(cl::Positional, cl::Required,
                                  cl::desc("<artifact .so>"),
                                  cl::cat(category));
cl::opt<std::string>
    weightsPath("weights",
                cl::desc("Weights file (default: the artifact's .weights)"),
                cl::value_desc("path"), cl::cat(category));
cl::opt<std::string> dataDir(
    "data",
    cl::desc("Folder in the ONNX backend-test layout: input_K.pb are the "
             "inputs, output_K.pb (if present) the references"),
    cl::value_desc("dir"), cl::cat(category));
cl::list<std::string> inputFiles("input",
                                 cl::desc("An input, in order (.pb or .npy)"),
                                 cl::value_desc("file"), cl::cat(category));
cl::list<std::string>
    referenceFiles("reference",
                   cl::desc("A reference output, in order (.pb or .npy)"),
                   cl::value_desc("file"), cl::cat(category));
cl::list<std::string>
    dims("dim", cl::desc("Size of a dynamic dimension for random inputs"),
         cl::value_desc("name=size"), cl::cat(category));
cl::opt<unsigned> seed("seed", cl::desc("Seed of random inputs"), cl::init(0),
                       cl::cat(category));
cl::opt<double> absTolerance("atol", cl::desc("Absolute tolerance"),
                             cl::init(1e-5), cl::cat(category));
cl::opt<double> relTolerance("rtol", cl::desc("Relative tolerance"),
                             cl::init(1e-4), cl::cat(category));
cl::opt<unsigned> threads("num-threads", cl::desc("Threads (0: every core)"),
                          cl::init(1), cl::cat(category));
cl::opt<unsigned> warmup("warmup", cl::desc("Untimed runs before timing"),
                         cl::init(1), cl::cat(category));
cl::opt<unsigned> runs("runs", cl::desc("Timed runs"), cl::init(1),
                       cl::cat(category));
cl::opt<std::string> saveOutputs(
    "save-outputs",
    cl::desc("Folder to write the outputs of the last run to, as "
             "output_K.npy"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<bool> json("json", cl::desc("Print the report as JSON"),
                   cl::cat(category));

// Exit codes (docs/compiling.md): 0 the run succeeded and every output
// matched, 1 it failed or an output differs, 2 a wrong command line.
constexpr int kExitFailure = 1, kExitUsage = 2;

int fail(const llvm::Twine &message, int code = kExitFailure) {
  llvm::WithColor::error(llvm::errs(), "sinter-run") << message << "\n";
  return code;
}

struct Comparison {
  int64_t mismatches = 0;
  double maxAbsError = 0, relativeError = 0;
  std::string problem; // shape or dtype mismatch
};

Comparison compare(const sinter_tensor &out, const HostTensor &ref) {
  Comparison result;
  std::vector<int64_t> shape(out.shape, out.shape + out.rank);
  if (shape != ref.shape) {
    result.problem = "shape " + shapeString(shape) + ", reference has " +
                     shapeString(ref.shape);
    return result;
  }
  double errorNorm = 0, refNorm = 0;
  for (int64_t i = 0, e = elementCount(shape); i < e; ++i) {
    double o = elementAsDouble(out.data, out.dtype, i);
    double r = elementAsDouble(ref.bytes.data(), ref.dtype, i);
    double error = std::fabs(o - r);
    bool bothNan = std::isnan(o) && std::isnan(r);
    bool sameInf = std::isinf(o) && o == r;
    if (bothNan || sameInf)
      continue;
    if (!(error <= absTolerance + relTolerance * std::fabs(r)))
      ++result.mismatches;
    result.maxAbsError =
        std::max(result.maxAbsError, std::isnan(error) ? INFINITY : error);
    errorNorm += error * error;
    refNorm += r * r;
  }
  result.relativeError =
      std::sqrt(errorNorm) / std::max(std::sqrt(refNorm), 1e-30);
  return result;
}

/// Seeded random data for an input: floats uniform in [-1, 1], integers in
/// [0, 16) (valid token ids and indices for any real vocabulary), bools 0/1.
HostTensor randomTensor(const sinter_tensor_info &info,
                        const llvm::StringMap<int64_t> &sizes,
                        std::mt19937_64 &rng, std::string &error) {
  HostTensor tensor;
  tensor.dtype = info.dtype;
  tensor.source = "random";
  for (int d = 0; d < info.rank; ++d) {
    int64_t size = info.shape[d];
    if (size < 0) {
      auto it = sizes.find(info.dim_names[d]);
      if (it == sizes.end()) {
        error = std::string("input '") + info.name + "' dimension " +
                std::to_string(d) + " ('" + info.dim_names[d] +
                "') is dynamic: give its size with --dim " + info.dim_names[d] +
                "=N";
        return tensor;
      }
      size = it->second;
    }
    tensor.shape.push_back(size);
  }
  int64_t count = elementCount(tensor.shape);
  size_t size = sinter_dtype_size(info.dtype);
  tensor.bytes.resize(count * size);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int64_t i = 0; i < count; ++i) {
    char *slot = tensor.bytes.data() + i * size;
    if (info.dtype == SINTER_FLOAT32) {
      float v = uniform(rng);
      memcpy(slot, &v, 4);
    } else if (info.dtype == SINTER_FLOAT64) {
      double v = uniform(rng);
      memcpy(slot, &v, 8);
    } else {
      int64_t v = (int64_t)(rng() % (info.dtype == SINTER_BOOL ? 2 : 16));
      memcpy(slot, &v, size);
    }
  }
  return tensor;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // --help shows sinter-run's options; LLVM's stay under --help-hidden.
  hideUnrelatedOptions({&category});
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "run, check and time a compiled sinter model\n\n"
          "Exit codes: 0 success (every output within tolerance), 1 the "
          "model failed to load or run or an output differs, 2 a wrong "
          "command line.\n",
          &llvm::errs()))
    return kExitUsage;

  std::string library = artifactPath;
  if (!StringRef(library).ends_with(".so"))
    library += ".so";
  std::string weights = weightsPath;
  if (weights.empty())
    weights = library.substr(0, library.size() - 3) + ".weights";
  // dlopen searches the library path for names without a slash.
  if (library.find('/') == std::string::npos)
    library = "./" + library;

  llvm::Expected<ModelApi> api = openArtifact(library);
  if (!api)
    return fail(llvm::toString(api.takeError()));
  sinter_session *session = nullptr;
  if (api->load(weights.c_str(), (int)threads, &session) != SINTER_OK) {
    int code = fail(api->error(session));
    api->free(session);
    return code;
  }
  llvm::scope_exit cleanup([&] {
    api->free(session);
    // Join the OpenMP threads the model started (omp_pause_hard): leak
    // checkers stop the world at exit and cannot cope with idle libomp
    // workers still spinning.
    if (auto pause = reinterpret_cast<int (*)(int)>(
            dlsym(api->handle, "omp_pause_resource_all")))
      pause(/*omp_pause_hard=*/2);
  });
  int numInputs = api->numInputs(session),
      numOutputs = api->numOutputs(session);

  // Inputs and references.
  std::vector<std::string> inputPaths(inputFiles.begin(), inputFiles.end());
  std::vector<std::string> referencePaths(referenceFiles.begin(),
                                          referenceFiles.end());
  if (!dataDir.empty()) {
    if (!llvm::sys::fs::is_directory(dataDir))
      return fail("--data " + dataDir + " is not a folder");
    if (inputPaths.empty())
      inputPaths = numberedFiles(dataDir, "input");
    if (referencePaths.empty())
      referencePaths = numberedFiles(dataDir, "output");
  }
  llvm::StringMap<int64_t> dimSizes;
  for (const std::string &entry : dims) {
    auto [name, size] = StringRef(entry).split('=');
    int64_t value;
    if (name.empty() || size.getAsInteger(10, value) || value < 0)
      return fail("--dim expects name=size, got '" + entry + "'", kExitUsage);
    dimSizes[name] = value;
  }
  std::vector<HostTensor> inputs;
  if (inputPaths.empty()) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < numInputs; ++i) {
      std::string error;
      inputs.push_back(
          randomTensor(*api->inputInfo(session, i), dimSizes, rng, error));
      if (!error.empty())
        return fail(error);
    }
  } else {
    if ((int)inputPaths.size() != numInputs)
      return fail("the model takes " + llvm::Twine(numInputs) +
                  " inputs, got " + llvm::Twine(inputPaths.size()) + " files");
    for (const std::string &path : inputPaths) {
      llvm::Expected<HostTensor> tensor = readTensor(path);
      if (!tensor)
        return fail(llvm::toString(tensor.takeError()));
      inputs.push_back(std::move(*tensor));
    }
  }
  std::vector<HostTensor> references;
  for (const std::string &path : referencePaths) {
    llvm::Expected<HostTensor> tensor = readTensor(path);
    if (!tensor)
      return fail(llvm::toString(tensor.takeError()));
    references.push_back(std::move(*tensor));
  }
  if (!references.empty() && (int)references.size() != numOutputs)
    return fail("the model has " + llvm::Twine(numOutputs) + " outputs, got " +
                llvm::Twine(references.size()) + " references");

  // ONNX's test data stores bfloat16 tensors as uint16 (the same bits).
  for (int i = 0; i < numInputs; ++i)
    if (inputs[i].dtype == SINTER_UINT16 &&
        api->inputInfo(session, i)->dtype == SINTER_BFLOAT16)
      inputs[i].dtype = SINTER_BFLOAT16;
  for (int i = 0; i < (int)references.size(); ++i)
    if (references[i].dtype == SINTER_UINT16 &&
        api->outputInfo(session, i)->dtype == SINTER_BFLOAT16)
      references[i].dtype = SINTER_BFLOAT16;

  std::vector<sinter_tensor> in(numInputs), out(numOutputs);
  for (int i = 0; i < numInputs; ++i)
    in[i] = {inputs[i].bytes.data(), (sinter_dtype)inputs[i].dtype,
             (int32_t)inputs[i].shape.size(), inputs[i].shape.data()};

  // Warm-up, then timed runs; the outputs of the last run are checked.
  std::vector<double> times;
  for (unsigned r = 0; r < warmup + std::max(1u, (unsigned)runs); ++r) {
    auto start = std::chrono::steady_clock::now();
    sinter_status status =
        api->run(session, in.data(), numInputs, out.data(), numOutputs);
    auto end = std::chrono::steady_clock::now();
    if (status != SINTER_OK)
      return fail(api->error(session));
    if (r >= warmup)
      times.push_back(
          std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::vector<double> sorted = times;
  llvm::sort(sorted);
  double median =
      sorted.size() % 2
          ? sorted[sorted.size() / 2]
          : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;

  if (!saveOutputs.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(saveOutputs))
      return fail("cannot create " + saveOutputs + ": " + ec.message());
    for (int i = 0; i < numOutputs; ++i)
      if (llvm::Error error =
              writeNpy(saveOutputs + "/output_" + std::to_string(i) + ".npy",
                       out[i]))
        return fail(llvm::toString(std::move(error)));
  }

  bool ok = true;
  llvm::json::Array outputReports;
  std::string table;
  llvm::raw_string_ostream os(table);
  for (int i = 0; i < numOutputs; ++i) {
    const sinter_tensor_info *info = api->outputInfo(session, i);
    std::vector<int64_t> shape(out[i].shape, out[i].shape + out[i].rank);
    llvm::json::Object report{{"name", info->name},
                              {"dtype", sinter_dtype_name(out[i].dtype)},
                              {"shape", llvm::json::Array(shape)}};
    os << "output " << i << " '" << info->name << "' "
       << sinter_dtype_name(out[i].dtype) << " " << shapeString(shape);
    if (!references.empty()) {
      Comparison c = compare(out[i], references[i]);
      bool pass = c.problem.empty() && c.mismatches == 0;
      ok &= pass;
      if (!c.problem.empty()) {
        report["problem"] = c.problem;
        os << ": " << c.problem;
      } else {
        report["max_abs_error"] = c.maxAbsError;
        report["relative_error"] = c.relativeError;
        report["mismatches"] = c.mismatches;
        os << llvm::format(": max abs error %.3g, |out - ref|/|ref| %.3g, "
                           "%lld beyond atol %g + rtol %g",
                           c.maxAbsError, c.relativeError,
                           (long long)c.mismatches, (double)absTolerance,
                           (double)relTolerance);
      }
      report["pass"] = pass;
      os << (pass ? "  ok" : "  FAIL");
    }
    os << "\n";
    outputReports.push_back(std::move(report));
  }
  if (json) {
    llvm::json::Object root{
        {"artifact", artifactPath},           {"threads", (int64_t)threads},
        {"runs", (int64_t)times.size()},      {"median_ms", median},
        {"min_ms", sorted.front()},           {"max_ms", sorted.back()},
        {"outputs", std::move(outputReports)}};
    if (!references.empty())
      root["pass"] = ok;
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
                 << "\n";
  } else {
    llvm::outs() << table;
    llvm::outs() << llvm::format("time: median %.3f ms, min %.3f ms, max %.3f "
                                 "ms over %zu runs (%u threads)\n",
                                 median, sorted.front(), sorted.back(),
                                 times.size(), (unsigned)threads);
    if (!references.empty())
      llvm::outs() << (ok ? "PASS" : "FAIL") << "\n";
  }
  return ok ? 0 : 1;
}
