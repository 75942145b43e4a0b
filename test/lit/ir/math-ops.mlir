// RUN: sinter-opt %s | sinter-opt | FileCheck %s

// Tests that the ops of SinterMathOps.td print and parse back unchanged.

// CHECK-LABEL: func @unary
// CHECK: sinter.tan %{{.*}} : tensor<4xf32>
// CHECK: sinter.asin %{{.*}} : tensor<4xf32>
// CHECK: sinter.acos %{{.*}} : tensor<4xf32>
// CHECK: sinter.atan %{{.*}} : tensor<4xf32>
// CHECK: sinter.sinh %{{.*}} : tensor<4xf32>
// CHECK: sinter.cosh %{{.*}} : tensor<4xf32>
// CHECK: sinter.asinh %{{.*}} : tensor<4xf32>
// CHECK: sinter.acosh %{{.*}} : tensor<4xf32>
// CHECK: sinter.atanh %{{.*}} : tensor<4xf16>
func.func @unary(%x: tensor<4xf32>, %h: tensor<4xf16>) {
  %0 = sinter.tan %x : tensor<4xf32>
  %1 = sinter.asin %x : tensor<4xf32>
  %2 = sinter.acos %x : tensor<4xf32>
  %3 = sinter.atan %x : tensor<4xf32>
  %4 = sinter.sinh %x : tensor<4xf32>
  %5 = sinter.cosh %x : tensor<4xf32>
  %6 = sinter.asinh %x : tensor<4xf32>
  %7 = sinter.acosh %x : tensor<4xf32>
  %8 = sinter.atanh %h : tensor<4xf16>
  return
}

// CHECK-LABEL: func @binary
// CHECK: sinter.rem %{{.*}}, %{{.*}} : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
// CHECK: sinter.shift_left %{{.*}}, %{{.*}} : (tensor<3xui8>, tensor<ui8>) -> tensor<3xui8>
// CHECK: sinter.shift_right %{{.*}}, %{{.*}} : (tensor<3xui8>, tensor<ui8>) -> tensor<3xui8>
func.func @binary(%a: tensor<2x3xi32>, %b: tensor<3xi32>, %u: tensor<3xui8>, %s: tensor<ui8>) {
  %0 = sinter.rem %a, %b : (tensor<2x3xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %1 = sinter.shift_left %u, %s : (tensor<3xui8>, tensor<ui8>) -> tensor<3xui8>
  %2 = sinter.shift_right %u, %s : (tensor<3xui8>, tensor<ui8>) -> tensor<3xui8>
  return
}

// CHECK-LABEL: func @reductions
// CHECK: sinter.reduce_prod %{{.*}} axes [1] keepdims : tensor<2x5xf32> -> tensor<2x1xf32>
// CHECK: sinter.argmax %{{.*}} axis 1 keepdims : tensor<2x5xf32> -> tensor<2x1xi64>
// CHECK: sinter.argmin %{{.*}} axis 0 select_last_index : tensor<2x5xf32> -> tensor<5xi64>
func.func @reductions(%x: tensor<2x5xf32>) {
  %0 = sinter.reduce_prod %x axes [1] keepdims : tensor<2x5xf32> -> tensor<2x1xf32>
  %1 = sinter.argmax %x axis 1 keepdims : tensor<2x5xf32> -> tensor<2x1xi64>
  %2 = sinter.argmin %x axis 0 select_last_index : tensor<2x5xf32> -> tensor<5xi64>
  return
}
