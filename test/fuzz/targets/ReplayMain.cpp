//===- ReplayMain.cpp - A fuzz target's main without libFuzzer ------------===//
//
// Builds without libFuzzer (gcc, the release and sanitizer builds) link each
// target with this main: it runs LLVMFuzzerTestOneInput on every file named
// on the command line and every file in every folder named, the way
// `target corpus/` replays a corpus under libFuzzer. With `--mutations N`
// it also runs N randomly damaged copies of each input (bits flipped, bytes
// set to edge values, ranges erased, repeated or inserted, the tail cut),
// from a fixed seed: not coverage-guided, but a brief fuzzing run that any
// compiler can build. ctest replays the committed corpora and regression
// inputs so; a crash or sanitizer report fails the test. With
// SINTER_FUZZ_LAST_INPUT=FILE each input is written to FILE before it runs,
// so that after a crash FILE holds the input that crashed.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <algorithm>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

/// splitmix64: a fixed sequence from the seed, the same on every machine.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t bound) { return bound ? next() % bound : 0; }
};

void mutate(std::vector<uint8_t> &bytes, Random &random) {
  static const uint8_t edges[] = {0, 1, 0x7f, 0x80, 0xff, '0', '9', '\n'};
  for (int n = 1 + (int)random.below(4); n > 0; --n) {
    size_t at = random.below(bytes.size() + 1);
    size_t span = 1 + random.below(16);
    switch (random.below(6)) {
    case 0:
      if (at < bytes.size())
        bytes[at] ^= (uint8_t)(1u << random.below(8));
      break;
    case 1:
      if (at < bytes.size())
        bytes[at] = edges[random.below(sizeof edges)];
      break;
    case 2:
      bytes.erase(bytes.begin() + at,
                  bytes.begin() + std::min(bytes.size(), at + span));
      break;
    case 3: { // repeat a range
      size_t end = std::min(bytes.size(), at + span);
      std::vector<uint8_t> range(bytes.begin() + at, bytes.begin() + end);
      bytes.insert(bytes.begin() + at, range.begin(), range.end());
      break;
    }
    case 4:
      for (size_t i = 0; i < span; ++i)
        bytes.insert(bytes.begin() + at, (uint8_t)random.next());
      break;
    default:
      bytes.resize(at);
    }
  }
}

int mutations = 0;
Random generator{1};
const char *lastInputPath = getenv("SINTER_FUZZ_LAST_INPUT");

void runInput(const std::vector<uint8_t> &input) {
  if (lastInputPath) {
    std::ofstream out(lastInputPath, std::ios::binary | std::ios::trunc);
    out.write((const char *)input.data(), (std::streamsize)input.size());
  }
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
}

} // namespace

static int replayFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so that ASan sees reads past it.
  std::vector<uint8_t> input(bytes.begin(), bytes.end());
  runInput(input);
  for (int m = 0; m < mutations; ++m) {
    std::vector<uint8_t> damaged(bytes.begin(), bytes.end());
    mutate(damaged, generator);
    runInput(damaged);
  }
  return 0;
}

int main(int argc, char **argv) {
  int failures = 0, replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    if (path == "--mutations" && i + 1 < argc) {
      mutations = atoi(argv[++i]);
      continue;
    }
    struct stat info;
    if (stat(path.c_str(), &info) != 0) {
      fprintf(stderr, "replay: no file or folder %s\n", path.c_str());
      ++failures;
      continue;
    }
    if (!S_ISDIR(info.st_mode)) {
      failures += replayFile(path);
      ++replayed;
      continue;
    }
    std::vector<std::string> files;
    if (DIR *dir = opendir(path.c_str())) {
      while (dirent *entry = readdir(dir))
        if (entry->d_name[0] != '.')
          files.push_back(path + "/" + entry->d_name);
      closedir(dir);
    }
    for (const std::string &file : files) {
      failures += replayFile(file);
      ++replayed;
    }
  }
  printf("replay: %d inputs run, %d damaged copies of each, %d unreadable\n",
         replayed, mutations, failures);
  return failures || replayed == 0 ? 1 : 0;
}
