// RUN: sinter-opt %s --sinter-fuse-layer-norm -split-input-file | FileCheck %s

// Tests the spelling of exports before opset 17: pow, sqrt, div, then
// gamma and beta.
// CHECK-LABEL: func @pow_sqrt_div
// CHECK-SAME: (%[[X:.*]]: tensor<1x32x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
// CHECK-NEXT: %[[Y:.*]] = sinter.layer_norm %[[X]], %[[G]], %[[B]] axis 2 epsilon 9.99999974E-6
// CHECK-NEXT: return %[[Y]]
func.func @pow_sqrt_div(%x: tensor<1x32x64xf32>, %gamma: tensor<64xf32>, %beta: tensor<64xf32>) -> tensor<1x32x64xf32> {
  %two = sinter.constant dense<2.0> : tensor<f32>
  %eps = sinter.constant dense<1.0e-05> : tensor<f32>
  %m = sinter.reduce_mean %x axes [2] keepdims : tensor<1x32x64xf32> -> tensor<1x32x1xf32>
  %d = sinter.sub %x, %m : (tensor<1x32x64xf32>, tensor<1x32x1xf32>) -> tensor<1x32x64xf32>
  %s = sinter.pow %d, %two : (tensor<1x32x64xf32>, tensor<f32>) -> tensor<1x32x64xf32>
  %v = sinter.reduce_mean %s axes [2] keepdims : tensor<1x32x64xf32> -> tensor<1x32x1xf32>
  %e = sinter.add %v, %eps : (tensor<1x32x1xf32>, tensor<f32>) -> tensor<1x32x1xf32>
  %r = sinter.sqrt %e : tensor<1x32x1xf32>
  %n = sinter.div %d, %r : (tensor<1x32x64xf32>, tensor<1x32x1xf32>) -> tensor<1x32x64xf32>
  %g = sinter.mul %n, %gamma : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  %y = sinter.add %g, %beta : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  return %y : tensor<1x32x64xf32>
}

// -----

// Tests the square as d * d, rsqrt, parameters on the left and shaped
// [1, 16] (reshaped to the normalized shape).
// CHECK-LABEL: func @mul_rsqrt
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x16xf32>, %[[G:.*]]: tensor<1x16xf32>, %[[B:.*]]: tensor<1x16xf32>)
// CHECK-DAG: %[[G1:.*]] = sinter.reshape %[[G]] to [16]
// CHECK-DAG: %[[B1:.*]] = sinter.reshape %[[B]] to [16]
// CHECK: sinter.layer_norm %[[X]], %[[G1]], %[[B1]] axis 2 epsilon 9.99999996E-13
// CHECK-NOT: sinter.reduce_mean
func.func @mul_rsqrt(%x: tensor<2x8x16xf32>, %gamma: tensor<1x16xf32>, %beta: tensor<1x16xf32>) -> tensor<2x8x16xf32> {
  %eps = sinter.constant dense<1.0e-12> : tensor<f32>
  %m = sinter.reduce_mean %x axes [2] keepdims : tensor<2x8x16xf32> -> tensor<2x8x1xf32>
  %d = sinter.sub %x, %m : (tensor<2x8x16xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  %s = sinter.mul %d, %d : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %v = sinter.reduce_mean %s axes [2] keepdims : tensor<2x8x16xf32> -> tensor<2x8x1xf32>
  %e = sinter.add %eps, %v : (tensor<f32>, tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %r = sinter.rsqrt %e : tensor<2x8x1xf32>
  %n = sinter.mul %r, %d : (tensor<2x8x1xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %g = sinter.mul %gamma, %n : (tensor<1x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %y = sinter.add %beta, %g : (tensor<1x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}

// -----

// Tests normalization over the two trailing axes without parameters: the
// scale becomes ones and there is no bias; 1 / sqrt spelled as reciprocal.
// CHECK-LABEL: func @two_axes_no_affine
// CHECK: %[[ONES:.*]] = sinter.constant dense<1.000000e+00> : tensor<4x8xf32>
// CHECK: sinter.layer_norm %{{.*}}, %[[ONES]] axis 1 epsilon 0.000000e+00 : (tensor<2x4x8xf32>, tensor<4x8xf32>) -> tensor<2x4x8xf32>
func.func @two_axes_no_affine(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %m = sinter.reduce_mean %x axes [1, 2] keepdims : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  %d = sinter.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %s = sinter.mul %d, %d : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %v = sinter.reduce_mean %s axes [1, 2] keepdims : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  %r = sinter.sqrt %v : tensor<2x1x1xf32>
  %i = sinter.reciprocal %r : tensor<2x1x1xf32>
  %n = sinter.mul %d, %i : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  return %n : tensor<2x4x8xf32>
}

// -----

// Near miss: the mean is over the middle axis, not the trailing ones.
// CHECK-LABEL: func @wrong_axis
// CHECK-NOT: sinter.layer_norm
// CHECK: sinter.div
func.func @wrong_axis(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %m = sinter.reduce_mean %x axes [1] keepdims : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
  %d = sinter.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x1x8xf32>) -> tensor<2x4x8xf32>
  %s = sinter.mul %d, %d : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %v = sinter.reduce_mean %s axes [1] keepdims : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
  %r = sinter.sqrt %v : tensor<2x1x8xf32>
  %n = sinter.div %d, %r : (tensor<2x4x8xf32>, tensor<2x1x8xf32>) -> tensor<2x4x8xf32>
  return %n : tensor<2x4x8xf32>
}

// -----

// Near misses: the centered value is also returned; the variance is
// taken over another axis than the mean.
// CHECK-LABEL: func @extra_use
// CHECK-NOT: sinter.layer_norm
// CHECK-LABEL: func @mismatched_axes
// CHECK-NOT: sinter.layer_norm
func.func @extra_use(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %m = sinter.reduce_mean %x axes [1] keepdims : tensor<4x8xf32> -> tensor<4x1xf32>
  %d = sinter.sub %x, %m : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %s = sinter.mul %d, %d : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %v = sinter.reduce_mean %s axes [1] keepdims : tensor<4x8xf32> -> tensor<4x1xf32>
  %r = sinter.sqrt %v : tensor<4x1xf32>
  %n = sinter.div %d, %r : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %z = sinter.abs %d : tensor<4x8xf32>
  return %n, %z : tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @mismatched_axes(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %m = sinter.reduce_mean %x axes [1, 2] keepdims : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  %d = sinter.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %s = sinter.mul %d, %d : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %v = sinter.reduce_mean %s axes [2] keepdims : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
  %r = sinter.sqrt %v : tensor<2x4x1xf32>
  %n = sinter.div %d, %r : (tensor<2x4x8xf32>, tensor<2x4x1xf32>) -> tensor<2x4x8xf32>
  return %n : tensor<2x4x8xf32>
}
