//===- QMatmulKernelTest.cpp - The quantized-weight GEMM/GEMV kernel ------===//
//
// sinter_qweight_pack and sinter_qmatmul_f32 against a double-precision
// product with the weight dequantized here, element by element, from the
// same integers, scales and zero points: 8 bits (with and without zero
// points) and 4 bits, f32 and bfloat16 scales, groups that divide K and
// groups that do not, one to three rows (the streaming path) and more (the
// packed GEMM path) on both sides of its block edges, a batch of weights
// and a broadcast one. Scales are drawn as bfloat16 values, so that both
// storage forms hold them exactly and the reference needs no rounding.
// Every buffer has its exact size for the sanitizer build.
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

struct QCase {
  int bits;
  bool zeroPoints, bf16;
  int64_t batchA, batchW, m, n, k, groupSize;
  bool bias;
};

void PrintTo(const QCase &c, std::ostream *os) {
  *os << c.bits << "-bit" << (c.zeroPoints ? " zero points" : "")
      << (c.bf16 ? " bf16" : " f32") << " scales, A " << c.batchA << "x"
      << c.m << "x" << c.k << ", W " << c.batchW << "x" << c.n << "x" << c.k
      << " in groups of " << c.groupSize << (c.bias ? ", bias" : "");
}

class QMatmulKernel : public ::testing::TestWithParam<QCase> {};

TEST_P(QMatmulKernel, MatchesDequantizedReference) {
  const QCase c = GetParam();
  const int64_t batch = std::max(c.batchA, c.batchW);
  const int64_t groups = (c.k + c.groupSize - 1) / c.groupSize;
  std::mt19937 rng(c.m * 1000003 + c.n * 1009 + c.k * 7 + c.bits);
  const int lo = c.bits == 8 ? -128 : 0, hi = c.bits == 8 ? 127 : 15;
  std::uniform_int_distribution<int> value(lo, hi);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  std::normal_distribution<float> normal;

  std::vector<int8_t> q(c.batchW * c.n * c.k), zp;
  std::vector<float> scales(c.batchW * c.n * groups);
  for (int8_t &v : q)
    v = int8_t(value(rng));
  for (float &s : scales)
    s = bfloat16Value(scale(rng));
  if (c.zeroPoints) {
    zp.resize(scales.size());
    for (int8_t &v : zp)
      v = int8_t(value(rng));
  }
  sinter_qweight_desc desc = {
      c.bits,
      (c.zeroPoints ? SINTER_QWEIGHT_ZERO_POINTS : 0) |
          (c.bf16 ? SINTER_QWEIGHT_SCALES_BF16 : 0),
      c.batchW, c.n, c.k, c.groupSize};
  int64_t size = sinter_qweight_packed_size(&desc);
  ASSERT_GT(size, 0);
  std::vector<int8_t> packed(size);
  ASSERT_EQ(sinter_qweight_pack(&desc, q.data(), scales.data(),
                                c.zeroPoints ? zp.data() : nullptr,
                                packed.data()),
            0);

  std::vector<float> a(c.batchA * c.m * c.k), bias(c.n),
      out(std::max<int64_t>(batch * c.m * c.n, 1), std::nanf(""));
  for (float &x : a)
    x = normal(rng);
  for (float &x : bias)
    x = normal(rng);
  sinter_memref3_f32 aView = {a.data(), a.data(), 0, {c.batchA, c.m, c.k},
                              {c.m * c.k, c.k, 1}};
  sinter_memref3_f32 outView = {out.data(), out.data(), 0, {batch, c.m, c.n},
                                {c.m * c.n, c.n, 1}};
  sinter_memref1_i8 weightView = {packed.data(), packed.data(), 0, {size}, {1}};
  sinter_memref1_f32 biasView = {bias.data(), bias.data(), 0, {c.n}, {1}};
  _mlir_ciface_sinter_qmatmul_f32(&aView, &weightView, &biasView, &outView,
                                  c.bias ? SINTER_QMATMUL_HAS_BIAS : 0);

  for (int64_t p = 0; p < batch; ++p) {
    const int64_t pa = c.batchA == 1 ? 0 : p, pw = c.batchW == 1 ? 0 : p;
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double expected = c.bias ? bias[j] : 0.0, magnitude = 0.0;
        for (int64_t k = 0; k < c.k; ++k) {
          int64_t block = (pw * c.n + j) * groups + k / c.groupSize;
          double w = (double(q[(pw * c.n + j) * c.k + k]) -
                      (c.zeroPoints ? zp[block] : 0)) *
                     scales[block];
          double term = double(a[(pa * c.m + i) * c.k + k]) * w;
          expected += term;
          magnitude += std::fabs(term);
        }
        ASSERT_NEAR(out[(p * c.m + i) * c.n + j], expected,
                    1e-6 * (1.0 + magnitude))
            << "batch " << p << " row " << i << " column " << j;
      }
  }
}

