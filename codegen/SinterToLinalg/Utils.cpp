//===- Utils.cpp - Building blocks of the sinter to linalg lowering -------===//

#include "codegen/SinterToLinalg/Utils.h"

#include "codegen/BufferPlacement.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cstring>

using namespace mlir;

namespace sinter::linalg_lowering {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// tensor.dim of `value`, or null when the dimension is static.
Value dynamicDim(OpBuilder &b, Location loc, Value value, int64_t dim) {
  if (!tensorType(value).isDynamicDim(dim))
    return Value();
  return tensor::DimOp::create(b, loc, value, dim);
}

/// The sizes of `type`'s dynamic dimensions, read from `value` (of the
/// same rank), for emptyTensor.
SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc,
                                RankedTensorType type, Value value) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, value, d));
  return sizes;
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynamicSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

/// The dynamic sizes of a result that broadcasts `operands` (numpy rules,
/// aligned at the right): each from an operand dynamic in that dimension.
SmallVector<Value> broadcastSizes(OpBuilder &b, Location loc,
                                  RankedTensorType result,
                                  ValueRange operands) {
  SmallVector<Value> sizes;
  int64_t rank = result.getRank();
  for (int64_t d = 0; d < rank; ++d) {
    if (!result.isDynamicDim(d))
      continue;
    for (Value operand : operands) {
      int64_t i = d - (rank - tensorType(operand).getRank());
      if (i >= 0 && tensorType(operand).isDynamicDim(i)) {
        sizes.push_back(tensor::DimOp::create(b, loc, operand, i));
        break;
      }
    }
  }
  return sizes;
}

/// The map from the iteration space of `result` to a broadcast operand:
/// static size-1 dimensions read index 0.
AffineMap broadcastMap(RankedTensorType operand, RankedTensorType result) {
  MLIRContext *context = operand.getContext();
  int64_t rank = result.getRank(), offset = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    bool broadcast =
        operand.getDimSize(i) == 1 && result.getDimSize(i + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, context)
                              : getAffineDimExpr(i + offset, context));
  }
  return AffineMap::get(rank, 0, exprs, context);
}

/// A linalg.generic that computes `body` on the broadcast elements of
/// `operands` into a new tensor of `resultType`.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange operands, BodyFn body, ValueRange dynamicSizes) {
  SmallVector<Value> sizes(dynamicSizes);
  if (sizes.empty())
    sizes = broadcastSizes(b, loc, resultType, operands);
  Value init = emptyTensor(b, loc, resultType, sizes);
  SmallVector<AffineMap> maps;
  for (Value operand : operands)
    maps.push_back(broadcastMap(tensorType(operand), resultType));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, operands, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value value = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, value);
      });
  return generic.getResult(0);
}

Value scalar(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

/// The value every element of a reduction starts from.
Value reductionInit(OpBuilder &b, Location loc, Type type, bool max, bool min) {
  if (auto floatType = dyn_cast<FloatType>(type)) {
    if (max || min)
      return arith::ConstantOp::create(
          b, loc,
          b.getFloatAttr(type, APFloat::getInf(floatType.getFloatSemantics(),
                                               /*Negative=*/max)));
    return scalar(b, loc, type, 0.0);
  }
  unsigned width = type.getIntOrFloatBitWidth();
  if (max)
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(type, APInt::getSignedMinValue(width)));
  if (min)
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(type, APInt::getSignedMaxValue(width)));
  return scalar(b, loc, type, 0.0);
}

Value combine(OpBuilder &b, Location loc, Combine kind, Value acc, Value x) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case Combine::Sum:
    return isFloat ? Value(arith::AddFOp::create(b, loc, acc, x))
                   : Value(arith::AddIOp::create(b, loc, acc, x));
  case Combine::Max:
    return isFloat ? Value(arith::MaximumFOp::create(b, loc, acc, x))
                   : Value(arith::MaxSIOp::create(b, loc, acc, x));
  case Combine::Min:
    return isFloat ? Value(arith::MinimumFOp::create(b, loc, acc, x))
                   : Value(arith::MinSIOp::create(b, loc, acc, x));
  case Combine::Prod:
    return isFloat ? Value(arith::MulFOp::create(b, loc, acc, x))
                   : Value(arith::MulIOp::create(b, loc, acc, x));
  }
  llvm_unreachable("unknown reduction");
}

