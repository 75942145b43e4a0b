//===- FuzzSupport.cpp - What the fuzz targets share ----------------------===//

#include "FuzzSupport.h"

#include <dirent.h>
#include <fstream>

namespace sinter::fuzz {

namespace {
std::string makeScratchFolder() {
  const char *tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") +
                        "/sinter-fuzz-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    perror("sinter fuzz: cannot create a scratch folder");
    abort();
  }
  return pattern;
}

void removeScratchFolder() {
  const std::string &folder = scratchFolder();
  if (DIR *dir = opendir(folder.c_str())) {
    while (dirent *entry = readdir(dir))
      if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
        unlink((folder + "/" + entry->d_name).c_str());
    closedir(dir);
  }
  rmdir(folder.c_str());
}
} // namespace

const std::string &scratchFolder() {
  // Never destroyed: removeScratchFolder runs at exit, after the static
  // objects constructed before it was registered are gone.
  static const std::string *folder = [] {
    auto *made = new std::string(makeScratchFolder());
    atexit(removeScratchFolder);
    return made;
  }();
  return *folder;
}

std::string writeScratchFile(const std::string &name, std::string_view bytes) {
  std::string path = scratchFolder() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), (std::streamsize)bytes.size());
  if (!out) {
    perror(("sinter fuzz: cannot write " + path).c_str());
    abort();
  }
  return path;
}

} // namespace sinter::fuzz
