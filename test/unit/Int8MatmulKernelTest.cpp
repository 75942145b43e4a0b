//===- Int8MatmulKernelTest.cpp - The W8A8 GEMM/GEMV kernel ---------------===//
//
// sinter_qmatmul_i8 against the exact integer product computed here:
// sum_k a[m][k] q[n][k] in 64-bit integers, times the row's and the
// column's scales (double). The kernel sums exactly in int32 and rounds
// only when scaling, so the tolerance is a few float ulps of the scaled
// sum's magnitude. Shapes cover the streaming path (one to three rows,
// depth beyond its int32 chunk), the packed GEMM (rows, columns and depth
// across the 6 x 16 register block, 72-row, 256-column and 512-k blocks),
// odd depths, per-tensor and per-row activation scales, bfloat16 and f32
// weight scales, a strided A and a batch of weights.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"
#include "sinter/kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

using sinter::test::bfloat16Value;

struct I8Case {
  int64_t batch, m, n, k;
  bool rowScales, bf16, bias;
  int64_t aStride; // elements between consecutive k of A (1: contiguous)
  bool unsignedA = false;
  int32_t zeroPoint = 0;
};

void PrintTo(const I8Case &c, std::ostream *os) {
  *os << "batch " << c.batch << ", A " << c.m << "x" << c.k << " (k stride "
      << c.aStride << "), W " << c.n << "x" << c.k
      << (c.rowScales ? ", per-row" : ", per-tensor") << " activation scales"
      << (c.bf16 ? ", bf16" : ", f32") << " weight scales"
      << (c.bias ? ", bias" : "") << (c.unsignedA ? ", uint8 A" : "")
      << ", zero point " << c.zeroPoint;
}

class Int8MatmulKernel : public ::testing::TestWithParam<I8Case> {};

TEST_P(Int8MatmulKernel, MatchesExactIntegerProduct) {
  const I8Case c = GetParam();
  std::mt19937 rng(c.m * 1000003 + c.n * 1009 + c.k * 7 + c.batch);
  std::uniform_int_distribution<int> value(-128, 127);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  std::normal_distribution<float> normal;

  std::vector<int8_t> q(c.batch * c.n * c.k);
  std::vector<float> wScales(c.batch * c.n);
  for (int8_t &v : q)
    v = int8_t(value(rng));
  for (float &s : wScales)
    s = bfloat16Value(scale(rng));
  sinter_qweight_desc desc = {8, c.bf16 ? SINTER_QWEIGHT_SCALES_BF16 : 0,
                              c.batch, c.n, c.k, c.k};
  int64_t size = sinter_qweight_packed_size(&desc);
  ASSERT_GT(size, 0);
  std::vector<int8_t> packed(size);
  ASSERT_EQ(sinter_qweight_pack(&desc, q.data(), wScales.data(), nullptr,
                                packed.data()),
            0);

  // A is [batch, m, k] with k at stride aStride; the elements between are
  // poison that the kernel must not read into the sums.
  std::vector<int8_t> a(c.batch * c.m * c.k * c.aStride, int8_t(99));
  auto aAt = [&](int64_t p, int64_t i, int64_t k) -> int8_t & {
    return a[((p * c.m + i) * c.k + k) * c.aStride];
  };
  for (int64_t p = 0; p < c.batch; ++p)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t k = 0; k < c.k; ++k)
        aAt(p, i, k) = int8_t(value(rng));
  // A's values as the kernel reads them: uint8 or int8, less the zero point.
  auto aValue = [&](int64_t p, int64_t i, int64_t k) -> int64_t {
    int8_t v = aAt(p, i, k);
    return (c.unsignedA ? int64_t(uint8_t(v)) : int64_t(v)) - c.zeroPoint;
  };
  std::vector<float> aScales(c.rowScales ? c.batch * c.m : 1), bias(c.n),
      out(c.batch * c.m * c.n, std::nanf(""));
  for (float &s : aScales)
    s = scale(rng);
  for (float &x : bias)
    x = normal(rng);
  sinter_memref3_i8 aView = {a.data(), a.data(), 0, {c.batch, c.m, c.k},
                             {c.m * c.k * c.aStride, c.k * c.aStride,
                              c.aStride}};
  sinter_memref1_f32 scaleView = {aScales.data(), aScales.data(), 0,
                                  {int64_t(aScales.size())}, {1}};
  sinter_memref1_i8 weightView = {packed.data(), packed.data(), 0, {size}, {1}};
  sinter_memref1_f32 biasView = {bias.data(), bias.data(), 0, {c.n}, {1}};
  sinter_memref3_f32 outView = {out.data(), out.data(), 0, {c.batch, c.m, c.n},
                                {c.m * c.n, c.n, 1}};
  _mlir_ciface_sinter_qmatmul_i8(
      &aView, &scaleView, c.zeroPoint, &weightView, &biasView, &outView,
      (c.bias ? SINTER_QMATMUL_HAS_BIAS : 0) |
          (c.rowScales ? SINTER_QMATMUL_ROW_SCALES : 0) |
          (c.unsignedA ? SINTER_QMATMUL_A_UNSIGNED : 0));

  for (int64_t p = 0; p < c.batch; ++p)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        int64_t sum = 0, magnitude = 0;
        for (int64_t k = 0; k < c.k; ++k) {
          int64_t term = aValue(p, i, k) * q[(p * c.n + j) * c.k + k];
          sum += term;
          magnitude += term < 0 ? -term : term;
        }
        double s = double(aScales[c.rowScales ? p * c.m + i : 0]) *
                   wScales[p * c.n + j];
        double expected = double(sum) * s + (c.bias ? bias[j] : 0.0);
        ASSERT_NEAR(out[(p * c.m + i) * c.n + j], expected,
                    4e-7 * (double(magnitude) * s + 1.0))
            << "batch " << p << " row " << i << " column " << j;
      }
}

