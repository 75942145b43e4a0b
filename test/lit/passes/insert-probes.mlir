// RUN: sinter-opt %s --sinter-insert-probes -split-input-file | FileCheck %s

// Tests that the probes go right after the values they read, numbered in
// program order: the input of the linear layers once however many read it
// (named by its producer's location, here the norm's ONNX node), the
// attention after its op with the same scale, causal flag and mask, and
// the router's top-k indices with the expert count. The constant weight is
// not probed; a matmul's right side that is not a weight is, along its
// contracted dimension (at the start of the function for an argument).
// CHECK-LABEL: func @block
// CHECK-SAME: %[[E:[a-z0-9]+]]: tensor<4x16x16xf32>
// CHECK-NEXT: sinter.probe_tensor %[[E]] id 4 channel_axis 1 name "input 7" : tensor<4x16x16xf32>
// CHECK: %[[N:.*]] = sinter.layer_norm
// CHECK-NEXT: sinter.probe_tensor %[[N]] id 0 channel_axis 2 name "/ln/LayerNormalization" : tensor<1x8x16xf32>
// CHECK-NOT: sinter.probe_tensor %[[N]]
// CHECK: %[[O:.*]] = sinter.attention %[[Q:.*]], %[[K:.*]], %{{.*}} mask %[[M:.*]] causal scale 5.000000e-01
// CHECK-NEXT: sinter.probe_attention %[[Q]], %[[K]], %[[O]] mask %[[M]] causal scale 5.000000e-01 id 1 name "/attn/MatMul_1" : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<8x8xf32>
// CHECK: %[[F:.*]] = sinter.reshape
// CHECK-NEXT: sinter.probe_tensor %[[F]] id 2 channel_axis 1 name "reshape#0" : tensor<8x16xf32>
// CHECK: %[[P:.*]] = sinter.softmax
// CHECK: %{{.*}}, %[[I:.*]] = sinter.topk %[[P]]
// CHECK-NEXT: sinter.probe_routing %[[I]] experts 4 id 3 name "/moe/TopK"
// CHECK-NOT: sinter.probe
func.func @block(%x: tensor<1x8x16xf32>, %g: tensor<16xf32>, %w: tensor<16x16xf32>,
                 %q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>,
                 %m: tensor<8x8xf32>, %e: tensor<4x16x16xf32>)
    -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x2x8x8xf32>, tensor<8x2xi64>, tensor<4x8x16xf32>) {
  %n = sinter.layer_norm %x, %g axis 2 epsilon 1.0e-05 : (tensor<1x8x16xf32>, tensor<16xf32>) -> tensor<1x8x16xf32> loc(#ln)
  %a = sinter.linear %n, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %b = sinter.linear %n, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %o = sinter.attention %q, %k, %v mask %m causal scale 0.5 : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x8xf32> loc(#attn)
  %flat = sinter.reshape %n to [8, 16] : tensor<1x8x16xf32> -> tensor<8x16xf32>
  %cw = sinter.constant dense<1.0> : tensor<16x4xf32>
  %logits = sinter.linear %flat, %cw : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  %p = sinter.softmax %logits axis 1 : tensor<8x4xf32>
  %top, %i = sinter.topk %p k 2 axis 1 : tensor<8x4xf32> -> tensor<8x2xf32>, tensor<8x2xi64> loc(#topk)
  %ew = sinter.matmul %flat, %e : (tensor<8x16xf32>, tensor<4x16x16xf32>) -> tensor<4x8x16xf32>
  return %a, %b, %o, %i, %ew : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x2x8x8xf32>, tensor<8x2xi64>, tensor<4x8x16xf32>
}
#ln = loc("/ln/LayerNormalization")
#attn = loc("/attn/MatMul_1")
#topk = loc("/moe/TopK")
