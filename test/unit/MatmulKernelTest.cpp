//===- MatmulKernelTest.cpp - The runtime's packed GEMM kernel ------------===//
//
// The kernel behind f32 sinter.linear and sinter.matmul, called as
// generated code calls it (strided rank-3 descriptors), against a double
// precision reference: sizes on both sides of every block edge (6 x 16
// registers, depth 256, 72-row and 512-column blocks), the streaming path
// for one to three rows (and its depth split between threads), B read
// transposed, batches with a broadcast side, views whose strides are not the
// contiguous ones, and empty products.
// Every buffer has its exact size, so the sanitizer build catches any
// access outside it.
//
//===----------------------------------------------------------------------===//

#include "sinter/kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <thread>
#include <vector>

namespace {

/// A [batch, rows, cols] f32 tensor; `columnMajor` stores each matrix
/// column by column (so that the inner stride is not 1).
struct Tensor3 {
  std::vector<float> data;
  sinter_memref3_f32 view;
  Tensor3(int64_t batch, int64_t rows, int64_t cols, bool columnMajor = false)
      : data(std::max<int64_t>(batch * rows * cols, 1)) {
    view = {data.data(), data.data(), 0, {batch, rows, cols},
            {rows * cols, cols, 1}};
    if (columnMajor) {
      view.strides[1] = 1;
      view.strides[2] = rows;
    }
  }
  float at(int64_t b, int64_t i, int64_t j) const {
    return data[b * view.strides[0] + i * view.strides[1] +
                j * view.strides[2]];
  }
  void fill(std::mt19937 &rng, float scale) {
    std::normal_distribution<float> normal(0.0f, scale);
    for (float &x : data)
      x = normal(rng);
  }
};

struct Case {
  int64_t batchA, batchB, m, n, k;
  bool transposeB, bias, stridedA;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << "A " << c.batchA << "x" << c.m << "x" << c.k << " B " << c.batchB
      << (c.transposeB ? " transposed" : "") << " N " << c.n
      << (c.bias ? " bias" : "") << (c.stridedA ? " strided A" : "");
}

class MatmulKernel : public ::testing::TestWithParam<Case> {};

TEST_P(MatmulKernel, MatchesReference) {
  const Case c = GetParam();
  const int64_t batch = std::max(c.batchA, c.batchB);
  std::mt19937 rng(c.m * 1000003 + c.n * 1009 + c.k);
  Tensor3 a(c.batchA, c.m, c.k, c.stridedA);
  Tensor3 b = c.transposeB ? Tensor3(c.batchB, c.n, c.k)
                           : Tensor3(c.batchB, c.k, c.n);
  Tensor3 out(batch, c.m, c.n);
  std::vector<float> bias(std::max<int64_t>(c.n, 1));
  a.fill(rng, 1.0f);
  b.fill(rng, 1.0f / std::sqrt(float(std::max<int64_t>(c.k, 1))));
  std::normal_distribution<float> normal;
  for (float &x : bias)
    x = normal(rng);
  for (float &x : out.data)
    x = std::nanf(""); // every element must be written
  sinter_memref1_f32 biasView = {bias.data(), bias.data(), 0, {c.n}, {1}};
  _mlir_ciface_sinter_matmul_f32(
      &a.view, &b.view, &biasView, &out.view,
      (c.transposeB ? SINTER_MATMUL_TRANSPOSE_B : 0) |
          (c.bias ? SINTER_MATMUL_HAS_BIAS : 0));
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double expected = c.bias ? bias[j] : 0.0;
        for (int64_t k = 0; k < c.k; ++k)
          expected += double(a.at(c.batchA == 1 ? 0 : p, i, k)) *
                      (c.transposeB ? b.at(c.batchB == 1 ? 0 : p, j, k)
                                    : b.at(c.batchB == 1 ? 0 : p, k, j));
        ASSERT_NEAR(out.at(p, i, j), expected,
                    2e-5 + 2e-5 * std::fabs(expected))
            << "batch " << p << " row " << i << " column " << j;
      }
}

