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

#include "sinter/types.h"

#include "onnx/onnx_pb.h"

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

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "sinter-run") << message << "\n";
  return 1;
}

/// The model's C API, found by name in the artifact.
struct ModelApi {
  void *handle;
  sinter_status (*load)(const char *, int, sinter_session **);
  void (*free)(sinter_session *);
  const char *(*error)(const sinter_session *);
  int (*numInputs)(const sinter_session *);
  int (*numOutputs)(const sinter_session *);
  const sinter_tensor_info *(*inputInfo)(const sinter_session *, int);
  const sinter_tensor_info *(*outputInfo)(const sinter_session *, int);
  sinter_status (*run)(sinter_session *, const sinter_tensor *, int,
                       sinter_tensor *, int);
};

llvm::Expected<ModelApi> openArtifact(const std::string &path) {
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return llvm::createStringError("cannot load " + path + ": " + dlerror());
  auto *name = static_cast<const char *>(dlsym(handle, "sinter_artifact_name"));
  if (!name)
    return llvm::createStringError(path + " is not a sinter artifact (no "
                                          "sinter_artifact_name)");
  ModelApi api;
  api.handle = handle;
  std::string missing;
  auto find = [&](auto &slot, const char *suffix) {
    std::string symbol = std::string(name) + "_" + suffix;
    void *address = dlsym(handle, symbol.c_str());
    if (!address)
      missing += " " + symbol;
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
  find(api.load, "load");
  find(api.free, "free");
  find(api.error, "error");
  find(api.numInputs, "num_inputs");
  find(api.numOutputs, "num_outputs");
  find(api.inputInfo, "input_info");
  find(api.outputInfo, "output_info");
  find(api.run, "run");
  if (!missing.empty())
    return llvm::createStringError(path + " lacks" + missing);
  return api;
}

/// A dense tensor in host memory.
struct HostTensor {
  int dtype = 0;
  std::vector<int64_t> shape;
  std::vector<char> bytes; // 64-byte aligned copy made at run time
  std::string source;
};

int64_t elementCount(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

/// Copies the repeated field's elements, narrowed to `size`-byte elements.
template <typename Field>
void appendTyped(const Field &field, size_t size, std::vector<char> &bytes) {
  for (auto value : field) {
    char raw[8];
    if (size == sizeof(value)) {
      memcpy(raw, &value, size);
    } else {
      int64_t wide = static_cast<int64_t>(value);
      memcpy(raw, &wide, size); // little-endian: the low bytes
    }
    bytes.insert(bytes.end(), raw, raw + size);
  }
}

llvm::Expected<HostTensor> readTensorProto(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError("cannot read " + path + ": " +
                                   buffer.getError().message());
  onnx::TensorProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            (int)(*buffer)->getBufferSize()))
    return llvm::createStringError(path + " is not an ONNX TensorProto");
  HostTensor tensor;
  tensor.source = path;
  tensor.dtype = proto.data_type();
  size_t size = sinter_dtype_size(tensor.dtype);
  if (!size)
    return llvm::createStringError(path + ": unsupported data type " +
                                   llvm::Twine(proto.data_type()));
  for (int64_t d : proto.dims())
    tensor.shape.push_back(d);
  if (proto.has_data_location() &&
      proto.data_location() == onnx::TensorProto::EXTERNAL)
    return llvm::createStringError(path + ": external data is not supported");
  if (proto.has_raw_data()) {
    tensor.bytes.assign(proto.raw_data().begin(), proto.raw_data().end());
  } else {
    switch (tensor.dtype) {
    case SINTER_FLOAT32:
      appendTyped(proto.float_data(), size, tensor.bytes);
      break;
    case SINTER_FLOAT64:
      appendTyped(proto.double_data(), size, tensor.bytes);
      break;
    case SINTER_INT64:
      appendTyped(proto.int64_data(), size, tensor.bytes);
      break;
    case SINTER_UINT32:
    case SINTER_UINT64:
      appendTyped(proto.uint64_data(), size, tensor.bytes);
      break;
    default: // int8/16/32, uint8/16, bool, float16 and bfloat16 bits
      appendTyped(proto.int32_data(), size, tensor.bytes);
    }
  }
  if ((int64_t)tensor.bytes.size() !=
      elementCount(tensor.shape) * (int64_t)size)
    return llvm::createStringError(
        path + ": holds " + llvm::Twine(tensor.bytes.size()) +
        " bytes of data, its shape needs " +
        llvm::Twine(elementCount(tensor.shape) * size));
  return tensor;
}

