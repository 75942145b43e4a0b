//===- Matchers.cpp - Matching exported subgraphs -------------------------===//

#include "passes/Matchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>

using namespace mlir;

namespace sinter {

namespace {

/// The elements attribute of a constant op (sinter or arith), or null.
ElementsAttr constantAttr(Value value) {
  if (!value)
    return nullptr;
  if (auto constant = value.getDefiningOp<ConstantOp>())
    return constant.getValue();
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    return dyn_cast<ElementsAttr>(constant.getValue());
  return nullptr;
}

double asDouble(Attribute element) {
  if (auto f = dyn_cast<FloatAttr>(element))
    return f.getValueAsDouble();
  auto i = cast<IntegerAttr>(element);
  if (i.getType().isUnsignedInteger() || i.getType().isInteger(1))
    return static_cast<double>(i.getValue().getZExtValue());
  return static_cast<double>(i.getValue().getSExtValue());
}

bool isSmallIntegerPower(double exponent) {
  return exponent >= 1 && exponent <= 4 && exponent == std::floor(exponent);
}

void collectFactors(Value value, Value root, Product &product) {
  Operation *op = value.getDefiningOp();
  bool expandable = op && (value == root || value.hasOneUse());
  if (expandable) {
    if (auto mul = dyn_cast<MulOp>(op)) {
      collectFactors(mul.getLhs(), root, product);
      collectFactors(mul.getRhs(), root, product);
      return;
    }
    if (auto div = dyn_cast<DivOp>(op)) {
      std::optional<double> divisor = getSplatValue(div.getRhs());
      if (divisor && *divisor != 0.0 && isScalarLike(div.getRhs(), root)) {
        product.coefficient /= *divisor;
        collectFactors(div.getLhs(), root, product);
        return;
      }
    }
    if (auto neg = dyn_cast<NegOp>(op)) {
      product.coefficient = -product.coefficient;
      collectFactors(neg.getInput(), root, product);
      return;
    }
    if (auto pow = dyn_cast<PowOp>(op)) {
      std::optional<double> exponent = getSplatValue(pow.getRhs());
      if (exponent && isSmallIntegerPower(*exponent) &&
          isScalarLike(pow.getRhs(), root) &&
          pow.getLhs().getType() == pow.getType()) {
        for (int i = 0; i < static_cast<int>(*exponent); ++i)
          collectFactors(pow.getLhs(), root, product);
        return;
      }
    }
  }
  if (std::optional<double> constant = getSplatValue(value);
      constant && isScalarLike(value, root)) {
    product.coefficient *= *constant;
    return;
  }
  product.factors.push_back(value);
}

} // namespace

std::optional<double> getSplatValue(Value value) {
  ElementsAttr attr = constantAttr(value);
  if (!attr || !isa<FloatType, IntegerType>(attr.getElementType()))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!dense.isSplat() && dense.getNumElements() != 1)
      return std::nullopt;
    return asDouble(*dense.value_begin<Attribute>());
  }
  if (attr.getNumElements() == 1) {
    std::optional<SmallVector<double>> elements = constantElements(value, 1);
    if (elements)
      return (*elements)[0];
  }
  return std::nullopt;
}

bool isSplatNear(Value value, double expected, double relTolerance) {
  std::optional<double> actual = getSplatValue(value);
  if (!actual)
    return false;
  double scale = std::max(std::abs(expected), 1e-30);
  return std::abs(*actual - expected) <= relTolerance * scale;
}

bool isScalarLike(Value value, Value like) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  auto likeType = dyn_cast<RankedTensorType>(like.getType());
  if (!type || !likeType || type.getRank() > likeType.getRank())
    return false;
  for (int64_t size : type.getShape())
    if (size != 1)
      return false;
  return true;
}

std::optional<SmallVector<Value>> Product::without(Value x, int times) const {
  SmallVector<Value> rest;
  int found = 0;
  for (Value factor : factors) {
    if (factor == x)
      ++found;
    else
      rest.push_back(factor);
  }
  if (found != times)
    return std::nullopt;
  return rest;
}

Product flattenProduct(Value root) {
  Product product;
  collectFactors(root, root, product);
  return product;
}

std::array<std::pair<Value, Value>, 2> bothOrders(Operation *op) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  return {std::pair(lhs, rhs), std::pair(rhs, lhs)};
}

Value otherOperand(Operation *op, Value known) {
  if (!op || op->getNumOperands() != 2)
    return nullptr;
  if (op->getOperand(0) == known)
    return op->getOperand(1);
  if (op->getOperand(1) == known)
    return op->getOperand(0);
  return nullptr;
}

Operation *singleUser(Value value) {
  if (!value || !value.hasOneUse())
    return nullptr;
  return *value.user_begin();
}

Value negated(Value value) {
  if (auto neg = value.getDefiningOp<NegOp>())
    return neg.getInput();
  if (auto mul = value.getDefiningOp<MulOp>()) {
    for (auto [x, scalar] : bothOrders(mul))
      if (isSplatNear(scalar, -1.0, 0.0) && isScalarLike(scalar, x) &&
          x.getType() == mul.getType())
        return x;
  }
  return nullptr;
}