std::vector<Case> cases() {
  std::vector<Case> all;
  // Packed path: block edges on every side.
  for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{
           {4, 16, 1},
           {6, 16, 256},
           {7, 17, 257},
           {73, 40, 100},
           {130, 530, 300},
           {12, 1040, 33},
           // Depth in several blocks on either route (the first writes C,
           // the others add to it), split into equal parts.
           {29, 50, 1100},
           // Large enough for the AVX-512 route's heap-scratch blocks
           // (1024 deep, 512 wide): depth in three of them, rows past one
           // block of A, columns past one block of B.
           {150, 530, 2100}})
    for (bool transposeB : {false, true})
      all.push_back({1, 1, m, n, k, transposeB, true, false});
  // Streaming path: one to three rows.
  for (int64_t m : {1, 2, 3})
    for (bool transposeB : {false, true})
      all.push_back({1, 1, m, 700, 300, transposeB, m != 2, false});
  // One and three rows by a B with contiguous rows, enough work for the
  // OpenMP team (SINTER_PARALLEL_WORK): on more than one thread (ctest
  // runs these tests at OMP_NUM_THREADS=2) the depth is split between the
  // threads, each into a partial C of its own, summed after a barrier.
  for (int64_t m : {1, 3})
    all.push_back({1, 1, m, 1000, 2100, false, m == 1, false});
  // Batches: equal, broadcast B (a weight), broadcast A.
  all.push_back({3, 3, 20, 24, 40, false, false, false});
  all.push_back({4, 1, 9, 33, 17, true, true, false});
  all.push_back({1, 2, 8, 20, 12, false, false, false});
  all.push_back({3, 3, 150, 300, 400, true, true, false});
  // A stored column-major, on both paths.
  all.push_back({2, 2, 50, 30, 70, false, false, true});
  all.push_back({1, 1, 2, 30, 70, true, false, true});
  return all;
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulKernel, ::testing::ValuesIn(cases()));

/// B [K, N] in the layout of SINTER_MATMUL_PACKED_B (what sinterc writes
/// for constant weights): slivers of K x 16, zero-padded.
std::vector<float> packB(const Tensor3 &b, int64_t k, int64_t n) {
  const int64_t width = SINTER_MATMUL_PACK_WIDTH;
  int64_t slivers = (n + width - 1) / width;
  std::vector<float> packed(slivers * k * width, 0.0f);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < k; ++i)
      packed[(j / width) * k * width + i * width + j % width] = b.at(0, i, j);
  return packed;
}

class PackedMatmulKernel
    : public ::testing::TestWithParam<std::array<int64_t, 3>> {};

TEST_P(PackedMatmulKernel, MatchesUnpacked) {
  auto [m, n, k] = GetParam();
  std::mt19937 rng(m * 7 + n * 13 + k);
  Tensor3 a(1, m, k), b(1, k, n), packedOut(1, m, n), plainOut(1, m, n);
  a.fill(rng, 1.0f);
  b.fill(rng, 1.0f / std::sqrt(float(k)));
  std::vector<float> packed = packB(b, k, n);
  int64_t slivers = (n + SINTER_MATMUL_PACK_WIDTH - 1) / SINTER_MATMUL_PACK_WIDTH;
  sinter_memref3_f32 packedView = {
      packed.data(), packed.data(), 0,
      {1, slivers, k * SINTER_MATMUL_PACK_WIDTH},
      {slivers * k * SINTER_MATMUL_PACK_WIDTH, k * SINTER_MATMUL_PACK_WIDTH,
       1}};
  sinter_memref1_f32 none = {nullptr, nullptr, 0, {0}, {1}};
  _mlir_ciface_sinter_matmul_f32(&a.view, &packedView, &none,
                                 &packedOut.view, SINTER_MATMUL_PACKED_B);
  _mlir_ciface_sinter_matmul_f32(&a.view, &b.view, &none, &plainOut.view, 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      ASSERT_NEAR(packedOut.at(0, i, j), plainOut.at(0, i, j),
                  1e-5 + 1e-5 * std::fabs(plainOut.at(0, i, j)))
          << "row " << i << " column " << j;
}

// The streaming path (1 to 3 rows), and the packed path across its blocks.
INSTANTIATE_TEST_SUITE_P(
    Shapes, PackedMatmulKernel,
    ::testing::Values(std::array<int64_t, 3>{1, 77, 260},
                      std::array<int64_t, 3>{3, 16, 5},
                      std::array<int64_t, 3>{6, 33, 257},
                      std::array<int64_t, 3>{80, 530, 300},
                      std::array<int64_t, 3>{25, 70, 1030},
                      // On AVX-512 a compile-time packed B takes depth
                      // blocks of up to 1024: one of 900 over two blocks of
                      // A rows, and three of 700.
                      std::array<int64_t, 3>{150, 40, 900},
                      std::array<int64_t, 3>{130, 50, 2100},
                      // Last register blocks of 8 and of 5 rows (the
                      // AVX-512 route multiplies 8 of 12, not all 12), with
                      // a single sliver after the pairs.
                      std::array<int64_t, 3>{128, 48, 64},
                      std::array<int64_t, 3>{197, 80, 300}));

TEST(MatmulKernelEdges, EmptyDepthGivesTheBias) {
  Tensor3 a(1, 5, 0), b(1, 0, 7), out(1, 5, 7);
  std::vector<float> bias = {1, 2, 3, 4, 5, 6, 7};
  sinter_memref1_f32 biasView = {bias.data(), bias.data(), 0, {7}, {1}};
  _mlir_ciface_sinter_matmul_f32(&a.view, &b.view, &biasView, &out.view,
                                 SINTER_MATMUL_HAS_BIAS);
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 7; ++j)
      EXPECT_EQ(out.at(0, i, j), bias[j]);
}

