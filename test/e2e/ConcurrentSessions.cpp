//===- ConcurrentSessions.cpp - Many sessions of many artifacts at once ---===//
//
// The threading contract of docs/runtime-abi.md ("Threads"), run under
// ThreadSanitizer by ctest (e2e-concurrent-sessions-tsan): the artifacts
// named on the command line are loaded into one process; each gets several
// sessions, each session its own thread, loaded, run and freed while the
// others run, with the kernels at 2 OpenMP threads each; every output must
// match what a session run alone computed for the same inputs. Then two
// threads call one session at once: each call runs or is refused with
// SINTER_SESSION_BUSY, never both inside.
//
// The artifacts are compiled against the runtime built with
// -fsanitize=thread (SINTER_RUNTIME_ARCHIVE), so TSan sees the session's
// state and the kernels' memory; the generated code is not instrumented.
//
//===----------------------------------------------------------------------===//

#include "tools/common/ModelFiles.h"

#include "llvm/Support/Error.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace sinter::tools;

namespace {

constexpr int kSessionsPerArtifact = 3;
constexpr int kRunsPerSession = 3;
constexpr int kKernelThreads = 2;

/// One set of inputs for a model; `variant` varies the dynamic sizes and
/// the values, so that concurrent sessions of one artifact differ.
struct Inputs {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::vector<char>> data;
  std::vector<sinter_tensor> tensors;
};

Inputs makeInputs(const ModelApi &api, sinter_session *session, int variant) {
  Inputs in;
  int count = api.numInputs(session);
  in.shapes.resize(count);
  in.data.resize(count);
  for (int i = 0; i < count; ++i) {
    const sinter_tensor_info *info = api.inputInfo(session, i);
    int64_t elements = 1;
    for (int d = 0; d < info->rank; ++d) {
      int64_t size = info->shape[d];
      if (size < 0) // a dynamic size: 5, 8, 11, ... within any bound
        size = info->max_shape[d] > 0
                   ? 1 + (4 + 3 * variant) % info->max_shape[d]
                   : 5 + 3 * variant;
      in.shapes[i].push_back(size);
      elements *= size;
    }
    size_t width = sinter_dtype_size(info->dtype);
    in.data[i].resize(elements * width + 64);
    char *bytes = in.data[i].data();
    for (int64_t e = 0; e < elements; ++e) {
      int64_t integer = (e * 7 + variant * 3 + i) % 16; // valid ids
      double real = std::sin(0.37 * e + variant + i);
      switch (info->dtype) {
      case SINTER_FLOAT32: {
        float value = (float)real;
        memcpy(bytes + e * width, &value, width);
        break;
      }
      case SINTER_BOOL:
        bytes[e] = integer & 1;
        break;
      default:
        memcpy(bytes + e * width, &integer, width); // little-endian ints
      }
    }
    in.tensors.push_back({bytes, info->dtype, info->rank, in.shapes[i].data()});
  }
  return in;
}

/// The outputs of a run, copied out of the session.
std::vector<std::vector<char>> copyOutputs(const std::vector<sinter_tensor> &out) {
  std::vector<std::vector<char>> copies;
  for (const sinter_tensor &t : out) {
    int64_t elements = 1;
    for (int d = 0; d < t.rank; ++d)
      elements *= t.shape[d];
    const char *data = static_cast<const char *>(t.data);
    copies.emplace_back(data, data + elements * sinter_dtype_size(t.dtype));
  }
  return copies;
}

/// Whether two runs' outputs agree: f32 within 1e-5 relative (the same
/// kernels at the same thread count; a session reading another's buffers
/// would be far off), other dtypes exactly.
bool sameOutputs(const std::vector<sinter_tensor> &got,
                 const std::vector<std::vector<char>> &want, std::string &why) {
  std::vector<std::vector<char>> have = copyOutputs(got);
  for (size_t o = 0; o < want.size(); ++o) {
    if (have[o].size() != want[o].size()) {
      why = "output " + std::to_string(o) + " has another size";
      return false;
    }
    if (got[o].dtype != SINTER_FLOAT32) {
      if (have[o] != want[o]) {
        why = "output " + std::to_string(o) + " differs";
        return false;
      }
      continue;
    }
    size_t n = want[o].size() / sizeof(float);
    for (size_t e = 0; e < n; ++e) {
      float a, b;
      memcpy(&a, have[o].data() + e * 4, 4);
      memcpy(&b, want[o].data() + e * 4, 4);
      if (!(std::fabs(a - b) <= 1e-5f * (1.0f + std::fabs(b)))) {
        why = "output " + std::to_string(o) + " element " + std::to_string(e) +
              ": " + std::to_string(a) + " vs " + std::to_string(b);
        return false;
      }
    }
  }
  return true;
}

struct Artifact {
  std::string path;
  std::string weights; // beside it: model.so, model.weights
  ModelApi api;
  /// Per variant: the inputs and what a session alone computed.
  std::vector<Inputs> inputs;
  std::vector<std::vector<std::vector<char>>> expected;
};

bool runOnce(const Artifact &a, sinter_session *s, const Inputs &in,
             std::vector<sinter_tensor> &out) {
  out.assign(a.api.numOutputs(s), sinter_tensor{});
  return a.api.run(s, in.tensors.data(), (int)in.tensors.size(), out.data(),
                   (int)out.size()) == SINTER_OK;
}

std::atomic<int> failures{0};

void fail(const std::string &message) {
  fprintf(stderr, "FAIL: %s\n", message.c_str());
  ++failures;
}

/// A session of its own, loaded, run and freed on this thread.
void sessionThread(const Artifact &a, int variantBase) {
  sinter_session *s = nullptr;
  if (a.api.load(a.weights.c_str(), kKernelThreads, &s) != SINTER_OK) {
    fail(a.path + ": load: " + a.api.error(s));
    a.api.free(s);
    return;
  }
  for (int r = 0; r < kRunsPerSession; ++r) {
    int variant = (variantBase + r) % (int)a.inputs.size();
    std::vector<sinter_tensor> out;
    std::string why;
    if (!runOnce(a, s, a.inputs[variant], out))
      fail(a.path + ": run: " + a.api.error(s));
    else if (!sameOutputs(out, a.expected[variant], why))
      fail(a.path + " variant " + std::to_string(variant) + ": " + why);
  }
  a.api.free(s);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ARTIFACT.so...\n", argv[0]);
    return 2;
  }
  std::vector<Artifact> artifacts;
  for (int i = 1; i < argc; ++i) {
    llvm::Expected<ModelApi> api = openArtifact(argv[i]);
    if (!api) {
      fprintf(stderr, "%s\n", llvm::toString(api.takeError()).c_str());
      return 1;
    }
    std::string path = argv[i];
    Artifact a{path, path.substr(0, path.size() - 3) + ".weights", *api, {},
               {}};
    // The expected outputs: one session, alone, per variant.
    sinter_session *s = nullptr;
    if (a.api.load(a.weights.c_str(), kKernelThreads, &s) != SINTER_OK) {
      fprintf(stderr, "%s: %s\n", argv[i], a.api.error(s));
      return 1;
    }
    for (int v = 0; v < kSessionsPerArtifact; ++v) {
      a.inputs.push_back(makeInputs(a.api, s, v));
      std::vector<sinter_tensor> out;
      if (!runOnce(a, s, a.inputs.back(), out)) {
        fprintf(stderr, "%s: %s\n", argv[i], a.api.error(s));
        return 1;
      }
      a.expected.push_back(copyOutputs(out));
    }
    a.api.free(s);
    artifacts.push_back(std::move(a));
  }

