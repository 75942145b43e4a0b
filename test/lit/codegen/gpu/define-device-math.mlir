// RUN: sinter-opt %s --pass-pipeline="builtin.module(gpu.module(sinter-define-device-math))" | FileCheck %s

// CHECK-LABEL: gpu.module @kernels
gpu.module @kernels {
  // CHECK: llvm.func internal @__nv_floorf(%[[X:.*]]: f32) -> f32
  // CHECK-NEXT: %[[Y:.*]] = llvm.intr.floor(%[[X]]) : (f32) -> f32
  // CHECK-NEXT: llvm.return %[[Y]]
  llvm.func @__nv_floorf(f32) -> f32
  // CHECK: llvm.func internal @__nv_fma(%[[A:.*]]: f64, %[[B:.*]]: f64, %[[C:.*]]: f64) -> f64
  // CHECK-NEXT: llvm.intr.fma(%[[A]], %[[B]], %[[C]]) : (f64, f64, f64) -> f64
  llvm.func @__nv_fma(f64, f64, f64) -> f64
  // CHECK: llvm.func internal @__nv_rsqrtf(%[[X:.*]]: f32) -> f32
  // CHECK-NEXT: %[[S:.*]] = llvm.intr.sqrt(%[[X]])
  // CHECK-NEXT: %[[ONE:.*]] = llvm.mlir.constant(1.000000e+00 : f32)
  // CHECK-NEXT: llvm.fdiv %[[ONE]], %[[S]] : f32
  llvm.func @__nv_rsqrtf(f32) -> f32
  // Near misses stay declarations: no instruction (lgamma), the f32
  // spelling with an f64 type, a function that is not libdevice's.
  // CHECK: llvm.func @__nv_lgammaf(f32) -> f32
  llvm.func @__nv_lgammaf(f32) -> f32
  // CHECK: llvm.func @__nv_floor(f32) -> f32
  llvm.func @__nv_floor(f32) -> f32
  // CHECK: llvm.func @floorf(f32) -> f32
  llvm.func @floorf(f32) -> f32
}