TEST(MatmulKernelEdges, EmptyResultWritesNothing) {
  Tensor3 a(1, 0, 8), b(1, 8, 4), out(1, 0, 4);
  sinter_memref1_f32 none = {nullptr, nullptr, 0, {0}, {1}};
  _mlir_ciface_sinter_matmul_f32(&a.view, &b.view, &none, &out.view, 0);
  Tensor3 a2(1, 3, 8), b2(1, 8, 0), out2(1, 3, 0);
  _mlir_ciface_sinter_matmul_f32(&a2.view, &b2.view, &none, &out2.view, 0);
}

// Large products whose B is packed at run time take their blocks from
// heap scratch kept between calls (AVX-512): callers running at once must
// each get scratch of their own. Four threads multiply different matrices
// at the same time, several times over, and must get what one caller alone
// gets.
TEST(MatmulKernelEdges, ConcurrentCallersKeepTheirOwnScratch) {
  constexpr int kCallers = 4, kRepeats = 3;
  constexpr int64_t m = 150, n = 300, k = 400; // 18M multiply-adds
  std::vector<Tensor3> as, bs, expected, outs;
  sinter_memref1_f32 none = {nullptr, nullptr, 0, {0}, {1}};
  for (int c = 0; c < kCallers; ++c) {
    std::mt19937 rng(c + 1);
    as.emplace_back(1, m, k);
    bs.emplace_back(1, k, n);
    as.back().fill(rng, 1.0f);
    bs.back().fill(rng, 0.05f);
    expected.emplace_back(1, m, n);
    outs.emplace_back(1, m, n);
  }
  for (int c = 0; c < kCallers; ++c)
    _mlir_ciface_sinter_matmul_f32(&as[c].view, &bs[c].view, &none,
                                   &expected[c].view, 0);
  std::vector<std::thread> callers;
  std::vector<int> mismatches(kCallers, 0);
  for (int c = 0; c < kCallers; ++c)
    callers.emplace_back([&, c] {
      for (int r = 0; r < kRepeats; ++r) {
        _mlir_ciface_sinter_matmul_f32(&as[c].view, &bs[c].view, &none,
                                       &outs[c].view, 0);
        for (size_t e = 0; e < outs[c].data.size(); ++e)
          mismatches[c] += outs[c].data[e] != expected[c].data[e];
      }
    });
  for (std::thread &t : callers)
    t.join();
  for (int c = 0; c < kCallers; ++c)
    EXPECT_EQ(mismatches[c], 0) << "caller " << c;
}

} // namespace
