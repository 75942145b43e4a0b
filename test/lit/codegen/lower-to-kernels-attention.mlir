// RUN: sinter-opt %s --sinter-lower-to-kernels --convert-sinter-to-linalg -split-input-file | FileCheck %s

// Tests that f32 attention becomes one call of the runtime's flash-attention
// kernel on strided views of Q, K (2 KV heads for 4 query heads, read in
// place) and V, with the causal flag (1) and a fresh result buffer; no
// scores tensor exists.
// CHECK-LABEL: func.func private @sinter_attention_f32
// CHECK-SAME: (memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, {{.*}}, f32, i32) attributes {llvm.emit_c_interface, sinter.no_capture}
// CHECK-LABEL: func @causal_gqa
// CHECK-DAG: %[[Q:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<1x4x8x16xf32> to memref<1x4x8x16xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-DAG: %[[K:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<1x2x8x16xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x8x16xf32>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 1 : i32
// CHECK: call @sinter_attention_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SCALE]], %[[FLAGS]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
// CHECK-NOT: linalg.generic
func.func @causal_gqa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %0 = sinter.attention %q, %k, %v causal scale 0.25 : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

// Tests a 2-D mask of a dynamic sequence: reshaped to 4-D (leading 1s, the
// kernel broadcasts them), flags 2 (mask, not causal), the result sized
// from Q.
// CHECK-LABEL: func @dynamic_mask
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 2 : i32
// CHECK-DAG: tensor.reshape %{{.*}}(%{{.*}}) : (tensor<?x?xf32>, tensor<4xindex>) -> tensor<1x1x?x?xf32>
// CHECK-DAG: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x2x?x8xf32>
// CHECK: call @sinter_attention_f32({{.*}}, %[[FLAGS]])
func.func @dynamic_mask(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %m: tensor<?x?xf32>) -> tensor<1x2x?x8xf32> {
  %0 = sinter.attention %q, %k, %v mask %m scale 1.0 : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<?x?xf32>) -> tensor<1x2x?x8xf32>
  return %0 : tensor<1x2x?x8xf32>
}

// -----

// Tests what the kernel does not take: f16, and head sizes above 256, lower
// to contractions.
// CHECK-LABEL: func @not_for_the_kernel
// CHECK-NOT: call @sinter_attention_f32
// CHECK: linalg.generic
func.func @not_for_the_kernel(%q: tensor<1x1x4x8xf16>, %k: tensor<1x1x4x8xf16>, %v: tensor<1x1x4x8xf16>, %a: tensor<1x1x4x512xf32>) -> (tensor<1x1x4x8xf16>, tensor<1x1x4x512xf32>) {
  %0 = sinter.attention %q, %k, %v scale 1.0 : (tensor<1x1x4x8xf16>, tensor<1x1x4x8xf16>, tensor<1x1x4x8xf16>) -> tensor<1x1x4x8xf16>
  %1 = sinter.attention %a, %a, %a scale 1.0 : (tensor<1x1x4x512xf32>, tensor<1x1x4x512xf32>, tensor<1x1x4x512xf32>) -> tensor<1x1x4x512xf32>
  return %0, %1 : tensor<1x1x4x8xf16>, tensor<1x1x4x512xf32>
}

// -----

