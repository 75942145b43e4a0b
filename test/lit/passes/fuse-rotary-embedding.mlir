// RUN: sinter-opt %s --sinter-fuse-rotary-embedding -split-input-file | FileCheck %s

// Tests the rotate-half form of LLaMA exports: slices, neg, concat, with
// constant tables whose halves repeat; the op gets the first halves.
// CHECK-LABEL: func @rotate_half
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x2x4xf32>)
// CHECK: %[[C:.*]] = sinter.slice %{{.*}} starts [0, 0] ends [9223372036854775807, 2] steps [1, 1] : tensor<2x4xf32> -> tensor<2x2xf32>
// CHECK: %[[S:.*]] = sinter.slice %{{.*}} starts [0, 0] ends [9223372036854775807, 2] steps [1, 1] : tensor<2x4xf32> -> tensor<2x2xf32>
// CHECK: %[[Y:.*]] = sinter.rotary_embedding %[[X]], %[[C]], %[[S]] : (tensor<1x2x2x4xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<1x2x2x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @rotate_half(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %cos = sinter.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.5, 0.9, 0.5, 0.9]]> : tensor<2x4xf32>
  %sin = sinter.constant dense<[[0.0, 0.0, 0.0, 0.0], [0.8, 0.1, 0.8, 0.1]]> : tensor<2x4xf32>
  %a = sinter.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<2x4xf32>) -> tensor<1x2x2x4xf32>
  %hi = sinter.slice %x starts [0, 0, 0, 2] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps [1, 1, 1, 1] : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %lo = sinter.slice %x starts [0, 0, 0, 0] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 2] steps [1, 1, 1, 1] : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %n = sinter.neg %hi : tensor<1x2x2x2xf32>
  %r = sinter.concat %n, %lo axis 3 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %b = sinter.mul %r, %sin : (tensor<1x2x2x4xf32>, tensor<2x4xf32>) -> tensor<1x2x2x4xf32>
  %y = sinter.add %a, %b : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %y : tensor<1x2x2x4xf32>
}

// -----

// Tests a split instead of slices, negation as * -1, the products reversed,
// and tables computed in the graph as cos/sin of concat(f, f) (HF style,
// positions as an input).
// CHECK-LABEL: func @split_and_computed_tables
// CHECK: sinter.rotary_embedding %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x4x?x8xf32>, tensor<2x1x?x4xf32>, tensor<2x1x?x4xf32>) -> tensor<2x4x?x8xf32>
// CHECK-NOT: sinter.split
func.func @split_and_computed_tables(%x: tensor<2x4x?x8xf32>, %f: tensor<2x1x?x4xf32>) -> tensor<2x4x?x8xf32> {
  %m1 = sinter.constant dense<-1.0> : tensor<f32>
  %e = sinter.concat %f, %f axis 3 : (tensor<2x1x?x4xf32>, tensor<2x1x?x4xf32>) -> tensor<2x1x?x8xf32>
  %cos = sinter.cos %e : tensor<2x1x?x8xf32>
  %sin = sinter.sin %e : tensor<2x1x?x8xf32>
  %p:2 = sinter.split %x axis 3 sizes [4, 4] : tensor<2x4x?x8xf32> -> tensor<2x4x?x4xf32>, tensor<2x4x?x4xf32>
  %n = sinter.mul %p#1, %m1 : (tensor<2x4x?x4xf32>, tensor<f32>) -> tensor<2x4x?x4xf32>
  %r = sinter.concat %n, %p#0 axis 3 : (tensor<2x4x?x4xf32>, tensor<2x4x?x4xf32>) -> tensor<2x4x?x8xf32>
  %a = sinter.mul %cos, %x : (tensor<2x1x?x8xf32>, tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32>
  %b = sinter.mul %sin, %r : (tensor<2x1x?x8xf32>, tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32>
  %y = sinter.add %b, %a : (tensor<2x4x?x8xf32>, tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32>
  return %y : tensor<2x4x?x8xf32>
}

// -----

// Tests the interleaved form (GPT-J, Meta LLaMA): x[..., 1::2] negated and
// x[..., ::2] stacked on a new axis and flattened; the tables repeat each
// angle in neighbouring positions, the op gets every second one.
// CHECK-LABEL: func @interleaved
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x2x4xf32>)
// CHECK: %[[C:.*]] = sinter.slice %{{.*}} starts [0, 0] ends [9223372036854775807, 9223372036854775807] steps [1, 2]
// CHECK: %[[S:.*]] = sinter.slice %{{.*}} starts [0, 0] ends [9223372036854775807, 9223372036854775807] steps [1, 2]
// CHECK: sinter.rotary_embedding %[[X]], %[[C]], %[[S]] interleaved
func.func @interleaved(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %cos = sinter.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.5, 0.5, 0.9, 0.9]]> : tensor<2x4xf32>
  %sin = sinter.constant dense<[[0.0, 0.0, 0.0, 0.0], [0.8, 0.8, 0.1, 0.1]]> : tensor<2x4xf32>
  %even = sinter.slice %x starts [0, 0, 0, 0] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps [1, 1, 1, 2] : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %odd = sinter.slice %x starts [0, 0, 0, 1] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps [1, 1, 1, 2] : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %n = sinter.neg %odd : tensor<1x2x2x2xf32>
  %n1 = sinter.reshape %n to [1, 2, 2, 2, 1] : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %e1 = sinter.reshape %even to [1, 2, 2, 2, 1] : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x1xf32>
  %st = sinter.concat %n1, %e1 axis 4 : (tensor<1x2x2x2x1xf32>, tensor<1x2x2x2x1xf32>) -> tensor<1x2x2x2x2xf32>
  %r = sinter.reshape %st to [1, 2, 2, 4] : tensor<1x2x2x2x2xf32> -> tensor<1x2x2x4xf32>
  %a = sinter.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<2x4xf32>) -> tensor<1x2x2x4xf32>
  %b = sinter.mul %r, %sin : (tensor<1x2x2x4xf32>, tensor<2x4xf32>) -> tensor<1x2x2x4xf32>
  %y = sinter.add %a, %b : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %y : tensor<1x2x2x4xf32>
}

