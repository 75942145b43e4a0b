// RUN: sinter-opt %s --sinter-fold-conv-scale -split-input-file | FileCheck %s

// Tests that a per-channel scale and shift after a conv (an inference
// BatchNormalization) fold into the conv's weight and bias.
// CHECK-LABEL: func @folds
// CHECK-DAG: %[[W:.*]] = sinter.constant dense_resource<folded_conv_weight> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = sinter.constant dense<[7.000000e+00, 1.100000e+01]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = sinter.conv %arg0, %[[W]], %[[B]]
// CHECK-NOT: sinter.mul
// CHECK-NOT: sinter.add
// CHECK: return %[[Y]]
func.func @folds(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = sinter.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %b = sinter.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = sinter.constant dense<[[[2.0]], [[3.0]]]> : tensor<2x1x1xf32>
  %c = sinter.constant dense<[[[5.0]], [[5.0]]]> : tensor<2x1x1xf32>
  %y = sinter.conv %x, %w, %b strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %s = sinter.mul %a, %y : (tensor<2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %t = sinter.add %s, %c : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %t : tensor<1x2x4x4xf32>
}

// -----

// Tests that a conv whose result is also used elsewhere keeps its weight:
// folding would need both the scaled and the unscaled result.
// CHECK-LABEL: func @conv_used_twice
// CHECK: sinter.conv
// CHECK: sinter.mul
func.func @conv_used_twice(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = sinter.constant dense<1.0> : tensor<2x1x1x1xf32>
  %a = sinter.constant dense<[[[2.0]], [[3.0]]]> : tensor<2x1x1xf32>
  %y = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = sinter.mul %y, %a : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %s, %y : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Tests that a scale computed at run time (not a constant) is not folded.
// CHECK-LABEL: func @scale_not_constant
// CHECK: sinter.conv
// CHECK: sinter.mul
func.func @scale_not_constant(%x: tensor<1x1x4x4xf32>, %a: tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %w = sinter.constant dense<1.0> : tensor<2x1x1x1xf32>
  %y = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = sinter.mul %y, %a : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %s : tensor<1x2x4x4xf32>
}

// -----

// Tests that a scale along another dimension than the channels (here the
// width) is not folded.
// CHECK-LABEL: func @scale_per_column
// CHECK: sinter.conv
// CHECK: sinter.mul
func.func @scale_per_column(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = sinter.constant dense<1.0> : tensor<2x1x1x1xf32>
  %a = sinter.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %y = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = sinter.mul %y, %a : (tensor<1x2x4x4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  return %s : tensor<1x2x4x4xf32>
}

// -----

// Tests that a conv whose weight is computed at run time is not folded.
// CHECK-LABEL: func @weight_not_constant
// CHECK: sinter.conv
// CHECK: sinter.mul
func.func @weight_not_constant(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %a = sinter.constant dense<[[[2.0]], [[3.0]]]> : tensor<2x1x1xf32>
  %y = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = sinter.mul %y, %a : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %s : tensor<1x2x4x4xf32>
}
