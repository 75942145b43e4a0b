//===- FuzzRuntimeLoad.cpp - Fuzz target: the runtime's load and run ------===//
//
// What a deployed model reads: its descriptor (docs/runtime-abi.md), its
// weights file, and the inputs a caller passes to run. The input is three
// parts, split at kPartSeparator: the descriptor text, the weights file,
// and the bytes that choose the run's dynamic sizes, dtypes and input
// values. Byte mutations rarely keep a checksum right, so when the first
// byte is odd the target makes the weights file's size and checksum agree
// with its data (and puts that checksum and size where the descriptor says
// @SUM@ and @SIZE@): the fuzzer then reaches past the checksum into the
// descriptor's slots, the bounds of index inputs and the run's checks.
//
// The entry function reads the first and last byte of every memref the
// runtime passes it, so that ASan sees a descriptor that points outside
// its buffer.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "sinter/runtime.h"

#include <cinttypes>
#include <vector>

namespace fuzz = sinter::fuzz;

namespace {

constexpr std::string_view kPartSeparator = "\n--sinter-fuzz-part--\n";

/// Arenas and inputs beyond these are skipped: libFuzzer counts a large
/// allocation as an out-of-memory finding, and the runtime asks for
/// whatever the (compiler-written) descriptor says.
constexpr uint64_t kMaxArenaBytes = 64 << 20;
constexpr int64_t kMaxInputElements = 1 << 20;

/// The number after "arena " in the descriptor (0 if absent).
uint64_t arenaBytes(const std::string &descriptor) {
  size_t at = descriptor.find("\narena ");
  return at == std::string::npos
             ? 0
             : strtoull(descriptor.c_str() + at + 7, nullptr, 10);
}

void replaceAll(std::string &text, std::string_view from,
                const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::vector<int> memrefRanks; // of the loaded session's entry arguments

/// A model with index checks: where its fault record is among the entry's
/// descriptors, and what the entry writes there (from the input).
int faultDescriptor = -1;
int64_t faultRecord[SINTER_INDEX_FAULT_WORDS];

volatile uint8_t sink;
void touchEntry(void **descriptors) {
  if (faultDescriptor >= 0) {
    auto *d = static_cast<int64_t *>(descriptors[faultDescriptor]);
    if (d[3] == SINTER_INDEX_FAULT_WORDS)
      memcpy(reinterpret_cast<int64_t *>(d[1]), faultRecord,
             sizeof faultRecord);
  }
  for (size_t i = 0; i < memrefRanks.size(); ++i) {
    auto *d = static_cast<int64_t *>(descriptors[i]);
    auto *aligned = reinterpret_cast<uint8_t *>(d[1]);
    int rank = memrefRanks[i];
    int64_t elements = 1;
    for (int r = 0; r < rank; ++r)
      elements *= d[3 + r];
    if (elements > 0 && aligned) {
      sink = aligned[d[2]];
      sink = aligned[d[2] + elements - 1]; // byte granularity is enough
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  bool fixChecksums = data[0] & 1;
  int threads = 1 + (data[0] >> 1 & 1);
  auto [descriptorPart, rest] = fuzz::splitAt(
      std::string_view((const char *)data + 1, size - 1), kPartSeparator);
  auto [weightsPart, runPart] = fuzz::splitAt(rest, kPartSeparator);

  std::string descriptor(descriptorPart);
  descriptor.resize(strlen(descriptor.c_str())); // the runtime reads a C string
  std::string weights(weightsPart);
  if (fixChecksums && weights.size() >= sizeof(sinter_weights_header)) {
    sinter_weights_header header;
    memcpy(&header, weights.data(), sizeof header);
    uint64_t offset = header.data_offset <= weights.size()
                          ? header.data_offset
                          : SINTER_WEIGHTS_DATA_OFFSET;
    offset = offset <= weights.size() ? offset : weights.size();
    header.data_size = weights.size() - offset;
    header.checksum =
        sinter_checksum64(weights.data() + offset, header.data_size);
    memcpy(weights.data(), &header, sizeof header);
    char sum[17];
    snprintf(sum, sizeof sum, "%016" PRIX64, header.checksum);
    replaceAll(descriptor, "@SUM@", sum);
    replaceAll(descriptor, "@SIZE@", std::to_string(header.data_size));
  }
  if (arenaBytes(descriptor) > kMaxArenaBytes)
    return 0;
  std::string weightsPath = fuzz::writeScratchFile("model.weights", weights);

  sinter_model_def model = {SINTER_ABI_VERSION, descriptor.c_str(), touchEntry};
  sinter_session *session = nullptr;
  sinter_status status =
      sinter_rt_load(&model, weightsPath.c_str(), threads, &session);
  if (status != SINTER_OK) {
    if (!sinter_rt_error(session) || !*sinter_rt_error(session))
      fuzz::finding("a failed load without a message");
    sinter_rt_free(session);
    return 0;
  }

  // A run: dynamic sizes and values from the rest of the input, now and
  // then a wrong dtype, rank or input count.
  fuzz::ByteReader in((const uint8_t *)runPart.data(), runPart.size());
  int numInputs = sinter_rt_num_inputs(session);
  int numOutputs = sinter_rt_num_outputs(session);
  memrefRanks.clear();
  std::vector<sinter_tensor> inputs(numInputs);
  std::vector<std::vector<int64_t>> shapes(numInputs);
  std::vector<std::vector<uint8_t>> buffers(numInputs);
  for (int i = 0; i < numInputs; ++i) {
    const sinter_tensor_info *info = sinter_rt_input_info(session, i);
    memrefRanks.push_back(info->rank);
    int64_t elements = 1;
    for (int d = 0; d < info->rank; ++d) {
      int64_t dim = info->shape[d];
      if (dim < 0)
        dim = in.below(4) == 0 ? in.between(0, 40)
              : info->max_shape[d] > 0 ? in.between(1, info->max_shape[d])
                                       : in.between(1, 8);
      shapes[i].push_back(dim);
      elements = dim > 0 && elements <= kMaxInputElements / dim
                     ? elements * dim
                     : (dim == 0 ? 0 : kMaxInputElements + 1);
    }
    if (elements > kMaxInputElements) {
      sinter_rt_free(session);
      return 0;
    }
    int dtype = in.below(16) == 0 ? (int)in.below(20) : (int)info->dtype;
    size_t width = sinter_dtype_size(dtype) ? sinter_dtype_size(dtype) : 1;
    buffers[i].resize(elements * width + 1);
    for (auto &byte : buffers[i])
      byte = in.empty() ? (uint8_t)(&byte - buffers[i].data()) : in.byte();
    int rank = info->rank - (in.below(16) == 0);
    inputs[i] = {buffers[i].data(), (sinter_dtype)dtype, rank < 0 ? 0 : rank,
                 shapes[i].data()};
  }
  for (int i = 0; i < numOutputs; ++i)
    memrefRanks.push_back(sinter_rt_output_info(session, i)->rank);
  // The fault record, when the descriptor has checks: a fault of a check
  // that may not exist, at a rank that may not fit, or none.
  faultDescriptor = -1;
  if (sinter_rt_num_index_checks(session) > 0) {
    faultDescriptor = (int)memrefRanks.size();
    memrefRanks.push_back(1);
    memset(faultRecord, 0, sizeof faultRecord);
    if (in.below(2)) {
      faultRecord[SINTER_INDEX_FAULT_CHECK] = in.between(-1, 4);
      faultRecord[SINTER_INDEX_FAULT_VALUE] = in.between(-1000, 1000);
      faultRecord[SINTER_INDEX_FAULT_BOUND] = in.between(0, 1000);
      faultRecord[SINTER_INDEX_FAULT_RANK] = in.between(-1, 10);
      for (int w = SINTER_INDEX_FAULT_POSITION; w < SINTER_INDEX_FAULT_WORDS;
           ++w)
        faultRecord[w] = in.between(-5, 50);
    }
  }
  memrefRanks.push_back(1); // weights
  memrefRanks.push_back(1); // arena
  std::vector<sinter_tensor> outputs(numOutputs);
  int passedInputs = numInputs - (in.below(32) == 0);
  status = sinter_rt_run(session, inputs.data(), passedInputs, outputs.data(),
                         numOutputs);
  if (status != SINTER_OK && !*sinter_rt_error(session))
    fuzz::finding("a failed run without a message");
  sinter_rt_free(session);
  return 0;
}
