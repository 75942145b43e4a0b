// RUN: sinter-opt %s | sinter-opt | FileCheck %s
// RUN: sinter-opt %s --mlir-print-op-generic | sinter-opt | FileCheck %s

// Tests that pad and resize print and parse back, their defaulted
// attributes omitted.

// CHECK-LABEL: func.func @pad
func.func @pad(%x: tensor<1x3x?x8xf32>, %v: tensor<f32>) -> (tensor<1x3x?x10xf32>, tensor<1x3x?x5xf32>) {
  // CHECK: sinter.pad %{{.*}}, %{{.*}} mode "reflect" pads [0, 0, 1, 1, 0, 0, 1, 1] : tensor<1x3x?x8xf32>, tensor<f32> -> tensor<1x3x?x10xf32>
  %0 = sinter.pad %x, %v mode "reflect" pads [0, 0, 1, 1, 0, 0, 1, 1] : tensor<1x3x?x8xf32>, tensor<f32> -> tensor<1x3x?x10xf32>
  // CHECK: sinter.pad %{{.*}}, %{{.*}} mode "constant" pads [0, 0, 0, -3, 0, 0, 0, 0]
  %1 = sinter.pad %x, %v mode "constant" pads [0, 0, 0, -3, 0, 0, 0, 0] : tensor<1x3x?x8xf32>, tensor<f32> -> tensor<1x3x?x5xf32>
  return %0, %1 : tensor<1x3x?x10xf32>, tensor<1x3x?x5xf32>
}

// CHECK-LABEL: func.func @resize
func.func @resize(%x: tensor<?x3x8x8xf32>, %y: tensor<2x3x8x8xf32>) -> (tensor<?x3x16x4xf32>, tensor<2x3x5x5xf32>) {
  // CHECK: sinter.resize %{{.*}} mode "linear" coordinate_mode "half_pixel" scales [1.000000e+00, 1.000000e+00, 2.000000e+00, 5.000000e-01] sizes [-9223372036854775808, 3, 16, 4] : tensor<?x3x8x8xf32> -> tensor<?x3x16x4xf32>
  %0 = sinter.resize %x mode "linear" coordinate_mode "half_pixel" scales [1.0, 1.0, 2.0, 0.5] sizes [-9223372036854775808, 3, 16, 4] : tensor<?x3x8x8xf32> -> tensor<?x3x16x4xf32>
  // CHECK: sinter.resize %{{.*}} mode "cubic" coordinate_mode "tf_crop_and_resize" {{.*}} {cubic_coeff_a = -5.000000e-01 : f64, exclude_outside, extrapolation_value = 1.000000e+01 : f64, roi = array<f64: 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00, 5.000000e-01, 5.000000e-01>}
  %1 = sinter.resize %y mode "cubic" coordinate_mode "tf_crop_and_resize" scales [1.0, 1.0, 0.625, 0.625] sizes [2, 3, 5, 5] {cubic_coeff_a = -0.5 : f64, exclude_outside, extrapolation_value = 10.0 : f64, roi = array<f64: 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.5, 0.5>} : tensor<2x3x8x8xf32> -> tensor<2x3x5x5xf32>
  return %0, %1 : tensor<?x3x16x4xf32>, tensor<2x3x5x5xf32>
}
