// RUN: sinter-opt %s --convert-sinter-to-linalg -split-input-file | FileCheck %s

// Tests that the functions of SinterMathOps.td become one elementwise
// generic around the math op of the same name.
// CHECK-LABEL: func @functions
// CHECK: math.tan
// CHECK: math.asin
// CHECK: math.acosh
func.func @functions(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sinter.tan %x : tensor<4xf32>
  %1 = sinter.asin %0 : tensor<4xf32>
  %2 = sinter.acosh %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// Tests that rem and the shifts follow the signedness of the elements:
// unsigned integers use the unsigned remainder and the logical shift.
// CHECK-LABEL: func @integers
// CHECK: arith.remsi
// CHECK: arith.remui
// CHECK: arith.shli
// CHECK: arith.shrui
// CHECK: arith.remf
func.func @integers(%a: tensor<3xi32>, %u: tensor<3xui8>, %f: tensor<3xf32>) -> (tensor<3xi32>, tensor<3xui8>, tensor<3xui8>, tensor<3xf32>) {
  %0 = sinter.rem %a, %a : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %1 = sinter.rem %u, %u : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  %2 = sinter.shift_left %1, %u : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  %3 = sinter.shift_right %2, %u : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  %4 = sinter.rem %f, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1, %3, %4 : tensor<3xi32>, tensor<3xui8>, tensor<3xui8>, tensor<3xf32>
}

// -----

// Tests that reduce_prod starts from one and multiplies.
// CHECK-LABEL: func @prod
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ONE]] : f32)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: arith.mulf
func.func @prod(%x: tensor<2x5xf32>) -> tensor<2xf32> {
  %0 = sinter.reduce_prod %x axes [1] : tensor<2x5xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Tests that argmax is one reduction with two accumulators (value and
// index): strictly greater replaces (the first index wins), and with
// select_last_index greater or equal replaces (the last one wins).
// CHECK-LABEL: func @argmax
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<2x1xf32>, tensor<2x1xi64>)
// CHECK: linalg.index 1
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic
// CHECK: arith.cmpi ult
func.func @argmax(%x: tensor<2x5xf32>, %u: tensor<2x5xui8>) -> (tensor<2x1xi64>, tensor<5xi64>) {
  %0 = sinter.argmax %x axis 1 keepdims : tensor<2x5xf32> -> tensor<2x1xi64>
  %1 = sinter.argmin %u axis 0 : tensor<2x5xui8> -> tensor<5xi64>
  return %0, %1 : tensor<2x1xi64>, tensor<5xi64>
}
