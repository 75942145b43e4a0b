// RUN: sinter-opt %s --sinter-fuse-attention -split-input-file | FileCheck %s

// Tests GPT-2: K transposed, scores scaled by mul, masked with a where on a
// constant lower-triangular "keep" condition: the causal flag, no mask.
// CHECK-LABEL: func @gpt2_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x2x3x4xf32>, %[[V:.*]]: tensor<1x2x3x4xf32>)
// CHECK-NEXT: %[[O:.*]] = sinter.attention %[[Q]], %[[K]], %[[V]] causal scale 5.000000e-01 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
// CHECK-NEXT: return %[[O]]
func.func @gpt2_causal(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %scale = sinter.constant dense<5.000000e-01> : tensor<f32>
  %neg = sinter.constant dense<-3.40282347E+38> : tensor<f32>
  %keep = sinter.constant dense<[[[[true, false, false], [true, true, false], [true, true, true]]]]> : tensor<1x1x3x3xi1>
  %kt = sinter.transpose %k [0, 1, 3, 2] : tensor<1x2x3x4xf32> -> tensor<1x2x4x3xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %t = sinter.mul %s, %scale : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %m = sinter.where %keep, %t, %neg : (tensor<1x1x3x3xi1>, tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %m axis 3 : tensor<1x2x3x3xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Tests BERT: K^T made by one transpose of the [B, S, H, D] projection
// (becomes a transpose to [B, H, S, D]), scale by div, an additive padding
// mask from an input.
// CHECK-LABEL: func @bert_padding_mask
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x8x16xf32>, %[[KP:.*]]: tensor<1x8x4x16xf32>, %[[V:.*]]: tensor<1x4x8x16xf32>, %[[M:.*]]: tensor<1x1x1x8xf32>)
// CHECK: %[[K:.*]] = sinter.transpose %[[KP]] [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
// CHECK: sinter.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] scale 2.500000e-01
// CHECK-NOT: sinter.softmax
func.func @bert_padding_mask(%q: tensor<1x4x8x16xf32>, %kp: tensor<1x8x4x16xf32>, %v: tensor<1x4x8x16xf32>, %mask: tensor<1x1x1x8xf32>) -> tensor<1x4x8x16xf32> {
  %four = sinter.constant dense<4.0> : tensor<f32>
  %kt = sinter.transpose %kp [0, 2, 3, 1] : tensor<1x8x4x16xf32> -> tensor<1x4x16x8xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  %t = sinter.div %s, %four : (tensor<1x4x8x8xf32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  %m = sinter.add %t, %mask : (tensor<1x4x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x4x8x8xf32>
  %p = sinter.softmax %m axis 3 : tensor<1x4x8x8xf32>
  %o = sinter.matmul %p, %v : (tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// Tests ViT (timm): the queries scaled before the product, no mask; and a
// scale split between Q and K.
// CHECK-LABEL: func @prescaled_query
// CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} scale 2.500000e-01 :
// CHECK-LABEL: func @scale_on_both
// CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} scale 2.500000e-01 :
func.func @prescaled_query(%q: tensor<1x4x17x16xf32>, %k: tensor<1x4x17x16xf32>, %v: tensor<1x4x17x16xf32>) -> tensor<1x4x17x16xf32> {
  %c = sinter.constant dense<2.500000e-01> : tensor<f32>
  %qs = sinter.mul %q, %c : (tensor<1x4x17x16xf32>, tensor<f32>) -> tensor<1x4x17x16xf32>
  %kt = sinter.transpose %k [0, 1, 3, 2] : tensor<1x4x17x16xf32> -> tensor<1x4x16x17xf32>
  %s = sinter.matmul %qs, %kt : (tensor<1x4x17x16xf32>, tensor<1x4x16x17xf32>) -> tensor<1x4x17x17xf32>
  %p = sinter.softmax %s axis 3 : tensor<1x4x17x17xf32>
  %o = sinter.matmul %p, %v : (tensor<1x4x17x17xf32>, tensor<1x4x17x16xf32>) -> tensor<1x4x17x16xf32>
  return %o : tensor<1x4x17x16xf32>
}
func.func @scale_on_both(%q: tensor<1x4x17x16xf32>, %k: tensor<1x4x17x16xf32>, %v: tensor<1x4x17x16xf32>) -> tensor<1x4x17x16xf32> {
  %c = sinter.constant dense<5.000000e-01> : tensor<f32>
  %qs = sinter.mul %q, %c : (tensor<1x4x17x16xf32>, tensor<f32>) -> tensor<1x4x17x16xf32>
  %kt = sinter.transpose %k [0, 1, 3, 2] : tensor<1x4x17x16xf32> -> tensor<1x4x16x17xf32>
  %ks = sinter.mul %c, %kt : (tensor<f32>, tensor<1x4x16x17xf32>) -> tensor<1x4x16x17xf32>
  %s = sinter.matmul %qs, %ks : (tensor<1x4x17x16xf32>, tensor<1x4x16x17xf32>) -> tensor<1x4x17x17xf32>
  %p = sinter.softmax %s axis 3 : tensor<1x4x17x17xf32>
  %o = sinter.matmul %p, %v : (tensor<1x4x17x17xf32>, tensor<1x4x17x16xf32>) -> tensor<1x4x17x16xf32>
  return %o : tensor<1x4x17x16xf32>
}

// -----

// Tests LLaMA with grouped-query heads (4 query heads, 2 KV heads) repeated
// by reshape/expand/reshape and an additive causal constant mask: the op
// reads the 2 KV heads and gets the causal flag.
// CHECK-LABEL: func @llama_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x2x8xf32>, %[[K:.*]]: tensor<1x2x2x8xf32>, %[[V:.*]]: tensor<1x2x2x8xf32>)
// CHECK-NEXT: %[[O:.*]] = sinter.attention %[[Q]], %[[K]], %[[V]] causal scale 0.353553385 : (tensor<1x4x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x4x2x8xf32>
// CHECK-NEXT: return %[[O]]
func.func @llama_gqa(%q: tensor<1x4x2x8xf32>, %k: tensor<1x2x2x8xf32>, %v: tensor<1x2x2x8xf32>) -> tensor<1x4x2x8xf32> {
  %d = sinter.constant dense<2.82842708> : tensor<f32>
  %mask = sinter.constant dense<[[[[0.0, -3.40282347E+38], [0.0, 0.0]]]]> : tensor<1x1x2x2xf32>
  %k5 = sinter.reshape %k to [1, 2, 1, 2, 8] : tensor<1x2x2x8xf32> -> tensor<1x2x1x2x8xf32>
  %ke = sinter.expand %k5 to [1, 2, 2, 2, 8] : tensor<1x2x1x2x8xf32> -> tensor<1x2x2x2x8xf32>
  %kr = sinter.reshape %ke to [1, 4, 2, 8] : tensor<1x2x2x2x8xf32> -> tensor<1x4x2x8xf32>
  %v5 = sinter.reshape %v to [1, 2, 1, 2, 8] : tensor<1x2x2x8xf32> -> tensor<1x2x1x2x8xf32>
  %ve = sinter.expand %v5 to [1, 2, 2, 2, 8] : tensor<1x2x1x2x8xf32> -> tensor<1x2x2x2x8xf32>
  %vr = sinter.reshape %ve to [1, 4, 2, 8] : tensor<1x2x2x2x8xf32> -> tensor<1x4x2x8xf32>
  %kt = sinter.transpose %kr [0, 1, 3, 2] : tensor<1x4x2x8xf32> -> tensor<1x4x8x2xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x4x2x8xf32>, tensor<1x4x8x2xf32>) -> tensor<1x4x2x2xf32>
  %t = sinter.div %s, %d : (tensor<1x4x2x2xf32>, tensor<f32>) -> tensor<1x4x2x2xf32>
  %m = sinter.add %t, %mask : (tensor<1x4x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x4x2x2xf32>
  %p = sinter.softmax %m axis 3 : tensor<1x4x2x2xf32>
  %o = sinter.matmul %p, %vr : (tensor<1x4x2x2xf32>, tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  return %o : tensor<1x4x2x8xf32>
}

// -----

// Tests a dynamic sequence with the causal mask built in the graph as
// trilu of an all-true [n, n] (the masked future), and a boolean padding
// condition that becomes an additive mask.
// CHECK-LABEL: func @dynamic_trilu
// CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} causal scale 1.000000e+00 : (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
// CHECK-LABEL: func @boolean_padding
// CHECK-DAG: %[[ZERO:.*]] = sinter.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[HIDE:.*]] = sinter.constant dense<-1.000000e+09> : tensor<f32>
// CHECK: %[[M:.*]] = sinter.where %{{.*}}, %[[ZERO]], %[[HIDE]] : (tensor<1x1x1x8xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x1x8xf32>
// CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} mask %[[M]] scale 1.000000e+00
func.func @dynamic_trilu(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %c2 = arith.constant 2 : index
  %n = tensor.dim %q, %c2 : tensor<1x2x?x4xf32>
  %true = arith.constant true
  %all = tensor.splat %true[%n, %n] : tensor<?x?xi1>
  %future = sinter.trilu %all k 1 upper : tensor<?x?xi1>
  %inf = sinter.constant dense<0xFF800000> : tensor<f32>
  %kt = sinter.transpose %k [0, 1, 3, 2] : tensor<1x2x?x4xf32> -> tensor<1x2x4x?xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x?x4xf32>, tensor<1x2x4x?xf32>) -> tensor<1x2x?x?xf32>
  %m = sinter.where %future, %inf, %s : (tensor<?x?xi1>, tensor<f32>, tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %p = sinter.softmax %m axis 3 : tensor<1x2x?x?xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}
func.func @boolean_padding(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %keep: tensor<1x1x1x8xi1>) -> tensor<1x2x8x4xf32> {
  %hide = sinter.constant dense<-1.0e+09> : tensor<f32>
  %kt = sinter.transpose %k [0, 1, 3, 2] : tensor<1x2x8x4xf32> -> tensor<1x2x4x8xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  %m = sinter.where %keep, %s, %hide : (tensor<1x1x1x8xi1>, tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %p = sinter.softmax %m axis 3 : tensor<1x2x8x8xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// Near misses: softmax over the query axis; the probabilities also
// returned; a per-head scale (not a scalar); a mask that is not causal
// stays an additive mask (no causal flag).
// CHECK-LABEL: func @wrong_axis
// CHECK-NOT: sinter.attention
// CHECK-LABEL: func @probabilities_returned
// CHECK-NOT: sinter.attention
// CHECK-LABEL: func @per_head_scale
// CHECK-NOT: sinter.attention
// CHECK-LABEL: func @not_causal
// CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} scale 1.000000e+00 :
func.func @wrong_axis(%q: tensor<1x2x3x4xf32>, %kt: tensor<1x2x4x3xf32>, %v: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %s axis 2 : tensor<1x2x3x3xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}
func.func @probabilities_returned(%q: tensor<1x2x3x4xf32>, %kt: tensor<1x2x4x3xf32>, %v: tensor<1x2x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>) {
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %s axis 3 : tensor<1x2x3x3xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o, %p : tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>
}
func.func @per_head_scale(%q: tensor<1x2x3x4xf32>, %kt: tensor<1x2x4x3xf32>, %v: tensor<1x2x3x4xf32>, %h: tensor<1x2x1x1xf32>) -> tensor<1x2x3x4xf32> {
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %t = sinter.mul %s, %h : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %t axis 3 : tensor<1x2x3x3xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}
func.func @not_causal(%q: tensor<1x2x2x4xf32>, %kt: tensor<1x2x4x2xf32>, %v: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %mask = sinter.constant dense<[[[[0.0, 0.0], [-3.40282347E+38, 0.0]]]]> : tensor<1x1x2x2xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x2x4xf32>, tensor<1x2x4x2xf32>) -> tensor<1x2x2x2xf32>
  %m = sinter.add %s, %mask : (tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32>
  %p = sinter.softmax %m axis 3 : tensor<1x2x2x2xf32>
  %o = sinter.matmul %p, %v : (tensor<1x2x2x2xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %o : tensor<1x2x2x4xf32>
}
