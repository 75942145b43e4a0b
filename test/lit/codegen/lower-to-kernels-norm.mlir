// RUN: sinter-opt %s --sinter-lower-to-kernels --convert-sinter-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s --sinter-lower-to-kernels="norm-kernel=false" --convert-sinter-to-linalg -split-input-file | FileCheck %s --check-prefix=OFF

// Tests that f32 layer_norm becomes one call of the runtime's norm kernel on
// a [rows, cols] view (batch and sequence flattened into the rows), flags 2
// (bias), and a result buffer expanded back to the input's shape; the
// dynamic sequence sizes the rows.
// CHECK-LABEL: func.func private @sinter_norm_f32
// CHECK-SAME: (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, f32, i32) attributes {llvm.emit_c_interface, sinter.no_capture}
// CHECK-LABEL: func @layer_norm_3d
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[ROWS:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x?x64xf32> into tensor<?x64xf32>
// CHECK-DAG: %[[N:.*]] = tensor.dim %[[ROWS]], %c0
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?x64xf32>
// CHECK: call @sinter_norm_f32({{.*}}, %[[EPS]], %[[FLAGS]])
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: %[[R:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1], [2]] output_shape [2, %{{.*}}, 64]
// CHECK: return %[[R]]
// CHECK-NOT: linalg.generic
// OFF-LABEL: func @layer_norm_3d
// OFF-NOT: call
// OFF: math.rsqrt
func.func @layer_norm_3d(%x: tensor<2x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<2x?x64xf32> {
  %0 = sinter.layer_norm %x, %g, %b axis 2 epsilon 1.0e-05 : (tensor<2x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x?x64xf32>
  return %0 : tensor<2x?x64xf32>
}

// -----

// Tests rms_norm over a whole tensor (axis 0): one row of 40 behind a leading
// 1, the 5 x 8 scale flattened, flags 1 (rms), and the shape restored.
// CHECK-LABEL: func @rms_norm_axis0
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, 5, 8] : tensor<5x8xf32> into tensor<1x5x8xf32>
// CHECK-DAG: tensor.collapse_shape %[[E]] {{\[\[}}0], [1, 2]] : tensor<1x5x8xf32> into tensor<1x40xf32>
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<5x8xf32> into tensor<40xf32>
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<1x40xf32>
// CHECK: call @sinter_norm_f32({{.*}}, %[[FLAGS]])
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [1, 5, 8] : tensor<1x40xf32> into tensor<1x5x8xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<1x5x8xf32> into tensor<5x8xf32>
func.func @rms_norm_axis0(%x: tensor<5x8xf32>, %g: tensor<5x8xf32>) -> tensor<5x8xf32> {
  %0 = sinter.rms_norm %x, %g axis 0 epsilon 1.0e-06 : (tensor<5x8xf32>, tensor<5x8xf32>) -> tensor<5x8xf32>
  return %0 : tensor<5x8xf32>
}

// -----

// Tests add_norm: the residual is the second operand, flags 5 (residual,
// rms), and two result buffers, the sum first among the results.
// CHECK-LABEL: func @add_rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<4x32xf32>, %[[R:.*]]: tensor<4x32xf32>
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 5 : i32
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG: %[[XV:.*]] = memref.cast %[[XB]]
// CHECK-DAG: %[[RB:.*]] = bufferization.to_buffer %[[R]] read_only
// CHECK-DAG: %[[RV:.*]] = memref.cast %[[RB]]
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x32xf32>
// CHECK-DAG: %[[SUM:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x32xf32>
// CHECK-DAG: %[[OUTV:.*]] = memref.cast %[[OUT]]
// CHECK-DAG: %[[SUMV:.*]] = memref.cast %[[SUM]]
// CHECK: call @sinter_norm_f32(%[[XV]], %[[RV]], %{{.*}}, %{{.*}}, %[[OUTV]], %[[SUMV]], %{{.*}}, %[[FLAGS]])
// CHECK-DAG: %[[S:.*]] = bufferization.to_tensor %[[SUM]]
// CHECK-DAG: %[[Y:.*]] = bufferization.to_tensor %[[OUT]]
// CHECK: return %[[S]], %[[Y]]
// OFF-LABEL: func @add_rms_norm
// OFF-NOT: call
// OFF: arith.addf
func.func @add_rms_norm(%x: tensor<4x32xf32>, %r: tensor<4x32xf32>, %g: tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %s, %y = sinter.add_norm %x, %r, %g kind rms axis 1 epsilon 1.0e-06 : (tensor<4x32xf32>, tensor<4x32xf32>, tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>)
  return %s, %y : tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// Tests that other element types keep the decomposition: the kernel is f32.
// CHECK-LABEL: func @f16_norm
// CHECK-NOT: call
// CHECK: math.rsqrt
func.func @f16_norm(%x: tensor<4x32xf16>, %g: tensor<32xf16>) -> tensor<4x32xf16> {
  %0 = sinter.rms_norm %x, %g axis 1 epsilon 1.0e-06 : (tensor<4x32xf16>, tensor<32xf16>) -> tensor<4x32xf16>
  return %0 : tensor<4x32xf16>
}
