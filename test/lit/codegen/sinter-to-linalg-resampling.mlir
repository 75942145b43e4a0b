// RUN: sinter-opt %s --convert-sinter-to-linalg -split-input-file | FileCheck %s

// Tests the lowering of pad and resize.

// Tests that a constant pad that only grows is a tensor.pad of the value
// read from its 0-d tensor.
// CHECK-LABEL: func.func @pad_constant
// CHECK: %[[V:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK: tensor.pad %{{.*}} low[0, 1] high[2, 0]
// CHECK: tensor.yield %[[V]]
func.func @pad_constant(%x: tensor<2x3xf32>, %v: tensor<f32>) -> tensor<4x4xf32> {
  %0 = sinter.pad %x, %v mode "constant" pads [0, 1, 2, 0] : tensor<2x3xf32>, tensor<f32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// Tests that a reflect pad is a generic reading the reflected coordinate
// of the padded dimension only.
// CHECK-LABEL: func.func @pad_reflect
// CHECK: linalg.generic
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.remui
// CHECK: tensor.extract %{{.*}} : tensor<2x?xf32>
// CHECK-NOT: arith.select
// CHECK: linalg.yield
func.func @pad_reflect(%x: tensor<2x?xf32>, %v: tensor<f32>) -> tensor<2x?xf32> {
  %0 = sinter.pad %x, %v mode "reflect" pads [0, 2, 0, 1] : tensor<2x?xf32>, tensor<f32> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// Tests that a constant pad that crops selects the value outside the input.
// CHECK-LABEL: func.func @pad_crop
// CHECK: linalg.generic
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: arith.select
func.func @pad_crop(%x: tensor<2x3xf32>, %v: tensor<f32>) -> tensor<2x4xf32> {
  %0 = sinter.pad %x, %v mode "constant" pads [0, -1, 0, 2] : tensor<2x3xf32>, tensor<f32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Tests that nearest resize reads one tap per resampled dimension from a
// constant table, the last dimension first; the kept batch is not
// resampled.
// CHECK-LABEL: func.func @resize_nearest
// CHECK-DAG: arith.constant dense<{{\[}}[0], [0], [1], [1]]> : tensor<4x1xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[0], [0], [1], [1], [2], [2]]> : tensor<6x1xi64>
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<?x2x6xf32>)
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<?x4x6xf32>)
// CHECK-NOT: linalg.generic
func.func @resize_nearest(%x: tensor<?x2x3xf32>) -> tensor<?x4x6xf32> {
  %0 = sinter.resize %x mode "nearest" coordinate_mode "asymmetric" scales [1.0, 2.0, 2.0] sizes [-9223372036854775808, 4, 6] {nearest_mode = "floor"} : tensor<?x2x3xf32> -> tensor<?x4x6xf32>
  return %0 : tensor<?x4x6xf32>
}

// -----

// Tests that linear resize weighs two taps from constant tables.
// CHECK-LABEL: func.func @resize_linear
// CHECK-DAG: arith.constant dense<{{\[}}[0, 0], [0, 1], [0, 1]]> : tensor<3x2xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[0.000000e+00, 1.000000e+00], [5.000000e-01, 5.000000e-01], [0.000000e+00, 1.000000e+00]]> : tensor<3x2xf32>
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @resize_linear(%x: tensor<2xf32>) -> tensor<3xf32> {
  %0 = sinter.resize %x mode "linear" coordinate_mode "align_corners" scales [1.5] sizes [3] : tensor<2xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Tests that tf_crop_and_resize selects the extrapolation value where the
// coordinate leaves the input.
// CHECK-LABEL: func.func @resize_crop
// CHECK: arith.constant dense<[false, false, true]> : tensor<3xi1>
// CHECK: linalg.generic
// CHECK: arith.select
func.func @resize_crop(%x: tensor<4xf32>) -> tensor<3xf32> {
  %0 = sinter.resize %x mode "linear" coordinate_mode "tf_crop_and_resize" scales [0.75] sizes [3] {roi = array<f64: 0.5, 1.5>, extrapolation_value = 10.0 : f64} : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
