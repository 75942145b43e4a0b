// RUN: sinter-opt %s --sinter-quantize-activations | FileCheck %s
// RUN: sinter-opt %s --sinter-quantize-activations="scales=static stats=%S/Inputs/activation-stats.json" | FileCheck %s --check-prefix=STATIC
// RUN: sinter-opt %s --sinter-quantize-activations="keep-fp32=^/b$" | FileCheck %s --check-prefix=KEEP
// RUN: not sinter-opt %s --sinter-quantize-activations="scales=static" 2>&1 | FileCheck %s --check-prefix=NO-STATS
// RUN: not sinter-opt %s --sinter-quantize-activations="scales=per-channel" 2>&1 | FileCheck %s --check-prefix=SCALES

// Two int8 layers (one scale per output column, no zero points) read x:
// one rounding of x, per row at run time, serves both. The 4-bit layer,
// the int8 layer in groups of k, the one with zero points and the f32 one
// keep f32 activations.
// CHECK-LABEL: func @int8_layers
// CHECK: %[[Q:.*]], %[[S:.*]] = sinter.dynamic_quantize %arg0 : tensor<1x3x4xf32> -> tensor<1x3x4xi8>, tensor<1x3x1xf32>
// CHECK: %[[X:.*]] = sinter.dequantize %[[Q]], %[[S]] axis 2 block 4 : (tensor<1x3x4xi8>, tensor<1x3x1xf32>) -> tensor<1x3x4xf32>
// CHECK: sinter.linear %[[X]], %{{.*}} transpose_weight
// CHECK: sinter.linear %[[X]], %{{.*}} :
// CHECK: sinter.dynamic_quantize
// CHECK: sinter.linear
// CHECK: sinter.linear %arg0, %{{.*}}, %{{.*}} transpose_weight
// CHECK: sinter.linear %arg0, %{{.*}} transpose_weight
// CHECK: sinter.linear %arg0, %{{.*}} transpose_weight
// CHECK: sinter.linear %arg0, %arg1 :
// CHECK-NOT: dynamic_quantize

// With static scales, x's calibrated range [-2.54, 1.5] gives one scale,
// 2.54 / 127 = 0.02, for /a and /b; the rest is as above.
// STATIC-LABEL: func @int8_layers
// STATIC: %[[S:.*]] = sinter.constant dense<2.000000e-02> : tensor<f32>
// STATIC: %[[Q:.*]] = sinter.quantize %arg0, %[[S]] : (tensor<1x3x4xf32>, tensor<f32>) -> tensor<1x3x4xi8>
// STATIC: %[[X:.*]] = sinter.dequantize %[[Q]], %[[S]] : (tensor<1x3x4xi8>, tensor<f32>) -> tensor<1x3x4xf32>
// STATIC: sinter.linear %[[X]], %{{.*}} transpose_weight
// STATIC: sinter.linear %[[X]], %{{.*}} :
// STATIC: %[[YS:.*]] = sinter.mul
// STATIC: %[[S2:.*]] = sinter.constant dense<0.00999999977> : tensor<f32>
// STATIC: %[[Q2:.*]] = sinter.quantize %[[YS]], %[[S2]]
// STATIC: %[[X2:.*]] = sinter.dequantize %[[Q2]], %[[S2]]
// STATIC: sinter.linear %[[X2]], %{{.*}} transpose_weight
// STATIC-NOT: sinter.quantize

// KEEP-LABEL: func @int8_layers
// KEEP: %[[Q:.*]], %[[S:.*]] = sinter.dynamic_quantize %arg0
// KEEP: %[[X:.*]] = sinter.dequantize %[[Q]], %[[S]]
// KEEP: sinter.linear %[[X]], %{{.*}} transpose_weight
// KEEP: sinter.linear %arg0, %{{.*}} :
// KEEP: sinter.dynamic_quantize

// NO-STATS: error: sinter-quantize-activations: needs the stats file of sinterc --calibrate (option stats)
// SCALES: error: sinter-quantize-activations: scales must be dynamic or static, got 'per-channel'
func.func @int8_layers(%arg0: tensor<1x3x4xf32>, %arg1: tensor<4x8xf32>) -> (tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>) {
  %qa = sinter.constant dense<1> : tensor<8x4xi8>
  %sa = sinter.constant dense<0.5> : tensor<8x1xbf16>
  %wa = sinter.dequantize %qa, %sa axis 1 block 4 : (tensor<8x4xi8>, tensor<8x1xbf16>) -> tensor<8x4xf32>
  %ya = sinter.linear %arg0, %wa transpose_weight : (tensor<1x3x4xf32>, tensor<8x4xf32>) -> tensor<1x3x8xf32> loc("/a")
  %qb = sinter.constant dense<2> : tensor<4x8xi8>
  %sb = sinter.constant dense<0.25> : tensor<8xf32>
  %wb = sinter.dequantize %qb, %sb axis 1 : (tensor<4x8xi8>, tensor<8xf32>) -> tensor<4x8xf32>
  %yb = sinter.linear %arg0, %wb : (tensor<1x3x4xf32>, tensor<4x8xf32>) -> tensor<1x3x8xf32> loc("/b")
  // Smoothed after calibration (sinter-scale-activations recorded the
  // input's new range): its own scale, 1.27 / 127.
  %ys = sinter.mul %arg0, %arg0 : (tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  %yy = sinter.linear %ys, %wa transpose_weight {sinter.calibrated_abs_max = 1.27 : f64} : (tensor<1x3x4xf32>, tensor<8x4xf32>) -> tensor<1x3x8xf32> loc("/a")
  %q4 = sinter.constant dense<3> : tensor<8x4xui4>
  %s4 = sinter.constant dense<0.5> : tensor<8x1xbf16>
  %z4 = sinter.constant dense<8> : tensor<8x1xui4>
  %w4 = sinter.dequantize %q4, %s4, %z4 axis 1 block 4 : (tensor<8x4xui4>, tensor<8x1xbf16>, tensor<8x1xui4>) -> tensor<8x4xf32>
  %bias = sinter.constant dense<1.0> : tensor<8xf32>
  %y4 = sinter.linear %arg0, %w4, %bias transpose_weight : (tensor<1x3x4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<1x3x8xf32> loc("/c")
  %qg = sinter.constant dense<1> : tensor<8x4xi8>
  %sg = sinter.constant dense<0.5> : tensor<8x2xbf16>
  %wg = sinter.dequantize %qg, %sg axis 1 block 2 : (tensor<8x4xi8>, tensor<8x2xbf16>) -> tensor<8x4xf32>
  %yg = sinter.linear %arg0, %wg transpose_weight : (tensor<1x3x4xf32>, tensor<8x4xf32>) -> tensor<1x3x8xf32> loc("/d")
  %qz = sinter.constant dense<1> : tensor<8x4xi8>
  %sz = sinter.constant dense<0.5> : tensor<8x1xbf16>
  %zz = sinter.constant dense<1> : tensor<8x1xi8>
  %wz = sinter.dequantize %qz, %sz, %zz axis 1 block 4 : (tensor<8x4xi8>, tensor<8x1xbf16>, tensor<8x1xi8>) -> tensor<8x4xf32>
  %yz = sinter.linear %arg0, %wz transpose_weight : (tensor<1x3x4xf32>, tensor<8x4xf32>) -> tensor<1x3x8xf32> loc("/e")
  %yf = sinter.linear %arg0, %arg1 : (tensor<1x3x4xf32>, tensor<4x8xf32>) -> tensor<1x3x8xf32> loc("/f")
  return %ya, %yb, %y4, %yg, %yz, %yf : tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>
}
