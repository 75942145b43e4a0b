//===- SinterOps.td - Ops of the sinter dialect ----------------*- tablegen -*-===//
//
// Conventions shared by every op:
//  - operands and results are ranked tensors; any dimension may be dynamic;
//  - axes are non-negative (importers normalize ONNX's negative axes);
//  - elementwise ops broadcast like numpy (and ONNX);
//  - result types are inferred (InferTypeOpInterface) and checked against the
//    types written in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_SINTEROPS_TD
#define SINTER_IR_SINTEROPS_TD

include "ir/SinterBase.td"
include "ir/SinterAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Sinter_ConstantOp : Sinter_Op<"constant", [ConstantLike, Pure,
    AllTypesMatch<["value", "result"]>,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "A constant tensor (weights, shapes, scalars)";
  let description = [{
    Produces a tensor whose contents are given by an elements attribute.
    Weights are held as `dense_resource` blobs, which the importer maps from
    the model file without copying; small constants may be plain `dense`.

    Example:
    ```mlir
    %w = sinter.constant dense_resource<wte> : tensor<256x64xf32>
    %eps = sinter.constant dense<1.0e-05> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class Sinter_UnaryOp<string mnemonic, Type tensorType, string doc,
                     list<Trait> traits = []>
    : Sinter_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType,
          DeclareOpInterfaceMethods<InferTypeOpInterface>])> {
  let summary = "Elementwise " # doc;
  let description = "Computes " # doc # " of each element. Example:\n"
      "```mlir\n%y = sinter." # mnemonic # " %x : tensor<2x?xf32>\n```";
  let arguments = (ins tensorType:$input);
  let results = (outs tensorType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Sinter_NegOp : Sinter_UnaryOp<"neg", Sinter_NumericTensor, "negation">;
def Sinter_AbsOp : Sinter_UnaryOp<"abs", Sinter_NumericTensor, "absolute value">;
def Sinter_ExpOp : Sinter_UnaryOp<"exp", Sinter_FloatTensor, "e^x">;
def Sinter_LogOp : Sinter_UnaryOp<"log", Sinter_FloatTensor, "natural logarithm">;
def Sinter_SqrtOp : Sinter_UnaryOp<"sqrt", Sinter_FloatTensor, "square root">;
def Sinter_RsqrtOp : Sinter_UnaryOp<"rsqrt", Sinter_FloatTensor,
    "reciprocal square root">;
def Sinter_ReciprocalOp : Sinter_UnaryOp<"reciprocal", Sinter_FloatTensor,
    "reciprocal (1/x)">;
def Sinter_TanhOp : Sinter_UnaryOp<"tanh", Sinter_FloatTensor, "hyperbolic tangent">;
def Sinter_ErfOp : Sinter_UnaryOp<"erf", Sinter_FloatTensor, "error function">;
def Sinter_SigmoidOp : Sinter_UnaryOp<"sigmoid", Sinter_FloatTensor,
    "logistic sigmoid 1/(1+e^-x)">;
def Sinter_ReluOp : Sinter_UnaryOp<"relu", Sinter_NumericTensor, "max(x, 0)"> {
  let hasFolder = 1;
}
def Sinter_CosOp : Sinter_UnaryOp<"cos", Sinter_FloatTensor, "cosine">;
def Sinter_SinOp : Sinter_UnaryOp<"sin", Sinter_FloatTensor, "sine">;
def Sinter_FloorOp : Sinter_UnaryOp<"floor", Sinter_FloatTensor,
    "the largest integer not above x"> {
  let hasFolder = 1;
}
def Sinter_CeilOp : Sinter_UnaryOp<"ceil", Sinter_FloatTensor,
    "the smallest integer not below x"> {
  let hasFolder = 1;
}
def Sinter_RoundOp : Sinter_UnaryOp<"round", Sinter_FloatTensor,
    "the nearest integer, halves to even (ONNX Round)">;
def Sinter_NotOp : Sinter_UnaryOp<"not", Sinter_BoolTensor, "logical negation">;

def Sinter_LeakyReluOp : Sinter_Op<"leaky_relu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Elementwise leaky ReLU: x if x >= 0 else alpha * x";
  let description = [{
    ```mlir
    %y = sinter.leaky_relu %x alpha 0.01 : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, F32Attr:$alpha);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = "$input `alpha` $alpha attr-dict `:` type($input)";
}

