//===- AttentionKernelTest.cpp - The runtime's flash-attention kernel -----===//
//
// The kernel behind sinter.attention, called as generated code calls it
// (strided rank-4 descriptors), on shapes that exercise its edges: partial
// query, key and head-size tiles, grouped-query heads, causal masks aligned
// to the end, broadcast masks, fully masked rows, and views whose strides
// are not the contiguous ones. Every buffer has its exact size, so the
// sanitizer build catches any read or write outside it.
//
//===----------------------------------------------------------------------===//

#include "sinter/kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <vector>

namespace {

/// A rank-4 f32 tensor with a descriptor over it; `order` permutes the
/// storage so that the view is not contiguous (the last dimension stays
/// innermost, as the kernel requires).
struct Tensor4 {
  std::vector<float> data;
  sinter_memref4_f32 view;

  Tensor4(std::array<int64_t, 4> sizes, bool transposed = false) {
    data.resize(sizes[0] * sizes[1] * sizes[2] * sizes[3]);
    view = {data.data(), data.data(), 0, {}, {}};
    for (int i = 0; i < 4; ++i)
      view.sizes[i] = sizes[i];
    // Contiguous, or stored as [B, S, H, D] (heads and sequence swapped).
    int64_t b = sizes[0], h = sizes[1], s = sizes[2], d = sizes[3];
    if (transposed) {
      view.strides[0] = s * h * d;
      view.strides[1] = d;
      view.strides[2] = h * d;
    } else {
      view.strides[0] = h * s * d;
      view.strides[1] = s * d;
      view.strides[2] = d;
    }
    view.strides[3] = 1;
    (void)b;
  }
  float &at(int64_t b, int64_t h, int64_t i, int64_t e) {
    return data[b * view.strides[0] + h * view.strides[1] +
                i * view.strides[2] + e * view.strides[3]];
  }
  void fill(std::mt19937 &rng) {
    std::normal_distribution<float> normal;
    for (float &x : data)
      x = normal(rng);
  }
};

struct Case {
  int64_t batch, heads, kvHeads, sq, sk, d, dv;
  bool causal, mask, transposed;
};

/// softmax(scale q k^T + mask) v in double, zeros for rows with every key
/// hidden.
double expected(Tensor4 &q, Tensor4 &k, Tensor4 &v, Tensor4 *mask,
                const Case &c, float scale, int64_t b, int64_t h, int64_t i,
                int64_t e) {
  int64_t kvh = h / (c.heads / c.kvHeads);
  std::vector<double> s(c.sk, -INFINITY);
  double top = -INFINITY;
  for (int64_t j = 0; j < c.sk; ++j) {
    if (c.causal && j > i + (c.sk - c.sq))
      continue;
    double dot = 0;
    for (int64_t x = 0; x < c.d; ++x)
      dot += (double)q.at(b, h, i, x) * k.at(b, kvh, j, x);
    s[j] = dot * scale + (mask ? mask->at(0, 0, i, j) : 0.0);
    top = std::max(top, s[j]);
  }
  if (top == -INFINITY)
    return 0.0;
  double sum = 0, out = 0;
  for (int64_t j = 0; j < c.sk; ++j) {
    double p = std::exp(s[j] - top);
    sum += p;
    out += p * v.at(b, kvh, j, e);
  }
  return out / sum;
}

void check(const Case &c) {
  std::mt19937 rng(42);
  Tensor4 q({c.batch, c.heads, c.sq, c.d}, c.transposed);
  Tensor4 k({c.batch, c.kvHeads, c.sk, c.d}, c.transposed);
  Tensor4 v({c.batch, c.kvHeads, c.sk, c.dv}, c.transposed);
  Tensor4 out({c.batch, c.heads, c.sq, c.dv});
  q.fill(rng);
  k.fill(rng);
  v.fill(rng);
  // One mask for every batch and head: [1, 1, Sq, Sk], the first row and
  // every fifth key hidden.
  Tensor4 mask({1, 1, c.sq, c.sk});
  for (int64_t i = 0; i < c.sq; ++i)
    for (int64_t j = 0; j < c.sk; ++j)
      mask.at(0, 0, i, j) = (i == 0 || j % 5 == 0) ? -INFINITY : 0.1f * (j % 3);
  float scale = 1.0f / std::sqrt((float)c.d);
  int32_t flags = (c.causal ? SINTER_ATTENTION_CAUSAL : 0) |
                  (c.mask ? SINTER_ATTENTION_HAS_MASK : 0);
  _mlir_ciface_sinter_attention_f32(&q.view, &k.view, &v.view,
                                    c.mask ? &mask.view : &q.view, &out.view,
                                    scale, flags);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.sq; ++i)
        for (int64_t e = 0; e < c.dv; ++e) {
          double want = expected(q, k, v, c.mask ? &mask : nullptr, c, scale,
                                 b, h, i, e);
          float got = out.at(b, h, i, e);
          ASSERT_FALSE(std::isnan(got)) << "b " << b << " h " << h << " i " << i;
          ASSERT_NEAR(got, want, 1e-5 + 1e-4 * std::abs(want))
              << "b " << b << " h " << h << " i " << i << " e " << e;
        }
}

TEST(AttentionKernelTest, PartialTilesEverywhere) {
  check({1, 2, 2, 37, 133, 20, 24, false, false, false});
}

TEST(AttentionKernelTest, OddHeadSizes) {
  // A head size that is no multiple of 4 (K^T copied a float at a time),
  // values one whole AVX-512 tile and a partial one wide.
  check({1, 3, 3, 45, 150, 18, 40, false, false, false});
}

TEST(AttentionKernelTest, GroupedQueryCausalDecoding) {
  // 6 query heads on 2 KV heads; 3 queries at the end of 300 keys.
  check({2, 6, 2, 3, 300, 64, 64, true, false, false});
}

TEST(AttentionKernelTest, CausalSquareAcrossBlocks) {
  check({1, 1, 1, 161, 161, 32, 16, true, false, false});
}

TEST(AttentionKernelTest, BroadcastMaskWithHiddenRows) {
  // Row 0 hides every key: zeros, not NaN.
  check({2, 2, 1, 40, 257, 16, 8, false, true, false});
}

TEST(AttentionKernelTest, StridedViews) {
  // Q, K, V stored as [B, S, H, D], read in place.
  check({1, 4, 4, 50, 70, 48, 48, true, true, true});
}

} // namespace
