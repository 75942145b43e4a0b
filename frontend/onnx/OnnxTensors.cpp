//===- OnnxTensors.cpp - ONNX tensors to elements attributes --------------===//
//
// Weights arrive as TensorProtos holding their bytes inline (raw_data or typed
// repeated fields) or in external files. Large tensors become dense resources
// that take ownership of the proto's bytes or point into a read-only mapping
// of the external file, so importing never copies a weight; small tensors
// (shapes, scalars) become plain dense attributes that folders can evaluate.
// Every size is checked against the data before it is trusted.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImporterImpl.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace sinter {

namespace {

/// Tensors up to this many elements become dense attributes.
constexpr int64_t kMaxInlineElements = 64;

using onnx::TensorProto;

/// Bytes per element in raw_data; 0 for types sinter cannot hold.
int64_t rawElementBytes(int32_t dataType) {
  switch (dataType) {
  case TensorProto::FLOAT:
  case TensorProto::INT32:
  case TensorProto::UINT32:
    return 4;
  case TensorProto::DOUBLE:
  case TensorProto::INT64:
  case TensorProto::UINT64:
    return 8;
  case TensorProto::FLOAT16:
  case TensorProto::BFLOAT16:
  case TensorProto::INT16:
  case TensorProto::UINT16:
    return 2;
  case TensorProto::INT8:
  case TensorProto::UINT8:
  case TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

/// Keys of dense resources: the tensor name with everything but letters,
/// digits, '_' and '.' replaced, so that the printed IR stays readable.
std::string resourceKey(StringRef name) {
  std::string key = name.empty() ? std::string("tensor") : name.str();
  for (char &c : key)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  if (llvm::isDigit(key.front()) || key.front() == '.')
    key.insert(key.begin(), '_');
  return key;
}

/// Gathers the bytes of a tensor stored in the typed repeated fields into a
/// little-endian buffer of raw_data layout.
FailureOr<std::vector<char>> typedFieldBytes(const TensorProto &tensor,
                                             int64_t elements, Location loc,
                                             StringRef what) {
  int32_t type = tensor.data_type();
  int64_t width = rawElementBytes(type);
  std::vector<char> bytes(elements * width);
  auto checkCount = [&](int64_t have, StringRef field) -> LogicalResult {
    if (have == elements)
      return success();
    return emitError(loc) << what << " declares " << elements
                          << " elements but its " << field << " holds "
                          << have;
  };
  auto store = [&](int64_t index, uint64_t bits) {
    std::memcpy(bytes.data() + index * width, &bits, width);
  };
  // A field of the tensor's own width, copied whole (an empty field's
  // data() is null, which memcpy must not get).
  auto copyField = [&](const void *field) {
    if (!bytes.empty())
      std::memcpy(bytes.data(), field, bytes.size());
    return std::move(bytes);
  };
  switch (type) {
  case TensorProto::FLOAT:
    if (failed(checkCount(tensor.float_data_size(), "float_data")))
      return failure();
    return copyField(tensor.float_data().data());
  case TensorProto::DOUBLE:
    if (failed(checkCount(tensor.double_data_size(), "double_data")))
      return failure();
    return copyField(tensor.double_data().data());
  case TensorProto::INT64:
    if (failed(checkCount(tensor.int64_data_size(), "int64_data")))
      return failure();
    return copyField(tensor.int64_data().data());
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    if (failed(checkCount(tensor.uint64_data_size(), "uint64_data")))
      return failure();
    for (int64_t i = 0; i < elements; ++i)
      store(i, tensor.uint64_data(i));
    return bytes;
  default:
    // INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 are
    // all stored one per int32_data entry (16-bit floats as their bits).
    if (failed(checkCount(tensor.int32_data_size(), "int32_data")))
      return failure();
    for (int64_t i = 0; i < elements; ++i)
      store(i, static_cast<uint32_t>(tensor.int32_data(i)));
    return bytes;
  }
}

/// Maps an external data file read-only, once per file.
FailureOr<std::shared_ptr<llvm::sys::fs::mapped_file_region>>
mapExternalFile(OnnxModelFile &model, StringRef location, Location loc,
                StringRef what) {
  if (location.empty())
    return emitError(loc) << what << " is stored externally but names no file";
  if (llvm::sys::path::is_absolute(location))
    return emitError(loc) << what << " names external data by the absolute "
                          << "path '" << location
                          << "'; it must be relative to the model's folder";
  // The path must stay inside the model's folder, both as written ('..')
  // and once symbolic links are resolved: a model must not make the
  // compiler read arbitrary files.
  StringRef dir = model.directory;
  auto inside = [&](StringRef path) {
    return path.starts_with(dir) && path.size() > dir.size() &&
           llvm::sys::path::is_separator(path[dir.size()]);
  };
  auto leaves = [&]() {
    return emitError(loc) << what << ": external data path '" << location
                          << "' leaves the model's folder (" << dir << ")";
  };
  SmallString<256> joined(model.directory);
  llvm::sys::path::append(joined, location);
  llvm::sys::path::remove_dots(joined, /*remove_dot_dot=*/true);
  if (!inside(joined))
    return leaves();
  SmallString<256> real;
  if (std::error_code ec = llvm::sys::fs::real_path(joined, real))
    return emitError(loc) << what << ": cannot open external data file '"
                          << joined << "': " << ec.message();
  if (!inside(real))
    return leaves();
  auto it = model.externalFiles.find(real);
  if (it != model.externalFiles.end())
    return it->second;

  llvm::Expected<llvm::sys::fs::file_t> file =
      llvm::sys::fs::openNativeFileForRead(real);
  if (!file)
    return emitError(loc) << what << ": cannot open external data file '"
                          << real << "': " << llvm::toString(file.takeError());
  llvm::sys::fs::file_status status;
  std::error_code ec = llvm::sys::fs::status(*file, status);
  std::shared_ptr<llvm::sys::fs::mapped_file_region> region;
  if (!ec && status.getSize() > 0) {
    region = std::make_shared<llvm::sys::fs::mapped_file_region>(
        *file, llvm::sys::fs::mapped_file_region::readonly, status.getSize(),
        0, ec);
  } else if (!ec) {
    region = std::make_shared<llvm::sys::fs::mapped_file_region>();
  }
  llvm::sys::fs::closeFile(*file);
  if (ec)
    return emitError(loc) << what << ": cannot map external data file '"
                          << real << "': " << ec.message();
  model.externalFiles[real] = region;
  return region;
}

/// The bytes of an externally stored tensor, checked against its size.
FailureOr<AsmResourceBlob> externalBlob(OnnxModelFile &model,
                                        const TensorProto &tensor,
                                        int64_t byteSize, int64_t alignment,
                                        Location loc, StringRef what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    int64_t value = 0;
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      if (StringRef(entry.value()).getAsInteger(10, value) || value < 0)
        return emitError(loc) << what << ": external data " << entry.key()
                              << " '" << entry.value()
                              << "' is not a non-negative integer";
      (entry.key() == "offset" ? offset : length) = value;
    }
  }
  FailureOr<std::shared_ptr<llvm::sys::fs::mapped_file_region>> region =
      mapExternalFile(model, location, loc, what);
  if (failed(region))
    return failure();
  if (length >= 0 && length != byteSize)
    return emitError(loc) << what << " needs " << byteSize
                          << " bytes but its external data length is "
                          << length;
  int64_t fileSize = (*region)->size();
  if (offset > fileSize || byteSize > fileSize - offset)
    return emitError(loc) << what << " needs bytes [" << offset << ", "
                          << offset + byteSize << ") of '" << location
                          << "', which has only " << fileSize << " bytes";
  const char *data = (*region)->const_data() + offset;
  if (reinterpret_cast<uintptr_t>(data) % alignment != 0)
    return HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(data, byteSize), alignment, /*dataIsMutable=*/false);
  // The blob keeps the mapping alive; the mapping is unmapped with the last.
  return AsmResourceBlob(
      ArrayRef<char>(data, byteSize), alignment,
      [keep = *region](void *, size_t, size_t) mutable { keep.reset(); },
      /*dataIsMutable=*/false);
}

} // namespace