  // Every artifact's sessions at once, each on its own thread.
  std::vector<std::thread> threads;
  for (const Artifact &a : artifacts)
    for (int k = 0; k < kSessionsPerArtifact; ++k)
      threads.emplace_back(sessionThread, std::cref(a), k);
  for (std::thread &t : threads)
    t.join();
  printf("%zu artifacts x %d sessions x %d runs at once: %d failures\n",
         artifacts.size(), kSessionsPerArtifact, kRunsPerSession,
         failures.load());

  // One session, two threads calling it at once.
  const Artifact &a = artifacts.front();
  sinter_session *shared = nullptr;
  if (a.api.load(a.weights.c_str(), kKernelThreads, &shared) != SINTER_OK) {
    fprintf(stderr, "%s\n", a.api.error(shared));
    return 1;
  }
  std::atomic<int> ran{0}, refused{0};
  auto hammer = [&] {
    for (int r = 0; r < 20; ++r) {
      std::vector<sinter_tensor> out(a.api.numOutputs(shared));
      sinter_status status =
          a.api.run(shared, a.inputs[0].tensors.data(),
                    (int)a.inputs[0].tensors.size(), out.data(), (int)out.size());
      if (status == SINTER_OK)
        ++ran;
      else if (status == SINTER_SESSION_BUSY)
        ++refused;
      else
        fail("a shared session's run returned status " + std::to_string(status));
    }
  };
  std::thread first(hammer), second(hammer);
  first.join();
  second.join();
  a.api.free(shared);
  printf("one session from 2 threads: %d runs, %d refused as busy\n",
         ran.load(), refused.load());
  if (ran == 0)
    fail("no run of the shared session went through");
  return failures ? 1 : 0;
}