/// A contraction generic: `maps` over `loops` dimensions whose last
/// `reductions` are reduced; accumulates lhs * rhs into `init`.
Value contraction(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init,
                  ArrayRef<AffineMap> maps, int64_t loops, int64_t reductions) {
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  for (int64_t i = loops - reductions; i < loops; ++i)
    iterators[i] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{lhs, rhs}, init, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value product =
            isa<FloatType>(args[0].getType())
                ? Value(arith::MulFOp::create(nb, l, args[0], args[1]))
                : Value(arith::MulIOp::create(nb, l, args[0], args[1]));
        linalg::YieldOp::create(nb, l,
                                combine(nb, l, Combine::Sum, args[2], product));
      });
  return generic.getResult(0);
}

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type,
                 ValueRange sizes) {
  return linalg::FillOp::create(b, loc,
                                scalar(b, loc, type.getElementType(), 0.0),
                                emptyTensor(b, loc, type, sizes))
      .getResult(0);
}

/// Reduces `input` over `axes` (sorted) into a tensor that keeps them as
/// size-1 dimensions when `keepdims`.
Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
             bool keepdims, Combine kind) {
  RankedTensorType type = tensorType(input);
  MLIRContext *context = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<Value> sizes;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (reduced && !keepdims)
      continue;
    if (reduced) {
      shape.push_back(1);
      outExprs.push_back(getAffineConstantExpr(0, context));
      continue;
    }
    shape.push_back(type.getDimSize(d));
    if (Value size = dynamicDim(b, loc, input, d))
      sizes.push_back(size);
    outExprs.push_back(getAffineDimExpr(d, context));
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value init = linalg::FillOp::create(
                   b, loc,
                   kind == Combine::Prod
                       ? scalar(b, loc, type.getElementType(), 1.0)
                       : reductionInit(b, loc, type.getElementType(),
                                       kind == Combine::Max,
                                       kind == Combine::Min),
                   emptyTensor(b, loc, resultType, sizes))
                   .getResult(0);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(type.getRank()),
      AffineMap::get(type.getRank(), 0, outExprs, context)};
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, input, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(
            nested, nestedLoc,
            combine(nested, nestedLoc, kind, args[1], args[0]));
      });
  return generic.getResult(0);
}

/// The number of elements of `input` over `axes`, as a scalar of `type`.
Value countOver(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
                Type type) {
  int64_t staticCount = 1;
  SmallVector<Value> dynamicSizes;
  for (int64_t axis : axes) {
    if (Value size = dynamicDim(b, loc, input, axis))
      dynamicSizes.push_back(size);
    else
      staticCount *= tensorType(input).getDimSize(axis);
  }
  if (dynamicSizes.empty())
    return scalar(b, loc, type, static_cast<double>(staticCount));
  Value count = arith::ConstantIndexOp::create(b, loc, staticCount);
  for (Value size : dynamicSizes)
    count = arith::MulIOp::create(b, loc, count, size);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  if (isa<FloatType>(type))
    return arith::SIToFPOp::create(b, loc, type, asInt);
  return arith::TruncIOp::create(b, loc, type, asInt);
}

/// `tensor` divided elementwise by a scalar.
Value divideByScalar(OpBuilder &b, Location loc, Value tensor, Value divisor) {
  RankedTensorType type = tensorType(tensor);
  return elementwise(b, loc, type, tensor,
                     [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       if (isa<FloatType>(type.getElementType()))
                         return arith::DivFOp::create(nb, l, args[0], divisor);
                       return arith::DivSIOp::create(nb, l, args[0], divisor);
                     });
}