/// NumPy's type strings of the element types .npy files carry here.
struct NpyType {
  const char *descr;
  int dtype;
};
const NpyType npyTypes[] = {
    {"<f4", SINTER_FLOAT32}, {"<f8", SINTER_FLOAT64}, {"<f2", SINTER_FLOAT16},
    {"<i8", SINTER_INT64},   {"<i4", SINTER_INT32},   {"<i2", SINTER_INT16},
    {"|i1", SINTER_INT8},    {"|u1", SINTER_UINT8},   {"|b1", SINTER_BOOL},
    {"<u2", SINTER_UINT16},  {"<u4", SINTER_UINT32},  {"<u8", SINTER_UINT64}};

/// Writes `tensor` as a version 1.0 .npy file (bfloat16, which NumPy has
/// no type for, as its uint16 bits, like ONNX's test data).
llvm::Error writeNpy(const std::string &path, const sinter_tensor &tensor) {
  int dtype = tensor.dtype == SINTER_BFLOAT16 ? SINTER_UINT16 : tensor.dtype;
  auto type = llvm::find_if(npyTypes,
                            [&](const NpyType &t) { return t.dtype == dtype; });
  if (type == std::end(npyTypes))
    return llvm::createStringError(
        std::string("cannot save ") + sinter_dtype_name(tensor.dtype) +
        " as .npy");
  std::string header = std::string("{'descr': '") + type->descr +
                       "', 'fortran_order': False, 'shape': (";
  for (int d = 0; d < tensor.rank; ++d)
    header += std::to_string(tensor.shape[d]) + (tensor.rank == 1 ? "," : d + 1 < tensor.rank ? ", " : "");
  header += "), }";
  // Magic, version and length take 10 bytes; the data starts 64-aligned.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write " + path + ": " +
                                           ec.message());
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  int64_t count = 1;
  for (int d = 0; d < tensor.rank; ++d)
    count *= tensor.shape[d];
  os.write(static_cast<const char *>(tensor.data),
           count * sinter_dtype_size(tensor.dtype));
  os.close();
  if (os.has_error())
    return llvm::createStringError(os.error(), "cannot write " + path);
  return llvm::Error::success();
}

