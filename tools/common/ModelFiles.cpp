//===- ModelFiles.cpp - Artifacts and tensor files for the tools ----------===//

#include "tools/common/ModelFiles.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <optional>

using llvm::StringRef;

namespace sinter::tools {

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
  api.numProbes = reinterpret_cast<decltype(api.numProbes)>(
      dlsym(handle, (std::string(name) + "_num_probes").c_str()));
  api.probe = reinterpret_cast<decltype(api.probe)>(
      dlsym(handle, (std::string(name) + "_probe").c_str()));
  return api;
}

int64_t elementCount(llvm::ArrayRef<int64_t> shape) {
  if (llvm::is_contained(shape, 0))
    return 0; // however large the other sizes
  int64_t count = 1;
  for (int64_t size : shape)
    if (__builtin_mul_overflow(count, size, &count))
      return INT64_MAX; // only a damaged file's shape; readers reject it
  return count;
}

namespace {

/// The bytes of a tensor of `shape` with `width`-byte elements, or nullopt
/// when a size is negative or the count overflows (a damaged file's).
std::optional<uint64_t> byteCount(llvm::ArrayRef<int64_t> shape,
                                  size_t width) {
  if (llvm::any_of(shape, [](int64_t size) { return size < 0; }))
    return std::nullopt;
  int64_t count = elementCount(shape);
  uint64_t bytes;
  if (count == INT64_MAX ||
      __builtin_mul_overflow(uint64_t(count), uint64_t(width), &bytes))
    return std::nullopt;
  return bytes;
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

} // namespace

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
  std::optional<uint64_t> expected = byteCount(tensor.shape, size);
  if (!expected)
    return llvm::createStringError(path + ": shape " +
                                   shapeString(tensor.shape) +
                                   " has a negative or too large size");
  if (tensor.bytes.size() != *expected)
    return llvm::createStringError(
        path + ": holds " + llvm::Twine(tensor.bytes.size()) +
        " bytes of data, its shape needs " + llvm::Twine(*expected));
  return tensor;
}

namespace {

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

} // namespace

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
  return closeWritten(os, path);
}

llvm::Error closeWritten(llvm::raw_fd_ostream &os, const std::string &path) {
  os.close();
  if (!os.has_error())
    return llvm::Error::success();
  std::error_code ec = os.error();
  // A stream destroyed with its error still set ends the process.
  os.clear_error();
  llvm::sys::fs::remove(path);
  return llvm::createStringError(ec, "cannot write " + path + ": " +
                                         ec.message());
}

llvm::Error writeFileBytes(const std::string &path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write " + path + ": " +
                                           ec.message());
  os << bytes;
  return closeWritten(os, path);
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
  std::optional<uint64_t> expected =
      byteCount(tensor.shape, sinter_dtype_size(tensor.dtype));
  if (!expected)
    return bad("shape " + shapeString(tensor.shape) + " is too large");
  if (payload.size() != *expected)
    return bad("holds " + llvm::Twine(payload.size()) +
               " bytes of data, its shape needs " + llvm::Twine(*expected));
  tensor.bytes.assign(payload.begin(), payload.end());
  return tensor;
}

llvm::Expected<HostTensor> readTensor(const std::string &path) {
  if (StringRef(path).ends_with(".npy"))
    return readNpy(path);
  return readTensorProto(path);
}

llvm::Expected<std::vector<int64_t>> readTokenIds(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError("cannot read " + path + ": " +
                                   buffer.getError().message());
  std::vector<int64_t> ids;
  llvm::SmallVector<StringRef> words;
  StringRef((*buffer)->getBuffer()).split(words, ' ', -1, false);
  for (StringRef chunk : words) {
    llvm::SmallVector<StringRef> tokens;
    chunk.split(tokens, '\n', -1, false);
    for (StringRef token : tokens) {
      token = token.trim();
      int64_t id;
      if (token.empty())
        continue;
      if (token.getAsInteger(10, id) || id < 0)
        return llvm::createStringError(
            path + ": '" + token +
            "' is not a token id (a non-negative integer)");
      ids.push_back(id);
    }
  }
  return ids;
}

/// `dir/<kind>_K.pb` (or `.npy`) for K = 0, 1, ... while they exist.
std::vector<std::string> numberedFiles(StringRef dir, StringRef kind) {
  std::vector<std::string> files;
  for (int k = 0;; ++k) {
    std::string found;
    for (StringRef extension : {".pb", ".npy"}) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path,
                              (kind + "_" + llvm::Twine(k) + extension).str());
      if (found.empty() && llvm::sys::fs::exists(path))
        found = std::string(path);
    }
    if (found.empty())
      return files;
    files.push_back(found);
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


} // namespace sinter::tools