Value mean(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
           bool keepdims) {
  Value sum = reduce(b, loc, input, axes, keepdims, Combine::Sum);
  return divideByScalar(
      b, loc, sum,
      countOver(b, loc, input, axes, tensorType(input).getElementType()));
}

/// Softmax (or log-softmax) along `axis`, stable: exp(x - max) / sum.
Value softmax(OpBuilder &b, Location loc, Value input, int64_t axis,
              bool logarithm) {
  RankedTensorType type = tensorType(input);
  Value max = reduce(b, loc, input, {axis}, true, Combine::Max);
  Value shifted =
      elementwise(b, loc, type, {input, max},
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return arith::SubFOp::create(nb, l, args[0], args[1]);
                  });
  Value exps =
      elementwise(b, loc, type, shifted,
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return math::ExpOp::create(nb, l, args[0]);
                  });
  Value sum = reduce(b, loc, exps, {axis}, true, Combine::Sum);
  if (logarithm)
    return elementwise(b, loc, type, {shifted, sum},
                       [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                         Value log = math::LogOp::create(nb, l, args[1]);
                         return arith::SubFOp::create(nb, l, args[0], log);
                       });
  return elementwise(b, loc, type, {exps, sum},
                     [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       return arith::DivFOp::create(nb, l, args[0], args[1]);
                     });
}

bool isUnsignedInt(Type type) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.isUnsigned();
}

/// arith works on signless integers: unsigned ones cross over with a cast
/// that the LLVM lowering removes (both are plain iN there).
Value toSignless(OpBuilder &b, Location loc, Value value) {
  if (!isUnsignedInt(value.getType()))
    return value;
  Type signless = b.getIntegerType(value.getType().getIntOrFloatBitWidth());
  return UnrealizedConversionCastOp::create(b, loc, signless, value)
      .getResult(0);
}

Value fromSignless(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return UnrealizedConversionCastOp::create(b, loc, type, value).getResult(0);
}

/// The scalar computation of an elementwise sinter op, or null when its
/// element type is not handled. `args` are signless; `unsignedInts` says

/// Unsigned integer tensors need their signedness carried into arith's
/// signless ops; not lowered yet.
bool hasUnsignedElements(Operation *op) {
  auto isUnsigned = [](Type type) {
    auto integer = dyn_cast<IntegerType>(getElementTypeOrSelf(type));
    return integer && integer.isUnsigned();
  };
  return llvm::any_of(op->getOperandTypes(), isUnsigned) ||
         llvm::any_of(op->getResultTypes(), isUnsigned);
}

/// The f32 elements of a constant (dense, splat or resource).
std::optional<std::vector<float>> f32Elements(Value value) {
  Attribute attr;
  if (auto constant = value.getDefiningOp<ConstantOp>())
    attr = constant.getValue();
  else if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    attr = constant.getValue();
  auto elements = dyn_cast_if_present<ElementsAttr>(attr);
  if (!elements || !elements.getElementType().isF32())
    return std::nullopt;
  int64_t count = elements.getNumElements();
  FailureOr<std::vector<char>> bytes =
      elementBytes(elements, count * int64_t(sizeof(float)));
  if (failed(bytes))
    return std::nullopt;
  std::vector<float> values(count);
  std::memcpy(values.data(), bytes->data(), bytes->size());
  return values;
}

/// The elements attribute of a constant (sinter or arith), or null.
ElementsAttr constantElements(Value value) {
  Attribute attr;
  if (auto constant = value.getDefiningOp<ConstantOp>())
    attr = constant.getValue();
  else if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    attr = constant.getValue();
  return dyn_cast_if_present<ElementsAttr>(attr);
}

