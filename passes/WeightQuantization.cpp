//===- WeightQuantization.cpp - sinter's weight rounding rules ------------===//

#include "passes/WeightQuantization.h"

#include "ir/SinterOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace sinter;

/// The f32 values of a statically shaped constant, or nullopt.
std::optional<std::vector<float>> sinter::f32Values(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  Attribute attr = constant.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::vector<float>(type.getNumElements(),
                                dense.getSplatValue<float>());
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> values = resource.tryGetAsArrayRef();
    if (!values || int64_t(values->size()) != type.getNumElements())
      return std::nullopt;
    return std::vector<float>(values->begin(), values->end());
  }
  return std::nullopt;
}

/// `x` (finite, >= 0) rounded up to a bfloat16.
float sinter::bfloat16Up(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if (bits & 0xffffu)
    bits = (bits & 0xffff0000u) + 0x10000u;
  std::memcpy(&x, &bits, 4);
  return x;
}

/// The upper half of a float that is exactly a bfloat16.
uint16_t sinter::bfloat16Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  return uint16_t(bits >> 16);
}

std::optional<sinter::Quantized>
sinter::quantize(ArrayRef<float> w, int64_t outer, int64_t axis, int64_t inner,
                 int64_t block, unsigned bits) {
  const int64_t blocks = (axis + block - 1) / block;
  std::vector<float> lo(outer * blocks * inner, 0.0f),
      hi(outer * blocks * inner, 0.0f);
  auto blockOf = [&](int64_t o, int64_t a, int64_t i) {
    return (o * blocks + a / block) * inner + i;
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axis; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        float x = w[(o * axis + a) * inner + i];
        if (!std::isfinite(x))
          return std::nullopt;
        int64_t at = blockOf(o, a, i);
        lo[at] = std::min(lo[at], x);
        hi[at] = std::max(hi[at], x);
      }
  Quantized out;
  out.scales.resize(lo.size());
  if (bits == 4)
    out.zeroPoints.resize(lo.size());
  for (size_t at = 0; at < lo.size(); ++at) {
    // lo <= 0 <= hi: the range always holds zero, so that zeros (padding,
    // pruned weights) stay exact.
    float scale = bits == 8 ? std::max(0.0f - lo[at], hi[at]) / 127.0f
                            : (hi[at] - lo[at]) / 15.0f;
    if (!std::isfinite(scale))
      return std::nullopt;
    scale = bfloat16Up(scale);
    if (!std::isfinite(scale))
      return std::nullopt;
    out.scales[at] = scale;
    if (bits == 4 && scale != 0.0f)
      out.zeroPoints[at] = int8_t(
          std::clamp(std::nearbyint(-lo[at] / scale), 0.0f, 15.0f));
  }
  out.q.resize(w.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axis; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t at = blockOf(o, a, i), index = (o * axis + a) * inner + i;
        float scale = out.scales[at];
        if (scale == 0.0f) {
          out.q[index] = 0;
          continue;
        }
        float r = std::nearbyint(w[index] / scale);
        out.q[index] =
            bits == 8 ? int8_t(std::clamp(r, -127.0f, 127.0f))
                      : int8_t(std::clamp(r + out.zeroPoints[at], 0.0f, 15.0f));
      }
  return out;
}

int64_t sinter::quantizationBlock(int64_t size, unsigned bits,
                                  int64_t groupSize) {
  int64_t group = groupSize ? groupSize : bits == 4 ? 32 : 0;
  return group == 0 || group > size ? size : group;
}

float Quantized::dequantized(int64_t index, int64_t scaleIndex) const {
  float scale = scales[scaleIndex];
  float zero = zeroPoints.empty() ? 0.0f : float(zeroPoints[scaleIndex]);
  return (float(q[index]) - zero) * scale;
}
