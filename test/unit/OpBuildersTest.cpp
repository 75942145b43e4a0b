//===- OpBuildersTest.cpp - Building sinter ops from C++ ------------------===//
//
// Passes and importers build ops without writing result types; these tests
// check that inference gives the right types and that folding through
// OpBuilder::createOrFold removes the ops that do nothing.
//
//===----------------------------------------------------------------------===//

#include "ir/SinterOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include "gtest/gtest.h"

using namespace mlir;

namespace {

class OpBuildersTest : public ::testing::Test {
protected:
  OpBuildersTest() : builder(&context) {
    context.loadDialect<sinter::SinterDialect, func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A function whose arguments have `types`; the builder inserts into it.
  func::FuncOp makeFunction(TypeRange types) {
    auto func = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                     builder.getFunctionType(types, {}));
    builder.setInsertionPointToEnd(func.addEntryBlock());
    return func;
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(OpBuildersTest, MatmulInfersBroadcastBatch) {
  auto func = makeFunction({tensor({2, 1, 8, 16}), tensor({4, 16, 32})});
  auto matmul =
      sinter::MatmulOp::create(builder, builder.getUnknownLoc(),
                               func.getArgument(0), func.getArgument(1));
  EXPECT_EQ(matmul.getType(), tensor({2, 4, 8, 32}));
}

TEST_F(OpBuildersTest, MatmulVectorOperandsDropPromotedDims) {
  auto func = makeFunction({tensor({16}), tensor({3, 16, 5})});
  auto matmul =
      sinter::MatmulOp::create(builder, builder.getUnknownLoc(),
                               func.getArgument(0), func.getArgument(1));
  EXPECT_EQ(matmul.getType(), tensor({3, 5}));
}

TEST_F(OpBuildersTest, CompareYieldsBool) {
  auto func = makeFunction({tensor({4, 1}), tensor({1, 3})});
  auto less = sinter::LessOp::create(builder, builder.getUnknownLoc(),
                                     func.getArgument(0), func.getArgument(1));
  EXPECT_EQ(less.getType(),
            RankedTensorType::get({4, 3}, builder.getIntegerType(1)));
}

TEST_F(OpBuildersTest, TransposeOfTransposeFolds) {
  auto func = makeFunction({tensor({2, 3, 4})});
  Location loc = builder.getUnknownLoc();
  Value once = sinter::TransposeOp::create(builder, loc, func.getArgument(0),
                                           ArrayRef<int64_t>{1, 2, 0});
  Value back = builder.createOrFold<sinter::TransposeOp>(
      loc, once, ArrayRef<int64_t>{2, 0, 1});
  EXPECT_EQ(back, func.getArgument(0));
}

TEST_F(OpBuildersTest, ReshapeWithDynamicSize) {
  auto func = makeFunction({tensor({1, ShapedType::kDynamic, 64})});
  Location loc = builder.getUnknownLoc();
  Value input = func.getArgument(0);
  Value n = tensor::DimOp::create(builder, loc, input, 1);
  auto reshape = sinter::ReshapeOp::create(
      builder, loc, input, ValueRange{n},
      ArrayRef<int64_t>{1, ShapedType::kDynamic, 4, 16});
  EXPECT_EQ(reshape.getType(), tensor({1, ShapedType::kDynamic, 4, 16}));
  func::ReturnOp::create(builder, loc);
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(OpBuildersTest, AttentionGroupedQueryHeads) {
  auto func = makeFunction(
      {tensor({1, 8, 32, 16}), tensor({1, 2, 40, 16}), tensor({1, 2, 40, 24})});
  auto attention = sinter::AttentionOp::create(
      builder, builder.getUnknownLoc(), func.getArgument(0),
      func.getArgument(1), func.getArgument(2), /*mask=*/Value(),
      llvm::APFloat(0.25f), /*causal=*/true);
  EXPECT_EQ(attention.getType(), tensor({1, 8, 32, 24}));
}

TEST_F(OpBuildersTest, AddOfZeroSplatFolds) {
  auto func = makeFunction({tensor({4})});
  Location loc = builder.getUnknownLoc();
  Value zero = sinter::ConstantOp::create(
      builder, loc, DenseElementsAttr::get(tensor({4}), 0.0f));
  Value sum =
      builder.createOrFold<sinter::AddOp>(loc, func.getArgument(0), zero);
  EXPECT_EQ(sum, func.getArgument(0));
}

TEST_F(OpBuildersTest, ConstantArithmeticFolds) {
  makeFunction({});
  Location loc = builder.getUnknownLoc();
  auto type = RankedTensorType::get({2}, builder.getI64Type());
  Value a = sinter::ConstantOp::create(
      builder, loc, DenseElementsAttr::get(type, ArrayRef<int64_t>{3, 5}));
  Value b = sinter::ConstantOp::create(
      builder, loc, DenseElementsAttr::get(type, ArrayRef<int64_t>{4, 6}));
  Value product = builder.createOrFold<sinter::MulOp>(loc, a, b);
  auto constant = product.getDefiningOp<sinter::ConstantOp>();
  ASSERT_TRUE(constant);
  auto values = cast<DenseElementsAttr>(constant.getValue());
  EXPECT_EQ(llvm::to_vector(values.getValues<int64_t>()),
            (SmallVector<int64_t>{12, 30}));
}

} // namespace
