// RUN: sinter-opt %s --sinter-fuse-rms-norm -split-input-file | FileCheck %s

// Tests the LLaMA export: pow, mean, + eps, sqrt, 1 / sqrt, x * r, * w.
// CHECK-LABEL: func @llama
// CHECK-SAME: (%[[X:.*]]: tensor<1x32x64xf32>, %[[W:.*]]: tensor<64xf32>)
// CHECK-NEXT: %[[Y:.*]] = sinter.rms_norm %[[X]], %[[W]] axis 2 epsilon 9.99999974E-6
// CHECK-NEXT: return %[[Y]]
func.func @llama(%x: tensor<1x32x64xf32>, %w: tensor<64xf32>) -> tensor<1x32x64xf32> {
  %two = sinter.constant dense<2.0> : tensor<f32>
  %eps = sinter.constant dense<1.0e-05> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %s = sinter.pow %x, %two : (tensor<1x32x64xf32>, tensor<f32>) -> tensor<1x32x64xf32>
  %m = sinter.reduce_mean %s axes [2] keepdims : tensor<1x32x64xf32> -> tensor<1x32x1xf32>
  %e = sinter.add %m, %eps : (tensor<1x32x1xf32>, tensor<f32>) -> tensor<1x32x1xf32>
  %r = sinter.sqrt %e : tensor<1x32x1xf32>
  %i = sinter.div %one, %r : (tensor<f32>, tensor<1x32x1xf32>) -> tensor<1x32x1xf32>
  %n = sinter.mul %x, %i : (tensor<1x32x64xf32>, tensor<1x32x1xf32>) -> tensor<1x32x64xf32>
  %y = sinter.mul %n, %w : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  return %y : tensor<1x32x64xf32>
}

// -----

// Tests x * x, rsqrt on the left, the weight on the left.
// CHECK-LABEL: func @rsqrt
// CHECK: sinter.rms_norm %{{.*}}, %{{.*}} axis 1 epsilon 9.99999997E-7 : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
// CHECK-NOT: sinter.rsqrt
func.func @rsqrt(%x: tensor<8x16xf32>, %w: tensor<16xf32>) -> tensor<8x16xf32> {
  %eps = sinter.constant dense<1.0e-06> : tensor<f32>
  %s = sinter.mul %x, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %m = sinter.reduce_mean %s axes [1] keepdims : tensor<8x16xf32> -> tensor<8x1xf32>
  %e = sinter.add %m, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %r = sinter.rsqrt %e : tensor<8x1xf32>
  %n = sinter.mul %r, %x : (tensor<8x1xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %y = sinter.mul %w, %n : (tensor<16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// Tests x / sqrt(...) without a weight: the scale becomes ones.
// CHECK-LABEL: func @divide_no_weight
// CHECK: %[[ONES:.*]] = sinter.constant dense<1.000000e+00> : tensor<16xf32>
// CHECK: sinter.rms_norm %{{.*}}, %[[ONES]] axis 1 epsilon 9.99999997E-7
func.func @divide_no_weight(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %eps = sinter.constant dense<1.0e-06> : tensor<f32>
  %s = sinter.mul %x, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %m = sinter.reduce_mean %s axes [1] keepdims : tensor<8x16xf32> -> tensor<8x1xf32>
  %e = sinter.add %m, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %r = sinter.sqrt %e : tensor<8x1xf32>
  %n = sinter.div %x, %r : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
  return %n : tensor<8x16xf32>
}

// -----

// Near misses: the mean over the leading axis; the root also returned;
// a weight that varies along rows (not the normalized shape) stays a mul.
// CHECK-LABEL: func @leading_axis
// CHECK-NOT: sinter.rms_norm
// CHECK-LABEL: func @root_used_twice
// CHECK-NOT: sinter.rms_norm
// CHECK-LABEL: func @row_weight
// CHECK: %[[N:.*]] = sinter.rms_norm
// CHECK: sinter.mul %[[N]], %{{.*}} : (tensor<8x16xf32>, tensor<8x16xf32>)
func.func @leading_axis(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %s = sinter.mul %x, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %m = sinter.reduce_mean %s axes [0] keepdims : tensor<8x16xf32> -> tensor<1x16xf32>
  %r = sinter.rsqrt %m : tensor<1x16xf32>
  %n = sinter.mul %x, %r : (tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<8x16xf32>
  return %n : tensor<8x16xf32>
}
func.func @root_used_twice(%x: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x1xf32>) {
  %s = sinter.mul %x, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %m = sinter.reduce_mean %s axes [1] keepdims : tensor<8x16xf32> -> tensor<8x1xf32>
  %r = sinter.rsqrt %m : tensor<8x1xf32>
  %n = sinter.mul %x, %r : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
  return %n, %r : tensor<8x16xf32>, tensor<8x1xf32>
}
func.func @row_weight(%x: tensor<8x16xf32>, %w: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %s = sinter.mul %x, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %m = sinter.reduce_mean %s axes [1] keepdims : tensor<8x16xf32> -> tensor<8x1xf32>
  %r = sinter.rsqrt %m : tensor<8x1xf32>
  %n = sinter.mul %x, %r : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
  %y = sinter.mul %n, %w : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
