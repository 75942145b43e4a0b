//===- NormKernelTest.cpp - The runtime's layer/RMS norm kernel -----------===//
//
// The kernel behind sinter.layer_norm, sinter.rms_norm and sinter.add_norm,
// called as generated code calls it (strided descriptors), against a double
// precision reference: every flag combination, row lengths around the
// vector widths, and views that are not contiguous (a transposed matrix,
// every other weight), which take the kernel's strided path. Every buffer
// has its exact size, so the sanitizer build catches any access outside it.
//
//===----------------------------------------------------------------------===//

#include "sinter/kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <vector>

namespace {

/// A rows x cols f32 matrix stored row-major, or column-major when
/// `transposed` (so that the inner stride is not 1).
struct Matrix {
  std::vector<float> data;
  sinter_memref2_f32 view;
  Matrix(int64_t rows, int64_t cols, bool transposed = false)
      : data(rows * cols) {
    view = {data.data(), data.data(), 0, {rows, cols}, {cols, 1}};
    if (transposed) {
      view.strides[0] = 1;
      view.strides[1] = rows;
    }
  }
  float &at(int64_t i, int64_t j) {
    return data[i * view.strides[0] + j * view.strides[1]];
  }
};

/// `n` f32 values, every `stride`-th of a buffer.
struct Vector {
  std::vector<float> data;
  sinter_memref1_f32 view;
  Vector(int64_t n, int64_t stride = 1) : data(n * stride) {
    view = {data.data(), data.data(), 0, {n}, {stride}};
  }
  float &at(int64_t j) { return data[j * view.strides[0]]; }
};

struct Case {
  int64_t rows, cols;
  int32_t flags;
  bool strided;
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.rows << "x" << c.cols << " flags " << c.flags
      << (c.strided ? " strided" : "");
}

class NormKernel : public ::testing::TestWithParam<Case> {};

TEST_P(NormKernel, MatchesReference) {
  const Case c = GetParam();
  const bool rms = c.flags & SINTER_NORM_RMS,
             hasBias = c.flags & SINTER_NORM_HAS_BIAS,
             hasResidual = c.flags & SINTER_NORM_HAS_RESIDUAL;
  std::mt19937 rng(c.rows * 131 + c.cols);
  std::normal_distribution<float> normal(0.5f, 2.0f);
  Matrix x(c.rows, c.cols, c.strided), residual(c.rows, c.cols, c.strided),
      out(c.rows, c.cols, c.strided), sum(c.rows, c.cols);
  Vector scale(c.cols, c.strided ? 2 : 1), bias(c.cols);
  for (float &v : x.data)
    v = normal(rng);
  for (float &v : residual.data)
    v = normal(rng);
  for (float &v : scale.data)
    v = normal(rng);
  for (float &v : bias.data)
    v = normal(rng);
  const float epsilon = 1e-5f;
  _mlir_ciface_sinter_norm_f32(&x.view, &residual.view, &scale.view,
                               &bias.view, &out.view, &sum.view, epsilon,
                               c.flags);

  for (int64_t i = 0; i < c.rows; ++i) {
    std::vector<double> s(c.cols);
    double mean = 0, squares = 0;
    for (int64_t j = 0; j < c.cols; ++j) {
      s[j] = double(x.at(i, j)) + (hasResidual ? residual.at(i, j) : 0.0);
      mean += s[j] / c.cols;
    }
    if (rms)
      mean = 0;
    for (int64_t j = 0; j < c.cols; ++j)
      squares += (s[j] - mean) * (s[j] - mean) / c.cols;
    double inverse = 1 / std::sqrt(squares + epsilon);
    for (int64_t j = 0; j < c.cols; ++j) {
      if (hasResidual) {
        ASSERT_NEAR(sum.at(i, j), s[j], 1e-6 * (1 + std::fabs(s[j])))
            << "sum at row " << i << " column " << j;
      }
      double expected = (s[j] - mean) * inverse * scale.at(j) +
                        (hasBias ? bias.at(j) : 0.0);
      ASSERT_NEAR(out.at(i, j), expected, 1e-5 + 1e-5 * std::fabs(expected))
          << "row " << i << " column " << j;
    }
  }
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 7}, {5, 8}, {2, 17}, {4, 64}, {64, 768}, {3, 1030}})
    for (int32_t flags = 0; flags < 8; ++flags)
      if (!((flags & SINTER_NORM_RMS) && (flags & SINTER_NORM_HAS_BIAS)))
        for (bool strided : {false, true})
          all.push_back({rows, cols, flags, strided});
  return all;
}

INSTANTIATE_TEST_SUITE_P(Shapes, NormKernel, ::testing::ValuesIn(cases()));

TEST(NormKernelEdges, EmptyTensorsWriteNothing) {
  Matrix x(0, 16), out(0, 16);
  Vector scale(16);
  _mlir_ciface_sinter_norm_f32(&x.view, &x.view, &scale.view, &scale.view,
                               &out.view, &x.view, 1e-5f, 0);
  Matrix y(4, 0), yout(4, 0);
  Vector none(0);
  _mlir_ciface_sinter_norm_f32(&y.view, &y.view, &none.view, &none.view,
                               &yout.view, &y.view, 1e-5f, 0);
}

TEST(NormKernelEdges, ConstantRowsGiveTheBias) {
  // Zero variance: (x - mean) is 0 and epsilon keeps the scale finite.
  Matrix x(2, 32), out(2, 32);
  Vector scale(32), bias(32);
  for (float &v : x.data)
    v = 3.0f;
  for (int64_t j = 0; j < 32; ++j) {
    scale.at(j) = 2.0f;
    bias.at(j) = float(j);
  }
  _mlir_ciface_sinter_norm_f32(&x.view, &x.view, &scale.view, &bias.view,
                               &out.view, &x.view, 1e-5f,
                               SINTER_NORM_HAS_BIAS);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 32; ++j)
      EXPECT_EQ(out.at(i, j), float(j));
}

} // namespace
