//===- RuntimeTest.cpp - libsinter_rt against hand-written models ---------===//
//
// The runtime's contract without the compiler: a model definition written
// here (descriptor text and an entry function) and weights files written
// here, good and damaged. Every misuse must come back as a status and a
// message that names the problem.
//
//===----------------------------------------------------------------------===//

#include "sinter/runtime.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

/// A rank-1 memref descriptor as the entry function receives it.
struct Descriptor1D {
  float *allocated, *aligned;
  int64_t offset, size, stride;
};

/// out[i] = in[i] * weights[0] (+ the arena is written, to prove it is
/// there and big enough).
void scaleEntry(void **descriptors) {
  auto *in = static_cast<Descriptor1D *>(descriptors[0]);
  auto *out = static_cast<Descriptor1D *>(descriptors[1]);
  auto *weights = static_cast<Descriptor1D *>(descriptors[2]);
  auto *arena = static_cast<Descriptor1D *>(descriptors[3]);
  float scale;
  memcpy(&scale, weights->aligned, sizeof scale);
  memset(arena->aligned, 0xab, arena->size);
  for (int64_t i = 0; i < in->size; ++i)
    out->aligned[i] = in->aligned[i] * scale;
}

/// scaleEntry, once the test lets it go: a run that stays inside the
/// session while another thread tries to enter it.
std::atomic<bool> blockedEntryStarted{false}, blockedEntryReleased{false};
void blockingEntry(void **descriptors) {
  blockedEntryStarted = true;
  while (!blockedEntryReleased)
    std::this_thread::yield();
  scaleEntry(descriptors);
}

/// scaleEntry with a fault record (descriptor 2; the weights and arena
/// move to 3 and 4) that reports what `faultToReport` holds, as a model
/// with index checks would for an index it computed outside its range.
std::array<int64_t, SINTER_INDEX_FAULT_WORDS> faultToReport{};
void faultingEntry(void **descriptors) {
  void *scaleDescriptors[4] = {descriptors[0], descriptors[1], descriptors[3],
                               descriptors[4]};
  scaleEntry(scaleDescriptors);
  struct {
    int64_t *allocated, *aligned;
    int64_t offset, size, stride;
  } *record = static_cast<decltype(record)>(descriptors[2]);
  EXPECT_EQ(record->size, SINTER_INDEX_FAULT_WORDS);
  for (int64_t i = 0; i < record->size; ++i)
    EXPECT_EQ(record->aligned[i], 0) << "the runtime clears the record";
  std::copy(faultToReport.begin(), faultToReport.end(), record->aligned);
}

std::vector<char> weightsData(float scale) {
  std::vector<char> data(64, 0);
  memcpy(data.data(), &scale, sizeof scale);
  return data;
}

/// The descriptor of the scale model with `inputs`, and `optional` lines
/// (bounds, probes, device) before the end.
std::string
descriptorFor(const std::vector<char> &weights,
              const std::string &inputs = "inputs 1\ninput x 1 1 ?seq:8\n",
              const std::string &optional = "") {
  return "sinter-model 1\nname scale\nweights " +
         std::to_string(weights.size()) + " " +
         llvm::utohexstr(sinter_checksum64(weights.data(), weights.size()),
                         true, 16) +
         "\narena 256\n" + inputs + "outputs 1\noutput y 1 1 ?seq:8\n" +
         optional + "end\n";
}

/// A path of its own for each test and process: ctest runs the tests of
/// this binary as concurrent processes, and some of them corrupt the file.
std::string testFile(const std::string &name) {
  const testing::TestInfo *test =
      testing::UnitTest::GetInstance()->current_test_info();
  return testing::TempDir() + std::to_string(getpid()) + "-" +
         (test ? test->name() : "none") + "-" + name;
}

