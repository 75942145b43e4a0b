//===- SinterVisionOps.td - Pooling and transposed conv -----*- tablegen -*-===//
//
// The vision ops that are not contractions of ir/SinterOps.td: window
// pooling and transposed convolution, both in N x C x spatial layout, with
// ONNX's attribute conventions (pads = begins of every spatial dimension,
// then ends). Included from ir/SinterOps.td; C++ in SinterVisionOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_SINTERVISIONOPS_TD
#define SINTER_IR_SINTERVISIONOPS_TD

include "ir/SinterBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Sinter_PoolKind : I32EnumAttr<"PoolKind",
    "what `sinter.pool` computes over a window", [
      I32EnumAttrCase<"Max", 0, "max">,
      I32EnumAttrCase<"Avg", 1, "avg">,
      I32EnumAttrCase<"Lp", 2, "lp">
    ]> {
  let cppNamespace = "::sinter";
}

def Sinter_PoolOp : Sinter_Op<"pool", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Window pooling (ONNX MaxPool, AveragePool, LpPool)";
  let description = [{
    Pools every `kernel_shape` window of the N x C x spatial `input`, placed
    every `strides`, its elements `dilations` apart, over the input padded by
    `pads` (begins, then ends). `kind`:
    - `max`: the largest element; padding never wins;
    - `avg`: the mean; the divisor counts the window's elements inside the
      input, or, with `count_include_pad`, inside the padded input;
    - `lp`: `(sum |x|^p)^(1/p)`; padding adds zero.
    With `ceil_mode` the output size rounds up (a last, partial window),
    except that a window starting in the end padding is dropped; the
    elements of a partial window past the padded input count for nothing.
    Integer inputs are allowed for `max` only.

    ```mlir
    %y = sinter.pool max %x kernel [3, 3] strides [2, 2] pads [1, 1, 1, 1]
        dilations [1, 1] : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, Sinter_PoolKind:$kind,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   UnitAttr:$ceil_mode, UnitAttr:$count_include_pad,
                   DefaultValuedAttr<I64Attr, "2">:$p);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = [{
    $kind $input `kernel` $kernel_shape `strides` $strides `pads` $pads
    `dilations` $dilations (`ceil_mode` $ceil_mode^)?
    (`count_include_pad` $count_include_pad^)? (`p` $p^)? attr-dict `:`
    type($input) `->` type($result)
  }];
  let extraClassDeclaration = [{
    /// The end padding of each spatial dimension that ceil_mode adds past
    /// `pads` so that the last window fits (zero without ceil_mode).
    llvm::SmallVector<int64_t> ceilPadding();
  }];
}

def Sinter_MaxPoolIndicesOp : Sinter_Op<"max_pool_indices", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "Where each window's maximum is (ONNX MaxPool's Indices)";
  let description = [{
    For the windows of `sinter.pool max` with the same attributes, the
    index of the first largest element into the input flattened row-major
    (`column_major`: with the spatial dimensions flattened column-major, as
    ONNX's storage_order 1). Static shapes only.

    ```mlir
    %i = sinter.max_pool_indices %x kernel [2, 2] strides [2, 2]
        pads [0, 0, 0, 0] dilations [1, 1]
        : tensor<1x3x4x4xf32> -> tensor<1x3x2x2xi64>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   UnitAttr:$ceil_mode, UnitAttr:$column_major);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = [{
    $input `kernel` $kernel_shape `strides` $strides `pads` $pads
    `dilations` $dilations (`ceil_mode` $ceil_mode^)?
    (`column_major` $column_major^)? attr-dict `:` type($input) `->`
    type($result)
  }];
}

def Sinter_ConvTransposeOp : Sinter_Op<"conv_transpose", [Pure,
    InferTypeOpAdaptor, AllElementTypesMatch<["input", "weight", "result"]>]> {
  let summary = "N-d transposed convolution (ONNX ConvTranspose)";
  let description = [{
    The gradient of `sinter.conv` with respect to its input: `input` is
    N x C x D1 x ... x Dn, `weight` is C x M/group x k1 x ... x kn, the
    optional `bias` has M elements. Output size i is
    `strides[i] * (D[i] - 1) + output_padding[i] + dilations[i] * (k[i] - 1)
    + 1 - pads[i] - pads[n + i]`.

    ```mlir
    %y = sinter.conv_transpose %x, %w strides [2, 2] pads [0, 0, 0, 0]
        dilations [1, 1] output_padding [1, 1] group 1
        : (tensor<1x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<1x4x10x10xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                   Optional<Sinter_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DenseI64ArrayAttr:$output_padding, I64Attr:$group);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? `strides` $strides `pads` $pads
    `dilations` $dilations `output_padding` $output_padding `group` $group
    attr-dict `:` functional-type(operands, results)
  }];
}

#endif // SINTER_IR_SINTERVISIONOPS_TD