std::optional<LastAxisRange> matchLastAxisRange(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return std::nullopt;
  if (auto slice = value.getDefiningOp<SliceOp>()) {
    RankedTensorType input = slice.getInput().getType();
    int64_t rank = input.getRank(), size = input.getShape().back();
    if (ShapedType::isDynamic(size))
      return std::nullopt;
    ArrayRef<int64_t> starts = slice.getStarts(), ends = slice.getEnds(),
                      steps = slice.getSteps();
    // Every other dimension whole: its result size equals the input's.
    for (int64_t i = 0; i + 1 < rank; ++i)
      if (steps[i] != 1 || starts[i] != 0 ||
          input.getDimSize(i) != type.getDimSize(i))
        return std::nullopt;
    int64_t step = steps.back();
    if (step <= 0)
      return std::nullopt;
    auto clamp = [&](int64_t bound) {
      if (bound < 0)
        bound += size;
      return std::clamp<int64_t>(bound, 0, size);
    };
    int64_t begin = clamp(starts.back()), end = clamp(ends.back());
    if (end <= begin)
      return std::nullopt;
    return LastAxisRange{slice.getInput(), begin, end, step};
  }
  if (auto split = value.getDefiningOp<SplitOp>()) {
    RankedTensorType input = split.getInput().getType();
    int64_t rank = input.getRank(), axis = split.getAxis();
    if (axis < 0)
      axis += rank;
    if (axis != rank - 1)
      return std::nullopt;
    int64_t index = cast<OpResult>(value).getResultNumber(), begin = 0;
    ArrayRef<int64_t> sizes = split.getSizes();
    for (int64_t i = 0; i < index; ++i)
      begin += sizes[i];
    if (llvm::any_of(sizes.take_front(index + 1), ShapedType::isDynamic))
      return std::nullopt;
    return LastAxisRange{split.getInput(), begin, begin + sizes[index], 1};
  }
  return std::nullopt;
}

Value stripReshapes(Value value) {
  while (true) {
    if (auto reshape = value.getDefiningOp<ReshapeOp>()) {
      value = reshape.getInput();
      continue;
    }
    if (auto expand = value.getDefiningOp<ExpandOp>();
        expand && expand.getInput().getType() == expand.getType()) {
      value = expand.getInput();
      continue;
    }
    return value;
  }
}

std::optional<SmallVector<int64_t>> dropLeadingOnes(ArrayRef<int64_t> shape,
                                                    int64_t rank) {
  if (static_cast<int64_t>(shape.size()) < rank)
    return std::nullopt;
  int64_t drop = shape.size() - rank;
  for (int64_t size : shape.take_front(drop))
    if (size != 1)
      return std::nullopt;
  return llvm::to_vector(shape.drop_front(drop));
}

Value reshapeTo(PatternRewriter &rewriter, Location loc, Value value,
                ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == shape)
    return value;
  return ReshapeOp::create(rewriter, loc,
                           RankedTensorType::get(shape, type.getElementType()),
                           value, ValueRange(), shape);
}

Value splatConstant(PatternRewriter &rewriter, Location loc,
                    RankedTensorType type, double value) {
  auto elementType = cast<FloatType>(type.getElementType());
  auto attr = DenseElementsAttr::get(
      type, rewriter.getFloatAttr(elementType, value).getValue());
  return ConstantOp::create(rewriter, loc, cast<ElementsAttr>(attr));
}

std::optional<ArrayRef<char>> resourceBytes(ElementsAttr attr) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return std::nullopt;
  const AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  return blob->getData();
}

std::optional<SmallVector<double>> constantElements(Value value,
                                                    int64_t maxElements) {
  ElementsAttr attr = constantAttr(value);
  if (!attr || attr.getNumElements() > maxElements)
    return std::nullopt;
  Type elementType = attr.getElementType();
  SmallVector<double> elements;
  elements.reserve(attr.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!isa<FloatType, IntegerType>(elementType))
      return std::nullopt;
    for (Attribute element : dense.getValues<Attribute>())
      elements.push_back(asDouble(element));
    return elements;
  }
  std::optional<ArrayRef<char>> blob = resourceBytes(attr);
  if (!blob)
    return std::nullopt;
  ArrayRef<char> bytes = *blob;
  int64_t count = attr.getNumElements();
  auto read = [&](auto zero) -> bool {
    using T = decltype(zero);
    if (static_cast<int64_t>(bytes.size()) != count * int64_t(sizeof(T)))
      return false;
    for (int64_t i = 0; i < count; ++i) {
      T element;
      std::memcpy(&element, bytes.data() + i * sizeof(T), sizeof(T));
      elements.push_back(static_cast<double>(element));
    }
    return true;
  };
  bool ok = elementType.isF32()         ? read(float())
            : elementType.isF64()       ? read(double())
            : elementType.isInteger(64) ? read(int64_t())
            : elementType.isInteger(32) ? read(int32_t())
            : elementType.isInteger(8) || elementType.isInteger(1)
                ? read(int8_t())
                : false;
  if (!ok)
    return std::nullopt;
  return elements;
}

void applyFusionPatterns(Operation *root, RewritePatternSet &&patterns) {
  (void)applyPatternsGreedily(root, std::move(patterns));
}

} // namespace sinter
