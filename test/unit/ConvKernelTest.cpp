//===- ConvKernelTest.cpp - The runtime's 2-D convolution kernel ----------===//
//
// sinter_conv2d_f32, called as generated code calls it, against a double
// precision reference written here: kernel sizes 1 to 7, strides, dilations
// and asymmetric padding, output widths on both sides of a 16-column sliver
// (a sliver inside one output row, and one spanning two), depths across the
// kernel's blocks, a batch of images, fewer output channels than the packed
// route takes, the pointwise case (a plain product), and an input view whose
// strides are not the contiguous ones; each also with the weight packed as
// sinterc packs a constant one. Every buffer has its exact size, so
// the sanitizer build catches any access outside it. The epilogue (a
// residual added, then a clamp: ReLU, ReLU6) is checked on the same
// geometries, the residual also through a view that is not contiguous.
//
//===----------------------------------------------------------------------===//

#include "sinter/kernels.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace {

/// What follows the convolution in the kernel.
enum Epilogue { kNone, kRelu, kResidualRelu, kStridedResidualRelu6 };

struct Case {
  int64_t n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool bias, stridedInput;
  Epilogue epilogue = kNone;
  bool stridedBias = false;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << "N" << c.n << " C" << c.c << " " << c.h << "x" << c.w << " M" << c.m
      << " k" << c.kh << "x" << c.kw << " s" << c.sh << "x" << c.sw << " d"
      << c.dh << "x" << c.dw << " pads " << c.pt << "," << c.pl << "," << c.pb
      << "," << c.pr << (c.bias ? " bias" : "")
      << (c.stridedInput ? " strided input" : "")
      << (c.epilogue == kRelu             ? " relu"
          : c.epilogue == kResidualRelu ? " residual relu"
          : c.epilogue == kStridedResidualRelu6
              ? " strided residual relu6"
              : "")
      << (c.stridedBias ? " strided bias" : "");
}

class ConvKernel : public ::testing::TestWithParam<Case> {};

/// Runs case `c`, the weight passed as it is or, with `packedWeight`, in the
/// layout SINTER_CONV_PACKED_WEIGHT documents (packed here from that text).
void checkCase(const Case &c, bool packedWeight) {
  const int64_t oh = (c.h + c.pt + c.pb - c.dh * (c.kh - 1) - 1) / c.sh + 1;
  const int64_t ow = (c.w + c.pl + c.pr - c.dw * (c.kw - 1) - 1) / c.sw + 1;
  ASSERT_GT(oh, 0);
  ASSERT_GT(ow, 0);
  const int64_t depth = c.c * c.kh * c.kw;
  std::mt19937 rng(c.c * 1009 + c.m * 31 + c.kh);
  std::normal_distribution<float> normal;
  // The strided input stores each image's channels innermost (NHWC), read
  // through an NCHW view.
  std::vector<float> input(c.n * c.c * c.h * c.w), weight(c.m * depth),
      bias(2 * c.m), output(c.n * c.m * oh * ow, std::nanf(""));
  for (float &x : input)
    x = normal(rng);
  for (float &x : weight)
    x = normal(rng) / std::sqrt(float(depth));
  for (float &x : bias)
    x = normal(rng);
  sinter_memref4_f32 in = {input.data(), input.data(), 0,
                           {c.n, c.c, c.h, c.w},
                           {c.c * c.h * c.w, c.h * c.w, c.w, 1}};
  if (c.stridedInput) {
    in.strides[1] = 1;
    in.strides[2] = c.w * c.c;
    in.strides[3] = c.c;
  }
  auto inputAt = [&](int64_t n, int64_t ch, int64_t y, int64_t x) {
    return input[n * in.strides[0] + ch * in.strides[1] + y * in.strides[2] +
                 x * in.strides[3]];
  };
  sinter_memref3_f32 w = {weight.data(), weight.data(), 0, {1, c.m, depth},
                          {c.m * depth, depth, 1}};
  const int64_t rows = SINTER_CONV_PACK_ROWS,
                slivers = (c.m + rows - 1) / rows;
  std::vector<float> packed(slivers * rows * depth, 0.0f);
  if (packedWeight) {
    for (int64_t m = 0; m < c.m; ++m)
      for (int64_t k = 0; k < depth; ++k)
        packed[m / rows * rows * depth + k * rows + m % rows] =
            weight[m * depth + k];
    // Only the start counts; the sizes say nothing the kernel may use.
    w = {packed.data(), packed.data(), 0, {1, slivers, rows * depth},
         {slivers * rows * depth, rows * depth, 1}};
  }
  // A strided bias reads every other element.
  const int64_t biasStride = c.stridedBias ? 2 : 1;
  sinter_memref1_f32 b = {bias.data(), bias.data(), 0, {c.m}, {biasStride}};
  sinter_memref4_f32 out = {output.data(), output.data(), 0,
                            {c.n, c.m, oh, ow},
                            {c.m * oh * ow, oh * ow, ow, 1}};
  // The strided residual is stored channels last.
  std::vector<float> residual(c.n * c.m * oh * ow);
  for (float &x : residual)
    x = normal(rng);
  sinter_memref4_f32 res = {residual.data(), residual.data(), 0,
                            {c.n, c.m, oh, ow},
                            {c.m * oh * ow, oh * ow, ow, 1}};
  if (c.epilogue == kStridedResidualRelu6) {
    res.strides[1] = 1;
    res.strides[2] = ow * c.m;
    res.strides[3] = c.m;
  }
  const bool hasResidual = c.epilogue == kResidualRelu ||
                           c.epilogue == kStridedResidualRelu6;
  const float lo = 0.0f,
              hi = c.epilogue == kStridedResidualRelu6 ? 6.0f : INFINITY;
  int32_t flags = (c.bias ? SINTER_CONV_HAS_BIAS : 0) |
                  (hasResidual ? SINTER_CONV_HAS_RESIDUAL : 0) |
                  (c.epilogue != kNone ? SINTER_CONV_CLAMP : 0) |
                  (packedWeight ? SINTER_CONV_PACKED_WEIGHT : 0);
  _mlir_ciface_sinter_conv2d_f32(&in, &w, &b, &res, &out, c.kh, c.kw, c.sh,
                                 c.sw, c.dh, c.dw, c.pt, c.pl, lo, hi, flags);
  int64_t wrong = 0;
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t m = 0; m < c.m; ++m)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          double expected = c.bias ? bias[m * biasStride] : 0.0,
                 magnitude = 0.0;
          for (int64_t ch = 0; ch < c.c; ++ch)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                int64_t iy = y * c.sh - c.pt + i * c.dh,
                        ix = x * c.sw - c.pl + j * c.dw;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w)
                  continue;
                double term = double(weight[m * depth + (ch * c.kh + i) * c.kw +
                                            j]) *
                              inputAt(n, ch, iy, ix);
                expected += term;
                magnitude += std::fabs(term);
              }
          if (hasResidual)
            expected += residual[n * res.strides[0] + m * res.strides[1] +
                                 y * res.strides[2] + x * res.strides[3]];
          if (c.epilogue != kNone)
            expected = std::min<double>(std::max(expected, double(lo)), hi);
          float got = output[((n * c.m + m) * oh + y) * ow + x];
          if (!(std::fabs(got - expected) <= 1e-5 * (1.0 + magnitude)) &&
              wrong++ < 5)
            ADD_FAILURE() << "out[" << n << "][" << m << "][" << y << "][" << x
                          << "] = " << got << ", expected " << expected;
        }
  EXPECT_EQ(wrong, 0);
}

