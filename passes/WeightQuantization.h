//===- WeightQuantization.h - sinter's weight rounding rules ----*- C++ -*-===//
//
// How sinter rounds a weight to 8 or 4 bits (docs/quantization.md), shared
// by the pass that quantizes (sinter-quantize-weights) and the one that
// searches per-channel scales for it (sinter-scale-activations), so that
// the search measures the rounding that will be applied.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PASSES_WEIGHTQUANTIZATION_H
#define SINTER_PASSES_WEIGHTQUANTIZATION_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace sinter {

/// The f32 values of a statically shaped f32 constant (`sinter.constant`,
/// dense or resource), or nullopt.
std::optional<std::vector<float>> f32Values(mlir::Value value);

/// `x` (finite, >= 0) rounded up to a bfloat16.
float bfloat16Up(float x);
/// The upper half of a float that is exactly a bfloat16.
uint16_t bfloat16Bits(float x);

/// A tensor viewed as [outer, axis, inner], quantized in blocks of `block`
/// along the middle dimension: scales and zero points (4 bits only) are
/// [outer, ceil(axis / block), inner].
struct Quantized {
  std::vector<int8_t> q, zeroPoints;
  std::vector<float> scales;
  /// (q - zero point) * scale of element `index`, whose block is
  /// `scaleIndex`.
  float dequantized(int64_t index, int64_t scaleIndex) const;
};

/// The weights per scale along a dimension of `size` for `groupSize` (0:
/// the default, which is the whole dimension for 8 bits, per output
/// channel or table row, and 32 for 4 bits).
int64_t quantizationBlock(int64_t size, unsigned bits, int64_t groupSize);

/// `w` quantized to `bits` (8: symmetric, 4: asymmetric) with bfloat16
/// scales rounded up; nullopt when a value is not finite or too large.
std::optional<Quantized> quantize(llvm::ArrayRef<float> w, int64_t outer,
                                  int64_t axis, int64_t inner, int64_t block,
                                  unsigned bits);

} // namespace sinter

#endif // SINTER_PASSES_WEIGHTQUANTIZATION_H
