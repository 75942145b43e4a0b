// RUN: sinter-opt %s --convert-sinter-to-linalg | FileCheck %s

// Tests that the probes become calls of the runtime's probe kernels
// (runtime/src/probe.c) with their ids: a tensor as [outer, channels,
// inner] around its channel axis (here [1, 8, 16] along 1: 1 x 8 x 16,
// and along 2: 8 x 16 x 1), the attention with the kernel's flags (3:
// causal and masked) and its mask raised to rank 4, the router's indices
// flattened with the expert count. Nothing of the probes is left.
// CHECK-DAG: func.func private @sinter_probe_tensor_f32(i64, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>) attributes {llvm.emit_c_interface, sinter.no_capture}
// CHECK-DAG: func.func private @sinter_probe_attention_f32(i64, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, f32, i32)
// CHECK-DAG: func.func private @sinter_probe_routing(i64, memref<?xi64, strided<[?], offset: ?>>, i64)
// CHECK-LABEL: func @probes
// CHECK-DAG: %[[ID0:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[ID1:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[ID2:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[ID3:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[EXPERTS:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 3 : i32
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3], [4]] : tensor<1x1x8x16x1xf32> into tensor<8x16x1xf32>
// CHECK: call @sinter_probe_tensor_f32(%[[ID0]], %{{.*}})
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3, 4]] : tensor<1x1x8x16x1xf32> into tensor<1x8x16xf32>
// CHECK: call @sinter_probe_tensor_f32(%[[ID1]], %{{.*}})
// CHECK: call @sinter_probe_attention_f32(%[[ID2]], {{.*}}, %[[FLAGS]])
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<8x2xi64> into tensor<16xi64>
// CHECK: call @sinter_probe_routing(%[[ID3]], %{{.*}}, %[[EXPERTS]])
// CHECK-NOT: sinter.probe
func.func @probes(%x: tensor<1x8x16xf32>, %q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>,
                  %o: tensor<1x2x8x8xf32>, %m: tensor<8x8xf32>, %i: tensor<8x2xi64>) {
  sinter.probe_tensor %x id 0 channel_axis 2 name "a" : tensor<1x8x16xf32>
  sinter.probe_tensor %x id 1 channel_axis 1 name "b" : tensor<1x8x16xf32>
  sinter.probe_attention %q, %k, %o mask %m causal scale 0.5 id 2 name "c" : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<8x8xf32>
  sinter.probe_routing %i experts 4 id 3 name "d" : tensor<8x2xi64>
  return
}
