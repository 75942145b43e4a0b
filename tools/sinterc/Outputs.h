//===- Outputs.h - Writing sinterc's files ----------------------*- C++ -*-===//
//
// An artifact is several files (.so, .h, .weights, and the statistics,
// evaluation and report files): they appear together or not at all. Each
// is written to a temporary beside its path and renamed at the end.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_OUTPUTS_H
#define SINTER_TOOLS_SINTERC_OUTPUTS_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace sinter {

/// Files that appear together at commit(), or not at all: temporaries not
/// committed are removed with the object.
class PendingOutputs {
public:
  PendingOutputs() = default;
  PendingOutputs(const PendingOutputs &) = delete;
  PendingOutputs &operator=(const PendingOutputs &) = delete;
  ~PendingOutputs();

  /// `path` with `contents`; its folder is created if missing.
  llvm::Error add(llvm::StringRef path, llvm::StringRef contents);
  /// `path` as `write` makes it, given the temporary's path (a linker's
  /// output).
  llvm::Error
  add(llvm::StringRef path,
      llvm::function_ref<llvm::Error(llvm::StringRef temporary)> write);
  /// Renames every temporary to its path.
  llvm::Error commit();

private:
  struct File {
    std::string path, temporary;
  };
  std::vector<File> files;
};

/// Removes the temporaries of every PendingOutputs not yet committed or
/// destroyed, allocating nothing: for a process about to exit without
/// unwinding (out of memory).
void removePendingTemporaries();

/// A new temporary beside `path` (its folder created if missing) holding
/// `contents`; the caller removes it.
llvm::Expected<std::string> writeTemporary(llvm::StringRef path,
                                           llvm::StringRef contents);

/// Writes one file, or stdout for "-", with what `print` writes; nothing is
/// left behind on failure.
llvm::Error writeOutput(llvm::StringRef path,
                        llvm::function_ref<llvm::Error(llvm::raw_ostream &)>
                            print);

} // namespace sinter

#endif // SINTER_TOOLS_SINTERC_OUTPUTS_H
