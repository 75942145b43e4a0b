// RUN: sinter-opt %s --sinter-merge-sibling-linears -split-input-file | FileCheck %s

// Tests that Q/K/V-style projections (nn.Linear layout, N x K) become one
// linear whose weight stacks theirs in order, with one bias where a layer
// without one contributes zeros, and a split that hands each user its
// columns.
// CHECK-LABEL: func @stacked_rows
// CHECK-SAME: (%[[X:.*]]: tensor<3x2xf32>)
// CHECK-DAG: %[[W:.*]] = sinter.constant dense_resource<sinter_merged_weight> : tensor<4x2xf32>
// CHECK-DAG: %[[B:.*]] = sinter.constant dense_resource<sinter_merged_bias> : tensor<4xf32>
// CHECK: %[[Y:.*]] = sinter.linear %[[X]], %[[W]], %[[B]] transpose_weight : (tensor<3x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// CHECK: %[[P:.*]]:3 = sinter.split %[[Y]] axis 1 sizes [1, 2, 1] : tensor<3x4xf32> -> tensor<3x1xf32>, tensor<3x2xf32>, tensor<3x1xf32>
// CHECK-NOT: sinter.linear
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
// Rows 1 2 | 3 4, 5 6 | 7 8; biases 10 | none | 40.
// CHECK: sinter_merged_weight: "0x400000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
// CHECK: sinter_merged_bias: "0x4000000000002041000000000000000000002042"
func.func @stacked_rows(%x: tensor<3x2xf32>) -> (tensor<3x1xf32>, tensor<3x2xf32>, tensor<3x1xf32>) {
  %wq = sinter.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %bq = sinter.constant dense<[10.0]> : tensor<1xf32>
  %wk = sinter.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %wv = sinter.constant dense<[[7.0, 8.0]]> : tensor<1x2xf32>
  %bv = sinter.constant dense<[40.0]> : tensor<1xf32>
  %q = sinter.linear %x, %wq, %bq transpose_weight : (tensor<3x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<3x1xf32>
  %k = sinter.linear %x, %wk transpose_weight : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %v = sinter.linear %x, %wv, %bv transpose_weight : (tensor<3x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<3x1xf32>
  return %q, %k, %v : tensor<3x1xf32>, tensor<3x2xf32>, tensor<3x1xf32>
}

// -----

// Tests that K x N weights are merged side by side (each row of the merged
// weight is the layers' rows in turn), with a dynamic number of rows, and
// without a bias when no layer has one.
// CHECK-LABEL: func @side_by_side
// CHECK: %[[W:.*]] = sinter.constant dense_resource<sinter_merged_weight> : tensor<2x3xf32>
// CHECK: %[[Y:.*]] = sinter.linear %{{.*}}, %[[W]] : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
// CHECK: sinter.split %[[Y]] axis 1 sizes [1, 2] : tensor<?x3xf32> -> tensor<?x1xf32>, tensor<?x2xf32>
// CHECK-NOT: sinter_merged_bias
// Rows 1 | 3 4, then 2 | 5 6.
// CHECK: sinter_merged_weight: "0x400000000000803F0000404000008040000000400000A0400000C040"
func.func @side_by_side(%x: tensor<?x2xf32>) -> (tensor<?x1xf32>, tensor<?x2xf32>) {
  %w1 = sinter.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %w2 = sinter.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %a = sinter.linear %x, %w1 : (tensor<?x2xf32>, tensor<2x1xf32>) -> tensor<?x1xf32>
  %b = sinter.linear %x, %w2 : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %a, %b : tensor<?x1xf32>, tensor<?x2xf32>
}

// -----

// Tests what stays apart: a weight that another op reads (merging would
// copy it), a weight that is not a constant, layers of different layouts,
// and layers of different inputs. The two that qualify merge; their
// merged product sits where the first of them was.
// CHECK-LABEL: func @apart
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[Z:.*]]: tensor<4x8xf32>, %[[WA:.*]]: tensor<8x8xf32>)
// CHECK: %[[WS:.*]] = sinter.constant dense<{{.*}}> : tensor<8x8xf32>
// CHECK: %[[S:.*]] = sinter.linear %[[X]], %[[WS]] transpose_weight
// CHECK: %[[A:.*]] = sinter.linear %[[X]], %[[WA]] transpose_weight
// CHECK: %[[M:.*]] = sinter.linear %[[X]], %{{.*}} transpose_weight : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK: %[[P:.*]]:2 = sinter.split %[[M]] axis 1 sizes [8, 8]
// CHECK: %[[T:.*]] = sinter.linear %[[X]], %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[O:.*]] = sinter.linear %[[Z]], %{{.*}} transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK: sinter.add %[[WS]], %[[WS]]
func.func @apart(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>, %wa: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) {
  %shared = sinter.constant dense<1.0> : tensor<8x8xf32>
  %w1 = sinter.constant dense<2.0> : tensor<8x8xf32>
  %w2 = sinter.constant dense<3.0> : tensor<8x8xf32>
  %w3 = sinter.constant dense<4.0> : tensor<8x8xf32>
  %w4 = sinter.constant dense<5.0> : tensor<8x8xf32>
  %s = sinter.linear %x, %shared transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %a = sinter.linear %x, %wa transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %m1 = sinter.linear %x, %w1 transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %t = sinter.linear %x, %w3 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %m2 = sinter.linear %x, %w2 transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %o = sinter.linear %z, %w4 transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %twice = sinter.add %shared, %shared : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %s, %a, %m1, %t, %m2, %o, %twice : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>
}
