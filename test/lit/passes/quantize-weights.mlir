// RUN: sinter-opt %s --sinter-quantize-weights=bits=8 -split-input-file -verify-diagnostics | FileCheck %s
// RUN: sinter-opt %s --sinter-quantize-weights="bits=4 group-size=2" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=W4
// RUN: sinter-opt %s --sinter-quantize-weights="bits=8 keep-fp32=lm_head" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=KEEP

// Tests the rounding on worked values. 8 bits, per output channel of a
// transposed weight [N = 2, K = 4]: row 0 has m = 1, s = 1/127 rounded up
// to a bfloat16 (0x3C02 = 0.00793457), q = round(w / s) = 126, -63, 32
// (31.5 is not a tie in f32: 31.508), 0; row 1 is all zeros (s = 0).
// 4 bits in groups of 2 along k: group {1, -0.5}: s = 1.5/15 rounded up to
// 0.100098 (0x3DCD), z = round(0.5 / s) = 5, q = 10 + 5, -5 + 5; group
// {0.25, 0}: s = 0.25/15 rounded up to 0.0167236 (0x3C89), z = 0,
// q = round(15.06) = 15, 0.
// CHECK-LABEL: func @rounding
// CHECK-DAG: %[[Q:.*]] = sinter.constant dense<{{\[\[}}126, -63, 32, 0], [0, 0, 0, 0]]> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = sinter.constant dense<{{\[\[}}7.934570e-03], [0.000000e+00]]> : tensor<2x1xbf16>
// CHECK: %[[W:.*]] = sinter.dequantize %[[Q]], %[[S]] axis 1 block 4 : (tensor<2x4xi8>, tensor<2x1xbf16>) -> tensor<2x4xf32>
// CHECK: sinter.linear %{{.*}}, %[[W]] transpose_weight
// W4-LABEL: func @rounding
// W4-DAG: %[[Q:.*]] = sinter.constant dense<{{\[\[}}15, 0, 15, 0], [0, 0, 0, 0]]> : tensor<2x4xui4>
// W4-DAG: %[[S:.*]] = sinter.constant dense<{{\[\[}}1.000980e-01, 1.672360e-02], [0.000000e+00, 0.000000e+00]]> : tensor<2x2xbf16>
// W4-DAG: %[[Z:.*]] = sinter.constant dense<{{\[\[}}5, 0], [0, 0]]> : tensor<2x2xui4>
// W4: sinter.dequantize %[[Q]], %[[S]], %[[Z]] axis 1 block 2 : (tensor<2x4xui4>, tensor<2x2xbf16>, tensor<2x2xui4>) -> tensor<2x4xf32>
func.func @rounding(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = sinter.constant dense<[[1.0, -0.5, 0.25, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %y = sinter.linear %x, %w transpose_weight : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Tests that a K x N weight is grouped along its first dimension (k), that
// a bias of 16 elements is stored as bfloat16 and one of fewer stays f32,
// and that a weight two layers share is quantized once.
// CHECK-LABEL: func @layout_and_vectors
// CHECK: %[[W:.*]] = sinter.dequantize %{{.*}}, %{{.*}} block 8 : (tensor<8x16xi8>, tensor<1x16xbf16>) -> tensor<8x16xf32>
// CHECK: %[[B16:.*]] = sinter.constant dense<5.000000e-01> : tensor<16xbf16>
// CHECK: %[[B:.*]] = sinter.cast %[[B16]] : tensor<16xbf16> to tensor<16xf32>
// CHECK: sinter.linear %{{.*}}, %[[W]], %[[B]] :
// CHECK: sinter.linear %{{.*}}, %[[W]], %{{.*}} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<16xf32>)
// CHECK-NOT: sinter.dequantize
// W4-LABEL: func @layout_and_vectors
// W4: sinter.dequantize %{{.*}}, %{{.*}}, %{{.*}} block 2 : (tensor<8x16xui4>, tensor<4x16xbf16>, tensor<4x16xui4>) -> tensor<8x16xf32>
func.func @layout_and_vectors(%x: tensor<2x8xf32>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x8xf32>) {
  %w = sinter.constant dense<0.25> : tensor<8x16xf32>
  %b = sinter.constant dense<0.5> : tensor<16xf32>
  %small = sinter.constant dense<0.5> : tensor<8xf32>
  %v = sinter.constant dense<0.125> : tensor<8x8xf32>
  %y = sinter.linear %x, %w, %b : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  %z = sinter.linear %x, %w, %b : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  // CHECK: sinter.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<8x8xf32>, tensor<8xf32>)
  %u = sinter.linear %x, %v, %small : (tensor<2x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y, %z, %u : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x8xf32>
}

// -----

// Tests the near misses: a weight that is not a constant, an f16 weight,
// and (KEEP) a layer whose name matches keep-fp32 stay as they are.
// CHECK-LABEL: func @near_misses
// CHECK-NOT: sinter.dequantize
// CHECK: sinter.linear %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<8x16xf32>)
// CHECK: sinter.linear %{{.*}}, %{{.*}} : (tensor<2x8xf16>, tensor<8x16xf16>)
// KEEP-LABEL: func @near_misses
// KEEP: sinter.dequantize
// KEEP-NOT: sinter.dequantize
func.func @near_misses(%x: tensor<2x8xf32>, %w: tensor<8x16xf32>, %h: tensor<2x8xf16>) -> (tensor<2x16xf32>, tensor<2x16xf16>, tensor<2x16xf32>, tensor<2x16xf32>) {
  %y = sinter.linear %x, %w : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %wh = sinter.constant dense<0.25> : tensor<8x16xf16>
  %z = sinter.linear %h, %wh : (tensor<2x8xf16>, tensor<8x16xf16>) -> tensor<2x16xf16>
  %c = sinter.constant dense<0.25> : tensor<8x16xf32>
  %head = sinter.linear %x, %c : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32> loc("lm_head")
  %d = sinter.constant dense<0.5> : tensor<8x16xf32>
  %body = sinter.linear %x, %d : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32> loc("h.0/mlp")
  return %y, %z, %head, %body : tensor<2x16xf32>, tensor<2x16xf16>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

// Tests embedding tables (groups along the row), conv filters (flattened
// to [out, in * kh * kw], then reshaped back), batched matmul weights
// (MoE experts: groups along k) and position embeddings added to
// activations; a small added constant stays f32.
// CHECK-LABEL: func @other_weights
// KEEP-LABEL: func @other_weights
// CHECK: %[[T:.*]] = sinter.dequantize %{{.*}}, %{{.*}} axis 1 block 16 : (tensor<32x16xi8>, tensor<32x1xbf16>) -> tensor<32x16xf32>
// CHECK: sinter.gather %[[T]]
// CHECK: %[[F:.*]] = sinter.dequantize %{{.*}}, %{{.*}} axis 1 block 48 : (tensor<4x48xi8>, tensor<4x1xbf16>) -> tensor<4x48xf32>
// CHECK: %[[R:.*]] = sinter.reshape %[[F]] to [4, 3, 4, 4] : tensor<4x48xf32> -> tensor<4x3x4x4xf32>
// CHECK: sinter.conv %{{.*}}, %[[R]]
// CHECK: %[[E:.*]] = sinter.dequantize %{{.*}}, %{{.*}} axis 1 block 8 : (tensor<2x8x4xi8>, tensor<2x1x4xbf16>) -> tensor<2x8x4xf32>
// CHECK: sinter.matmul %{{.*}}, %[[E]]
// CHECK: %[[P:.*]] = sinter.dequantize %{{.*}}, %{{.*}} axis 2 block 64 : (tensor<1x32x64xi8>, tensor<1x32x1xbf16>) -> tensor<1x32x64xf32>
// CHECK: sinter.add %{{.*}}, %[[P]]
// CHECK: sinter.add %{{.*}}, %{{.*}} : (tensor<4x4xf32>, tensor<4x4xf32>)
func.func @other_weights(%ids: tensor<1x5xi64>, %img: tensor<1x3x8x8xf32>, %t: tensor<6x8xf32>, %h: tensor<1x32x64xf32>, %s: tensor<4x4xf32>) -> (tensor<1x5x16xf32>, tensor<1x4x5x5xf32>, tensor<2x6x4xf32>, tensor<1x32x64xf32>, tensor<4x4xf32>) {
  %table = sinter.constant dense<0.5> : tensor<32x16xf32>
  %e = sinter.gather %table[%ids] axis 0 : (tensor<32x16xf32>, tensor<1x5xi64>) -> tensor<1x5x16xf32>
  %filter = sinter.constant dense<0.5> : tensor<4x3x4x4xf32>
  %c = sinter.conv %img, %filter strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x5x5xf32>
  %experts = sinter.constant dense<0.5> : tensor<2x8x4xf32>
  %m = sinter.matmul %t, %experts : (tensor<6x8xf32>, tensor<2x8x4xf32>) -> tensor<2x6x4xf32>
  %pos = sinter.constant dense<0.5> : tensor<1x32x64xf32>
  %a = sinter.add %h, %pos : (tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %small = sinter.constant dense<0.5> : tensor<4x4xf32>
  %b = sinter.add %s, %small : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %e, %c, %m, %a, %b : tensor<1x5x16xf32>, tensor<1x4x5x5xf32>, tensor<2x6x4xf32>, tensor<1x32x64xf32>, tensor<4x4xf32>
}

// -----

// Tests that a weight with a value that is not finite stays f32, with a
// warning on its constant.
// CHECK-LABEL: func @not_finite
// CHECK-NOT: sinter.dequantize
func.func @not_finite(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-warning @+1 {{kept in f32: holds values too large or not finite to quantize}}
  %w = sinter.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 0x7F800000, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %y = sinter.linear %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
