// RUN: sinter-opt %s -canonicalize -split-input-file | FileCheck %s

// Folders of the sinter ops, run through the canonicalizer.

// Tests that a reshape to the same static type disappears.
// CHECK-LABEL: func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_identity(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = sinter.reshape %x to [4, 8] : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Tests that a chain of reshapes becomes one reshape of the original input.
// CHECK-LABEL: func @reshape_of_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[R:.*]] = sinter.reshape %[[X]] to [2, 16] : tensor<4x8xf32> -> tensor<2x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<4x8xf32>) -> tensor<2x16xf32> {
  %0 = sinter.reshape %x to [32] : tensor<4x8xf32> -> tensor<32xf32>
  %1 = sinter.reshape %0 to [2, 16] : tensor<32xf32> -> tensor<2x16xf32>
  return %1 : tensor<2x16xf32>
}

// -----

// Tests that a dynamic reshape to the same type is kept: the sizes may differ.
// CHECK-LABEL: func @reshape_dynamic_kept
// CHECK: sinter.reshape
func.func @reshape_dynamic_kept(%x: tensor<?x8xf32>, %n: index) -> tensor<?x8xf32> {
  %0 = sinter.reshape %x to [%n, 8] : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Tests that the identity permutation folds away.
// CHECK-LABEL: func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = sinter.transpose %x [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that two transposes compose into one.
// CHECK-LABEL: func @transpose_of_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = sinter.transpose %[[X]] [2, 1, 0] : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %0 = sinter.transpose %x [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = sinter.transpose %0 [2, 0, 1] : tensor<3x2x4xf32> -> tensor<4x3x2xf32>
  return %1 : tensor<4x3x2xf32>
}

// -----