def Sinter_ClipOp : Sinter_Op<"clip", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Elementwise clamp to [min, max]";
  let description = [{
    Clamps each element to the closed interval given by the optional `min`
    and `max` bounds; an absent bound does not clamp that side.

    ```mlir
    %y = sinter.clip %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4xf32>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, OptionalAttr<F64Attr>:$min,
                   OptionalAttr<F64Attr>:$max);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary and ternary ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

// `resultElementType` is a C++ expression over `adaptor` and `context` that
// gives the element type of the result; its shape is the operands' broadcast.
class Sinter_BroadcastOp<string mnemonic, string resultElementType,
                         list<Trait> traits = []>
    : Sinter_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])> {
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      return inferBroadcastResult(location, adaptor.getOperands(), }] #
      resultElementType # [{, inferredReturnTypes);
    }
  }];
}

class Sinter_BinaryOp<string mnemonic, Type tensorType, string doc,
                      list<Trait> traits = []>
    : Sinter_BroadcastOp<mnemonic, "elementTypeOf(adaptor.getLhs())",
          !listconcat(traits,
          [AllElementTypesMatch<["lhs", "rhs", "result"]>])> {
  let summary = "Elementwise " # doc # " with numpy broadcasting";
  let description = "Computes " # doc # " of the operands broadcast to a "
      "common shape. Example:\n```mlir\n%z = sinter." # mnemonic #
      " %x, %y : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>\n```";
  let arguments = (ins tensorType:$lhs, tensorType:$rhs);
  let results = (outs tensorType:$result);
}

def Sinter_AddOp : Sinter_BinaryOp<"add", Sinter_NumericTensor, "lhs + rhs",
    [Commutative]> {
  let hasFolder = 1;
}
def Sinter_SubOp : Sinter_BinaryOp<"sub", Sinter_NumericTensor, "lhs - rhs"> {
  let hasFolder = 1;
}
def Sinter_MulOp : Sinter_BinaryOp<"mul", Sinter_NumericTensor, "lhs * rhs",
    [Commutative]> {
  let hasFolder = 1;
}
def Sinter_DivOp : Sinter_BinaryOp<"div", Sinter_NumericTensor, "lhs / rhs"> {
  let hasFolder = 1;
}
def Sinter_PowOp : Sinter_BinaryOp<"pow", Sinter_NumericTensor, "lhs ^ rhs">;
def Sinter_MaxOp : Sinter_BinaryOp<"max", Sinter_NumericTensor, "max(lhs, rhs)",
    [Commutative]>;
def Sinter_MinOp : Sinter_BinaryOp<"min", Sinter_NumericTensor, "min(lhs, rhs)",
    [Commutative]>;
def Sinter_AndOp : Sinter_BinaryOp<"and", Sinter_BoolTensor, "logical and",
    [Commutative]>;
def Sinter_OrOp : Sinter_BinaryOp<"or", Sinter_BoolTensor, "logical or",
    [Commutative]>;
def Sinter_XorOp : Sinter_BinaryOp<"xor", Sinter_BoolTensor, "logical xor",
    [Commutative]>;

class Sinter_CompareOp<string mnemonic, string doc, list<Trait> traits = []>
    : Sinter_BroadcastOp<mnemonic, "::mlir::IntegerType::get(context, 1)",
          !listconcat(traits, [AllElementTypesMatch<["lhs", "rhs"]>])> {
  let summary = "Elementwise comparison " # doc # " with numpy broadcasting";
  let description = "Yields i1 true where " # doc # ". Example:\n```mlir\n"
      "%m = sinter." # mnemonic # " %x, %y : (tensor<4x8xi64>, tensor<i64>)"
      " -> tensor<4x8xi1>\n```";
  let arguments = (ins Sinter_Tensor:$lhs, Sinter_Tensor:$rhs);
  let results = (outs Sinter_BoolTensor:$result);
}

def Sinter_EqualOp : Sinter_CompareOp<"equal", "lhs == rhs", [Commutative]>;
def Sinter_LessOp : Sinter_CompareOp<"less", "lhs < rhs">;
def Sinter_LessEqualOp : Sinter_CompareOp<"less_equal", "lhs <= rhs">;
def Sinter_GreaterOp : Sinter_CompareOp<"greater", "lhs > rhs">;
def Sinter_GreaterEqualOp : Sinter_CompareOp<"greater_equal", "lhs >= rhs">;

def Sinter_WhereOp : Sinter_BroadcastOp<"where",
    "elementTypeOf(adaptor.getTrueValue())", [AllElementTypesMatch<["true_value", "false_value", "result"]>]> {
  let summary = "Elementwise select with numpy broadcasting";
  let description = [{
    Picks `true_value` where `condition` is true and `false_value` elsewhere,
    all three broadcast to a common shape.

    ```mlir
    %y = sinter.where %mask, %x, %ninf
        : (tensor<1x1x32x32xi1>, tensor<1x4x32x32xf32>, tensor<f32>)
        -> tensor<1x4x32x32xf32>
    ```
  }];
  let arguments = (ins Sinter_BoolTensor:$condition, Sinter_Tensor:$true_value,
                   Sinter_Tensor:$false_value);
  let results = (outs Sinter_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Type conversion
//===----------------------------------------------------------------------===//

def Sinter_CastOp : Sinter_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "Elementwise conversion to another element type";
  let description = [{
    Converts each element like ONNX `Cast`: float to integer truncates toward
    zero, any value to i1 tests for non-zero. The shape is unchanged; the
    result element type is the one written.

    ```mlir
    %y = sinter.cast %x : tensor<1x32xi64> to tensor<1x32xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Sinter_DequantizeOp : Sinter_Op<"dequantize", [Pure]> {
  let summary = "Integers to floats: (input - zero_point) * scale";
  let description = [{
    ONNX `DequantizeLinear`: each element becomes
    `(input - zero_point) * scale`, computed in the result's float type, with
    one of three granularities:
    - per tensor: `scale` (and `zero_point`) hold one element;
    - per axis: `scale` is 1-D, one element per index of dimension `axis`;
    - blocked (`block` > 0): `scale` has the input's rank and the input's
      sizes, except along `axis`, where it has one element per `block`
      consecutive indices (the last block may be shorter).
    `zero_point` has the input's element type and the scale's shape; without
    one, the zero point is 0. Unsigned element types hold unsigned values.

    A quantized weight is a constant of integers behind this op: the
    quantization passes create it, the ONNX importer maps `DequantizeLinear`
    and `MatMulNBits` to it, and code generation reads the integers directly
    where the result feeds a contraction (the f32 weight never exists).

    ```mlir
    %w = sinter.dequantize %q, %s, %zp axis 1 block 32
        : (tensor<256x64xui4>, tensor<256x2xbf16>, tensor<256x2xui4>)
        -> tensor<256x64xf32>
    ```
  }];
  let arguments = (ins Sinter_QuantizedTensor:$input,
                   Sinter_FloatTensor:$scale,
                   Optional<Sinter_QuantizedTensor>:$zero_point,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $zero_point^)? (`axis` $axis^)? (`block` $block^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Which scale applies to each element.
    enum class Granularity { Tensor, Axis, Block };
    Granularity getGranularity();
    /// Whether this is a 2-D signless int8 matrix without zero points (or
    /// with constant zeros) that has one scale per index of the dimension other than `kAxis` (the
    /// contracted one): a weight the int8 (W8A8) kernel can multiply.
    bool isPerColumnInt8(int64_t kAxis);
  }];
}

def Sinter_QuantizeOp : Sinter_Op<"quantize", [Pure]> {
  let summary = "Floats to integers: saturate(round(input / scale) + zero_point)";
  let description = [{
    ONNX `QuantizeLinear`: each element becomes
    `round(input / scale) + zero_point` (round to nearest, ties to even),
    saturated to the range of the result's integer type. The scale and the
    zero point follow the rules of `sinter.dequantize` (per tensor, per
    axis or blocked, the zero point of the result's element type, 0 when
    absent).

    ```mlir
    %q = sinter.quantize %x, %s, %zp : (tensor<4x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x8xui8>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input,
                   Sinter_FloatTensor:$scale,
                   Optional<Sinter_QuantizedTensor>:$zero_point,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block);
  let results = (outs Sinter_QuantizedTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $zero_point^)? (`axis` $axis^)? (`block` $block^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Which scale applies to each element.
    DequantizeOp::Granularity getGranularity();
  }];
}

def Sinter_DynamicQuantizeOp : Sinter_Op<"dynamic_quantize", [Pure]> {
  let summary = "Floats to int8, one scale per row, computed at run time";
  let description = [{
    Symmetric per-row quantization of activations (W8A8 without
    calibration): for each row along the last dimension, with `m` the
    row's largest magnitude,
    `scale = m / 127` (an f32 division) and
    `q = clamp(round(x / scale), -127, 127)` (round to nearest, ties to
    even); a row of zeros has scale 0 and q 0. The scale has the input's
    shape with a last dimension of 1, so that
    `sinter.dequantize %q, %scale axis (rank - 1) block (last size)` gives
    the rounded values back: that pair in front of a linear layer with an
    int8 weight is what code generation runs as the int8 GEMM, quantizing
    once per row. A row holding a non-finite value has a non-finite scale.

    ```mlir
    %q, %s = sinter.dynamic_quantize %x : tensor<?x768xf32> -> tensor<?x768xi8>, tensor<?x1xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[I8]>:$result,
                      RankedTensorOf<[F32]>:$scale);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($result) `,` type($scale)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Sinter_MatmulOp : Sinter_Op<"matmul", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "Matrix product with numpy semantics";
  let description = [{
    Like `numpy.matmul` and ONNX `MatMul`: the last two dimensions are
    multiplied, leading (batch) dimensions broadcast; a 1-D operand is
    promoted to a matrix and the promoted dimension removed from the result.

    ```mlir
    %s = sinter.matmul %q, %kt : (tensor<1x4x32x16xf32>, tensor<1x4x16x32xf32>)
        -> tensor<1x4x32x32xf32>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$lhs, Sinter_NumericTensor:$rhs);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Sinter_LinearOp : Sinter_Op<"linear", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "weight", "result"]>]> {
  let summary = "Fully connected layer: input x weight (+ bias)";
  let description = [{
    Multiplies the last dimension of `input` (K) by a 2-D `weight` and adds an
    optional 1-D `bias` of N elements. `weight` is K x N, or N x K (the
    PyTorch `nn.Linear` layout) when `transpose_weight` is set.

    ```mlir
    %y = sinter.linear %x, %w, %b transpose_weight
        : (tensor<1x32x64xf32>, tensor<256x64xf32>, tensor<256xf32>)
        -> tensor<1x32x256xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                   Optional<Sinter_FloatTensor>:$bias,
                   UnitAttr:$transpose_weight);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`transpose_weight` $transpose_weight^)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def Sinter_ConvOp : Sinter_Op<"conv", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "weight", "result"]>]> {
  let summary = "N-d convolution in NC[spatial] layout (ONNX Conv)";
  let description = [{
    `input` is N x C x D1 x ... x Dn, `weight` is M x C/group x k1 x ... x kn,
    the optional `bias` has M elements. `pads` holds the begin paddings of
    every spatial dimension followed by the end paddings, as in ONNX.

    ```mlir
    %p = sinter.conv %img, %w, %b strides [16, 16] pads [0, 0, 0, 0]
        dilations [1, 1] group 1
        : (tensor<1x3x224x224xf32>, tensor<384x3x16x16xf32>, tensor<384xf32>)
        -> tensor<1x384x14x14xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                   Optional<Sinter_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? `strides` $strides `pads` $pads
    `dilations` $dilations `group` $group attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations along an axis
//===----------------------------------------------------------------------===//

class Sinter_ReduceOp<string mnemonic, string doc>
    : Sinter_Op<mnemonic, [Pure, InferTypeOpAdaptor,
          AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Reduction by " # doc # " over the given axes";
  let description = "Reduces `input` by " # doc # " over `axes` (distinct, "
      "non-negative). With `keepdims` the reduced dimensions stay as size 1. "
      "Example:\n```mlir\n%m = sinter." # mnemonic #
      " %x axes [2] keepdims : tensor<1x?x64xf32> -> tensor<1x?x1xf32>\n```";
  let arguments = (ins Sinter_NumericTensor:$input, DenseI64ArrayAttr:$axes,
                   UnitAttr:$keepdims);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = [{
    $input `axes` $axes (`keepdims` $keepdims^)? attr-dict `:` type($input)
    `->` type($result)
  }];
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> location,
        Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      return inferReductionResult(location, adaptor.getInput(),
                                  adaptor.getAxes(), adaptor.getKeepdims(),
                                  inferredReturnTypes);
    }
  }];
}

def Sinter_ReduceSumOp : Sinter_ReduceOp<"reduce_sum", "sum">;
def Sinter_ReduceMeanOp : Sinter_ReduceOp<"reduce_mean", "mean">;
def Sinter_ReduceMaxOp : Sinter_ReduceOp<"reduce_max", "maximum">;
def Sinter_ReduceMinOp : Sinter_ReduceOp<"reduce_min", "minimum">;

class Sinter_SoftmaxLikeOp<string mnemonic, string doc>
    : Sinter_Op<mnemonic, [Pure, SameOperandsAndResultType,
          DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = doc # " along one axis";
  let description = "Computes " # doc # " along `axis`. Example:\n```mlir\n"
      "%p = sinter." # mnemonic # " %s axis 3 : tensor<1x4x32x32xf32>\n```";
  let arguments = (ins Sinter_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = "$input `axis` $axis attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return checkAxis(getLoc(), getAxis(), getInput().getType().getRank());
    }
  }];
}

def Sinter_SoftmaxOp : Sinter_SoftmaxLikeOp<"softmax", "softmax">;
def Sinter_LogSoftmaxOp : Sinter_SoftmaxLikeOp<"log_softmax", "log of softmax">;

def Sinter_TopKOp : Sinter_Op<"topk", [Pure, InferTypeOpAdaptor]> {
  let summary = "The k largest (or smallest) elements along an axis";
  let description = [{
    Returns the `k` largest elements along `axis` (the smallest with
    `smallest`) and their i64 indices, sorted by value unless `unsorted`.
    Ties are broken by the lower index, as in ONNX.

    ```mlir
    %v, %i = sinter.topk %logits k 2 axis 1
        : tensor<32x8xf32> -> tensor<32x2xf32>, tensor<32x2xi64>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, I64Attr:$k, I64Attr:$axis,
                   UnitAttr:$smallest, UnitAttr:$unsorted);
  let results = (outs Sinter_NumericTensor:$values,
                      RankedTensorOf<[I64]>:$indices);
  let assemblyFormat = [{
    $input `k` $k `axis` $axis (`smallest` $smallest^)? (`unsorted` $unsorted^)?
    attr-dict `:` type($input) `->` type($values) `,` type($indices)
  }];
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

def Sinter_ReshapeOp : Sinter_Op<"reshape", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Reinterpret a tensor with another shape";
  let description = [{
    Keeps the elements in row-major order and gives them a new shape. Static
    sizes are written inline; a dynamic size is an `index` value.

    ```mlir
    %h = sinter.reshape %x to [1, %n, 4, 16]
        : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, Variadic<Index>:$dynamic_shape,
                   DenseI64ArrayAttr:$static_shape);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $input `to` custom<DynamicIndexList>($dynamic_shape, $static_shape)
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Sinter_ExpandOp : Sinter_Op<"expand", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Broadcast a tensor to a shape (ONNX Expand)";
  let description = [{
    The result shape is the numpy broadcast of the input shape and the given
    shape, so a size 1 in the given shape keeps the input's size.

    ```mlir
    %k = sinter.expand %kv to [1, 2, 4, 32, 16]
        : tensor<1x2x1x32x16xf32> -> tensor<1x2x4x32x16xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, Variadic<Index>:$dynamic_shape,
                   DenseI64ArrayAttr:$static_shape);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $input `to` custom<DynamicIndexList>($dynamic_shape, $static_shape)
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Sinter_TransposeOp : Sinter_Op<"transpose", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Permute the dimensions of a tensor";
  let description = [{
    Result dimension `i` is input dimension `perm[i]`.

    ```mlir
    %t = sinter.transpose %x [0, 2, 1, 3]
        : tensor<1x32x4x16xf32> -> tensor<1x4x32x16xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat =
      "$input $perm attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Sinter_SliceOp : Sinter_Op<"slice", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Strided slice with ONNX semantics, one entry per dimension";
  let description = [{
    For every dimension, takes elements `starts[i]`, `starts[i] + steps[i]`, …
    up to but excluding `ends[i]`. Negative starts and ends count from the end
    of the dimension; out-of-range values are clamped; steps are non-zero and
    may be negative. Dimensions that are not sliced have start 0, end
    INT64_MAX and step 1.

    ```mlir
    %q = sinter.slice %qkv starts [0, 0, 0] ends [1, 32, 64] steps [1, 1, 1]
        : tensor<1x32x192xf32> -> tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $input `starts` $starts `ends` $ends `steps` $steps attr-dict `:`
    type($input) `->` type($result)
  }];
  let hasFolder = 1;
}

def Sinter_ConcatOp : Sinter_Op<"concat", [Pure, InferTypeOpAdaptor]> {
  let summary = "Join tensors along an axis";
  let description = [{
    All inputs have the same rank, element type and sizes except along `axis`.

    ```mlir
    %c = sinter.concat %a, %b axis 1
        : (tensor<1x16xf32>, tensor<1x?xf32>) -> tensor<1x?xf32>
    ```
  }];
  let arguments = (ins Variadic<Sinter_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $inputs `axis` $axis attr-dict `:` functional-type($inputs, $result)
  }];
  let hasFolder = 1;
}

def Sinter_SplitOp : Sinter_Op<"split", [Pure, InferTypeOpAdaptor]> {
  let summary = "Cut a tensor into pieces along an axis";
  let description = [{
    Produces one result per entry of `sizes`, which add up to the size of
    `axis` when that size is static.

    ```mlir
    %q, %k, %v = sinter.split %qkv axis 2 sizes [64, 64, 64]
        : tensor<1x32x192xf32> -> tensor<1x32x64xf32>, tensor<1x32x64xf32>,
          tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, I64Attr:$axis,
                   DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Sinter_Tensor>:$results);
  let assemblyFormat = [{
    $input `axis` $axis `sizes` $sizes attr-dict `:` type($input) `->`
    type($results)
  }];
}

def Sinter_GatherOp : Sinter_Op<"gather", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["data", "result"]>]> {
  let summary = "Take slices of `data` along an axis by index (ONNX Gather)";
  let description = [{
    The result shape is `data.shape[:axis] + indices.shape +
    data.shape[axis+1:]`. Negative indices count from the end.

    ```mlir
    %e = sinter.gather %wte[%ids] axis 0
        : (tensor<256x64xf32>, tensor<1x32xi64>) -> tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, Sinter_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` `axis` $axis attr-dict `:`
    functional-type(operands, results)
  }];
}

def Sinter_GatherElementsOp : Sinter_Op<"gather_elements", [Pure,
    InferTypeOpAdaptor, AllElementTypesMatch<["data", "result"]>]> {
  let summary = "Elementwise gather along an axis (ONNX GatherElements)";
  let description = [{
    `result[i][j][k] = data[indices[i][j][k]][j][k]` for axis 0, and so on;
    the result has the shape of `indices`, which has the rank of `data`.

    ```mlir
    %g = sinter.gather_elements %x[%idx] axis 1
        : (tensor<4x8xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, Sinter_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` `axis` $axis attr-dict `:`
    functional-type(operands, results)
  }];
}

def Sinter_ScatterElementsOp : Sinter_Op<"scatter_elements", [Pure,
    InferTypeOpAdaptor, AllElementTypesMatch<["data", "updates", "result"]>]> {
  let summary = "Elementwise scatter along an axis (ONNX ScatterElements)";
  let description = [{
    Copies `data` and writes `updates[i][j]` to position
    `[indices[i][j]][j]` for axis 0, and so on. `indices` and `updates` have
    the same shape and the rank of `data`. Later writes to the same position
    win (ONNX `reduction = "none"`).

    ```mlir
    %s = sinter.scatter_elements %zeros[%idx], %vals axis 1
        : (tensor<32x8xf32>, tensor<32x2xi64>, tensor<32x2xf32>)
        -> tensor<32x8xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, Sinter_IndexTensor:$indices,
                   Sinter_Tensor:$updates, I64Attr:$axis);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` `,` $updates `axis` $axis attr-dict `:`
    functional-type(operands, results)
  }];
}

def Sinter_RangeOp : Sinter_Op<"range", [Pure,
    AllTypesMatch<["start", "limit", "delta"]>]> {
  let summary = "The numbers start, start + delta, ... below limit (ONNX Range)";
  let description = [{
    Takes three scalars (0-d tensors) of one type and produces the
    `max(ceil((limit - start) / delta), 0)` numbers `start + i * delta`.
    The length is static only when all three are constants, so the result
    is usually `tensor<?xT>`; its element type is the scalars' type.

    ```mlir
    %pos = sinter.range %zero, %seq, %one : tensor<i64> -> tensor<?xi64>
    ```
  }];
  let arguments = (ins 0DTensorOf<[Sinter_Float, Sinter_Int]>:$start,
                   0DTensorOf<[Sinter_Float, Sinter_Int]>:$limit,
                   0DTensorOf<[Sinter_Float, Sinter_Int]>:$delta);
  let results = (outs 1DTensorOf<[Sinter_Float, Sinter_Int]>:$result);
  let assemblyFormat = [{
    $start `,` $limit `,` $delta attr-dict `:` type($start) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Sinter_TriluOp : Sinter_Op<"trilu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Keep the upper or lower triangle of the last two dimensions";
  let description = [{
    Like ONNX `Trilu`: for each matrix in the last two dimensions, keeps the
    elements on and below diagonal `k` (`lower`, the default) or on and above
    it (`upper`) and zeroes the rest. `k` > 0 moves the diagonal up.

    ```mlir
    %causal = sinter.trilu %ones k 0 : tensor<32x32xf32>
    %future = sinter.trilu %ones k 1 upper : tensor<32x32xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[AnyType], [2, 3, 4, 5, 6, 7, 8]>:$input,
                   I64Attr:$k, UnitAttr:$upper);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat =
      "$input `k` $k (`upper` $upper^)? attr-dict `:` type($input)";
}

def Sinter_CumSumOp : Sinter_Op<"cumsum", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Cumulative sum along an axis (ONNX CumSum)";
  let description = [{
    `result[i] = input[0] + ... + input[i]` along `axis`; with `exclusive`
    the sum stops before `i`, with `reverse` it runs from the end.

    ```mlir
    %pos = sinter.cumsum %mask axis 1 : tensor<1x32xi64>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, I64Attr:$axis,
                   UnitAttr:$exclusive, UnitAttr:$reverse);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = [{
    $input `axis` $axis (`exclusive` $exclusive^)? (`reverse` $reverse^)?
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Composite ops created by the fusion passes
//===----------------------------------------------------------------------===//

def Sinter_AttentionOp : Sinter_Op<"attention", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["query", "key", "value", "result"]>]> {
  let summary = "Scaled dot-product attention with grouped-query heads";
  let description = [{
    `softmax(scale * query x key^T + mask) x value`, per batch and head.
    Shapes: `query` B x Hq x Sq x D, `key` B x Hkv x Sk x D, `value`
    B x Hkv x Sk x Dv, result B x Hq x Sq x Dv. `Hq` is a multiple of `Hkv`:
    query head `h` attends to key/value head `h / (Hq / Hkv)` (grouped-query
    attention; multi-query when `Hkv` is 1). The optional additive `mask`
    broadcasts to B x Hq x Sq x Sk; `causal` masks key positions after the
    query position (aligned to the end when Sq < Sk, as in decoding).

    ```mlir
    %o = sinter.attention %q, %k, %v causal scale 0.25
        : (tensor<1x8x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
        -> tensor<1x8x32x16xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$query, Sinter_FloatTensor:$key,
                   Sinter_FloatTensor:$value,
                   Optional<Sinter_FloatTensor>:$mask, F32Attr:$scale,
                   UnitAttr:$causal);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? (`causal` $causal^)?
    `scale` $scale attr-dict `:` functional-type(operands, results)
  }];
}

def Sinter_LayerNormOp : Sinter_Op<"layer_norm", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "scale", "result"]>]> {
  let summary = "Layer normalization over the trailing dimensions";
  let description = [{
    Normalizes `input` over dimensions `axis` .. rank-1 to zero mean and unit
    variance (`epsilon` added to the variance), then multiplies by `scale` and
    adds the optional `bias`, both shaped like those trailing dimensions.

    ```mlir
    %y = sinter.layer_norm %x, %g, %b axis 2 epsilon 1.0e-05
        : (tensor<1x32x64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$scale,
                   Optional<Sinter_FloatTensor>:$bias, I64Attr:$axis,
                   F32Attr:$epsilon);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? `axis` $axis `epsilon` $epsilon attr-dict
    `:` functional-type(operands, results)
  }];
}

def Sinter_RmsNormOp : Sinter_Op<"rms_norm", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "scale", "result"]>]> {
  let summary = "Root-mean-square normalization over the trailing dimensions";
  let description = [{
    `input / sqrt(mean(input^2) + epsilon) * scale`, the mean taken over
    dimensions `axis` .. rank-1; `scale` is shaped like those dimensions.

    ```mlir
    %y = sinter.rms_norm %x, %g axis 2 epsilon 1.0e-06
        : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$scale,
                   I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `axis` $axis `epsilon` $epsilon attr-dict `:`
    functional-type(operands, results)
  }];
}

def Sinter_AddNormOp : Sinter_Op<"add_norm", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "residual", "scale", "sum", "result"]>]> {
  let summary = "Residual add followed by layer or RMS normalization";
  let description = [{
    `sum = input + residual` (same shapes), and `result` is `sum` normalized
    as `sinter.layer_norm` (`kind layer`, with the optional `bias`) or
    `sinter.rms_norm` (`kind rms`, no bias) would normalize it. Both results
    are defined: transformer blocks carry `sum` on as the residual stream.
    `sinter-fuse-residual-norm` forms it; the CPU lowering reads each row
    once for both.

    ```mlir
    %s, %y = sinter.add_norm %x, %r, %g kind rms axis 2 epsilon 1.0e-06
        : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<64xf32>)
        -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>)
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$residual,
                   Sinter_FloatTensor:$scale,
                   Optional<Sinter_FloatTensor>:$bias, Sinter_NormKind:$kind,
                   I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs Sinter_FloatTensor:$sum, Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $residual `,` $scale (`,` $bias^)? `kind` $kind `axis` $axis
    `epsilon` $epsilon attr-dict `:` functional-type(operands, results)
  }];
}

def Sinter_GeluOp : Sinter_Op<"gelu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `x * Phi(x)` with `Phi` the standard normal CDF, computed exactly with
    erf (`none`) or with the tanh approximation (`tanh`).

    ```mlir
    %y = sinter.gelu %x approximate tanh : tensor<1x32x256xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input,
                   Sinter_GeluApproximation:$approximate);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat =
      "$input `approximate` $approximate attr-dict `:` type($input)";
}

def Sinter_SiluOp : Sinter_UnaryOp<"silu", Sinter_FloatTensor,
    "SiLU (swish) x * sigmoid(x)">;

def Sinter_SwigluOp : Sinter_Op<"swiglu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "SiLU-gated linear unit: silu(gate) * up";
  let description = [{
    The gating of LLaMA-style feed-forward layers, `gate * sigmoid(gate) *
    up`, elementwise on two tensors of the same type.

    ```mlir
    %h = sinter.swiglu %gate, %up : tensor<1x32x176xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$gate, Sinter_FloatTensor:$up);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Sinter_RotaryEmbeddingOp : Sinter_Op<"rotary_embedding", [Pure,
    InferTypeOpAdaptor, AllElementTypesMatch<["input", "cos", "sin", "result"]>]> {
  let summary = "Rotary position embedding (RoPE)";
  let description = [{
    Rotates pairs of features of `input` (B x H x S x D) by the angles whose
    cosines and sines are given, shaped [..., S, R/2] and broadcastable to
    B x H x S x R/2, with R <= D even: the first R features are rotated, the
    rest pass through. Pairs are (i, i + R/2) in the rotate-half form, or
    (2i, 2i + 1) with `interleaved`.

    ```mlir
    %r = sinter.rotary_embedding %q, %cos, %sin
        : (tensor<1x8x32x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>)
        -> tensor<1x8x32x16xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$cos,
                   Sinter_FloatTensor:$sin, UnitAttr:$interleaved);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin (`interleaved` $interleaved^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Calibration probes
//===----------------------------------------------------------------------===//

// Probes record statistics of the values they read into the running
// session (runtime/src/probe.c) and produce nothing; the write effect keeps
// them alive. `sinter-insert-probes` creates them in the instrumented build
// that `sinterc --calibrate` runs; a plain build has none.
class Sinter_ProbeOp<string mnemonic, list<Trait> traits = []>
    : Sinter_Op<mnemonic, !listconcat(traits, [MemoryEffects<[MemWrite]>])>;

def Sinter_ProbeTensorOp : Sinter_ProbeOp<"probe_tensor"> {
  let summary = "Record a tensor's range, histogram and per-channel magnitudes";
  let description = [{
    Records, over every run of the session, the minimum, maximum, sum and
    sum of squares of `input`, a histogram of its magnitudes, and per index
    of dimension `channel_axis` (a linear layer's input features) the
    largest and the summed absolute value. `id` numbers the probe within
    the function (the stats file lists probes by it); `name` says what is
    measured, for the stats file and the passes that read it.

    ```mlir
    sinter.probe_tensor %x id 0 channel_axis 2 name "/h.0/attn/qkv:input"
        : tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, I64Attr:$id,
                   I64Attr:$channel_axis, StrAttr:$name);
  let assemblyFormat = [{
    $input `id` $id `channel_axis` $channel_axis `name` $name attr-dict `:`
    type($input)
  }];
  let hasVerifier = 1;
}

def Sinter_ProbeAttentionOp : Sinter_ProbeOp<"probe_attention"> {
  let summary = "Record where an attention layer's heads look";
  let description = [{
    Takes the operands and the result of a `sinter.attention` (the same
    `scale`, `causal` and optional `mask`) and records per query head: the
    attention mass on each key position (summed over queries, to find
    attention sinks), the entropy of the attention distributions and the
    L2 norm of the head's output rows. The probabilities are computed again
    from `query` and `key`; the attention itself is not changed.

    ```mlir
    sinter.probe_attention %q, %k, %o causal scale 0.25 id 3 name "/h.0/attn"
        : tensor<1x4x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x4x32x16xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$query, Sinter_FloatTensor:$key,
                   Sinter_FloatTensor:$output,
                   Optional<Sinter_FloatTensor>:$mask, F32Attr:$scale,
                   UnitAttr:$causal, I64Attr:$id, StrAttr:$name);
  let assemblyFormat = [{
    $query `,` $key `,` $output (`mask` $mask^)? (`causal` $causal^)?
    `scale` $scale `id` $id `name` $name attr-dict `:` type($query) `,`
    type($key) `,` type($output) (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Sinter_ProbeRoutingOp : Sinter_ProbeOp<"probe_routing"> {
  let summary = "Count how often a mixture-of-experts router picks each expert";
  let description = [{
    `indices` are the experts a router chose (the indices of its top-k);
    each occurrence of index `e` in `0 .. experts-1` is counted for expert
    `e` (others are counted as out of range).

    ```mlir
    sinter.probe_routing %indices experts 8 id 5 name "/h.0/moe/TopK"
        : tensor<32x2xi64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I64]>:$indices, I64Attr:$experts,
                   I64Attr:$id, StrAttr:$name);
  let assemblyFormat = [{
    $indices `experts` $experts `id` $id `name` $name attr-dict `:`
    type($indices)
  }];
  let hasVerifier = 1;
}

include "ir/SinterDataMovementOps.td"
include "ir/SinterVisionOps.td"
include "ir/SinterMathOps.td"

#endif // SINTER_IR_SINTEROPS_TD