TEST_P(ConvKernel, MatchesReference) { checkCase(GetParam(), false); }

TEST_P(ConvKernel, PackedWeightMatchesReference) {
  checkCase(GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, ConvKernel,
    ::testing::Values(
        // 3 x 3, same padding: slivers inside rows (width 32) and across
        // rows (width 20), depth 27 and 576 (three blocks of the kernel).
        Case{1, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false},
        Case{1, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false},
        // ResNet's stem: 7 x 7, stride 2, pads 3.
        Case{1, 3, 40, 40, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, true, false},
        // Strided 3 x 3 without bias, dilated, asymmetric pads.
        Case{2, 8, 17, 23, 24, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, false, false},
        Case{1, 5, 19, 33, 12, 3, 3, 1, 1, 2, 3, 2, 3, 1, 0, true, false},
        Case{1, 4, 9, 40, 8, 2, 5, 1, 3, 1, 1, 0, 2, 1, 2, true, false},
        // Pointwise: the plain product, and strided (not plain).
        Case{2, 32, 14, 14, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, false},
        Case{1, 16, 14, 14, 32, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, true, false},
        // One input row (a 1-D convolution), and a kernel wider than the
        // input with padding.
        Case{2, 6, 1, 50, 10, 1, 5, 1, 1, 1, 2, 0, 4, 0, 4, true, false},
        Case{1, 3, 4, 4, 8, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3, true, false},
        // Fewer output channels than the packed route takes.
        Case{1, 7, 12, 12, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false},
        Case{1, 7, 12, 12, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, false},
        // An input read through a channels-last view.
        Case{1, 6, 10, 18, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, true},
        Case{1, 6, 10, 18, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, true},
        // Output rows narrower than a sliver (7 and 5 wide: a sliver
        // spans up to four rows), at stride 1 and 2, with padding.
        Case{1, 16, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false},
        Case{1, 16, 9, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false},
        Case{2, 4, 6, 11, 8, 3, 2, 1, 2, 1, 1, 2, 1, 0, 1, true, false},
        // A bias read through a strided view.
        Case{1, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false,
             kNone, true},
        // Enough work for the threads: 64 x 56 x 56 by 3 x 3.
        Case{1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false},
        // The epilogues: on the packed route (3 x 3, pointwise, a batch),
        // and on the term-by-term loop.
        Case{1, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false,
             kRelu},
        Case{2, 32, 14, 14, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, false,
             kResidualRelu},
        Case{2, 8, 17, 23, 24, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, false, false,
             kStridedResidualRelu6},
        Case{1, 7, 12, 12, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false,
             kStridedResidualRelu6}));

} // namespace
