//===- ModelFiles.h - Artifacts and tensor files for the tools --*- C++ -*-===//
//
// What sinter-run and sinterc (--calibrate) share: opening a compiled
// artifact through its exported C API, and reading and writing tensors as
// ONNX TensorProto (.pb) and NumPy (.npy) files.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_COMMON_MODELFILES_H
#define SINTER_TOOLS_COMMON_MODELFILES_H

#include "sinter/types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace sinter::tools {

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
  /// Only in instrumented builds (sinterc --calibrate); null otherwise.
  int (*numProbes)(const sinter_session *);
  const sinter_probe_stats *(*probe)(const sinter_session *, int);
};

/// Loads the artifact at `path` (dlopen, its `<name>_*` functions).
llvm::Expected<ModelApi> openArtifact(const std::string &path);

/// A dense tensor in host memory.
struct HostTensor {
  int dtype = 0;
  std::vector<int64_t> shape;
  std::vector<char> bytes; // 64-byte aligned copy made at run time
  std::string source;
};

int64_t elementCount(llvm::ArrayRef<int64_t> shape);

/// An ONNX TensorProto file.
llvm::Expected<HostTensor> readTensorProto(const std::string &path);
/// A NumPy .npy file (versions 1-3, little-endian, C order).
llvm::Expected<HostTensor> readNpy(const std::string &path);
/// .npy by its extension, else a TensorProto.
llvm::Expected<HostTensor> readTensor(const std::string &path);
/// Token ids of a text file: non-negative decimal integers separated by
/// spaces and newlines (what `sinterc --calibrate` reads from a .txt
/// sample); the error names the file and the first word that is not one.
llvm::Expected<std::vector<int64_t>> readTokenIds(const std::string &path);
/// Writes `tensor` as a version 1.0 .npy file (bfloat16 as its uint16
/// bits, like ONNX's test data).
llvm::Error writeNpy(const std::string &path, const sinter_tensor &tensor);

/// Closes a file written through `os`; on an error (a full disk) removes
/// it and returns "cannot write PATH: why".
llvm::Error closeWritten(llvm::raw_fd_ostream &os, const std::string &path);
/// Writes `bytes` to `path`, with closeWritten's errors.
llvm::Error writeFileBytes(const std::string &path, llvm::StringRef bytes);

/// `dir/<kind>_K.pb` (or `.npy`) for K = 0, 1, ... while they exist.
std::vector<std::string> numberedFiles(llvm::StringRef dir,
                                       llvm::StringRef kind);

/// Element `i` of a tensor as a double (bool and integers exactly where
/// they fit, halves widened).
double elementAsDouble(const void *data, int dtype, int64_t i);

/// "[1, 32, 256]".
std::string shapeString(llvm::ArrayRef<int64_t> shape);

} // namespace sinter::tools

#endif // SINTER_TOOLS_COMMON_MODELFILES_H