std::string writeWeights(const std::vector<char> &data,
                         const char *name = "scale.weights") {
  std::string path = testFile(name);
  sinter_weights_header header = {};
  memcpy(header.magic, SINTER_WEIGHTS_MAGIC, 8);
  header.version = SINTER_WEIGHTS_VERSION;
  header.data_offset = SINTER_WEIGHTS_DATA_OFFSET;
  header.data_size = data.size();
  header.checksum = sinter_checksum64(data.data(), data.size());
  std::string bytes(SINTER_WEIGHTS_DATA_OFFSET, '\0');
  memcpy(bytes.data(), &header, sizeof header);
  bytes.append(data.begin(), data.end());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

class RuntimeTest : public testing::Test {
protected:
  void TearDown() override { sinter_rt_free(session); }

  sinter_status load(const std::string &weightsPath, int threads = 1) {
    sinter_rt_free(session);
    session = nullptr;
    definition = {SINTER_ABI_VERSION, descriptor.c_str(), scaleEntry};
    return sinter_rt_load(&definition, weightsPath.c_str(), threads, &session);
  }
  std::string error() const { return sinter_rt_error(session); }

  std::vector<char> weights = weightsData(3.0f);
  std::string descriptor = descriptorFor(weights);
  sinter_model_def definition;
  sinter_session *session = nullptr;
};

TEST_F(RuntimeTest, RunsAtEverySizeUpToTheBound) {
  ASSERT_EQ(load(writeWeights(weights)), SINTER_OK) << error();
  ASSERT_EQ(sinter_rt_num_inputs(session), 1);
  const sinter_tensor_info *info = sinter_rt_input_info(session, 0);
  ASSERT_NE(info, nullptr);
  EXPECT_STREQ(info->name, "x");
  EXPECT_EQ(info->shape[0], -1);
  EXPECT_EQ(info->max_shape[0], 8);
  EXPECT_STREQ(info->dim_names[0], "seq");
  EXPECT_EQ(sinter_rt_input_info(session, 1), nullptr);
  for (int64_t n : {1, 5, 8}) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i)
      x[i] = float(i) - 2.5f;
    sinter_tensor in = {x.data(), SINTER_FLOAT32, 1, &n}, out;
    ASSERT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_OK) << error();
    ASSERT_EQ(out.rank, 1);
    ASSERT_EQ(out.shape[0], n);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(static_cast<float *>(out.data)[i], x[i] * 3.0f);
  }
}

