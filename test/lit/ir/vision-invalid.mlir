// RUN: sinter-opt %s -split-input-file -verify-diagnostics

// The verifier and shape inference errors of the ops of SinterVisionOps.td.

func.func @pool_rank(%x: tensor<3x7xf32>) {
  // expected-error @+2 {{input must be N x C x spatial..., got 'tensor<3x7xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pool max %x kernel [2] strides [1] pads [0, 0] dilations [1] : tensor<3x7xf32> -> tensor<3x6xf32>
  return
}

// -----

func.func @pool_attributes(%x: tensor<1x3x7x7xf32>) {
  // expected-error @+2 {{expects 2 kernel sizes, 2 strides, 2 dilations and 4 pads for 2-D input windows}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pool max %x kernel [2] strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] : tensor<1x3x7x7xf32> -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @pool_stride(%x: tensor<1x3x7x7xf32>) {
  // expected-error @+2 {{kernel sizes, strides and dilations must be >= 1 and pads >= 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pool max %x kernel [2, 2] strides [0, 1] pads [0, 0, 0, 0] dilations [1, 1] : tensor<1x3x7x7xf32> -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @pool_too_large(%x: tensor<1x3x2x2xf32>) {
  // expected-error @+2 {{kernel size 3 does not fit spatial dimension 0 of size 2 with its padding}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pool max %x kernel [3, 1] strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] : tensor<1x3x2x2xf32> -> tensor<1x3x1x2xf32>
  return
}

// -----

func.func @avg_of_integers(%x: tensor<1x3x4x4xi32>) {
  // expected-error @+2 {{avg pooling needs a float input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pool avg %x kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] : tensor<1x3x4x4xi32> -> tensor<1x3x2x2xi32>
  return
}

// -----

func.func @lp_p(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{p must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pool lp %x kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] p 0 : tensor<1x3x4x4xf32> -> tensor<1x3x2x2xf32>
  return
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x8x4x4xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error @+2 {{input has 8 channels but the weight has 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv_transpose %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<1x8x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return
}

// -----

func.func @conv_transpose_group(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x3x3xf32>) {
  // expected-error @+2 {{input channels 8 are not divisible by group 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv_transpose %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 3 : (tensor<1x8x4x4xf32>, tensor<8x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_transpose_pads(%x: tensor<1x8x1x1xf32>, %w: tensor<8x2x1x1xf32>) {
  // expected-error @+2 {{pads 1 and 0 leave no output in spatial dimension 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv_transpose %x, %w strides [1, 1] pads [1, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<1x8x1x1xf32>, tensor<8x2x1x1xf32>) -> tensor<1x2x1x1xf32>
  return
}

// -----

func.func @conv_transpose_bias(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{bias must have 2 elements, got 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv_transpose %x, %w, %b strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<1x8x4x4xf32>, tensor<8x2x3x3xf32>, tensor<3xf32>) -> tensor<1x2x6x6xf32>
  return
}
