// RUN: sinter-opt %s | sinter-opt | FileCheck %s
// RUN: sinter-opt %s --mlir-print-op-generic | sinter-opt | FileCheck %s

// Round trip of every sinter op through its custom assembly (and through the
// generic form): what is printed parses back to the same op.

// CHECK-LABEL: func @constants
func.func @constants() -> (tensor<2x2xf32>, tensor<i64>) {
  // CHECK: sinter.constant dense_resource<weights> : tensor<2x2xf32>
  %w = sinter.constant dense_resource<weights> : tensor<2x2xf32>
  // CHECK: sinter.constant dense<7> : tensor<i64>
  %c = sinter.constant dense<7> : tensor<i64>
  return %w, %c : tensor<2x2xf32>, tensor<i64>
}

// CHECK-LABEL: func @unary
func.func @unary(%x: tensor<2x?xf32>, %i: tensor<4xi32>, %b: tensor<3xi1>) {
  // CHECK: sinter.neg %{{.*}} : tensor<2x?xf32>
  %0 = sinter.neg %x : tensor<2x?xf32>
  // CHECK: sinter.abs %{{.*}} : tensor<4xi32>
  %1 = sinter.abs %i : tensor<4xi32>
  // CHECK: sinter.exp
  %2 = sinter.exp %x : tensor<2x?xf32>
  // CHECK: sinter.log
  %3 = sinter.log %x : tensor<2x?xf32>
  // CHECK: sinter.sqrt
  %4 = sinter.sqrt %x : tensor<2x?xf32>
  // CHECK: sinter.rsqrt
  %5 = sinter.rsqrt %x : tensor<2x?xf32>
  // CHECK: sinter.reciprocal
  %6 = sinter.reciprocal %x : tensor<2x?xf32>
  // CHECK: sinter.tanh
  %7 = sinter.tanh %x : tensor<2x?xf32>
  // CHECK: sinter.erf
  %8 = sinter.erf %x : tensor<2x?xf32>
  // CHECK: sinter.sigmoid
  %9 = sinter.sigmoid %x : tensor<2x?xf32>
  // CHECK: sinter.relu %{{.*}} : tensor<4xi32>
  %10 = sinter.relu %i : tensor<4xi32>
  // CHECK: sinter.cos
  %11 = sinter.cos %x : tensor<2x?xf32>
  // CHECK: sinter.sin
  %12 = sinter.sin %x : tensor<2x?xf32>
  // CHECK: sinter.floor
  %f0 = sinter.floor %x : tensor<2x?xf32>
  // CHECK: sinter.ceil
  %f1 = sinter.ceil %x : tensor<2x?xf32>
  // CHECK: sinter.round
  %f2 = sinter.round %x : tensor<2x?xf32>
  // CHECK: sinter.not %{{.*}} : tensor<3xi1>
  %13 = sinter.not %b : tensor<3xi1>
  // CHECK: sinter.leaky_relu %{{.*}} alpha 0.00999999977 : tensor<2x?xf32>
  %14 = sinter.leaky_relu %x alpha 0.01 : tensor<2x?xf32>
  // CHECK: sinter.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<2x?xf32>
  %15 = sinter.clip %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x?xf32>
  // CHECK: sinter.clip %{{.*}} {min = 1.000000e+00 : f64} : tensor<4xi32>
  %16 = sinter.clip %i {min = 1.0 : f64} : tensor<4xi32>
  return
}

