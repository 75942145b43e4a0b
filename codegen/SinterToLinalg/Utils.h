//===- Utils.h - Building blocks of the linalg lowering ---------*- C++ -*-===//
//
// What the op families' patterns share: tensors and their dynamic sizes,
// the broadcasting elementwise generic, contractions and reductions, the
// readers of constants' elements, and the reads of a dequantized tensor's
// integers. The kernel lowering (codegen/Kernels/) uses them too.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_SINTERTOLINALG_UTILS_H
#define SINTER_CODEGEN_SINTERTOLINALG_UTILS_H

#include "ir/SinterOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <vector>

namespace sinter::linalg_lowering {

using BodyFn = mlir::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>;

//===----------------------------------------------------------------------===//
// Tensors and their sizes
//===----------------------------------------------------------------------===//

mlir::RankedTensorType tensorType(mlir::Value value);

/// tensor.dim of `value`, or null when the dimension is static.
mlir::Value dynamicDim(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, int64_t dim);

/// The sizes of `type`'s dynamic dimensions, read from `value` (of the
/// same rank), for emptyTensor.
llvm::SmallVector<mlir::Value> dynamicSizes(mlir::OpBuilder &b,
                                            mlir::Location loc,
                                            mlir::RankedTensorType type,
                                            mlir::Value value);

mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        mlir::ValueRange dynamicSizes);

/// The dynamic sizes of a result that broadcasts `operands` (numpy rules,
/// aligned at the right): each from an operand dynamic in that dimension.
llvm::SmallVector<mlir::Value> broadcastSizes(mlir::OpBuilder &b,
                                              mlir::Location loc,
                                              mlir::RankedTensorType result,
                                              mlir::ValueRange operands);

/// The map from the iteration space of `result` to a broadcast operand:
/// static size-1 dimensions read index 0.
mlir::AffineMap broadcastMap(mlir::RankedTensorType operand,
                             mlir::RankedTensorType result);

/// The dynamic sizes of attention's result B x Hq x Sq x Dv: the first
/// three are the query's, the last the value's.
llvm::SmallVector<mlir::Value>
attentionResultSizes(mlir::OpBuilder &b, mlir::Location loc, AttentionOp op);

/// conv's input with its pads applied (zeros), or the input itself.
mlir::Value paddedConvInput(mlir::OpBuilder &rewriter, mlir::Location loc,
                            ConvOp op);

/// An N x M x spatial accumulator holding the optional 1-D `bias` along M
/// (zeros without one); `sizes` are the dynamic sizes of `result` (the
/// batch, where it is dynamic).
mlir::Value channelBiasOrZeros(mlir::OpBuilder &rewriter, mlir::Location loc,
                               mlir::RankedTensorType result, mlir::Value bias,
                               mlir::ValueRange sizes = {});

//===----------------------------------------------------------------------===//
// Structured ops
//===----------------------------------------------------------------------===//

/// A linalg.generic that computes `body` on the broadcast elements of
/// `operands` into a new tensor of `resultType`.
mlir::Value elementwise(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType resultType,
                        mlir::ValueRange operands, BodyFn body,
                        mlir::ValueRange dynamicSizes = {});

/// A constant `value` of the scalar `type` (float or integer).
mlir::Value scalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                   double value);

/// The value every element of a reduction starts from.
mlir::Value reductionInit(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Type type, bool max, bool min);

enum class Combine { Sum, Max, Min, Prod };

mlir::Value combine(mlir::OpBuilder &b, mlir::Location loc, Combine kind,
                    mlir::Value acc, mlir::Value x);

/// A contraction generic: `maps` over `loops` dimensions whose last
/// `reductions` are reduced; accumulates lhs * rhs into `init`.
mlir::Value contraction(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                        mlir::Value rhs, mlir::Value init,
                        llvm::ArrayRef<mlir::AffineMap> maps, int64_t loops,
                        int64_t reductions);

mlir::Value zeroFilled(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::RankedTensorType type, mlir::ValueRange sizes);

/// Reduces `input` over `axes` (sorted) into a tensor that keeps them as
/// size-1 dimensions when `keepdims`.
mlir::Value reduce(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                   llvm::ArrayRef<int64_t> axes, bool keepdims, Combine kind);

/// The number of elements of `input` over `axes`, as a scalar of `type`.
mlir::Value countOver(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                      llvm::ArrayRef<int64_t> axes, mlir::Type type);

/// `tensor` divided elementwise by a scalar.
mlir::Value divideByScalar(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value tensor, mlir::Value divisor);

mlir::Value mean(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                 llvm::ArrayRef<int64_t> axes, bool keepdims);

/// Softmax (or log-softmax) along `axis`, stable: exp(x - max) / sum.
mlir::Value softmax(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                    int64_t axis, bool logarithm);

//===----------------------------------------------------------------------===//
// Signedness
//===----------------------------------------------------------------------===//

bool isUnsignedInt(mlir::Type type);

/// Unsigned integer tensors need their signedness carried into arith's
/// signless ops; not lowered yet.
bool hasUnsignedElements(mlir::Operation *op);

/// arith works on signless integers: unsigned ones cross over with a cast
/// that the LLVM lowering removes (both are plain iN there).
mlir::Value toSignless(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value);

mlir::Value fromSignless(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::Type type);

//===----------------------------------------------------------------------===//
// Constants' elements
//===----------------------------------------------------------------------===//

/// The elements attribute of a constant (sinter or arith), or null.
mlir::ElementsAttr constantElements(mlir::Value value);

/// The f32 elements of a constant (dense, splat or resource).
std::optional<std::vector<float>> f32Elements(mlir::Value value);

/// The values of an integer constant with its element type's signedness.
std::optional<std::vector<int64_t>> integerElements(mlir::Value value);

/// The values of a float constant (any float type), as floats.
std::optional<std::vector<float>> floatElements(mlir::Value value);

//===----------------------------------------------------------------------===//
// Quantized reads (defined in Quantization.cpp)
//===----------------------------------------------------------------------===//

/// Reads elements of a sinter.dequantize inside a linalg body, straight
/// from its integers: what the generic lowering and the gather of a
/// quantized table share. 4-bit constants are stored two to a byte (the
/// tensor of i4 has no memory layout of its own); other integer widths
/// are read as they are.
class DequantizedReader {
public:
  /// Null when the op cannot be read this way (a 4-bit input that is not
  /// a constant).
  static std::optional<DequantizedReader>
  create(mlir::OpBuilder &b, mlir::Location loc, DequantizeOp op);

  /// The dequantized element at `coords` (index values, one per input
  /// dimension).
  mlir::Value read(mlir::OpBuilder &b, mlir::Location loc,
                   mlir::ValueRange coords) const;

private:
  /// An extracted integer (unsigned ones cross to signless first) as a
  /// float.
  mlir::Value toFloat(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value integer, mlir::Type type) const;

  mutable DequantizeOp op;
  mlir::Value input, scale, zeroPoint;
  unsigned bits = 0;
  bool isUnsigned = false;
};

} // namespace sinter::linalg_lowering

#endif // SINTER_CODEGEN_SINTERTOLINALG_UTILS_H
