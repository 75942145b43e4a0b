// RUN: sinter-opt %s --sinter-fuse-silu -split-input-file | FileCheck %s

// Tests the LLaMA feed-forward gate: silu(gate) * up becomes swiglu.
// CHECK-LABEL: func @swiglu
// CHECK-SAME: (%[[G:.*]]: tensor<1x32x176xf32>, %[[U:.*]]: tensor<1x32x176xf32>)
// CHECK-NEXT: %[[H:.*]] = sinter.swiglu %[[G]], %[[U]] : tensor<1x32x176xf32>
// CHECK-NEXT: return %[[H]]
func.func @swiglu(%g: tensor<1x32x176xf32>, %u: tensor<1x32x176xf32>) -> tensor<1x32x176xf32> {
  %s = sinter.sigmoid %g : tensor<1x32x176xf32>
  %a = sinter.mul %g, %s : (tensor<1x32x176xf32>, tensor<1x32x176xf32>) -> tensor<1x32x176xf32>
  %h = sinter.mul %u, %a : (tensor<1x32x176xf32>, tensor<1x32x176xf32>) -> tensor<1x32x176xf32>
  return %h : tensor<1x32x176xf32>
}

// -----

// Tests SiLU alone, as sigmoid(x) * x and as x / (1 + exp(-x)).
// CHECK-LABEL: func @silu_forms
// CHECK: %[[A:.*]] = sinter.silu %{{.*}} : tensor<8xf32>
// CHECK: %[[B:.*]] = sinter.silu %{{.*}} : tensor<8xf32>
// CHECK: return %[[A]], %[[B]]
func.func @silu_forms(%x: tensor<8xf32>, %y: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %one = sinter.constant dense<1.0> : tensor<f32>
  %s = sinter.sigmoid %x : tensor<8xf32>
  %a = sinter.mul %s, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %n = sinter.neg %y : tensor<8xf32>
  %e = sinter.exp %n : tensor<8xf32>
  %d = sinter.add %one, %e : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %b = sinter.div %y, %d : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %a, %b : tensor<8xf32>, tensor<8xf32>
}

// -----

// Near misses: sigmoid of another tensor; the sigmoid also returned; the
// gated product broadcasts (up has another shape), so only silu fuses.
// CHECK-LABEL: func @near_misses
// CHECK: sinter.sigmoid %{{.*}}
// CHECK: sinter.sigmoid %{{.*}}
// CHECK: %[[S:.*]] = sinter.silu %{{.*}} : tensor<4x8xf32>
// CHECK: sinter.mul %[[S]], %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>)
// CHECK-NOT: sinter.swiglu
func.func @near_misses(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>, %u: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %s0 = sinter.sigmoid %z : tensor<4x8xf32>
  %a = sinter.mul %x, %s0 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s1 = sinter.sigmoid %x : tensor<4x8xf32>
  %b = sinter.mul %x, %s1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s2 = sinter.sigmoid %z : tensor<4x8xf32>
  %c = sinter.mul %z, %s2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %d = sinter.mul %c, %u : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %a, %b, %s1, %d : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
