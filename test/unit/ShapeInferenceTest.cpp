//===- ShapeInferenceTest.cpp - Shape rules shared by sinter ops ----------===//

#include "ir/ShapeInference.h"

#include "gtest/gtest.h"

#include <limits>

using mlir::ShapedType;
using sinter::broadcastShapes;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(BroadcastShapes, NumpyRules) {
  auto shape = broadcastShapes({{2, 1, 8}, {4, 1}});
  ASSERT_TRUE(shape);
  EXPECT_EQ(*shape, (llvm::SmallVector<int64_t>{2, 4, 8}));
}

TEST(BroadcastShapes, ScalarBroadcastsToAnything) {
  auto shape = broadcastShapes({{}, {3, 5}});
  ASSERT_TRUE(shape);
  EXPECT_EQ(*shape, (llvm::SmallVector<int64_t>{3, 5}));
}

TEST(BroadcastShapes, IncompatibleStaticSizes) {
  EXPECT_FALSE(broadcastShapes({{3, 4}, {5, 4}}));
}

TEST(BroadcastShapes, DynamicSizes) {
  // ? against N > 1 is N, ? against 1 or ? stays ?.
  auto shape = broadcastShapes({{kDyn, kDyn, 1}, {7, 1, kDyn}});
  ASSERT_TRUE(shape);
  EXPECT_EQ(*shape, (llvm::SmallVector<int64_t>{7, kDyn, kDyn}));
}

TEST(BroadcastShapes, ThreeOperands) {
  auto shape = broadcastShapes({{1, 1, 32, 32}, {1, 4, 32, 32}, {}});
  ASSERT_TRUE(shape);
  EXPECT_EQ(*shape, (llvm::SmallVector<int64_t>{1, 4, 32, 32}));
}

TEST(BroadcastsTo, NeverWidens) {
  EXPECT_TRUE(sinter::broadcastsTo({1, 32}, {2, 4, 16, 32}));
  EXPECT_TRUE(sinter::broadcastsTo({5}, {kDyn}));
  EXPECT_FALSE(sinter::broadcastsTo({2, 1}, {1, 8}));
  EXPECT_FALSE(sinter::broadcastsTo({1, 1, 1}, {1, 1}));
}

TEST(StaticElementCount, CountsAndOverflow) {
  EXPECT_EQ(sinter::staticElementCount({2, 3, 4}), 24);
  EXPECT_EQ(sinter::staticElementCount({}), 1);
  EXPECT_FALSE(sinter::staticElementCount({2, kDyn}));
  int64_t big = int64_t{1} << 40;
  EXPECT_FALSE(sinter::staticElementCount({big, big}));
}

TEST(SlicedDimSize, OnnxSemantics) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(sinter::slicedDimSize(10, 0, kMax, 1), 10);
  EXPECT_EQ(sinter::slicedDimSize(10, 2, 7, 2), 3); // 2, 4, 6
  EXPECT_EQ(sinter::slicedDimSize(10, -3, kMax, 1), 3);
  EXPECT_EQ(sinter::slicedDimSize(10, 7, 2, 1), 0);
  EXPECT_EQ(sinter::slicedDimSize(10, -1, kMin, -1), 10); // full reverse
  EXPECT_EQ(sinter::slicedDimSize(10, 8, 1, -3), 3);      // 8, 5, 2
  EXPECT_EQ(sinter::slicedDimSize(10, 20, 30, 1), 0);
  EXPECT_EQ(sinter::slicedDimSize(0, -1, kMin, -1), 0); // empty, reversed
}

TEST(ConvOutputSize, StridesPadsDilations) {
  EXPECT_EQ(sinter::convOutputSize(224, 16, 16, 0, 0, 1), 14);
  EXPECT_EQ(sinter::convOutputSize(32, 3, 1, 1, 1, 1), 32);
  EXPECT_EQ(sinter::convOutputSize(32, 3, 2, 1, 1, 2), 15);
  EXPECT_FALSE(sinter::convOutputSize(2, 5, 1, 0, 0, 1));
}

} // namespace
