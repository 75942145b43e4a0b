//===- Outputs.cpp - Writing sinterc's files ------------------------------===//

#include "tools/sinterc/Outputs.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <unistd.h>

namespace sinter {

llvm::Expected<std::string> writeTemporary(llvm::StringRef path,
                                           llvm::StringRef contents) {
  llvm::SmallString<256> folder(llvm::sys::path::parent_path(path));
  if (!folder.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(folder))
      return llvm::createStringError(ec, "cannot create " + folder + ": " +
                                             ec.message());
  llvm::SmallString<256> model(path);
  model += ".tmp%%%%%%";
  int fd;
  llvm::SmallString<256> temporary;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model, fd, temporary))
    return llvm::createStringError(ec, "cannot write " + path.str() + ": " +
                                           ec.message());
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << contents;
  os.close();
  if (os.has_error()) {
    std::error_code ec = os.error();
    // A stream destroyed with its error still set ends the process.
    os.clear_error();
    llvm::sys::fs::remove(temporary);
    return llvm::createStringError(ec, "cannot write " + path.str() + ": " +
                                           ec.message());
  }
  return std::string(temporary);
}

/// The temporaries of the live PendingOutputs, for removePendingTemporaries
/// (sinterc is single-threaded where it writes files).
static std::vector<std::string> &pendingTemporaries() {
  static std::vector<std::string> temporaries;
  return temporaries;
}

static void forget(const std::string &temporary) {
  std::vector<std::string> &pending = pendingTemporaries();
  llvm::erase(pending, temporary);
}

void removePendingTemporaries() {
  for (const std::string &temporary : pendingTemporaries())
    ::unlink(temporary.c_str());
}

PendingOutputs::~PendingOutputs() {
  for (const File &file : files) {
    llvm::sys::fs::remove(file.temporary);
    forget(file.temporary);
  }
}

llvm::Error PendingOutputs::add(llvm::StringRef path,
                                llvm::StringRef contents) {
  llvm::Expected<std::string> temporary = writeTemporary(path, contents);
  if (!temporary)
    return temporary.takeError();
  pendingTemporaries().push_back(*temporary);
  files.push_back({path.str(), *temporary});
  return llvm::Error::success();
}

llvm::Error PendingOutputs::add(
    llvm::StringRef path,
    llvm::function_ref<llvm::Error(llvm::StringRef temporary)> write) {
  if (llvm::Error error = add(path, ""))
    return error;
  return write(files.back().temporary);
}

llvm::Error PendingOutputs::commit() {
  for (const File &file : files)
    if (std::error_code ec = llvm::sys::fs::rename(file.temporary, file.path))
      return llvm::createStringError(ec, "cannot write " + file.path + ": " +
                                             ec.message());
  for (const File &file : files)
    forget(file.temporary);
  files.clear();
  return llvm::Error::success();
}

llvm::Error
writeOutput(llvm::StringRef path,
            llvm::function_ref<llvm::Error(llvm::raw_ostream &)> print) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(path, &error);
  if (!output)
    return llvm::createStringError(error);
  if (llvm::Error printError = print(output->os()))
    return printError;
  output->keep();
  return llvm::Error::success();
}

} // namespace sinter
