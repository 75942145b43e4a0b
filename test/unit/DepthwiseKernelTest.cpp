//===- DepthwiseKernelTest.cpp - The runtime's depthwise convolution -----===//
//
// sinter_depthwise2d_f32, called as generated code calls it, against a
// double precision reference written here: 3 x 3 at strides 1 and 2 (the
// deinterleaving loads), stride 3 (lane by lane), 5 x 5 and 7 x 1 filters,
// dilations, asymmetric and zero padding, output widths below, at and past
// a block of eight columns, channel multipliers 1 and 2, a 1-D convolution
// (one row), inputs and outputs read through channels-last views, the
// clamp (ReLU, ReLU6), and a layer large enough to run on the threads.
// Every buffer has its exact size, so the sanitizer build catches any
// access outside it.
//
//===----------------------------------------------------------------------===//

#include "sinter/kernels.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace {

struct Case {
  int64_t n, c, multiplier, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool bias = true;
  /// The clamp's upper bound; NaN for no clamp.
  float clampHigh = NAN;
  /// Input and output stored channels last, read through NCHW views.
  bool channelsLast = false;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << "N" << c.n << " C" << c.c << " x" << c.multiplier << " " << c.h
      << "x" << c.w << " k" << c.kh << "x" << c.kw << " s" << c.sh << "x"
      << c.sw << " d" << c.dh << "x" << c.dw << " pads " << c.pt << ","
      << c.pl << "," << c.pb << "," << c.pr << (c.bias ? " bias" : "")
      << (std::isnan(c.clampHigh) ? "" : " clamp ");
  if (!std::isnan(c.clampHigh))
    *os << c.clampHigh;
  if (c.channelsLast)
    *os << " channels last";
}

class DepthwiseKernel : public ::testing::TestWithParam<Case> {};

TEST_P(DepthwiseKernel, MatchesReference) {
  const Case c = GetParam();
  const int64_t oh = (c.h + c.pt + c.pb - c.dh * (c.kh - 1) - 1) / c.sh + 1;
  const int64_t ow = (c.w + c.pl + c.pr - c.dw * (c.kw - 1) - 1) / c.sw + 1;
  ASSERT_GT(oh, 0);
  ASSERT_GT(ow, 0);
  const int64_t m = c.c * c.multiplier, taps = c.kh * c.kw;
  std::mt19937 rng(static_cast<unsigned>(c.c * 131 + c.h * 7 + c.kh));
  std::normal_distribution<float> normal;
  std::vector<float> input(c.n * c.c * c.h * c.w), weight(m * taps), bias(m),
      output(c.n * m * oh * ow, std::nanf(""));
  for (float &x : input)
    x = normal(rng);
  for (float &x : weight)
    x = normal(rng) / std::sqrt(float(taps));
  for (float &x : bias)
    x = normal(rng);
  sinter_memref4_f32 in = {input.data(), input.data(), 0,
                           {c.n, c.c, c.h, c.w},
                           {c.c * c.h * c.w, c.h * c.w, c.w, 1}};
  sinter_memref4_f32 out = {output.data(), output.data(), 0,
                            {c.n, m, oh, ow},
                            {m * oh * ow, oh * ow, ow, 1}};
  if (c.channelsLast) {
    in.strides[1] = 1;
    in.strides[2] = c.w * c.c;
    in.strides[3] = c.c;
    out.strides[1] = 1;
    out.strides[2] = ow * m;
    out.strides[3] = m;
  }
  sinter_memref2_f32 w = {weight.data(), weight.data(), 0, {m, taps},
                          {taps, 1}};
  sinter_memref1_f32 b = {bias.data(), bias.data(), 0, {m}, {1}};
  const bool clamp = !std::isnan(c.clampHigh);
  const float lo = 0.0f, hi = clamp ? c.clampHigh : 0.0f;
  const int32_t flags = (c.bias ? SINTER_CONV_HAS_BIAS : 0) |
                        (clamp ? SINTER_CONV_CLAMP : 0);
  _mlir_ciface_sinter_depthwise2d_f32(&in, &w, &b, &out, c.kh, c.kw, c.sh,
                                      c.sw, c.dh, c.dw, c.pt, c.pl, lo, hi,
                                      flags);
  int64_t wrong = 0;
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t ch = 0; ch < m; ++ch)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          double expected = c.bias ? bias[ch] : 0.0, magnitude = 0.0;
          const int64_t from = ch / c.multiplier;
          for (int64_t i = 0; i < c.kh; ++i)
            for (int64_t j = 0; j < c.kw; ++j) {
              const int64_t iy = y * c.sh - c.pt + i * c.dh,
                            ix = x * c.sw - c.pl + j * c.dw;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w)
                continue;
              const double term =
                  double(weight[ch * taps + i * c.kw + j]) *
                  input[n * in.strides[0] + from * in.strides[1] +
                        iy * in.strides[2] + ix * in.strides[3]];
              expected += term;
              magnitude += std::fabs(term);
            }
          if (clamp)
            expected = std::min<double>(std::max<double>(expected, lo), hi);
          const float got = output[n * out.strides[0] + ch * out.strides[1] +
                                   y * out.strides[2] + x * out.strides[3]];
          if (!(std::fabs(got - expected) <= 1e-5 * (1.0 + magnitude)) &&
              wrong++ < 5)
            ADD_FAILURE() << "out[" << n << "][" << ch << "][" << y << "]["
                          << x << "] = " << got << ", expected " << expected;
        }
  EXPECT_EQ(wrong, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, DepthwiseKernel,
    ::testing::Values(
        // MobileNet's layers: 3 x 3, pads 1, strides 1 and 2, widths past
        // and below a block of eight, with ReLU6.
        Case{1, 8, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 6.0f},
        Case{1, 8, 1, 29, 29, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, 6.0f},
        Case{2, 5, 1, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        Case{1, 4, 1, 6, 5, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, false},
        // Exactly eight columns, no padding.
        Case{1, 3, 1, 10, 10, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0},
        // 5 x 5 (EfficientNet), asymmetric pads, ReLU.
        Case{1, 6, 1, 17, 19, 5, 5, 2, 2, 1, 1, 1, 2, 2, 1, true, INFINITY},
        // Stride 3 (lane by lane), dilations, a 7 x 1 filter.
        Case{1, 4, 1, 20, 31, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1},
        Case{1, 4, 1, 16, 21, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3},
        Case{1, 3, 1, 15, 9, 7, 1, 1, 1, 1, 1, 3, 0, 3, 0},
        // Channel multiplier 2, and a padding wider than the filter needs.
        Case{2, 3, 2, 9, 12, 3, 3, 1, 2, 1, 1, 2, 3, 2, 3},
        // A 1-D convolution: one row, height terms 1 and 0.
        Case{2, 6, 1, 1, 40, 1, 5, 1, 1, 1, 2, 0, 4, 0, 4},
        // Channels-last input and output.
        Case{1, 7, 1, 11, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 6.0f, true},
        Case{1, 7, 2, 11, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, NAN,
             true},
        // Enough work for the threads: 96 x 56 x 56 by 3 x 3.
        Case{1, 96, 1, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 6.0f}));

} // namespace
