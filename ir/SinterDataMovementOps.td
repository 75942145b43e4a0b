//===- SinterDataMovementOps.td - Padding and resampling ---*- tablegen -*-===//
//
// Ops that place input elements at new coordinates: pad and resize.
// Included from SinterOps.td; their C++ is in SinterDataMovementOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_DATA_MOVEMENT_OPS
#define SINTER_DATA_MOVEMENT_OPS

def Sinter_PadOp : Sinter_Op<"pad", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "value", "result"]>]> {
  let summary = "Pad (or crop) every dimension of a tensor (ONNX Pad)";
  let description = [{
    `pads` holds the amounts added before each dimension, then those added
    after each (ONNX order); a negative amount removes elements. `mode` says
    what the new elements hold:

    - `constant`: `value` (a 0-d tensor, read at run time);
    - `reflect`: the input mirrored at its edge, the edge not repeated;
    - `edge`: the nearest edge element;
    - `wrap`: the input repeated periodically.

    `reflect`, `edge` and `wrap` read `value` never; they need a non-empty
    input in every padded dimension.

    ```mlir
    %p = sinter.pad %x, %zero mode "reflect" pads [0, 0, 1, 1, 0, 0, 1, 1]
        : tensor<1x3x8x8xf32>, tensor<f32> -> tensor<1x3x10x10xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, Sinter_Tensor:$value,
                   StrAttr:$mode, DenseI64ArrayAttr:$pads);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $value `mode` $mode `pads` $pads attr-dict `:` type($input) `,`
    type($value) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Sinter_ResizeOp : Sinter_Op<"resize", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Resample a tensor on a new grid (ONNX Resize and Upsample)";
  let description = [{
    Output coordinate `x` of dimension `d` reads the input around the
    coordinate that `coordinate_mode` maps it to (the ONNX
    `coordinate_transformation_mode`, with `scales[d]` the ratio of output
    to input length and `roi` the crop box of `tf_crop_and_resize`: the
    starts of every dimension, then the ends; empty otherwise). `mode` says
    how the elements around it are combined:

    - `nearest`: the one element that `nearest_mode` rounds to
      (`round_prefer_floor`, `round_prefer_ceil`, `floor`, `ceil`);
    - `linear`: the two neighbours, weighted by distance;
    - `cubic`: the four neighbours, weighted by the cubic kernel with
      coefficient `cubic_coeff_a`; `exclude_outside` drops the weights of
      neighbours outside the input and renormalizes the others.

    Dimensions are resampled one after the other, the last first, as the
    ONNX reference does. `sizes` is the output shape; a dimension that is
    dynamic there keeps the input's size and must not be resampled
    (`scales[d] = 1`, not cropped). `tf_crop_and_resize` writes
    `extrapolation_value` where the mapped coordinate falls outside the
    input. `linear` and `cubic` need a float tensor.

    ```mlir
    %y = sinter.resize %x mode "linear" coordinate_mode "half_pixel"
        scales [1.0, 1.0, 2.0, 2.0] sizes [1, 3, 16, 16]
        : tensor<1x3x8x8xf32> -> tensor<1x3x16x16xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, StrAttr:$mode,
                   StrAttr:$coordinate_mode,
                   DefaultValuedStrAttr<StrAttr, "round_prefer_floor">:$nearest_mode,
                   DefaultValuedAttr<F64Attr, "-0.75">:$cubic_coeff_a,
                   UnitAttr:$exclude_outside,
                   DefaultValuedAttr<F64Attr, "0.0">:$extrapolation_value,
                   DenseF64ArrayAttr:$scales,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{}">:$roi,
                   DenseI64ArrayAttr:$sizes);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $input `mode` $mode `coordinate_mode` $coordinate_mode `scales` $scales
    `sizes` $sizes attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // SINTER_DATA_MOVEMENT_OPS
