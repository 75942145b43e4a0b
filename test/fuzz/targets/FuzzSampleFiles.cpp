//===- FuzzSampleFiles.cpp - Fuzz target: tensor and token-id files -------===//
//
// The files users hand sinter-run and `sinterc --calibrate`/`--eval`: NumPy
// .npy arrays, ONNX TensorProto .pb files and token-id .txt files (chosen
// by the first byte). A tensor that is read must hold exactly as many bytes
// as its shape and dtype say, since the tools pass it to a model as is.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "tools/common/ModelFiles.h"

using namespace sinter::tools;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view bytes((const char *)data + 1, size - 1);
  switch (data[0] % 3) {
  case 0:
  case 1: {
    bool npy = data[0] % 3 == 0;
    std::string path =
        sinter::fuzz::writeScratchFile(npy ? "sample.npy" : "sample.pb", bytes);
    llvm::Expected<HostTensor> tensor = npy ? readNpy(path) : readTensorProto(path);
    if (!tensor) {
      llvm::consumeError(tensor.takeError());
      return 0;
    }
    for (int64_t dim : tensor->shape)
      if (dim < 0)
        sinter::fuzz::finding("a tensor file read with a negative dimension");
    size_t width = sinter_dtype_size(tensor->dtype);
    if (width == 0)
      sinter::fuzz::finding("a tensor file read with an unknown dtype");
    if (tensor->bytes.size() != (size_t)elementCount(tensor->shape) * width)
      sinter::fuzz::finding("a tensor file read with the wrong byte count");
    return 0;
  }
  default: {
    std::string path = sinter::fuzz::writeScratchFile("sample.txt", bytes);
    llvm::Expected<std::vector<int64_t>> ids = readTokenIds(path);
    if (!ids) {
      llvm::consumeError(ids.takeError());
      return 0;
    }
    for (int64_t id : *ids)
      if (id < 0)
        sinter::fuzz::finding("a negative token id read");
    return 0;
  }
  }
}