// CHECK-LABEL: func @binary
func.func @binary(%a: tensor<2x1x8xf32>, %b: tensor<4x1xf32>,
                  %i: tensor<?x3xi64>, %j: tensor<i64>,
                  %p: tensor<3xi1>, %q: tensor<1xi1>) {
  // CHECK: sinter.add %{{.*}}, %{{.*}} : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  %0 = sinter.add %a, %b : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  // CHECK: sinter.sub
  %1 = sinter.sub %a, %b : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  // CHECK: sinter.mul
  %2 = sinter.mul %a, %b : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  // CHECK: sinter.div %{{.*}} : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi64>
  %3 = sinter.div %i, %j : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi64>
  // CHECK: sinter.pow
  %4 = sinter.pow %a, %b : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  // CHECK: sinter.max
  %5 = sinter.max %i, %j : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi64>
  // CHECK: sinter.min
  %6 = sinter.min %a, %b : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  // CHECK: sinter.and %{{.*}} : (tensor<3xi1>, tensor<1xi1>) -> tensor<3xi1>
  %7 = sinter.and %p, %q : (tensor<3xi1>, tensor<1xi1>) -> tensor<3xi1>
  // CHECK: sinter.or
  %8 = sinter.or %p, %q : (tensor<3xi1>, tensor<1xi1>) -> tensor<3xi1>
  // CHECK: sinter.xor
  %9 = sinter.xor %p, %q : (tensor<3xi1>, tensor<1xi1>) -> tensor<3xi1>
  // CHECK: sinter.equal %{{.*}} : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi1>
  %10 = sinter.equal %i, %j : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi1>
  // CHECK: sinter.less %{{.*}} : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xi1>
  %11 = sinter.less %a, %b : (tensor<2x1x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xi1>
  // CHECK: sinter.less_equal
  %12 = sinter.less_equal %i, %j : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi1>
  // CHECK: sinter.greater
  %13 = sinter.greater %i, %j : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi1>
  // CHECK: sinter.greater_equal
  %14 = sinter.greater_equal %i, %j : (tensor<?x3xi64>, tensor<i64>) -> tensor<?x3xi1>
  return
}

// CHECK-LABEL: func @where
func.func @where(%m: tensor<1x1x32x32xi1>, %x: tensor<1x4x32x32xf32>, %c: tensor<f32>) -> tensor<1x4x32x32xf32> {
  // CHECK: sinter.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x1x32x32xi1>, tensor<1x4x32x32xf32>, tensor<f32>) -> tensor<1x4x32x32xf32>
  %0 = sinter.where %m, %x, %c : (tensor<1x1x32x32xi1>, tensor<1x4x32x32xf32>, tensor<f32>) -> tensor<1x4x32x32xf32>
  return %0 : tensor<1x4x32x32xf32>
}

// CHECK-LABEL: func @cast
func.func @cast(%x: tensor<1x?xi64>) -> tensor<1x?xf32> {
  // CHECK: sinter.cast %{{.*}} : tensor<1x?xi64> to tensor<1x?xf32>
  %0 = sinter.cast %x : tensor<1x?xi64> to tensor<1x?xf32>
  return %0 : tensor<1x?xf32>
}

// CHECK-LABEL: func @contractions
func.func @contractions(%q: tensor<1x4x32x16xf32>, %kt: tensor<1x4x16x32xf32>,
                        %x: tensor<1x?x64xf32>, %w: tensor<256x64xf32>,
                        %wkn: tensor<64x256xf32>, %b: tensor<256xf32>,
                        %v: tensor<16xf32>, %img: tensor<1x3x32x32xf32>,
                        %k: tensor<8x3x4x4xf32>, %kb: tensor<8xf32>) {
  // CHECK: sinter.matmul %{{.*}}, %{{.*}} : (tensor<1x4x32x16xf32>, tensor<1x4x16x32xf32>) -> tensor<1x4x32x32xf32>
  %0 = sinter.matmul %q, %kt : (tensor<1x4x32x16xf32>, tensor<1x4x16x32xf32>) -> tensor<1x4x32x32xf32>
  // CHECK: sinter.matmul %{{.*}}, %{{.*}} : (tensor<1x4x32x16xf32>, tensor<16xf32>) -> tensor<1x4x32xf32>
  %1 = sinter.matmul %q, %v : (tensor<1x4x32x16xf32>, tensor<16xf32>) -> tensor<1x4x32xf32>
  // CHECK: sinter.linear %{{.*}}, %{{.*}}, %{{.*}} transpose_weight : (tensor<1x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x?x256xf32>
  %2 = sinter.linear %x, %w, %b transpose_weight : (tensor<1x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x?x256xf32>
  // CHECK: sinter.linear %{{.*}}, %{{.*}} : (tensor<1x?x64xf32>, tensor<64x256xf32>) -> tensor<1x?x256xf32>
  %3 = sinter.linear %x, %wkn : (tensor<1x?x64xf32>, tensor<64x256xf32>) -> tensor<1x?x256xf32>
  // CHECK: sinter.conv %{{.*}}, %{{.*}}, %{{.*}} strides [4, 4] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %4 = sinter.conv %img, %k, %kb strides [4, 4] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  // CHECK: sinter.conv %{{.*}}, %{{.*}} strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x31x31xf32>
  %5 = sinter.conv %img, %k strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x31x31xf32>
  return
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<1x?x64xf32>, %i: tensor<4x8xi64>) {
  // CHECK: sinter.reduce_sum %{{.*}} axes [2] keepdims : tensor<1x?x64xf32> -> tensor<1x?x1xf32>
  %0 = sinter.reduce_sum %x axes [2] keepdims : tensor<1x?x64xf32> -> tensor<1x?x1xf32>
  // CHECK: sinter.reduce_mean %{{.*}} axes [1, 2] : tensor<1x?x64xf32> -> tensor<1xf32>
  %1 = sinter.reduce_mean %x axes [1, 2] : tensor<1x?x64xf32> -> tensor<1xf32>
  // CHECK: sinter.reduce_max %{{.*}} axes [0] : tensor<4x8xi64> -> tensor<8xi64>
  %2 = sinter.reduce_max %i axes [0] : tensor<4x8xi64> -> tensor<8xi64>
  // CHECK: sinter.reduce_min %{{.*}} axes [0, 1] : tensor<4x8xi64> -> tensor<i64>
  %3 = sinter.reduce_min %i axes [0, 1] : tensor<4x8xi64> -> tensor<i64>
  // CHECK: sinter.softmax %{{.*}} axis 2 : tensor<1x?x64xf32>
  %4 = sinter.softmax %x axis 2 : tensor<1x?x64xf32>
  // CHECK: sinter.log_softmax %{{.*}} axis 1 : tensor<1x?x64xf32>
  %5 = sinter.log_softmax %x axis 1 : tensor<1x?x64xf32>
  // CHECK: sinter.topk %{{.*}} k 2 axis 1 : tensor<4x8xi64> -> tensor<4x2xi64>, tensor<4x2xi64>
  %v, %idx = sinter.topk %i k 2 axis 1 : tensor<4x8xi64> -> tensor<4x2xi64>, tensor<4x2xi64>
  // CHECK: sinter.topk %{{.*}} k 3 axis 1 smallest unsorted : tensor<1x?x64xf32> -> tensor<1x3x64xf32>, tensor<1x3x64xi64>
  %v2, %idx2 = sinter.topk %x k 3 axis 1 smallest unsorted : tensor<1x?x64xf32> -> tensor<1x3x64xf32>, tensor<1x3x64xi64>
  return
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<1x?x64xf32>, %n: index, %kv: tensor<1x2x1x32x16xf32>) {
  // CHECK: sinter.reshape %{{.*}} to [1, %{{.*}}, 4, 16] : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
  %0 = sinter.reshape %x to [1, %n, 4, 16] : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
  // CHECK: sinter.expand %{{.*}} to [1, 2, 4, 32, 16] : tensor<1x2x1x32x16xf32> -> tensor<1x2x4x32x16xf32>
  %1 = sinter.expand %kv to [1, 2, 4, 32, 16] : tensor<1x2x1x32x16xf32> -> tensor<1x2x4x32x16xf32>
  // CHECK: sinter.expand %{{.*}} to [%{{.*}}, 1, 1] : tensor<1x?x64xf32> -> tensor<?x?x64xf32>
  %2 = sinter.expand %x to [%n, 1, 1] : tensor<1x?x64xf32> -> tensor<?x?x64xf32>
  // CHECK: sinter.transpose %{{.*}} [0, 2, 1, 3] : tensor<1x?x4x16xf32> -> tensor<1x4x?x16xf32>
  %3 = sinter.transpose %0 [0, 2, 1, 3] : tensor<1x?x4x16xf32> -> tensor<1x4x?x16xf32>
  // CHECK: sinter.slice %{{.*}} starts [0, 0, 32] ends [1, 9223372036854775807, 64] steps [1, 1, 1] : tensor<1x?x64xf32> -> tensor<1x?x32xf32>
  %4 = sinter.slice %x starts [0, 0, 32] ends [1, 9223372036854775807, 64] steps [1, 1, 1] : tensor<1x?x64xf32> -> tensor<1x?x32xf32>
  // CHECK: sinter.slice %{{.*}} starts [0, 0, -1] ends [1, 9223372036854775807, -9223372036854775808] steps [1, 1, -2] : tensor<1x?x64xf32> -> tensor<1x?x32xf32>
  %5 = sinter.slice %x starts [0, 0, -1] ends [1, 9223372036854775807, -9223372036854775808] steps [1, 1, -2] : tensor<1x?x64xf32> -> tensor<1x?x32xf32>
  // CHECK: sinter.concat %{{.*}}, %{{.*}} axis 1 : (tensor<1x?x32xf32>, tensor<1x?x32xf32>) -> tensor<1x?x32xf32>
  %6 = sinter.concat %4, %5 axis 1 : (tensor<1x?x32xf32>, tensor<1x?x32xf32>) -> tensor<1x?x32xf32>
  // CHECK: sinter.split %{{.*}} axis 2 sizes [16, 48] : tensor<1x?x64xf32> -> tensor<1x?x16xf32>, tensor<1x?x48xf32>
  %7:2 = sinter.split %x axis 2 sizes [16, 48] : tensor<1x?x64xf32> -> tensor<1x?x16xf32>, tensor<1x?x48xf32>
  return
}

// CHECK-LABEL: func @indexing
func.func @indexing(%wte: tensor<256x64xf32>, %ids: tensor<1x32xi64>,
                    %x: tensor<4x8xf32>, %idx: tensor<4x2xi64>, %u: tensor<4x2xf32>) {
  // CHECK: sinter.gather %{{.*}}[%{{.*}}] axis 0 : (tensor<256x64xf32>, tensor<1x32xi64>) -> tensor<1x32x64xf32>
  %0 = sinter.gather %wte[%ids] axis 0 : (tensor<256x64xf32>, tensor<1x32xi64>) -> tensor<1x32x64xf32>
  // CHECK: sinter.gather_elements %{{.*}}[%{{.*}}] axis 1 : (tensor<4x8xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  %1 = sinter.gather_elements %x[%idx] axis 1 : (tensor<4x8xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  // CHECK: sinter.scatter_elements %{{.*}}[%{{.*}}], %{{.*}} axis 1 : (tensor<4x8xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x8xf32>
  %2 = sinter.scatter_elements %x[%idx], %u axis 1 : (tensor<4x8xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x8xf32>
  return
}

// CHECK-LABEL: func @sequences
func.func @sequences(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>,
                     %m: tensor<2x32x32xf32>, %x: tensor<1x?xi64>) {
  // CHECK: sinter.range %{{.*}}, %{{.*}}, %{{.*}} : tensor<i64> -> tensor<?xi64>
  %0 = sinter.range %s, %l, %d : tensor<i64> -> tensor<?xi64>
  // CHECK: sinter.trilu %{{.*}} k 0 : tensor<2x32x32xf32>
  %1 = sinter.trilu %m k 0 : tensor<2x32x32xf32>
  // CHECK: sinter.trilu %{{.*}} k 1 upper : tensor<2x32x32xf32>
  %2 = sinter.trilu %m k 1 upper : tensor<2x32x32xf32>
  // CHECK: sinter.cumsum %{{.*}} axis 1 : tensor<1x?xi64>
  %3 = sinter.cumsum %x axis 1 : tensor<1x?xi64>
  // CHECK: sinter.cumsum %{{.*}} axis 1 exclusive reverse : tensor<1x?xi64>
  %4 = sinter.cumsum %x axis 1 exclusive reverse : tensor<1x?xi64>
  return
}

// CHECK-LABEL: func @composites
func.func @composites(%q: tensor<1x8x32x16xf32>, %k: tensor<1x2x?x16xf32>,
                      %v: tensor<1x2x?x16xf32>, %mask: tensor<1x1x32x?xf32>,
                      %x: tensor<1x32x64xf32>, %g: tensor<64xf32>,
                      %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>) {
  // CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} causal scale 2.500000e-01 : (tensor<1x8x32x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x8x32x16xf32>
  %0 = sinter.attention %q, %k, %v causal scale 0.25 : (tensor<1x8x32x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x8x32x16xf32>
  // CHECK: sinter.attention %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} scale 1.250000e-01 : (tensor<1x8x32x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x1x32x?xf32>) -> tensor<1x8x32x16xf32>
  %1 = sinter.attention %q, %k, %v mask %mask scale 0.125 : (tensor<1x8x32x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x1x32x?xf32>) -> tensor<1x8x32x16xf32>
  // CHECK: sinter.layer_norm %{{.*}}, %{{.*}}, %{{.*}} axis 2 epsilon 9.99999974E-6 : (tensor<1x32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  %2 = sinter.layer_norm %x, %g, %g axis 2 epsilon 1.0e-05 : (tensor<1x32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  // CHECK: sinter.layer_norm %{{.*}}, %{{.*}} axis 2 epsilon
  %3 = sinter.layer_norm %x, %g axis 2 epsilon 1.0e-05 : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  // CHECK: sinter.rms_norm %{{.*}}, %{{.*}} axis 2 epsilon 9.99999997E-7 : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  %4 = sinter.rms_norm %x, %g axis 2 epsilon 1.0e-06 : (tensor<1x32x64xf32>, tensor<64xf32>) -> tensor<1x32x64xf32>
  // CHECK: sinter.add_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} kind layer axis 2 epsilon 9.99999974E-6 : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>)
  %s:2 = sinter.add_norm %x, %x, %g, %g kind layer axis 2 epsilon 1.0e-05 : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>)
  // CHECK: sinter.add_norm %{{.*}}, %{{.*}}, %{{.*}} kind rms axis 2 epsilon 9.99999997E-7 : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<64xf32>) -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>)
  %r:2 = sinter.add_norm %x, %x, %g kind rms axis 2 epsilon 1.0e-06 : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<64xf32>) -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>)
  // CHECK: sinter.gelu %{{.*}} approximate none : tensor<1x32x64xf32>
  %5 = sinter.gelu %x approximate none : tensor<1x32x64xf32>
  // CHECK: sinter.gelu %{{.*}} approximate tanh : tensor<1x32x64xf32>
  %6 = sinter.gelu %x approximate tanh : tensor<1x32x64xf32>
  // CHECK: sinter.rotary_embedding %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x8x32x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<1x8x32x16xf32>
  %7 = sinter.rotary_embedding %q, %cos, %sin : (tensor<1x8x32x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<1x8x32x16xf32>
  // CHECK: sinter.rotary_embedding %{{.*}}, %{{.*}}, %{{.*}} interleaved
  %8 = sinter.rotary_embedding %q, %cos, %sin interleaved : (tensor<1x8x32x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<1x8x32x16xf32>
  // CHECK: sinter.silu %{{.*}} : tensor<1x32x64xf32>
  %9 = sinter.silu %x : tensor<1x32x64xf32>
  // CHECK: sinter.swiglu %{{.*}}, %{{.*}} : tensor<1x32x64xf32>
  %10 = sinter.swiglu %x, %9 : tensor<1x32x64xf32>
  return
}

// CHECK-LABEL: func @dequantize
func.func @dequantize(%q4: tensor<8x64xui4>, %s4: tensor<8x2xbf16>, %z4: tensor<8x2xui4>, %q8: tensor<8x64xi8>, %s8: tensor<8xf32>, %st: tensor<f32>) -> (tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf16>) {
  // CHECK: sinter.dequantize %{{.*}}, %{{.*}}, %{{.*}} axis 1 block 32 : (tensor<8x64xui4>, tensor<8x2xbf16>, tensor<8x2xui4>) -> tensor<8x64xf32>
  %0 = sinter.dequantize %q4, %s4, %z4 axis 1 block 32 : (tensor<8x64xui4>, tensor<8x2xbf16>, tensor<8x2xui4>) -> tensor<8x64xf32>
  // CHECK: sinter.dequantize %{{.*}}, %{{.*}} : (tensor<8x64xi8>, tensor<8xf32>) -> tensor<8x64xf32>
  %1 = sinter.dequantize %q8, %s8 : (tensor<8x64xi8>, tensor<8xf32>) -> tensor<8x64xf32>
  // CHECK: sinter.dequantize %{{.*}}, %{{.*}} : (tensor<8x64xi8>, tensor<f32>) -> tensor<8x64xf16>
  %2 = sinter.dequantize %q8, %st : (tensor<8x64xi8>, tensor<f32>) -> tensor<8x64xf16>
  return %0, %1, %2 : tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf16>
}

// CHECK-LABEL: func @quantize
func.func @quantize(%x: tensor<8x64xf32>, %s: tensor<64xf32>, %z: tensor<64xui8>) -> tensor<8x64xui8> {
  // CHECK: sinter.quantize %{{.*}}, %{{.*}}, %{{.*}} axis 1 : (tensor<8x64xf32>, tensor<64xf32>, tensor<64xui8>) -> tensor<8x64xui8>
  %0 = sinter.quantize %x, %s, %z axis 1 : (tensor<8x64xf32>, tensor<64xf32>, tensor<64xui8>) -> tensor<8x64xui8>
  return %0 : tensor<8x64xui8>
}

// CHECK-LABEL: func @dynamic_quantize
func.func @dynamic_quantize(%x: tensor<?x64xf32>) -> (tensor<?x64xi8>, tensor<?x1xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = sinter.dynamic_quantize %{{.*}} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?x1xf32>
  %q, %s = sinter.dynamic_quantize %x : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?x1xf32>
  return %q, %s : tensor<?x64xi8>, tensor<?x1xf32>
}


// CHECK-LABEL: func @probes
// CHECK: sinter.probe_tensor %{{.*}} id 0 channel_axis 1 name "x" : tensor<4x8xf32>
// CHECK: sinter.probe_attention %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} causal scale 2.500000e-01 id 1 name "a" : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>, tensor<8x8xf32>
// CHECK: sinter.probe_attention %{{.*}}, %{{.*}}, %{{.*}} scale 2.500000e-01 id 2 name "b" : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>
// CHECK: sinter.probe_routing %{{.*}} experts 8 id 3 name "r" : tensor<8x2xi64>
func.func @probes(%x: tensor<4x8xf32>, %q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %o: tensor<1x4x8x16xf32>, %m: tensor<8x8xf32>, %i: tensor<8x2xi64>) {
  sinter.probe_tensor %x id 0 channel_axis 1 name "x" : tensor<4x8xf32>
  sinter.probe_attention %q, %k, %o mask %m causal scale 0.25 id 1 name "a" : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>, tensor<8x8xf32>
  sinter.probe_attention %q, %k, %o scale 0.25 id 2 name "b" : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>
  sinter.probe_routing %i experts 8 id 3 name "r" : tensor<8x2xi64>
  return
}

{-#
  dialect_resources: {
    builtin: {
      weights: "0x040000000000803F000000400000404000008040"
    }
  }
#-}
