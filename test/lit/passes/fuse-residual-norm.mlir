// RUN: sinter-opt %s --sinter-fuse-residual-norm -split-input-file | FileCheck %s

// Tests the pre-norm block: the sum feeds the norm and the next residual
// add; both take add_norm's results, and the add is gone.
// CHECK-LABEL: func @pre_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x32x64xf32>, %[[R:.*]]: tensor<1x32x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
// CHECK-NEXT: %[[S:.*]], %[[Y:.*]] = sinter.add_norm %[[X]], %[[R]], %[[G]], %[[B]] kind layer axis 2 epsilon 9.99999974E-6
// CHECK-NEXT: %[[NEXT:.*]] = sinter.add %[[S]], %[[Y]]
// CHECK-NEXT: return %[[NEXT]]
func.func @pre_norm(%x: tensor<1x32x64xf32>, %r: tensor<1x32x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<1x32x64xf32> {
  %s = sinter.add %x, %r : (tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %y = sinter.layer_norm %s, %g, %b axis 2 epsilon 1.0e-05 : (tensor<1x32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  %n = sinter.add %s, %y : (tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %n : tensor<1x32x64xf32>
}

// -----

// Tests rms_norm, and a weight computed after the add: add_norm goes where
// the norm was, since the sum's only other user comes after it.
// CHECK-LABEL: func @rms_late_weight
// CHECK: %[[W:.*]] = sinter.exp
// CHECK-NEXT: %[[S:.*]], %[[Y:.*]] = sinter.add_norm %{{.*}}, %{{.*}}, %[[W]] kind rms axis 1 epsilon 9.99999997E-7
// CHECK-NEXT: sinter.mul %[[S]], %[[Y]]
// CHECK-NOT: sinter.add %
func.func @rms_late_weight(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>, %logw: tensor<8xf32>) -> tensor<4x8xf32> {
  %s = sinter.add %x, %r : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %w = sinter.exp %logw : tensor<8xf32>
  %y = sinter.rms_norm %s, %w axis 1 epsilon 1.0e-06 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %m = sinter.mul %s, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// -----

// Tests the near miss of the previous case: the sum is used between the add
// and a weight computed late, so neither place works; nothing changes.
// CHECK-LABEL: func @used_before_weight
// CHECK: sinter.add %
// CHECK: sinter.rms_norm
// CHECK-NOT: sinter.add_norm
func.func @used_before_weight(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>, %logw: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %s = sinter.add %x, %r : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %e = sinter.exp %s : tensor<4x8xf32>
  %w = sinter.exp %logw : tensor<8xf32>
  %y = sinter.rms_norm %s, %w axis 1 epsilon 1.0e-06 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %e, %y : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Tests a bias add (broadcast [64] onto [1, 32, 64]): not a residual add.
// CHECK-LABEL: func @bias_add
// CHECK: sinter.add %
// CHECK: sinter.layer_norm
// CHECK-NOT: sinter.add_norm
func.func @bias_add(%x: tensor<1x32x64xf32>, %c: tensor<64xf32>, %g: tensor<64xf32>) -> tensor<1x32x64xf32> {
  %s = sinter.add %x, %c : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  %y = sinter.layer_norm %s, %g axis 2 epsilon 1.0e-05 : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  return %y : tensor<1x32x64xf32>
}

// -----

// Tests a norm of something other than an add (a sub): left alone.
// CHECK-LABEL: func @not_an_add
// CHECK: sinter.sub
// CHECK: sinter.layer_norm
// CHECK-NOT: sinter.add_norm
func.func @not_an_add(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %s = sinter.sub %x, %r : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = sinter.layer_norm %s, %g axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests a dynamic sequence: both operands of one type, fused.
// CHECK-LABEL: func @dynamic
// CHECK: sinter.add_norm %{{.*}}, %{{.*}}, %{{.*}} kind rms axis 2 {{.*}} -> (tensor<1x?x64xf32>, tensor<1x?x64xf32>)
func.func @dynamic(%x: tensor<1x?x64xf32>, %r: tensor<1x?x64xf32>, %g: tensor<64xf32>) -> tensor<1x?x64xf32> {
  %s = sinter.add %x, %r : (tensor<1x?x64xf32>, tensor<1x?x64xf32>) -> tensor<1x?x64xf32>
  %y = sinter.rms_norm %s, %g axis 2 epsilon 1.0e-06 : (tensor<1x?x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