// Tests that the heads are read in place out of a merged Q, K, V product:
// each operand is a view (a column range of the product, its last dimension
// split into heads, heads and rows swapped), no transpose or split is
// copied, and the result is written through the inverse view straight into
// the buffer of the transpose that merges the heads back. The 3-cycle
// permutation of K checks the view's order: K's view is [1, 2, 8, 16] read
// out of [8, 16, 1, 2]-ordered columns.
// CHECK-LABEL: func @heads_in_place
// CHECK-SAME: (%[[QKV:.*]]: tensor<1x8x64xf32>, %[[KT:.*]]: tensor<2x8x1x16xf32>)
// CHECK-DAG: %[[B:.*]] = bufferization.to_buffer %[[QKV]] read_only : tensor<1x8x64xf32> to memref<1x8x64xf32, strided<[?, ?, ?], offset: ?>>
// CHECK-DAG: %[[QS:.*]] = memref.subview %[[B]][0, 0, 0] [1, 8, 32] [1, 1, 1]
// CHECK-DAG: %[[QE:.*]] = memref.expand_shape %[[QS]] {{\[}}[0], [1], [2, 3]] output_shape [1, 8, 2, 16]
// CHECK-DAG: %[[QT:.*]] = memref.transpose %[[QE]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[KT]] read_only
// CHECK-DAG: memref.transpose %[[KB]] (d0, d1, d2, d3) -> (d2, d0, d1, d3)
// CHECK-DAG: %[[VS:.*]] = memref.subview %{{.*}}[0, 0, 32] [1, 8, 32] [1, 1, 1]
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x8x2x16xf32>
// CHECK-DAG: %[[OV:.*]] = memref.transpose %[[OUT]] (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<1x8x2x16xf32> to memref<1x2x8x16xf32, strided<[256, 16, 32, 1]>>
// CHECK-DAG: %[[QA:.*]] = memref.cast %[[QT]] :
// CHECK-DAG: %[[OA:.*]] = memref.cast %[[OV]] :
// CHECK: call @sinter_attention_f32(%[[QA]], %{{.*}}, %{{.*}}, %{{.*}}, %[[OA]],
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x8x2x16xf32> to tensor<1x8x2x16xf32>
// CHECK: return %[[R]]
// CHECK-NOT: linalg.transpose
// CHECK-NOT: tensor.extract_slice
func.func @heads_in_place(%qkv: tensor<1x8x64xf32>, %kt: tensor<2x8x1x16xf32>) -> tensor<1x8x2x16xf32> {
  %q, %v = sinter.split %qkv axis 2 sizes [32, 32] : tensor<1x8x64xf32> -> tensor<1x8x32xf32>, tensor<1x8x32xf32>
  %q4 = sinter.reshape %q to [1, 8, 2, 16] : tensor<1x8x32xf32> -> tensor<1x8x2x16xf32>
  %v4 = sinter.reshape %v to [1, 8, 2, 16] : tensor<1x8x32xf32> -> tensor<1x8x2x16xf32>
  %qh = sinter.transpose %q4 [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
  %kh = sinter.transpose %kt [2, 0, 1, 3] : tensor<2x8x1x16xf32> -> tensor<1x2x8x16xf32>
  %vh = sinter.transpose %v4 [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
  %o = sinter.attention %qh, %kh, %vh scale 0.25 : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %m = sinter.transpose %o [0, 2, 1, 3] : tensor<1x2x8x16xf32> -> tensor<1x8x2x16xf32>
  return %m : tensor<1x8x2x16xf32>
}

// -----

// Tests timm's ViT layout: the merged product reshaped to [B, S, 3, H, D],
// permuted to [3, B, H, S, D], split along the 3 and each piece reshaped
// to [B, H, S, D] (dropping the unit axis). Each operand is still a view of
// the product: the reshape that drops the axis collapses the view, and no
// piece is copied.
// CHECK-LABEL: func @timm_qkv
// CHECK-SAME: (%[[QKV:.*]]: tensor<1x8x96xf32>)
// CHECK: %[[B:.*]] = bufferization.to_buffer %[[QKV]] read_only
// CHECK: %[[E:.*]] = memref.expand_shape %[[B]] {{\[}}[0], [1], [2, 3, 4]] output_shape [1, 8, 3, 2, 16]
// CHECK: %[[T:.*]] = memref.transpose %[[E]] (d0, d1, d2, d3, d4) -> (d2, d0, d3, d1, d4)
// CHECK: %[[S:.*]] = memref.subview %[[T]][0, 0, 0, 0, 0] [1, 1, 2, 8, 16] [1, 1, 1, 1, 1]
// CHECK: %[[Q:.*]] = memref.collapse_shape %[[S]] {{\[}}[0], [1, 2], [3], [4]] : memref<1x1x2x8x16xf32, {{.*}}> into memref<1x2x8x16xf32,
// CHECK: %[[QA:.*]] = memref.cast %[[Q]] :
// CHECK: memref.subview %{{.*}}[1, 0, 0, 0, 0] [1, 1, 2, 8, 16]
// CHECK: memref.collapse_shape
// CHECK: memref.subview %{{.*}}[2, 0, 0, 0, 0] [1, 1, 2, 8, 16]
// CHECK: memref.collapse_shape
// CHECK: call @sinter_attention_f32(%[[QA]],
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.copy
func.func @timm_qkv(%qkv: tensor<1x8x96xf32>) -> tensor<1x2x8x16xf32> {
  %r = sinter.reshape %qkv to [1, 8, 3, 2, 16] : tensor<1x8x96xf32> -> tensor<1x8x3x2x16xf32>
  %t = sinter.transpose %r [2, 0, 3, 1, 4] : tensor<1x8x3x2x16xf32> -> tensor<3x1x2x8x16xf32>
  %p:3 = sinter.split %t axis 0 sizes [1, 1, 1] : tensor<3x1x2x8x16xf32> -> tensor<1x1x2x8x16xf32>, tensor<1x1x2x8x16xf32>, tensor<1x1x2x8x16xf32>
  %q = sinter.reshape %p#0 to [1, 2, 8, 16] : tensor<1x1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %k = sinter.reshape %p#1 to [1, 2, 8, 16] : tensor<1x1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %v = sinter.reshape %p#2 to [1, 2, 8, 16] : tensor<1x1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %o = sinter.attention %q, %k, %v scale 0.25 : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// Tests that a reshape merging dimensions that are not contiguous in the
// view (heads of two axes swapped before they are merged) is not read as a
// view: the kernel gets the reshape's own buffer.
// CHECK-LABEL: func @merge_not_contiguous
// CHECK-NOT: memref.collapse_shape
// CHECK: %[[Q:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<1x4x8x16xf32>
// CHECK: %[[QA:.*]] = memref.cast %[[Q]] :
// CHECK: call @sinter_attention_f32(%[[QA]],
func.func @merge_not_contiguous(%x: tensor<1x8x4x16xf32>, %k: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %r = sinter.reshape %x to [1, 8, 2, 2, 16] : tensor<1x8x4x16xf32> -> tensor<1x8x2x2x16xf32>
  %t = sinter.transpose %r [0, 3, 2, 1, 4] : tensor<1x8x2x2x16xf32> -> tensor<1x2x2x8x16xf32>
  %q = sinter.reshape %t to [1, 4, 8, 16] : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %o = sinter.attention %q, %k, %k scale 0.25 : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}