/// The values of an integer constant with its element type's signedness.
std::optional<std::vector<int64_t>> integerElements(Value value) {
  ElementsAttr elements = constantElements(value);
  auto type = elements ? dyn_cast<IntegerType>(elements.getElementType())
                       : IntegerType();
  if (!type)
    return std::nullopt;
  std::vector<int64_t> values;
  values.reserve(elements.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(elements)) {
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(type.isUnsigned() ? int64_t(v.getZExtValue())
                                         : v.getSExtValue());
    return values;
  }
  if (type.getWidth() != 8)
    return std::nullopt;
  FailureOr<std::vector<char>> bytes =
      elementBytes(elements, elements.getNumElements());
  if (failed(bytes))
    return std::nullopt;
  for (char byte : *bytes)
    values.push_back(type.isUnsigned() ? int64_t(uint8_t(byte))
                                       : int64_t(int8_t(byte)));
  return values;
}

/// The values of a float constant (any float type), as floats.
std::optional<std::vector<float>> floatElements(Value value) {
  ElementsAttr elements = constantElements(value);
  if (!elements || !isa<FloatType>(elements.getElementType()))
    return std::nullopt;
  if (elements.getElementType().isF32())
    return f32Elements(value);
  auto dense = dyn_cast<DenseElementsAttr>(elements);
  if (!dense)
    return std::nullopt;
  std::vector<float> values;
  values.reserve(dense.getNumElements());
  for (APFloat v : dense.getValues<APFloat>()) {
    bool lost;
    v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
    values.push_back(v.convertToFloat());
  }
  return values;
}

/// The dynamic sizes of attention's result B x Hq x Sq x Dv: the first
/// three are the query's, the last the value's.
SmallVector<Value> attentionResultSizes(OpBuilder &b, Location loc,
                                        AttentionOp op) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < 4; ++i)
    if (Value size =
            dynamicDim(b, loc, i == 3 ? op.getValue() : op.getQuery(), i))
      sizes.push_back(size);
  return sizes;
}

/// attention, unfused: scores = Q K^T (grouped-query heads read key/value
/// head h / group through the indexing maps, no copies), scaled, masked,

/// conv's input with its pads applied (zeros), or the input itself.
Value paddedConvInput(OpBuilder &rewriter, Location loc, ConvOp op) {
  RankedTensorType input = op.getInput().getType();
  int64_t spatial = input.getRank() - 2;
  Type elementType = input.getElementType();
  ArrayRef<int64_t> pads = op.getPads();
  Value padded = op.getInput();
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
    SmallVector<OpFoldResult> low(2, rewriter.getIndexAttr(0)),
        high(2, rewriter.getIndexAttr(0));
    SmallVector<int64_t> shape(input.getShape());
    for (int64_t i = 0; i < spatial; ++i) {
      low.push_back(rewriter.getIndexAttr(pads[i]));
      high.push_back(rewriter.getIndexAttr(pads[spatial + i]));
      shape[2 + i] += pads[i] + pads[spatial + i];
    }
    padded = tensor::PadOp::create(
        rewriter, loc, RankedTensorType::get(shape, elementType), op.getInput(),
        low, high, scalar(rewriter, loc, elementType, 0.0));
  }
  return padded;
}

Value channelBiasOrZeros(OpBuilder &rewriter, Location loc,
                         RankedTensorType result, Value bias,
                         ValueRange sizes) {
  if (!bias)
    return zeroFilled(rewriter, loc, result, sizes);
  // The bias as 1 x M x 1 x ..., broadcast into the accumulator.
  SmallVector<int64_t> shape(result.getRank(), 1);
  shape[1] = result.getDimSize(1);
  Value reshaped = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get(shape, result.getElementType()),
      bias,
      SmallVector<ReassociationIndices>{
          llvm::to_vector(llvm::seq<int64_t>(0, result.getRank()))});
  return elementwise(
      rewriter, loc, result, reshaped,
      [](OpBuilder &, Location, ValueRange args) { return args[0]; }, sizes);
}

/// f32 conv with one group as a GEMM on the runtime's matmul kernel: the
/// padded input's windows laid out as rows (im2col: [N, output positions,
/// C x window]), times the weight read as [M, C x window] transposed, with
/// the bias as the kernel's starting value; then [N, positions, M] back to
/// N x M x spatial. The copy of the windows costs window-size times the
} // namespace sinter::linalg_lowering
