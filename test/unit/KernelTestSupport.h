//===- KernelTestSupport.h - What the kernel tests share ----------*- C++ -*-===//

#ifndef SINTER_TEST_UNIT_KERNELTESTSUPPORT_H
#define SINTER_TEST_UNIT_KERNELTESTSUPPORT_H

#include <cstdint>
#include <cstring>

namespace sinter::test {

/// `x` truncated to a bfloat16 (low 16 bits cleared): a scale that both
/// storage forms of a packed weight (f32, bfloat16) hold exactly, so that
/// a reference needs no rounding.
inline float bfloat16Value(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits &= 0xffff0000u;
  std::memcpy(&x, &bits, 4);
  return x;
}

} // namespace sinter::test

#endif // SINTER_TEST_UNIT_KERNELTESTSUPPORT_H