std::vector<QCase> cases() {
  std::vector<QCase> all;
  for (int bits : {8, 4})
    for (bool bf16 : {false, true}) {
      bool zeroPoints = bits == 4;
      // Streaming: one to three rows; groups dividing K or not, and one
      // group per column (K itself).
      for (int64_t m : {1, 2, 3})
        for (int64_t group : {32, 48, 300})
          all.push_back({bits, zeroPoints, bf16, 1, 1, m, 70, 300, group,
                         m != 2});
      // Packed GEMM: rows, columns and depth across the block edges
      // (6 x 16 registers, depth 256, 72 rows, 512 columns).
      all.push_back({bits, zeroPoints, bf16, 1, 1, 4, 16, 1, 1, true});
      all.push_back({bits, zeroPoints, bf16, 1, 1, 7, 17, 257, 32, true});
      all.push_back({bits, zeroPoints, bf16, 1, 1, 73, 40, 100, 64, false});
      all.push_back({bits, zeroPoints, bf16, 1, 1, 130, 530, 300, 128, true});
      // A batch of weights (experts) and a broadcast one.
      all.push_back({bits, zeroPoints, bf16, 1, 3, 9, 33, 64, 32, false});
      all.push_back({bits, zeroPoints, bf16, 2, 1, 2, 33, 64, 16, true});
    }
  // 4 bits streamed two rows of k at a time (AVX-512): odd groups and an
  // odd depth end in a single row; a group longer than the AVX-512 route's
  // chunk takes the AVX2 one.
  for (int64_t m : {1, 3}) {
    all.push_back({4, true, true, 1, 1, m, 40, 301, 33, true});
    all.push_back({4, true, false, 1, 1, m, 24, 2100, 2100, false});
  }
  // 8 bits with zero points (asymmetric, imported uint8 weights).
  all.push_back({8, true, false, 1, 1, 1, 40, 96, 32, true});
  all.push_back({8, true, true, 1, 1, 20, 40, 96, 32, true});
  return all;
}

INSTANTIATE_TEST_SUITE_P(Shapes, QMatmulKernel, ::testing::ValuesIn(cases()));

TEST(QWeightPack, RejectsWhatItCannotPack) {
  std::vector<int8_t> q(16 * 4, 3), zp(16, 16);
  std::vector<float> scales(16, 1.0f);
  std::vector<int8_t> out(4096);
  sinter_qweight_desc desc = {4, SINTER_QWEIGHT_ZERO_POINTS, 1, 16, 4, 4};
  ASSERT_GT(sinter_qweight_packed_size(&desc), 0);
  // A 4-bit zero point of 16 is out of range.
  EXPECT_EQ(sinter_qweight_pack(&desc, q.data(), scales.data(), zp.data(),
                                out.data()),
            -1);
  // 4 bits need zero points; 5 bits are not a format; sizes must be >= 1.
  sinter_qweight_desc noZeroPoints = {4, 0, 1, 16, 4, 4};
  EXPECT_EQ(sinter_qweight_packed_size(&noZeroPoints), -1);
  sinter_qweight_desc fiveBits = {5, SINTER_QWEIGHT_ZERO_POINTS, 1, 16, 4, 4};
  EXPECT_EQ(sinter_qweight_packed_size(&fiveBits), -1);
  sinter_qweight_desc empty = {8, 0, 1, 0, 4, 4};
  EXPECT_EQ(sinter_qweight_packed_size(&empty), -1);
  // An 8-bit value of -128 is allowed, but a 4-bit value of 16 is not.
  std::vector<int8_t> big(16 * 4, 16), zeros(16, 0);
  EXPECT_EQ(sinter_qweight_pack(&desc, big.data(), scales.data(),
                                zeros.data(), out.data()),
            -1);
}

TEST(QMatmulKernelEdges, MismatchedWeightGivesNaN) {
  // A weight packed for K = 8 against an A of depth 4: C is NaN, and
  // nothing is read past the buffers.
  std::vector<int8_t> q(16 * 8, 1);
  std::vector<float> scales(16, 0.5f);
  sinter_qweight_desc desc = {8, 0, 1, 16, 8, 8};
  std::vector<int8_t> packed(sinter_qweight_packed_size(&desc));
  ASSERT_EQ(sinter_qweight_pack(&desc, q.data(), scales.data(), nullptr,
                                packed.data()),
            0);
  std::vector<float> a(2 * 4, 1.0f), out(2 * 16, 0.0f);
  sinter_memref3_f32 aView = {a.data(), a.data(), 0, {1, 2, 4}, {8, 4, 1}};
  sinter_memref3_f32 outView = {out.data(), out.data(), 0, {1, 2, 16},
                                {32, 16, 1}};
  sinter_memref1_i8 weightView = {packed.data(), packed.data(), 0,
                                  {int64_t(packed.size())}, {1}};
  sinter_memref1_f32 none = {nullptr, nullptr, 0, {0}, {1}};
  _mlir_ciface_sinter_qmatmul_f32(&aView, &weightView, &none, &outView, 0);
  for (float x : out)
    EXPECT_TRUE(std::isnan(x));
}

} // namespace
