// RUN: sinter-opt %s --split-input-file --sinter-check-indices | FileCheck %s

// Indices computed from an input (ids + 3): one reduction finds the first
// position outside [-256, 256), and the fault record becomes the entry's
// last result, the op named by its ONNX node.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: -> (tensor<2x3x8xf32>, tensor<16xi64>)
// CHECK-SAME: sinter.index_check_sites = ["node 'lookup' (Gather)"]
// CHECK: %[[SUM:.*]] = sinter.add
// CHECK: %[[ROWS:.*]] = sinter.gather %{{.*}}[%[[SUM]]]
// CHECK: %[[C256:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[NEG:.*]] = arith.subi %{{.*}}, %[[C256]] : i64
// CHECK: %[[FIRST:.*]] = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction"]
// CHECK-SAME: ins(%[[SUM]] : tensor<2x3xi64>)
// CHECK: arith.cmpi slt, %{{.*}}, %[[NEG]] : i64
// CHECK: arith.cmpi sge, %{{.*}}, %[[C256]] : i64
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.minsi
// CHECK: %[[POS:.*]] = tensor.extract %[[FIRST]][] : tensor<i64>
// CHECK: %[[FAULTY:.*]] = arith.cmpi ne, %[[POS]]
// CHECK: scf.if %[[FAULTY]] -> (i64)
// CHECK: tensor.extract %[[SUM]]
// CHECK: %[[RECORD:.*]] = tensor.from_elements {{.*}} : tensor<16xi64>
// CHECK: return %[[ROWS]], %[[RECORD]] : tensor<2x3x8xf32>, tensor<16xi64>
func.func @main(%ids: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  %table = sinter.constant dense<1.0> : tensor<256x8xf32>
  %three = sinter.constant dense<3> : tensor<i64>
  %sum = sinter.add %ids, %three : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64> loc(fused<"Add">["shift"])
  %rows = sinter.gather %table[%sum] axis 0 : (tensor<256x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32> loc(fused<"Gather">["lookup"])
  return %rows : tensor<2x3x8xf32>
}

// -----

// Near misses, left unchanged: an input the runtime checks before the run
// (through a reshape and a cast), and constant indices in range (checked
// by the pass itself: check-indices-errors.mlir).
// CHECK-LABEL: func.func @unchecked(
// CHECK-SAME: -> tensor<6x8xf32> {
// CHECK-NOT: sinter.index_check_sites
// CHECK-NOT: linalg.generic
// CHECK-NOT: tensor.from_elements
func.func @unchecked(%ids: tensor<2x3xi32>) -> tensor<6x8xf32> {
  %table = sinter.constant dense<1.0> : tensor<256x8xf32>
  %flat = sinter.reshape %ids to [6] : tensor<2x3xi32> -> tensor<6xi32>
  %wide = sinter.cast %flat : tensor<6xi32> to tensor<6xi64>
  %rows = sinter.gather %table[%wide] axis 0 : (tensor<256x8xf32>, tensor<6xi64>) -> tensor<6x8xf32>
  %fixed = sinter.constant dense<[0, 5, -1, 2, -6, 4]> : tensor<6xi64>
  %more = sinter.gather %rows[%fixed] axis 0 : (tensor<6x8xf32>, tensor<6xi64>) -> tensor<6x8xf32>
  return %more : tensor<6x8xf32>
}

// -----

// An input indexing a dimension of dynamic size has no bound before the
// run: the graph checks it. GatherElements and ScatterElements get one
// check each, numbered in order; the op without an ONNX name is named by
// its own.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: -> (tensor<4x3xf32>, tensor<3x2xf32>, tensor<3x5xf32>, tensor<16xi64>)
// CHECK-SAME: sinter.index_check_sites = ["node 'lookup' (Gather)", "sinter.gather_elements", "node 'scatter' (ScatterElements)"]
// CHECK: %[[N:.*]] = tensor.dim %arg0, %{{.*}} : tensor<?x3xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg1 : tensor<4xi64>)
// CHECK: arith.extsi %{{.*}} : i32 to i64
// CHECK: tensor.from_elements
func.func @main(%table: tensor<?x3xf32>, %ids: tensor<4xi64>, %x: tensor<3x5xf32>, %i: tensor<3x2xi32>) -> (tensor<4x3xf32>, tensor<3x2xf32>, tensor<3x5xf32>) {
  %rows = sinter.gather %table[%ids] axis 0 : (tensor<?x3xf32>, tensor<4xi64>) -> tensor<4x3xf32> loc(fused<"Gather">["lookup"])
  %one = sinter.constant dense<1> : tensor<i32>
  %j = sinter.add %i, %one : (tensor<3x2xi32>, tensor<i32>) -> tensor<3x2xi32>
  %picked = sinter.gather_elements %x[%j] axis 1 : (tensor<3x5xf32>, tensor<3x2xi32>) -> tensor<3x2xf32>
  %written = sinter.scatter_elements %x[%j], %picked axis 1 : (tensor<3x5xf32>, tensor<3x2xi32>, tensor<3x2xf32>) -> tensor<3x5xf32> loc(fused<"ScatterElements">["scatter"])
  return %rows, %picked, %written : tensor<4x3xf32>, tensor<3x2xf32>, tensor<3x5xf32>
}