// -----

// Tests a partial rotation (GPT-NeoX rotary_pct): the first 4 of 8
// features rotated, the rest concatenated back, becomes one op on x.
// CHECK-LABEL: func @partial
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x8xf32>)
// CHECK: %[[Y:.*]] = sinter.rotary_embedding %[[X]], %{{.*}}, %{{.*}} : (tensor<1x1x2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<1x1x2x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @partial(%x: tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32> {
  %cos = sinter.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.5, 0.9, 0.5, 0.9]]> : tensor<2x4xf32>
  %sin = sinter.constant dense<[[0.0, 0.0, 0.0, 0.0], [0.8, 0.1, 0.8, 0.1]]> : tensor<2x4xf32>
  %rot = sinter.slice %x starts [0, 0, 0, 0] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 4] steps [1, 1, 1, 1] : tensor<1x1x2x8xf32> -> tensor<1x1x2x4xf32>
  %pass = sinter.slice %x starts [0, 0, 0, 4] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps [1, 1, 1, 1] : tensor<1x1x2x8xf32> -> tensor<1x1x2x4xf32>
  %a = sinter.mul %rot, %cos : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %hi = sinter.slice %rot starts [0, 0, 0, 2] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps [1, 1, 1, 1] : tensor<1x1x2x4xf32> -> tensor<1x1x2x2xf32>
  %lo = sinter.slice %rot starts [0, 0, 0, 0] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 2] steps [1, 1, 1, 1] : tensor<1x1x2x4xf32> -> tensor<1x1x2x2xf32>
  %n = sinter.neg %hi : tensor<1x1x2x2xf32>
  %r = sinter.concat %n, %lo axis 3 : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x4xf32>
  %b = sinter.mul %r, %sin : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %y = sinter.add %a, %b : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  %z = sinter.concat %y, %pass axis 3 : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x8xf32>
  return %z : tensor<1x1x2x8xf32>
}

// -----

// Near misses: tables whose halves differ (the op could not represent
// them); the rotation of another tensor than the one multiplied by cos;
// the halves swapped (not negated first).
// CHECK-LABEL: func @near_misses
// CHECK-NOT: sinter.rotary_embedding
// CHECK: return
func.func @near_misses(%x: tensor<1x1x2x4xf32>, %z: tensor<1x1x2x4xf32>) -> (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) {
  %cos = sinter.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.5, 0.9, 0.5, 0.9]]> : tensor<2x4xf32>
  %odd = sinter.constant dense<[[1.0, 1.0, 1.0, 1.0], [0.5, 0.9, 0.9, 0.5]]> : tensor<2x4xf32>
  %hi = sinter.slice %x starts [0, 0, 0, 2] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] steps [1, 1, 1, 1] : tensor<1x1x2x4xf32> -> tensor<1x1x2x2xf32>
  %lo = sinter.slice %x starts [0, 0, 0, 0] ends [9223372036854775807, 9223372036854775807, 9223372036854775807, 2] steps [1, 1, 1, 1] : tensor<1x1x2x4xf32> -> tensor<1x1x2x2xf32>
  %n = sinter.neg %hi : tensor<1x1x2x2xf32>
  %r1 = sinter.concat %n, %lo axis 3 : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x4xf32>
  %a1 = sinter.mul %x, %odd : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %b1 = sinter.mul %r1, %odd : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %y1 = sinter.add %a1, %b1 : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  %n2 = sinter.neg %hi : tensor<1x1x2x2xf32>
  %r2 = sinter.concat %n2, %lo axis 3 : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x4xf32>
  %a2 = sinter.mul %z, %cos : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %b2 = sinter.mul %r2, %cos : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %y2 = sinter.add %a2, %b2 : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  %r3 = sinter.concat %hi, %lo axis 3 : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x4xf32>
  %a3 = sinter.mul %x, %cos : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %b3 = sinter.mul %r3, %cos : (tensor<1x1x2x4xf32>, tensor<2x4xf32>) -> tensor<1x1x2x4xf32>
  %y3 = sinter.add %a3, %b3 : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  return %y1, %y2, %y3 : tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>
}
