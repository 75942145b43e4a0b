// RUN: sinter-opt %s --sinter-fuse-linear -split-input-file | FileCheck %s

// Tests that matmul by a matrix plus a bias on either side becomes one
// linear with the bias.
// CHECK-LABEL: func @bias_left
// CHECK-SAME: (%[[X:.*]]: tensor<1x32x64xf32>, %[[W:.*]]: tensor<64x256xf32>, %[[B:.*]]: tensor<256xf32>)
// CHECK-NEXT: %[[Y:.*]] = sinter.linear %[[X]], %[[W]], %[[B]] : (tensor<1x32x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<1x32x256xf32>
// CHECK-NEXT: return %[[Y]]
func.func @bias_left(%x: tensor<1x32x64xf32>, %w: tensor<64x256xf32>, %b: tensor<256xf32>) -> tensor<1x32x256xf32> {
  %0 = sinter.matmul %x, %w : (tensor<1x32x64xf32>, tensor<64x256xf32>) -> tensor<1x32x256xf32>
  %1 = sinter.add %b, %0 : (tensor<256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  return %1 : tensor<1x32x256xf32>
}

// -----

// Tests that a transposed weight is read in place (nn.Linear layout) and
// that a bias shaped [1, 1, N] is reshaped to [N].
// CHECK-LABEL: func @transposed_weight
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32>, %[[W:.*]]: tensor<256x64xf32>, %[[B:.*]]: tensor<1x256xf32>)
// CHECK: %[[V:.*]] = sinter.reshape %[[B]] to [256]
// CHECK: sinter.linear %[[X]], %[[W]], %[[V]] transpose_weight : (tensor<4x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<4x256xf32>
// CHECK-NOT: sinter.matmul
// CHECK-NOT: sinter.add
func.func @transposed_weight(%x: tensor<4x64xf32>, %w: tensor<256x64xf32>, %b: tensor<1x256xf32>) -> tensor<4x256xf32> {
  %t = sinter.transpose %w [1, 0] : tensor<256x64xf32> -> tensor<64x256xf32>
  %0 = sinter.matmul %x, %t : (tensor<4x64xf32>, tensor<64x256xf32>) -> tensor<4x256xf32>
  %1 = sinter.add %0, %b : (tensor<4x256xf32>, tensor<1x256xf32>) -> tensor<4x256xf32>
  return %1 : tensor<4x256xf32>
}

// -----

// Tests that dynamic batch and sequence sizes fuse.
// CHECK-LABEL: func @dynamic_rows
// CHECK: sinter.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<?x?x32xf32>
func.func @dynamic_rows(%x: tensor<?x?x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<?x?x32xf32> {
  %0 = sinter.matmul %x, %w : (tensor<?x?x64xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  %1 = sinter.add %0, %b : (tensor<?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x32xf32>
  return %1 : tensor<?x?x32xf32>
}

// -----

// Near miss: the product without bias has another use, so the bias stays
// a separate add (the linear has no bias).
// CHECK-LABEL: func @product_used_twice
// CHECK: %[[L:.*]] = sinter.linear %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK: sinter.add %[[L]], %{{.*}}
// CHECK: return
func.func @product_used_twice(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = sinter.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = sinter.add %0, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Near misses: a batched weight (3-D), a bias that is not a vector of N
// (it varies along the rows), and integer matmul stay as they are.
// CHECK-LABEL: func @not_linear
// CHECK: sinter.matmul %{{.*}} : (tensor<2x4x8xf32>, tensor<2x8x16xf32>)
// CHECK: %[[L:.*]] = sinter.linear %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK: sinter.add %[[L]], %{{.*}} : (tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK: sinter.matmul %{{.*}} : (tensor<4x8xi32>, tensor<8x16xi32>)
func.func @not_linear(%x: tensor<2x4x8xf32>, %w: tensor<2x8x16xf32>, %y: tensor<4x8xf32>, %v: tensor<8x16xf32>, %rows: tensor<4x16xf32>, %i: tensor<4x8xi32>, %j: tensor<8x16xi32>) -> (tensor<2x4x16xf32>, tensor<4x16xf32>, tensor<4x16xi32>) {
  %0 = sinter.matmul %x, %w : (tensor<2x4x8xf32>, tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %1 = sinter.matmul %y, %v : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %2 = sinter.add %1, %rows : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = sinter.matmul %i, %j : (tensor<4x8xi32>, tensor<8x16xi32>) -> tensor<4x16xi32>
  return %0, %2, %3 : tensor<2x4x16xf32>, tensor<4x16xf32>, tensor<4x16xi32>
}
