// RUN: sinter-opt %s --sinter-quantize-activations | FileCheck %s
// RUN: sinter-opt %s --sinter-quantize-activations="scales=static stats=%S/Inputs/activation-stats.json" -verify-diagnostics | FileCheck %s --check-prefix=STATIC

// Near misses. An int8 layer whose input's row length is dynamic keeps f32
// activations (the kernel needs the depth at compile time); with static
// scales, a layer without statistics keeps them too, with a warning.
// CHECK-LABEL: func @near_misses
// CHECK: %[[Q:.*]], %[[S:.*]] = sinter.dynamic_quantize %arg1 :
// CHECK: %[[X:.*]] = sinter.dequantize %[[Q]], %[[S]]
// CHECK: sinter.linear %arg0, %{{.*}} transpose_weight
// CHECK: sinter.linear %[[X]], %{{.*}} transpose_weight
// STATIC-LABEL: func @near_misses
// STATIC-NOT: sinter.quantize
// STATIC: sinter.linear %arg0,
// STATIC: sinter.linear %arg1,
func.func @near_misses(%arg0: tensor<3x?xf32>, %arg1: tensor<3x4xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %q = sinter.constant dense<1> : tensor<8x4xi8>
  %s = sinter.constant dense<0.5> : tensor<8x1xbf16>
  %w = sinter.dequantize %q, %s axis 1 block 4 : (tensor<8x4xi8>, tensor<8x1xbf16>) -> tensor<8x4xf32>
  %y = sinter.linear %arg0, %w transpose_weight : (tensor<3x?xf32>, tensor<8x4xf32>) -> tensor<3x8xf32>
  // expected-warning @+1 {{sinter-quantize-activations: 1 int8 layers have no calibration statistics}}
  %y2 = sinter.linear %arg1, %w transpose_weight : (tensor<3x4xf32>, tensor<8x4xf32>) -> tensor<3x8xf32>
  return %y, %y2 : tensor<3x8xf32>, tensor<3x8xf32>
}
