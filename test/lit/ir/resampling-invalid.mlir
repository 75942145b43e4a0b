// RUN: sinter-opt %s -split-input-file -verify-diagnostics

// Every verifier and shape inference error of pad and resize.

func.func @pad_count(%x: tensor<2x3xf32>, %v: tensor<f32>) {
  // expected-error @+2 {{pads has 2 entries for rank 2 (expected 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pad %x, %v mode "constant" pads [1, 1] : tensor<2x3xf32>, tensor<f32> -> tensor<3x4xf32>
  return
}

// -----

func.func @pad_crop_too_much(%x: tensor<2x3xf32>, %v: tensor<f32>) {
  // expected-error @+2 {{pads -2 and -1 remove more than the 2 elements of dimension 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.pad %x, %v mode "constant" pads [-2, 0, -1, 0] : tensor<2x3xf32>, tensor<f32> -> tensor<0x3xf32>
  return
}

// -----

func.func @pad_mode(%x: tensor<2x3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{unknown mode 'mirror'}}
  %0 = sinter.pad %x, %v mode "mirror" pads [1, 0, 1, 0] : tensor<2x3xf32>, tensor<f32> -> tensor<4x3xf32>
  return
}

// -----

func.func @pad_value_rank(%x: tensor<2x3xf32>, %v: tensor<1xf32>) {
  // expected-error @+1 {{value must be a 0-d tensor, not 'tensor<1xf32>'}}
  %0 = sinter.pad %x, %v mode "constant" pads [1, 0, 1, 0] : tensor<2x3xf32>, tensor<1xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @pad_reflect_empty(%x: tensor<0x3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{mode 'reflect' cannot pad dimension 0, which has no elements}}
  %0 = sinter.pad %x, %v mode "reflect" pads [1, 0, 1, 0] : tensor<0x3xf32>, tensor<f32> -> tensor<2x3xf32>
  return
}

// -----

func.func @resize_mode(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{unknown mode 'area'}}
  %0 = sinter.resize %x mode "area" coordinate_mode "half_pixel" scales [1.0, 2.0] sizes [2, 6] : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @resize_coordinates(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{unknown coordinate mode 'centre'}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "centre" scales [1.0, 2.0] sizes [2, 6] : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @resize_rounding(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{unknown nearest mode 'round'}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "asymmetric" scales [1.0, 2.0] sizes [2, 6] {nearest_mode = "round"} : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @resize_linear_int(%x: tensor<2x3xi32>) {
  // expected-error @+1 {{mode 'linear' needs a float tensor, not 'tensor<2x3xi32>'}}
  %0 = sinter.resize %x mode "linear" coordinate_mode "half_pixel" scales [1.0, 2.0] sizes [2, 6] : tensor<2x3xi32> -> tensor<2x6xi32>
  return
}

// -----

func.func @resize_sizes(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{sizes has 1 entries for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "half_pixel" scales [1.0, 2.0] sizes [6] : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @resize_scales(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{scale 0.000000e+00 of dimension 1 is not positive and finite}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "half_pixel" scales [1.0, 0.0] sizes [2, 6] : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @resize_roi(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{roi has 0 entries; expected 4 for coordinate mode 'tf_crop_and_resize'}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "tf_crop_and_resize" scales [1.0, 2.0] sizes [2, 6] : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @resize_dynamic_resampled(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{dimension 0 is resampled, so its input size must be static}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "half_pixel" scales [2.0, 2.0] sizes [4, 6] : tensor<?x3xf32> -> tensor<4x6xf32>
  return
}

// -----

func.func @resize_dynamic_scaled(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{dimension 0 has a dynamic size, so it must be kept as it is}}
  %0 = sinter.resize %x mode "nearest" coordinate_mode "half_pixel" scales [2.0, 2.0] sizes [-9223372036854775808, 6] : tensor<?x3xf32> -> tensor<?x6xf32>
  return
}
