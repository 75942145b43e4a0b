// RUN: sinter-opt %s --convert-sinter-to-linalg -split-input-file | FileCheck %s

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
