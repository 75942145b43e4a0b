// RUN: sinter-opt %s --sinter-lower-to-kernels -split-input-file | FileCheck %s

// Tests the near misses that sinter-lower-to-kernels leaves as sinter ops
// for convert-sinter-to-linalg: no kernel declaration, no call.

// Tests that an f16 linear is not the f32 matmul kernel's.
// CHECK-LABEL: func @f16_linear
// CHECK-NOT: call
// CHECK: sinter.linear
// CHECK-NOT: call
func.func @f16_linear(%x: tensor<4x8xf16>, %w: tensor<16x8xf16>) -> tensor<4x16xf16> {
  %0 = sinter.linear %x, %w transpose_weight : (tensor<4x8xf16>, tensor<16x8xf16>) -> tensor<4x16xf16>
  return %0 : tensor<4x16xf16>
}

// -----

// Tests that an i32 matmul is not the f32 matmul kernel's.
// CHECK-LABEL: func @i32_matmul
// CHECK-NOT: call
// CHECK: sinter.matmul
// CHECK-NOT: call
func.func @i32_matmul(%a: tensor<4x8xi32>, %b: tensor<8x16xi32>) -> tensor<4x16xi32> {
  %0 = sinter.matmul %a, %b : (tensor<4x8xi32>, tensor<8x16xi32>) -> tensor<4x16xi32>
  return %0 : tensor<4x16xi32>
}

// -----

// Tests that a batch broadcast on part of its dimensions is not folded
// into the kernel's one batch.
// CHECK-LABEL: func @partly_broadcast_batch
// CHECK-NOT: call
// CHECK: sinter.matmul
// CHECK-NOT: call
func.func @partly_broadcast_batch(%a: tensor<2x1x4x8xf32>, %b: tensor<1x3x8x16xf32>) -> tensor<2x3x4x16xf32> {
  %0 = sinter.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<1x3x8x16xf32>) -> tensor<2x3x4x16xf32>
  return %0 : tensor<2x3x4x16xf32>
}

// -----

// Tests that attention with a dynamic head size is not the flash-attention
// kernel's (its head size must be known to be at most 256).
// CHECK-LABEL: func @dynamic_head_size
// CHECK-NOT: call
// CHECK: sinter.attention
// CHECK-NOT: call
func.func @dynamic_head_size(%q: tensor<1x2x8x?xf32>, %k: tensor<1x2x8x?xf32>, %v: tensor<1x2x8x?xf32>) -> tensor<1x2x8x?xf32> {
  %0 = sinter.attention %q, %k, %v scale 1.0 : (tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>) -> tensor<1x2x8x?xf32>
  return %0 : tensor<1x2x8x?xf32>
}

// -----

// Tests that an f16 norm is not the f32 norm kernel's.
// CHECK-LABEL: func @f16_norm
// CHECK-NOT: call
// CHECK: sinter.rms_norm
// CHECK-NOT: call
func.func @f16_norm(%x: tensor<4x8xf16>, %s: tensor<8xf16>) -> tensor<4x8xf16> {
  %0 = sinter.rms_norm %x, %s axis 1 epsilon 1.0e-05 : (tensor<4x8xf16>, tensor<8xf16>) -> tensor<4x8xf16>
  return %0 : tensor<4x8xf16>
}