// Tests that a transpose undone by its inverse folds to the input.
// CHECK-LABEL: func @transpose_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_inverse(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = sinter.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = sinter.transpose %0 [2, 0, 1] : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// Tests that broadcasting to the input's own shape folds away.
// CHECK-LABEL: func @expand_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @expand_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = sinter.expand %x to [1, 3] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that a broadcast that grows the tensor stays.
// CHECK-LABEL: func @expand_kept
// CHECK: sinter.expand
func.func @expand_kept(%x: tensor<1x3xf32>) -> tensor<4x3xf32> {
  %0 = sinter.expand %x to [4, 3] : tensor<1x3xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Tests that full slices fold, including 0:MAX:1 on a dynamic dimension.
// CHECK-LABEL: func @slice_full
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @slice_full(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = sinter.slice %x starts [0, 0] ends [9223372036854775807, 8] steps [1, 1] : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Tests that a slice of a dynamic dimension with a bound is kept.
// CHECK-LABEL: func @slice_dynamic_kept
// CHECK: sinter.slice
func.func @slice_dynamic_kept(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = sinter.slice %x starts [0, 0] ends [16, 8] steps [1, 1] : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Tests that casts to the same type and single-input concats fold.
// CHECK-LABEL: func @cast_concat_identity
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @cast_concat_identity(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sinter.cast %x : tensor<4xf32> to tensor<4xf32>
  %1 = sinter.concat %0 axis 0 : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Tests that casts of small constants fold as ONNX's Cast computes them:
// floats to integers toward zero, unsigned integers widen with zeros,
// anything to bool is != 0, integers to floats to nearest.
// CHECK-LABEL: func @cast_constants
// CHECK-DAG: sinter.constant dense<[2, -2, 0]> : tensor<3xi32>
// CHECK-DAG: sinter.constant dense<[255, 1]> : tensor<2xi64>
// CHECK-DAG: sinter.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-DAG: sinter.constant dense<1.000000e+01> : tensor<f32>
// CHECK-NOT: sinter.cast
func.func @cast_constants() -> (tensor<3xi32>, tensor<2xi64>, tensor<3xi1>, tensor<f32>) {
  %f = sinter.constant dense<[2.7, -2.7, 0.5]> : tensor<3xf32>
  %u = sinter.constant dense<[255, 1]> : tensor<2xui8>
  %z = sinter.constant dense<[0.0, -0.5, 3.0]> : tensor<3xf32>
  %i = sinter.constant dense<10> : tensor<i32>
  %0 = sinter.cast %f : tensor<3xf32> to tensor<3xi32>
  %1 = sinter.cast %u : tensor<2xui8> to tensor<2xi64>
  %2 = sinter.cast %z : tensor<3xf32> to tensor<3xi1>
  %3 = sinter.cast %i : tensor<i32> to tensor<f32>
  return %0, %1, %2, %3 : tensor<3xi32>, tensor<2xi64>, tensor<3xi1>, tensor<f32>
}

// -----

// Tests that a cast whose result is undefined (NaN to an integer) stays.
// CHECK-LABEL: func @cast_kept
// CHECK: sinter.cast
func.func @cast_kept() -> tensor<1xi32> {
  %nan = sinter.constant dense<0x7FC00000> : tensor<1xf32>
  %0 = sinter.cast %nan : tensor<1xf32> to tensor<1xi32>
  return %0 : tensor<1xi32>
}

// -----

// Tests that reducing over no axes folds.
// CHECK-LABEL: func @reduce_no_axes
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reduce_no_axes(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sinter.reduce_sum %x axes [] : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that adding zero and multiplying by one fold, but not when the
// constant broadcasts the other operand to a larger shape.
// CHECK-LABEL: func @arithmetic_identities
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[B:.*]] = sinter.add %[[X]], %{{.*}} : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: return %[[X]], %[[B]]
func.func @arithmetic_identities(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<2x4xf32>) {
  %zero = sinter.constant dense<0.0> : tensor<4xf32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %zeros = sinter.constant dense<0.0> : tensor<2x4xf32>
  %0 = sinter.add %x, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = sinter.mul %0, %one : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %2 = sinter.sub %1, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = sinter.add %2, %zeros : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %2, %3 : tensor<4xf32>, tensor<2x4xf32>
}

// -----

// Tests that integer shape arithmetic on constants is evaluated.
// CHECK-LABEL: func @constant_shape_arithmetic
// CHECK-NEXT: %[[C:.*]] = sinter.constant dense<[8, 30]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]]
func.func @constant_shape_arithmetic() -> tensor<2xi64> {
  %a = sinter.constant dense<[2, 5]> : tensor<2xi64>
  %b = sinter.constant dense<[4, 6]> : tensor<2xi64>
  %c = sinter.constant dense<[6, 11]> : tensor<2xi64>
  %0 = sinter.mul %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %1 = sinter.add %0, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %2 = sinter.sub %1, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %2 : tensor<2xi64>
}

// -----

// The scalar arithmetic of an expanded Range (ONNX's function body): the
// trip count ceil((limit - start) / delta), clamped at 0, as the lowering
// computes it: float division, ceil and floor toward their infinities,
// relu as maximumf(x, +0) (NaN stays), integer division toward zero.
// CHECK-LABEL: func @constant_scalar_arithmetic
// CHECK-DAG: %[[TRIPS:.*]] = sinter.constant dense<3.000000e+00> : tensor<f32>
// CHECK-DAG: %[[FLOORS:.*]] = sinter.constant dense<[-2.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[RELU:.*]] = sinter.constant dense<[0.000000e+00, 0.000000e+00, 2.500000e+00, 0x7FC00000]> : tensor<4xf32>
// CHECK-DAG: %[[QUOTIENTS:.*]] = sinter.constant dense<[-3, 3, 0]> : tensor<3xi32>
// CHECK-DAG: %[[INTRELU:.*]] = sinter.constant dense<[0, 7]> : tensor<2xi64>
// CHECK: return %[[TRIPS]], %[[FLOORS]], %[[RELU]], %[[QUOTIENTS]], %[[INTRELU]]
func.func @constant_scalar_arithmetic() -> (tensor<f32>, tensor<2xf32>, tensor<4xf32>, tensor<3xi32>, tensor<2xi64>) {
  %diff = sinter.constant dense<-7.0> : tensor<f32>
  %delta = sinter.constant dense<-3.0> : tensor<f32>
  %0 = sinter.div %diff, %delta : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %1 = sinter.ceil %0 : tensor<f32>
  %2 = sinter.relu %1 : tensor<f32>
  %x = sinter.constant dense<[-1.5, 1.5]> : tensor<2xf32>
  %3 = sinter.floor %x : tensor<2xf32>
  %y = sinter.constant dense<[-2.0, -0.0, 2.5, 0x7FC00000]> : tensor<4xf32>
  %4 = sinter.relu %y : tensor<4xf32>
  %a = sinter.constant dense<[-7, 7, 2]> : tensor<3xi32>
  %b = sinter.constant dense<[2, 2, 3]> : tensor<3xi32>
  %5 = sinter.div %a, %b : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %i = sinter.constant dense<[-4, 7]> : tensor<2xi64>
  %6 = sinter.relu %i : tensor<2xi64>
  return %2, %3, %4, %5, %6 : tensor<f32>, tensor<2xf32>, tensor<4xf32>, tensor<3xi32>, tensor<2xi64>
}

// -----

// Near misses: an integer division by zero, INT_MIN / -1, and a division
// by a non-constant stay as they are; x / 1 is x.
// CHECK-LABEL: func @division_near_misses
// CHECK: %[[ZERO:.*]] = sinter.div
// CHECK: %[[OVERFLOW:.*]] = sinter.div
// CHECK: %[[DYNAMIC:.*]] = sinter.div %arg0
// CHECK: return %[[ZERO]], %[[OVERFLOW]], %[[DYNAMIC]], %arg0
func.func @division_near_misses(%x: tensor<2xi32>) -> (tensor<2xi32>, tensor<i32>, tensor<2xi32>, tensor<2xi32>) {
  %a = sinter.constant dense<[4, 5]> : tensor<2xi32>
  %z = sinter.constant dense<[1, 0]> : tensor<2xi32>
  %0 = sinter.div %a, %z : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %min = sinter.constant dense<-2147483648> : tensor<i32>
  %m1 = sinter.constant dense<-1> : tensor<i32>
  %1 = sinter.div %min, %m1 : (tensor<i32>, tensor<i32>) -> tensor<i32>
  %2 = sinter.div %x, %a : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %one = sinter.constant dense<1> : tensor<2xi32>
  %3 = sinter.div %x, %one : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  return %0, %1, %2, %3 : tensor<2xi32>, tensor<i32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// Tests that weights held as dense resources are never folded into
// attributes.
// CHECK-LABEL: func @resources_not_folded
// CHECK: %[[W:.*]] = sinter.constant dense_resource<w>
// CHECK: sinter.add %[[W]], %[[W]]
func.func @resources_not_folded() -> tensor<2xf32> {
  %w = sinter.constant dense_resource<w> : tensor<2xf32>
  %0 = sinter.add %w, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040"
    }
  }
#-}
