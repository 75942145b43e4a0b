//===- FuzzSupport.h - What the fuzz targets share --------------*- C++ -*-===//
//
// Each target defines LLVMFuzzerTestOneInput. The readers under test take
// paths (they map files, find external data beside a model, choose a format
// by extension), so a target writes its input into a folder of its own and
// reads it from there, through the same code a user's file goes through.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TEST_FUZZ_FUZZSUPPORT_H
#define SINTER_TEST_FUZZ_FUZZSUPPORT_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <unistd.h>

namespace sinter::fuzz {

/// A folder under $TMPDIR for this process's files, removed at exit.
const std::string &scratchFolder();

/// Writes `bytes` to `name` in the scratch folder; returns the path.
std::string writeScratchFile(const std::string &name, std::string_view bytes);

/// Reads a fuzz input front to back; past its end every read returns 0, so
/// that a short input is a valid (small) choice rather than a rejection.
class ByteReader {
public:
  ByteReader(const uint8_t *data, size_t size) : data(data), size(size) {}

  uint8_t byte() { return position < size ? data[position++] : 0; }
  bool flag() { return byte() & 1; }
  /// A value in [0, bound) (bound > 0), from one or two bytes.
  uint32_t below(uint32_t bound) {
    uint32_t value = byte();
    if (bound > 256)
      value = value << 8 | byte();
    return value % bound;
  }
  int64_t between(int64_t low, int64_t high) {
    return low + (int64_t)below((uint32_t)(high - low + 1));
  }
  uint32_t u32() {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
      value |= (uint32_t)byte() << (8 * i);
    return value;
  }
  /// The next `count` bytes (fewer at the end).
  std::string_view take(size_t count) {
    count = count < size - position ? count : size - position;
    std::string_view bytes((const char *)data + position, count);
    position += count;
    return bytes;
  }
  std::string_view rest() { return take(size - position); }
  bool empty() const { return position >= size; }

private:
  const uint8_t *data;
  size_t size;
  size_t position = 0;
};

/// Splits a fuzz input at the first occurrence of `separator`: the part
/// before it, and the part after (empty when it does not occur).
inline std::pair<std::string_view, std::string_view>
splitAt(std::string_view input, std::string_view separator) {
  size_t at = input.find(separator);
  if (at == std::string_view::npos)
    return {input, {}};
  return {input.substr(0, at), input.substr(at + separator.size())};
}

/// A finding that is not a crash (invalid IR from a successful import, a
/// reader that accepted what it must refuse): reported and aborted on, so
/// that libFuzzer keeps the input like any crash.
[[noreturn]] inline void finding(const char *what) {
  fprintf(stderr, "sinter fuzz finding: %s\n", what);
  abort();
}

} // namespace sinter::fuzz

#endif // SINTER_TEST_FUZZ_FUZZSUPPORT_H