TEST_F(RuntimeTest, RejectsWrongInputs) {
  ASSERT_EQ(load(writeWeights(weights)), SINTER_OK) << error();
  float x[9] = {};
  int64_t three = 3, nine = 9, negative = -1;
  sinter_tensor out;
  sinter_tensor tooLong = {x, SINTER_FLOAT32, 1, &nine};
  EXPECT_EQ(sinter_rt_run(session, &tooLong, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  EXPECT_NE(error().find("input 0 ('x') dimension 0 ('seq') is 9, above the "
                         "bound 8"),
            std::string::npos)
      << error();
  sinter_tensor wrongType = {x, SINTER_INT64, 1, &three};
  EXPECT_EQ(sinter_rt_run(session, &wrongType, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 0 ('x') must be float32, got int64");
  sinter_tensor wrongRank = {x, SINTER_FLOAT32, 2, &three};
  EXPECT_EQ(sinter_rt_run(session, &wrongRank, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 0 ('x') must have rank 1, got rank 2");
  sinter_tensor negativeSize = {x, SINTER_FLOAT32, 1, &negative};
  EXPECT_EQ(sinter_rt_run(session, &negativeSize, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  sinter_tensor noData = {nullptr, SINTER_FLOAT32, 1, &three};
  EXPECT_EQ(sinter_rt_run(session, &noData, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 0 ('x') has no data");
  sinter_tensor misaligned = {reinterpret_cast<char *>(x) + 1, SINTER_FLOAT32,
                              1, &three};
  EXPECT_EQ(sinter_rt_run(session, &misaligned, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  sinter_tensor good = {x, SINTER_FLOAT32, 1, &three};
  EXPECT_EQ(sinter_rt_run(session, &good, 2, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "model 'scale' takes 1 inputs and 1 outputs, got 2 and 1");
  EXPECT_EQ(sinter_rt_run(session, nullptr, 1, &out, 1),
            SINTER_INVALID_ARGUMENT);
  // A good run after all that still works, and clears the error.
  EXPECT_EQ(sinter_rt_run(session, &good, 1, &out, 1), SINTER_OK);
  EXPECT_EQ(error(), "");
}

TEST_F(RuntimeTest, SymbolsBindAcrossInputs) {
  descriptor = descriptorFor(
      weights, "inputs 2\ninput x 1 1 ?seq:8\ninput mask 1 1 ?seq:8\n");
  ASSERT_EQ(load(writeWeights(weights)), SINTER_OK) << error();
  float x[4] = {}, mask[4] = {};
  int64_t three = 3, four = 4;
  sinter_tensor in[2] = {{x, SINTER_FLOAT32, 1, &three},
                         {mask, SINTER_FLOAT32, 1, &four}};
  sinter_tensor out;
  EXPECT_EQ(sinter_rt_run(session, in, 2, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 1 ('mask') dimension 0 ('seq') is 4, but another "
                     "input gave 'seq' the size 3");
}

TEST_F(RuntimeTest, ReportsMissingAndDamagedWeights) {
  EXPECT_EQ(load(testing::TempDir() + "no-such.weights"), SINTER_IO_ERROR);
  EXPECT_NE(error().find("cannot open weights file"), std::string::npos);
  EXPECT_NE(error().find("No such file or directory"), std::string::npos);

  sinter_rt_free(session);
  session = nullptr;
  definition = {SINTER_ABI_VERSION, descriptor.c_str(), scaleEntry};
  EXPECT_EQ(sinter_rt_load(&definition, nullptr, 1, &session),
            SINTER_INVALID_ARGUMENT);
  EXPECT_NE(error().find("needs its weights file"), std::string::npos);

  // Another model's weights: same size, other checksum.
  EXPECT_EQ(load(writeWeights(weightsData(4.0f), "other.weights")),
            SINTER_CORRUPT_WEIGHTS);
  EXPECT_NE(error().find("belongs to another model"), std::string::npos)
      << error();

  // One flipped bit in the data.
  std::string path = writeWeights(weights);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(SINTER_WEIGHTS_DATA_OFFSET + 1);
    file.put('\x40');
  }
  EXPECT_EQ(load(path), SINTER_CORRUPT_WEIGHTS);
  EXPECT_NE(error().find("is corrupt: its data has checksum"),
            std::string::npos)
      << error();

  // Cut short.
  path = writeWeights(weights);
  ASSERT_EQ(truncate(path.c_str(), SINTER_WEIGHTS_DATA_OFFSET + 10), 0);
  EXPECT_EQ(load(path), SINTER_CORRUPT_WEIGHTS);
  EXPECT_NE(error().find("is truncated"), std::string::npos) << error();

  // Not a weights file at all.
  path = testFile("text.weights");
  std::ofstream(path) << std::string(100, 'x');
  EXPECT_EQ(load(path), SINTER_CORRUPT_WEIGHTS);
  EXPECT_NE(error().find("is not a sinter weights file (bad magic)"),
            std::string::npos);
  EXPECT_EQ(load(testing::TempDir()), SINTER_CORRUPT_WEIGHTS);
  EXPECT_NE(error().find("not a regular file"), std::string::npos);

  // A session that failed to load refuses to run, keeping its message.
  float x[1] = {};
  int64_t one = 1;
  sinter_tensor in = {x, SINTER_FLOAT32, 1, &one}, out;
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_NE(error().find("not a regular file"), std::string::npos);
  EXPECT_EQ(sinter_rt_num_inputs(session), 0);
}

TEST_F(RuntimeTest, ReportsTheModelsIndexFaults) {
  descriptor = descriptorFor(
      weights, "inputs 1\ninput x 1 1 ?seq:8\n",
      "checks 2\ncheck node%20%27pos%27%20%28Gather%29\ncheck sinter.gather\n");
  std::string path = writeWeights(weights);
  definition = {SINTER_ABI_VERSION, descriptor.c_str(), faultingEntry};
  ASSERT_EQ(sinter_rt_load(&definition, path.c_str(), 1, &session), SINTER_OK)
      << error();
  EXPECT_EQ(sinter_rt_num_index_checks(session), 2);
  float x[3] = {1, 2, 3};
  int64_t three = 3;
  sinter_tensor in = {x, SINTER_FLOAT32, 1, &three}, out;
  faultToReport = {};
  ASSERT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_OK) << error();
  EXPECT_EQ(static_cast<float *>(out.data)[2], 9.0f);

  // Check 0, index 8 at [0, 8] of a rank-2 indices tensor, size 8.
  faultToReport = {1, 8, 8, 2, 0, 8};
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "node 'pos' (Gather) got the index 8 at [0, 8] of its "
                     "indices, outside [-8, 8): it indexes a dimension of "
                     "size 8");
  // Check 1, a scalar index far below.
  faultToReport = {2, -1000000000, 300, 0};
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "sinter.gather got the index -1000000000 at [] of its "
                     "indices, outside [-300, 300): it indexes a dimension "
                     "of size 300");
  // A record that names no check, or a rank beyond its room.
  for (std::array<int64_t, SINTER_INDEX_FAULT_WORDS> bad :
       {std::array<int64_t, SINTER_INDEX_FAULT_WORDS>{3, 1, 1, 0},
        std::array<int64_t, SINTER_INDEX_FAULT_WORDS>{-4, 1, 1, 0},
        std::array<int64_t, SINTER_INDEX_FAULT_WORDS>{1, 1, 1, 9}}) {
    faultToReport = bad;
    EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INTERNAL_ERROR);
    EXPECT_EQ(error(), "model 'scale' wrote a malformed index fault record");
  }
  // And the next clean run succeeds.
  faultToReport = {};
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_OK) << error();

  // "checks" with no check, or with fewer names than it counts.
  for (const char *bad : {"checks 0\n", "checks 2\ncheck a\n",
                          "checks 1\nbound 0 1 2\n"}) {
    descriptor = descriptorFor(weights, "inputs 1\ninput x 1 1 ?seq:8\n", bad);
    definition = {SINTER_ABI_VERSION, descriptor.c_str(), faultingEntry};
    sinter_rt_free(session);
    session = nullptr;
    EXPECT_EQ(sinter_rt_load(&definition, path.c_str(), 1, &session),
              SINTER_INTERNAL_ERROR)
        << bad;
  }
}

TEST_F(RuntimeTest, ChecksInputsUsedAsIndices) {
  // Token ids [1, seq] into a table of 256 rows: values in [-256, 256).
  descriptor = descriptorFor(weights, "inputs 1\ninput ids 7 2 1 ?seq:8\n",
                             "bounds 1\nbound 0 -256 256\n");
  ASSERT_EQ(load(writeWeights(weights)), SINTER_OK) << error();
  int64_t shape[2] = {1, 4};
  sinter_tensor out;
  int64_t good[4] = {0, 255, -256, -1};
  sinter_tensor in = {good, SINTER_INT64, 2, shape};
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_OK) << error();
  int64_t tooLarge[4] = {0, 1, 2, 100000};
  in.data = tooLarge;
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 0 ('ids') holds 100000 at [0, 3], outside [-256, "
                     "256): it indexes a dimension of size 256");
  int64_t tooSmall[4] = {7, -1000000000, 256, 3};
  in.data = tooSmall;
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 0 ('ids') holds -1000000000 at [0, 1], outside "
                     "[-256, 256): it indexes a dimension of size 256");
  // The first value outside is the one named; 256 is just outside.
  int64_t edge[4] = {3, 2, 1, 256};
  in.data = edge;
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_NE(error().find("holds 256 at [0, 3]"), std::string::npos) << error();

  // int32 ids, rank 1, a bound of 5.
  descriptor = descriptorFor(weights, "inputs 1\ninput ids 6 1 ?seq:8\n",
                             "bounds 1\nbound 0 -5 5\n");
  ASSERT_EQ(load(writeWeights(weights)), SINTER_OK) << error();
  int32_t ids[6] = {4, -5, 0, 1, 2, 5};
  int64_t five = 5, six = 6;
  sinter_tensor inside = {ids, SINTER_INT32, 1, &five};
  EXPECT_EQ(sinter_rt_run(session, &inside, 1, &out, 1), SINTER_OK) << error();
  sinter_tensor past = {ids, SINTER_INT32, 1, &six};
  EXPECT_EQ(sinter_rt_run(session, &past, 1, &out, 1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 0 ('ids') holds 5 at [5], outside [-5, 5): it "
                     "indexes a dimension of size 5");

  // Bounds that do not describe an input are a malformed descriptor.
  for (const char *bad :
       {"bounds 1\nbound 1 -4 4\n", "bounds 1\nbound 0 4 -4\n",
        "bounds 1\nbound 0 x 4\n", "bounds 2\nbound 0 -4 4\n",
        // 2^64 - 1: an index that a signed cast would turn into -1 (found
        // by fuzz-runtime-load).
        "bounds 1\nbound 18446744073709551615 -4 4\n"}) {
    descriptor = descriptorFor(weights, "inputs 1\ninput ids 7 1 ?seq:8\n",
                               bad);
    EXPECT_EQ(load(writeWeights(weights)), SINTER_INTERNAL_ERROR) << bad;
  }
}

TEST_F(RuntimeTest, RefusesASecondThreadInsideASession) {
  std::string path = writeWeights(weights);
  blockedEntryStarted = false;
  blockedEntryReleased = false;
  definition = {SINTER_ABI_VERSION, descriptor.c_str(), blockingEntry};
  ASSERT_EQ(sinter_rt_load(&definition, path.c_str(), 1, &session), SINTER_OK)
      << error();
  // Another session of the same model, free to run at the same time.
  sinter_model_def plain = {SINTER_ABI_VERSION, descriptor.c_str(),
                            scaleEntry};
  sinter_session *other = nullptr;
  ASSERT_EQ(sinter_rt_load(&plain, path.c_str(), 1, &other), SINTER_OK);
  float x[3] = {1.0f, 2.0f, 3.0f};
  int64_t three = 3;
  sinter_tensor in = {x, SINTER_FLOAT32, 1, &three}, out, refused, otherOut;
  sinter_status first = SINTER_INTERNAL_ERROR;
  std::thread runner(
      [&] { first = sinter_rt_run(session, &in, 1, &out, 1); });
  while (!blockedEntryStarted)
    std::this_thread::yield();
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &refused, 1), SINTER_SESSION_BUSY);
  EXPECT_EQ(sinter_rt_set_num_threads(session, 2), SINTER_SESSION_BUSY);
  EXPECT_EQ(sinter_rt_run(other, &in, 1, &otherOut, 1), SINTER_OK)
      << sinter_rt_error(other);
  EXPECT_EQ(static_cast<float *>(otherOut.data)[2], 9.0f);
  blockedEntryReleased = true;
  runner.join();
  EXPECT_EQ(first, SINTER_OK) << error();
  EXPECT_EQ(static_cast<float *>(out.data)[2], 9.0f);
  // Left, the session takes calls again.
  EXPECT_EQ(sinter_rt_set_num_threads(session, 1), SINTER_OK);
  EXPECT_EQ(sinter_rt_run(session, &in, 1, &out, 1), SINTER_OK) << error();
  sinter_rt_free(other);
}

TEST_F(RuntimeTest, RefusesOtherAbiVersionsAndBadDescriptors) {
  std::string path = writeWeights(weights);
  sinter_model_def future = {SINTER_ABI_VERSION + 1, descriptor.c_str(),
                             scaleEntry};
  EXPECT_EQ(sinter_rt_load(&future, path.c_str(), 1, &session),
            SINTER_INTERNAL_ERROR);
  EXPECT_NE(error().find("compiled for runtime ABI version " +
                         std::to_string(SINTER_ABI_VERSION + 1)),
            std::string::npos);
  // An input of a dtype the runtime does not know: refused at load, before
  // a run would divide by its size of 0.
  descriptor = descriptorFor(weights, "inputs 1\ninput x 99 1 ?seq:8\n");
  EXPECT_EQ(load(path), SINTER_INTERNAL_ERROR);
  EXPECT_EQ(error(), "input 0 has unknown dtype 99");
  for (const char *bad :
       {"", "sinter-model 2\n", "sinter-model 1\nname m\nweights x",
        "sinter-model 1\nname m\nweights 0 0\narena 0\ninputs 1\ninput x 1 "
        "99999\nend\n",
        "sinter-model 1\nname m\nweights 0 0\narena 0\ninputs 1\ninput x 1 1 "
        "?seq\noutputs 0\nend\n"}) {
    descriptor = bad;
    EXPECT_EQ(load(path), SINTER_INTERNAL_ERROR) << bad;
  }
}

TEST_F(RuntimeTest, ChecksThreadCounts) {
  EXPECT_EQ(load(writeWeights(weights), -1), SINTER_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "number of threads must be 0 (all cores) to 1024, got -1");
  ASSERT_EQ(load(writeWeights(weights), 0), SINTER_OK);
  EXPECT_EQ(sinter_rt_set_num_threads(session, 2), SINTER_OK);
  EXPECT_EQ(sinter_rt_set_num_threads(session, 5000), SINTER_INVALID_ARGUMENT);
}

TEST(RuntimeNullTest, NullSessionsAreHarmless) {
  sinter_rt_free(nullptr);
  EXPECT_NE(std::string(sinter_rt_error(nullptr)).find("no session"),
            std::string::npos);
  EXPECT_EQ(sinter_rt_num_inputs(nullptr), 0);
  EXPECT_EQ(sinter_rt_input_info(nullptr, 0), nullptr);
  EXPECT_EQ(sinter_rt_run(nullptr, nullptr, 0, nullptr, 0),
            SINTER_INVALID_ARGUMENT);
  sinter_model_def definition = {SINTER_ABI_VERSION, "", scaleEntry};
  EXPECT_EQ(sinter_rt_load(&definition, nullptr, 1, nullptr),
            SINTER_INVALID_ARGUMENT);
}

TEST(ChecksumTest, DependsOnEveryByteAndTheLength) {
  std::vector<char> data(1000);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = char(i * 7);
  uint64_t base = sinter_checksum64(data.data(), data.size());
  EXPECT_EQ(base, sinter_checksum64(data.data(), data.size()));
  for (size_t i : {0, 31, 32, 500, 993, 999}) {
    data[i] ^= 1;
    EXPECT_NE(sinter_checksum64(data.data(), data.size()), base) << i;
    data[i] ^= 1;
  }
  EXPECT_NE(sinter_checksum64(data.data(), 999), base);
  EXPECT_NE(sinter_checksum64(nullptr, 0), base);
}

} // namespace

//===----------------------------------------------------------------------===//
// memrefCopy: strided copies between buffers that generated code makes
//===----------------------------------------------------------------------===//

extern "C" void memrefCopy(int64_t elementSize, void *src, void *dst);

namespace {

/// A rank-2 MLIR memref descriptor and the unranked one pointing to it, as
/// generated code passes them to memrefCopy.
struct View2 {
  struct {
    float *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  } descriptor;
  struct {
    int64_t rank;
    void *descriptor;
  } unranked;
  View2(float *data, int64_t offset, std::array<int64_t, 2> sizes,
        std::array<int64_t, 2> strides) {
    descriptor = {data, data, offset, {sizes[0], sizes[1]},
                  {strides[0], strides[1]}};
    unranked = {2, &descriptor};
  }
};

TEST(MemrefCopyTest, CopiesSlicesRowsAndTransposes) {
  std::vector<float> source(4 * 8);
  for (size_t i = 0; i < source.size(); ++i)
    source[i] = float(i);
  // A 3 x 5 slice at (1, 2) of a 4 x 8 matrix into a contiguous 3 x 5: the
  // rows are contiguous on both sides (one copy per row).
  std::vector<float> slice(15, -1.0f);
  View2 from(source.data(), 1 * 8 + 2, {3, 5}, {8, 1});
  View2 to(slice.data(), 0, {3, 5}, {5, 1});
  memrefCopy(sizeof(float), &from.unranked, &to.unranked);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(slice[i * 5 + j], source[(1 + i) * 8 + 2 + j]) << i << "," << j;
  // The same slice written transposed (the destination's rows are not
  // contiguous: element by element).
  std::vector<float> transposed(15, -1.0f);
  View2 columns(transposed.data(), 0, {3, 5}, {1, 3});
  memrefCopy(sizeof(float), &from.unranked, &columns.unranked);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(transposed[j * 3 + i], source[(1 + i) * 8 + 2 + j]);
  // Empty views copy nothing.
  View2 empty(source.data(), 0, {0, 5}, {8, 1});
  memrefCopy(sizeof(float), &empty.unranked, &to.unranked);
  EXPECT_EQ(slice[0], source[10]);
}

} // namespace