/// NumPy's .npy (versions 1-3): little-endian, C order.
llvm::Expected<HostTensor> readNpy(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError("cannot read " + path + ": " +
                                   buffer.getError().message());
  StringRef data = (*buffer)->getBuffer();
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(path +
                                   " is not a readable .npy file: " + why);
  };
  if (data.size() < 10 || !data.starts_with("\x93NUMPY"))
    return bad("no magic");
  unsigned major = (unsigned char)data[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = (unsigned char)data[8] | ((unsigned char)data[9] << 8);
    headerStart = 10;
  } else {
    if (data.size() < 12)
      return bad("truncated");
    headerLength = 0;
    for (int i = 3; i >= 0; --i)
      headerLength = headerLength << 8 | (unsigned char)data[8 + i];
    headerStart = 12;
  }
  if (headerStart + headerLength > data.size())
    return bad("truncated header");
  StringRef header = data.substr(headerStart, headerLength);
  auto field = [&](StringRef key) -> StringRef {
    size_t at = header.find("'" + key.str() + "'");
    if (at == StringRef::npos)
      return "";
    StringRef rest = header.substr(at + key.size() + 2).ltrim(" :");
    return rest;
  };
  StringRef descr = field("descr");
  if (!descr.consume_front("'"))
    return bad("no descr");
  descr = descr.take_until([](char c) { return c == '\''; });
  auto type = llvm::find_if(npyTypes, [&](const NpyType &t) {
    return descr == t.descr;
  });
  if (type == std::end(npyTypes))
    return bad("unsupported dtype '" + descr + "'");
  if (field("fortran_order").starts_with("True"))
    return bad("Fortran order");
  StringRef shape = field("shape");
  if (!shape.consume_front("("))
    return bad("no shape");
  shape = shape.take_until([](char c) { return c == ')'; });
  HostTensor tensor;
  tensor.source = path;
  tensor.dtype = type->dtype;
  llvm::SmallVector<StringRef> sizes;
  shape.split(sizes, ',', -1, false);
  for (StringRef size : sizes) {
    int64_t value;
    if (size.trim().getAsInteger(10, value) || value < 0)
      return bad("bad shape");
    tensor.shape.push_back(value);
  }
  StringRef payload = data.substr(headerStart + headerLength);
  size_t expected =
      elementCount(tensor.shape) * sinter_dtype_size(tensor.dtype);
  if (payload.size() != expected)
    return bad("holds " + llvm::Twine(payload.size()) +
               " bytes of data, its shape needs " + llvm::Twine(expected));
  tensor.bytes.assign(payload.begin(), payload.end());
  return tensor;
}

llvm::Expected<HostTensor> readTensor(const std::string &path) {
  if (StringRef(path).ends_with(".npy"))
    return readNpy(path);
  return readTensorProto(path);
}

/// `dir/<kind>_K.pb` for K = 0, 1, ... while they exist.
std::vector<std::string> numberedFiles(StringRef dir, StringRef kind) {
  std::vector<std::string> files;
  for (int k = 0;; ++k) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, (kind + "_" + llvm::Twine(k) + ".pb").str());
    if (!llvm::sys::fs::exists(path))
      return files;
    files.push_back(std::string(path));
  }
}

/// Element `i` of a tensor as a double (bool and integers exactly where
/// they fit, halves widened).
double elementAsDouble(const void *data, int dtype, int64_t i) {
  auto at = [&](auto type) {
    decltype(type) value;
    memcpy(&value, static_cast<const char *>(data) + i * sizeof value,
           sizeof value);
    return value;
  };
  switch (dtype) {
  case SINTER_FLOAT32:
    return at(float());
  case SINTER_FLOAT64:
    return at(double());
  case SINTER_INT64:
    return (double)at(int64_t());
  case SINTER_INT32:
    return at(int32_t());
  case SINTER_INT16:
    return at(int16_t());
  case SINTER_INT8:
    return at(int8_t());
  case SINTER_UINT8:
    return at(uint8_t());
  case SINTER_UINT16:
    return at(uint16_t());
  case SINTER_UINT32:
    return at(uint32_t());
  case SINTER_UINT64:
    return (double)at(uint64_t());
  case SINTER_BOOL:
    return at(uint8_t()) ? 1 : 0;
  case SINTER_BFLOAT16: {
    uint32_t bits = (uint32_t)at(uint16_t()) << 16;
    float value;
    memcpy(&value, &bits, 4);
    return value;
  }
  case SINTER_FLOAT16: {
    uint16_t h = at(uint16_t());
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    double magnitude = exponent == 0 ? std::ldexp(mantissa, -24)
                       : exponent == 31
                           ? (mantissa ? NAN : INFINITY)
                           : std::ldexp(mantissa + 1024, exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
  }
  }
  return NAN;
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, size] : llvm::enumerate(shape))
    text += (i ? ", " : "") + std::to_string(size);
  return text + "]";
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
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "run, check and time a compiled sinter model\n");

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
      return fail("--dim expects name=size, got '" + entry + "'");
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
