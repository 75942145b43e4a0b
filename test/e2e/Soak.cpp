//===- Soak.cpp - One session run a million times, its memory flat -------===//
//
// Long runs (docs/runtime-abi.md, "Threads"; ctest e2e-soak, label slow):
// one session of an artifact with a dynamic dimension runs --runs times,
// the dynamic size cycling through 1 .. the largest the model takes, every
// token id valid; one run in 100 is refused before it starts (an id past
// the table: SINTER_INVALID_ARGUMENT) and, where the model checks indices
// it computes, one in 100 is refused after it (a sequence one longer than
// the position table). Each refused run must leave the session usable, and
// each run's first output must equal what the first run of its size gave.
// Resident memory (/proc/self/statm) is read after the first 1% of the
// runs and at every tenth after; it must not grow by more than --max-growth
// KiB over the rest, the figure a leak of one buffer per thousand runs
// would exceed.
//
// usage: sinter-soak ARTIFACT.so [--runs N] [--max-length L]
//                    [--max-growth KiB]
//
//===----------------------------------------------------------------------===//

#include "tools/common/ModelFiles.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

using namespace sinter::tools;

namespace {

long residentKiB() {
  long pages = 0, resident = 0;
  FILE *statm = fopen("/proc/self/statm", "r");
  if (!statm)
    return -1;
  if (fscanf(statm, "%ld %ld", &pages, &resident) != 2)
    resident = -1;
  fclose(statm);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/// Inputs of one run: every dynamic dimension `length`; integer inputs
/// hold ids in [0, 16) but for `badId`, put at the last position.
struct Inputs {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::vector<char>> data;
  std::vector<sinter_tensor> tensors;
};

Inputs makeInputs(const ModelApi &api, sinter_session *s, int64_t length,
                  int64_t badId) {
  Inputs in;
  int count = api.numInputs(s);
  in.shapes.resize(count);
  in.data.resize(count);
  for (int i = 0; i < count; ++i) {
    const sinter_tensor_info *info = api.inputInfo(s, i);
    int64_t elements = 1;
    for (int d = 0; d < info->rank; ++d) {
      in.shapes[i].push_back(info->shape[d] < 0 ? length : info->shape[d]);
      elements *= in.shapes[i].back();
    }
    size_t width = sinter_dtype_size(info->dtype);
    in.data[i].resize(elements * width + 64);
    char *bytes = in.data[i].data();
    for (int64_t e = 0; e < elements; ++e) {
      int64_t id = badId && e == elements - 1 ? badId : (e * 5 + length) % 16;
      if (info->dtype == SINTER_FLOAT32) {
        float value = std::sin(0.3f * e + length);
        memcpy(bytes + e * width, &value, width);
      } else if (info->dtype == SINTER_INT64 || info->dtype == SINTER_INT32) {
        memcpy(bytes + e * width, &id, width); // little-endian
      } else {
        memset(bytes + e * width, 0, width);
      }
    }
    in.tensors.push_back({bytes, info->dtype, info->rank, in.shapes[i].data()});
  }
  return in;
}

std::vector<char> firstOutput(const sinter_tensor &out) {
  int64_t elements = 1;
  for (int d = 0; d < out.rank; ++d)
    elements *= out.shape[d];
  const char *data = static_cast<const char *>(out.data);
  return {data, data + elements * sinter_dtype_size(out.dtype)};
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ARTIFACT.so [--runs N] [--max-length L] "
                    "[--max-growth KiB]\n",
            argv[0]);
    return 2;
  }
  std::string path = argv[1];
  int64_t runs = 1000000, maxLength = 0;
  long maxGrowthKiB = 1024;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    long long value = atoll(argv[i + 1]);
    if (flag == "--runs")
      runs = value;
    else if (flag == "--max-length")
      maxLength = value;
    else if (flag == "--max-growth")
      maxGrowthKiB = value;
    else {
      fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  llvm::Expected<ModelApi> opened = openArtifact(path);
  if (!opened) {
    fprintf(stderr, "%s\n", llvm::toString(opened.takeError()).c_str());
    return 1;
  }
  const ModelApi &api = *opened;
  std::string weights = path.substr(0, path.size() - 3) + ".weights";
  sinter_session *s = nullptr;
  if (api.load(weights.c_str(), 1, &s) != SINTER_OK) {
    fprintf(stderr, "load: %s\n", api.error(s));
    return 1;
  }
  // The largest size: the bound the model was compiled for, else the
  // flag's (a model whose positions come from a table of that length).
  const sinter_tensor_info *info = api.inputInfo(s, 0);
  for (int d = 0; d < info->rank; ++d)
    if (info->shape[d] < 0 && info->max_shape[d] > 0)
      maxLength = info->max_shape[d];
  if (maxLength <= 0) {
    fprintf(stderr, "the model has no bound on its dynamic size: give "
                    "--max-length\n");
    return 2;
  }
  bool integerIds =
      info->dtype == SINTER_INT64 || info->dtype == SINTER_INT32;

  std::vector<Inputs> sized;
  for (int64_t length = 1; length <= maxLength; ++length)
    sized.push_back(makeInputs(api, s, length, 0));
  Inputs badId = makeInputs(api, s, maxLength, 1000000);
  Inputs tooLong = makeInputs(api, s, maxLength + 1, 0);
  std::map<int64_t, std::vector<char>> expected;
  std::vector<sinter_tensor> out(api.numOutputs(s));

  int64_t ok = 0, refusedBefore = 0, refusedAfter = 0, failures = 0;
  long warmKiB = -1, peakKiB = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < runs; ++r) {
    if (r == runs / 100)
      warmKiB = residentKiB();
    if (warmKiB >= 0 && r % (runs / 10 > 0 ? runs / 10 : 1) == 0) {
      long now = residentKiB();
      peakKiB = std::max(peakKiB, now);
      printf("run %lld: resident %ld KiB\n", (long long)r, now);
      fflush(stdout);
    }
    // One run in 100 with an id past the table (refused before the run),
    // one with a sequence one too long (refused after it when the model
    // checks its positions; before it, by a model bounded to maxLength).
    if (integerIds && (r % 100 == 37 || r % 100 == 71)) {
      bool badIdRun = r % 100 == 37;
      const Inputs &in = badIdRun ? badId : tooLong;
      sinter_status status = api.run(s, in.tensors.data(),
                                     (int)in.tensors.size(), out.data(),
                                     (int)out.size());
      if (status != SINTER_INVALID_ARGUMENT) {
        fprintf(stderr, "run %lld: %s gave status %d: %s\n", (long long)r,
                badIdRun ? "an id past the table" : "a sequence too long",
                (int)status, api.error(s));
        ++failures;
      }
      ++(badIdRun ? refusedBefore : refusedAfter);
      continue;
    }
    int64_t length = 1 + (r * 7) % maxLength;
    const Inputs &in = sized[length - 1];
    if (api.run(s, in.tensors.data(), (int)in.tensors.size(), out.data(),
                (int)out.size()) != SINTER_OK) {
      fprintf(stderr, "run %lld (length %lld): %s\n", (long long)r,
              (long long)length, api.error(s));
      if (++failures > 10)
        break;
      continue;
    }
    std::vector<char> got = firstOutput(out[0]);
    auto [it, first] = expected.emplace(length, got);
    if (!first && it->second != got) {
      fprintf(stderr, "run %lld (length %lld): the output differs from the "
                      "first run of this length\n",
              (long long)r, (long long)length);
      if (++failures > 10)
        break;
    }
    ++ok;
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  long endKiB = residentKiB();
  peakKiB = std::max(peakKiB, endKiB);
  api.free(s);
  printf("%lld runs in %.1f s (%.1f us each): %lld ran, %lld refused before "
         "the run, %lld after; lengths 1..%lld\n",
         (long long)runs, seconds, 1e6 * seconds / (runs ? runs : 1),
         (long long)ok, (long long)refusedBefore, (long long)refusedAfter,
         (long long)maxLength);
  long growth = warmKiB >= 0 ? peakKiB - warmKiB : 0;
  printf("resident memory: %ld KiB after %lld runs, at most %ld KiB after, "
         "%ld KiB at the end: grew %ld KiB (limit %ld)\n",
         warmKiB, (long long)(runs / 100), peakKiB, endKiB, growth,
         maxGrowthKiB);
  if (growth > maxGrowthKiB) {
    fprintf(stderr, "FAIL: resident memory grew by %ld KiB\n", growth);
    ++failures;
  }
  printf("%s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