std::vector<I8Case> cases() {
  std::vector<I8Case> all;
  for (bool rowScales : {false, true})
    for (bool bf16 : {false, true}) {
      // Streaming: one to three rows.
      for (int64_t m : {1, 2, 3})
        all.push_back({1, m, 70, 301, rowScales, bf16, m != 2, 1});
      // Packed GEMM across the block edges.
      all.push_back({1, 4, 16, 1, rowScales, bf16, true, 1});
      all.push_back({1, 7, 17, 513, rowScales, bf16, true, 1});
      all.push_back({1, 73, 40, 100, rowScales, bf16, false, 1});
      all.push_back({1, 130, 530, 1030, rowScales, bf16, true, 1});
    }
  // Depth past the streaming path's int32 chunk (4096 pairs of k).
  all.push_back({1, 1, 20, 8195, true, true, true, 1});
  // A strided A (a transposed view) and a batch of weights.
  all.push_back({1, 2, 33, 64, true, false, true, 3});
  all.push_back({1, 9, 33, 65, false, true, false, 2});
  all.push_back({3, 9, 33, 64, true, true, true, 1});
  all.push_back({2, 1, 48, 64, false, false, true, 1});
  // uint8 activations with a zero point (imported QDQ models), and int8
  // ones with one, on both routes.
  all.push_back({1, 1, 70, 301, false, true, true, 1, true, 128});
  all.push_back({1, 73, 40, 515, false, true, true, 1, true, 255});
  all.push_back({1, 3, 33, 64, false, false, false, 2, true, 0});
  all.push_back({1, 20, 33, 64, false, false, false, 1, false, -128});
  return all;
}

INSTANTIATE_TEST_SUITE_P(Shapes, Int8MatmulKernel, ::testing::ValuesIn(cases()));

TEST(Int8MatmulKernelEdges, WeightItCannotReadGivesNaN) {
  // A weight with zero points (and one in groups) is not for this kernel:
  // C is NaN, and nothing is read past the buffers.
  std::vector<int8_t> q(16 * 8, 1), zp(16 * 2, 0);
  std::vector<float> scales(16 * 2, 0.5f);
  for (sinter_qweight_desc desc :
       {sinter_qweight_desc{8, SINTER_QWEIGHT_ZERO_POINTS, 1, 16, 8, 8},
        sinter_qweight_desc{8, 0, 1, 16, 8, 4}}) {
    std::vector<int8_t> packed(sinter_qweight_packed_size(&desc));
    ASSERT_EQ(sinter_qweight_pack(&desc, q.data(), scales.data(),
                                  desc.flags ? zp.data() : nullptr,
                                  packed.data()),
              0);
    std::vector<int8_t> a(2 * 8, 1);
    std::vector<float> aScale(1, 1.0f), out(2 * 16, 0.0f);
    sinter_memref3_i8 aView = {a.data(), a.data(), 0, {1, 2, 8}, {16, 8, 1}};
    sinter_memref1_f32 scaleView = {aScale.data(), aScale.data(), 0, {1}, {1}};
    sinter_memref3_f32 outView = {out.data(), out.data(), 0, {1, 2, 16},
                                  {32, 16, 1}};
    sinter_memref1_i8 weightView = {packed.data(), packed.data(), 0,
                                    {int64_t(packed.size())}, {1}};
    sinter_memref1_f32 none = {nullptr, nullptr, 0, {0}, {1}};
    _mlir_ciface_sinter_qmatmul_i8(&aView, &scaleView, 0, &weightView, &none,
                                   &outView, 0);
    for (float x : out)
      EXPECT_TRUE(std::isnan(x));
  }
}

TEST(Int8MatmulKernelEdges, ZeroPointOutsideTheRangeGivesNaN) {
  std::vector<int8_t> q(16 * 8, 1);
  std::vector<float> scales(16, 0.5f);
  sinter_qweight_desc desc = {8, 0, 1, 16, 8, 8};
  std::vector<int8_t> packed(sinter_qweight_packed_size(&desc));
  ASSERT_EQ(sinter_qweight_pack(&desc, q.data(), scales.data(), nullptr,
                                packed.data()),
            0);
  std::vector<int8_t> a(2 * 8, 1);
  std::vector<float> aScale(1, 1.0f), out(2 * 16, 0.0f);
  sinter_memref3_i8 aView = {a.data(), a.data(), 0, {1, 2, 8}, {16, 8, 1}};
  sinter_memref1_f32 scaleView = {aScale.data(), aScale.data(), 0, {1}, {1}};
  sinter_memref3_f32 outView = {out.data(), out.data(), 0, {1, 2, 16},
                                {32, 16, 1}};
  sinter_memref1_i8 weightView = {packed.data(), packed.data(), 0,
                                  {int64_t(packed.size())}, {1}};
  sinter_memref1_f32 none = {nullptr, nullptr, 0, {0}, {1}};
  // 200 is no int8; -1 is no uint8.
  for (auto [zeroPoint, flags] :
       {std::pair<int32_t, int32_t>{200, 0}, {-1, SINTER_QMATMUL_A_UNSIGNED}}) {
    _mlir_ciface_sinter_qmatmul_i8(&aView, &scaleView, zeroPoint, &weightView,
                                   &none, &outView, flags);
    for (float x : out)
      EXPECT_TRUE(std::isnan(x));
  }
}

} // namespace
