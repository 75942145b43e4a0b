// RUN: sinter-opt %s --sinter-gpu-pipeline | FileCheck %s
// RUN: sinter-opt %s --sinter-gpu-pipeline="chip=sm_80" | FileCheck %s --check-prefix=SM80
// RUN: sinter-opt %s --sinter-gpu-pipeline="matmul-precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: sinter-opt %s --sinter-gpu-pipeline="matmul-precision=tf32" | FileCheck %s --check-prefix=TF32
// RUN: sinter-opt %s --sinter-gpu-pipeline="matmul-precision=fp32" | FileCheck %s --check-prefix=FP32

// A linear layer, GELU (erf) and a softmax lowered to kernels in one GPU
// module, compiled to PTX in-process: no libdevice call (erf and exp are
// polynomials), and the host code launches every kernel through the
// runtime.
// CHECK: llvm.func @main
// CHECK-NOT: llvm.call @malloc
// CHECK: gpu.launch_func @sinter_kernels::@main_kernel blocks
// CHECK: gpu.launch_func @sinter_kernels::@main_kernel_0 blocks
// CHECK: gpu.binary @sinter_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// CHECK-SAME: .version 8.0
// CHECK-SAME: .target sm_90
// CHECK-SAME: .entry main_kernel(
// The linear layer on tensor cores (tf32x3): its operands split into TF32
// parts as they are staged in shared memory, between barriers.
// CHECK-SAME: .shared .align 4 .b8 __wg_main_kernel_
// CHECK-SAME: cvt.rna.tf32.f32
// CHECK-SAME: bar.sync
// CHECK-SAME: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CHECK-NOT: __nv_
// TF32: cvt.rna.tf32.f32
// TF32-SAME: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// BF16: cvt.rn.bf16.f32
// BF16-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// FP32: bar.sync
// FP32-SAME: fma.rn.f32
// FP32-NOT: mma.sync
// SM80: #nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// SM80-SAME: .target sm_80
func.func @main(%x: tensor<4x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>) -> tensor<4x32xf32> {
  %0 = sinter.linear %x, %w, %b transpose_weight : (tensor<4x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  %1 = sinter.gelu %0 approximate none : tensor<4x32xf32>
  %2 = sinter.softmax %1 axis 1 : tensor<4x32xf32>
  return %2 : tensor<4x32xf32>
}
