// RUN: sinter-opt %s --sinter-lower-to-kernels --convert-sinter-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s --sinter-lower-to-kernels="matmul-kernel=false" --convert-sinter-to-linalg -split-input-file | FileCheck %s --check-prefix=OFF

// Tests that a linear layer whose input is dynamically quantized int8 and
// whose weight is int8 per output column becomes one call of the W8A8
// kernel on the integers of both: the activations' row scales flattened to
// one per row, flags 6 (bias 2 + row scales 4). dynamic_quantize is the
// rows' max |x| (a reduction), its scale m / 127, and one generic that
// rounds x / scale to nearest even within +-127 (0 where the scale is 0).
// Without the kernel (OFF), the same IR computes the same rounding in f32.
// CHECK-LABEL: func.func private @sinter_qmatmul_i8
// CHECK-SAME: (memref<?x?x?xi8, strided<[?, ?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, i32, memref<?xi8, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, i32)
// CHECK-LABEL: func @dynamic
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 6 : i32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[SCALE:.*]] = linalg.generic
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: %[[Q:.*]] = linalg.generic
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: arith.fptosi %{{.*}} : f32 to i8
// CHECK: tensor.expand_shape %[[Q]]
// CHECK: tensor.collapse_shape %[[SCALE]] {{\[\[}}0, 1]] : tensor<?x1xf32> into tensor<?xf32>
// CHECK: call @sinter_qmatmul_i8({{.*}}, %[[FLAGS]])
// CHECK-NOT: = sinter.
// CHECK: return
// OFF-LABEL: func @dynamic
// OFF-NOT: sinter_qmatmul
// OFF: math.roundeven
// OFF: linalg.generic
func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %xq, %xs = sinter.dynamic_quantize %x : tensor<?x4xf32> -> tensor<?x4xi8>, tensor<?x1xf32>
  %xd = sinter.dequantize %xq, %xs axis 1 block 4 : (tensor<?x4xi8>, tensor<?x1xf32>) -> tensor<?x4xf32>
  %q = sinter.constant dense<[[1, -2, 3, -4], [5, 6, 7, 8], [-127, 0, 127, 1]]> : tensor<3x4xi8>
  %s = sinter.constant dense<[[0.5], [1.0], [0.125]]> : tensor<3x1xbf16>
  %w = sinter.dequantize %q, %s axis 1 block 4 : (tensor<3x4xi8>, tensor<3x1xbf16>) -> tensor<3x4xf32>
  %b = sinter.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %y = sinter.linear %xd, %w, %b transpose_weight : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// A calibrated (per-tensor) scale: the quantize generic, then the kernel
// with the one scale as a 1-element vector and no flags.
// CHECK-LABEL: func @static
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 0 : i32
// CHECK: math.roundeven
// CHECK: tensor.expand_shape %{{.*}} [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: call @sinter_qmatmul_i8({{.*}}, %[[FLAGS]])
func.func @static(%x: tensor<2x3x4xf32>) -> tensor<2x3x3xf32> {
  %xs = sinter.constant dense<0.02> : tensor<f32>
  %xq = sinter.quantize %x, %xs : (tensor<2x3x4xf32>, tensor<f32>) -> tensor<2x3x4xi8>
  %xd = sinter.dequantize %xq, %xs : (tensor<2x3x4xi8>, tensor<f32>) -> tensor<2x3x4xf32>
  %q = sinter.constant dense<3> : tensor<4x3xi8>
  %s = sinter.constant dense<0.5> : tensor<3xf32>
  %w = sinter.dequantize %q, %s axis 1 : (tensor<4x3xi8>, tensor<3xf32>) -> tensor<4x3xf32>
  %y = sinter.linear %xd, %w : (tensor<2x3x4xf32>, tensor<4x3xf32>) -> tensor<2x3x3xf32>
  return %y : tensor<2x3x3xf32>
}

// -----

// An imported QDQ layer: uint8 activations with a zero point (128, passed
// to the kernel) cross as the same bytes (a memref cast that the LLVM
// lowering removes; flags 8: unsigned), against an int8 weight whose zero
// points are all 0.
// CHECK-LABEL: func @qdq
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 8 : i32
// CHECK-DAG: %[[ZP:.*]] = arith.constant 128 : i32
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : memref<?x?x?xui8, strided<[?, ?, ?], offset: ?>> to memref<?x?x?xi8, strided<[?, ?, ?], offset: ?>>
// CHECK: call @sinter_qmatmul_i8(%{{.*}}, %{{.*}}, %[[ZP]], %{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS]])
func.func @qdq(%x: tensor<3x4xf32>) -> tensor<3x3xf32> {
  %xs = sinter.constant dense<0.02> : tensor<f32>
  %zp = sinter.constant dense<128> : tensor<ui8>
  %xq = sinter.quantize %x, %xs, %zp : (tensor<3x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<3x4xui8>
  %xd = sinter.dequantize %xq, %xs, %zp : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<3x4xf32>
  %q = sinter.constant dense<3> : tensor<4x3xi8>
  %s = sinter.constant dense<0.5> : tensor<3xf32>
  %wz = sinter.constant dense<0> : tensor<3xi8>
  %w = sinter.dequantize %q, %s, %wz axis 1 : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  %y = sinter.linear %xd, %w : (tensor<3x4xf32>, tensor<4x3xf32>) -> tensor<3x3xf32>
  return %y : tensor<3x3xf32>
}

// -----

// Near misses: int8 activations against a weight in groups of k, and
// against a weight with nonzero zero points, run as the weight-only kernel
// on the dequantized activations.
// CHECK-LABEL: func @near_misses
// CHECK-NOT: sinter_qmatmul_i8(
// CHECK: call @sinter_qmatmul_f32
// CHECK-NOT: sinter_qmatmul_i8(
// CHECK: call @sinter_qmatmul_f32
func.func @near_misses(%x: tensor<3x4xf32>) -> (tensor<3x3xf32>, tensor<3x3xf32>) {
  %xq, %xs = sinter.dynamic_quantize %x : tensor<3x4xf32> -> tensor<3x4xi8>, tensor<3x1xf32>
  %xd = sinter.dequantize %xq, %xs axis 1 block 4 : (tensor<3x4xi8>, tensor<3x1xf32>) -> tensor<3x4xf32>
  %q = sinter.constant dense<3> : tensor<3x4xi8>
  %s = sinter.constant dense<0.5> : tensor<3x2xf32>
  %w = sinter.dequantize %q, %s axis 1 block 2 : (tensor<3x4xi8>, tensor<3x2xf32>) -> tensor<3x4xf32>
  %y = sinter.linear %xd, %w transpose_weight : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x3xf32>
  %s1 = sinter.constant dense<0.5> : tensor<3x1xf32>
  %z1 = sinter.constant dense<2> : tensor<3x1xi8>
  %w1 = sinter.dequantize %q, %s1, %z1 axis 1 block 4 : (tensor<3x4xi8>, tensor<3x1xf32>, tensor<3x1xi8>) -> tensor<3x4xf32>
  %y2 = sinter.linear %xd, %w1 transpose_weight : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x3xf32>
  return %y, %y2 : tensor<3x3xf32>, tensor<3x3xf32>
}