Type onnxElementType(MLIRContext *context, int32_t dataType) {
  Builder b(context);
  switch (dataType) {
  case TensorProto::FLOAT:
    return b.getF32Type();
  case TensorProto::DOUBLE:
    return b.getF64Type();
  case TensorProto::FLOAT16:
    return b.getF16Type();
  case TensorProto::BFLOAT16:
    return b.getBF16Type();
  case TensorProto::INT8:
    return b.getIntegerType(8);
  case TensorProto::INT16:
    return b.getIntegerType(16);
  case TensorProto::INT32:
    return b.getIntegerType(32);
  case TensorProto::INT64:
    return b.getIntegerType(64);
  case TensorProto::UINT8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case TensorProto::UINT16:
    return b.getIntegerType(16, /*isSigned=*/false);
  case TensorProto::UINT32:
    return b.getIntegerType(32, /*isSigned=*/false);
  case TensorProto::UINT64:
    return b.getIntegerType(64, /*isSigned=*/false);
  case TensorProto::BOOL:
    return b.getI1Type();
  default:
    return Type();
  }
}

StringRef onnxDataTypeName(int32_t dataType) {
  // Types added after ONNX 1.12 (whose enum ends at BFLOAT16): opsets 19
  // and 21 use them; named so that their refusal says which.
  static const char *const later[] = {
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",        "INT4",           "FLOAT4E2M1"};
  if (dataType >= 17 && dataType < 17 + int32_t(std::size(later)))
    return later[dataType - 17];
  if (!TensorProto::DataType_IsValid(dataType))
    return "an unknown data type";
  return TensorProto::DataType_Name(
      static_cast<TensorProto::DataType>(dataType));
}

FailureOr<ElementsAttr> importOnnxTensor(OnnxModelFile &model,
                                         TensorProto &tensor, Location loc,
                                         StringRef what) {
  MLIRContext *context = loc.getContext();
  Type elementType = onnxElementType(context, tensor.data_type());
  if (!elementType)
    return emitError(loc) << "unsupported data type "
                          << onnxDataTypeName(tensor.data_type()) << " of "
                          << what;
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  int64_t elements = 1;
  for (int64_t size : shape) {
    if (size < 0 || llvm::MulOverflow(elements, size, elements) ||
        elements > kMaxTensorElements) {
      std::string dims;
      llvm::raw_string_ostream os(dims);
      llvm::interleave(shape, os, "x");
      return emitError(loc) << what << " has an invalid or absurd shape ["
                            << dims << "] (sizes must be >= 0, at most 2^40 "
                            << "elements in all)";
    }
  }
  auto type = RankedTensorType::get(shape, elementType);
  int64_t width = rawElementBytes(tensor.data_type());
  int64_t byteSize = elements * width;
  bool inline_ = elements <= kMaxInlineElements || elementType.isInteger(1);

  if (tensor.data_location() == TensorProto::EXTERNAL) {
    FailureOr<AsmResourceBlob> blob =
        externalBlob(model, tensor, byteSize, width, loc, what);
    if (failed(blob))
      return failure();
    if (!inline_)
      return cast<ElementsAttr>(DenseResourceElementsAttr::get(
          type, resourceKey(tensor.name()), std::move(*blob)));
    std::vector<char> bytes(blob->getData().begin(), blob->getData().end());
    tensor.set_raw_data(bytes.data(), bytes.size());
  }

  std::vector<char> typedBytes;
  ArrayRef<char> bytes;
  if (tensor.has_raw_data()) {
    if (static_cast<int64_t>(tensor.raw_data().size()) != byteSize)
      return emitError(loc) << what << " declares " << elements
                            << " elements of " << width << " bytes ("
                            << byteSize << " bytes) but holds "
                            << tensor.raw_data().size() << " bytes";
    bytes = ArrayRef<char>(tensor.raw_data().data(), byteSize);
  } else {
    FailureOr<std::vector<char>> gathered =
        typedFieldBytes(tensor, elements, loc, what);
    if (failed(gathered))
      return failure();
    typedBytes = std::move(*gathered);
    bytes = typedBytes;
  }

  if (elementType.isInteger(1)) {
    SmallVector<bool> values;
    values.reserve(elements);
    for (char byte : bytes)
      values.push_back(byte != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, values));
  }
  if (inline_)
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, bytes));

  // Take the proto's buffer when it is suitably aligned (heap strings are);
  // otherwise copy once into an aligned heap blob.
  AsmResourceBlob blob;
  if (tensor.has_raw_data() &&
      reinterpret_cast<uintptr_t>(tensor.raw_data().data()) % width == 0) {
    std::string *owned = tensor.release_raw_data();
    blob = AsmResourceBlob(
        ArrayRef<char>(owned->data(), byteSize), width,
        [owned](void *, size_t, size_t) { delete owned; },
        /*dataIsMutable=*/false);
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, width,
                                                         /*dataIsMutable=*/false);
  }
  return cast<ElementsAttr>(DenseResourceElementsAttr::get(
      type, resourceKey(tensor.name()), std::move(blob)));
}

} // namespace sinter
