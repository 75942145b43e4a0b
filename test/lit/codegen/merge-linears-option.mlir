// RUN: sinter-opt %s --sinter-cpu-pipeline | FileCheck %s --check-prefix=MERGED
// RUN: sinter-opt %s --sinter-cpu-pipeline="merge-linears=false" | FileCheck %s --check-prefix=APART

// Tests the CPU pipeline's merge-linears option (sinterc --merge-linears):
// by default the two linears that read %x are one call of the matmul
// kernel; with merge-linears=false each is its own call.
// MERGED-COUNT-1: llvm.call @sinter_matmul_f32(
// MERGED-NOT: llvm.call @sinter_matmul_f32(
// APART-COUNT-2: llvm.call @sinter_matmul_f32(
// APART-NOT: llvm.call @sinter_matmul_f32(
func.func @main(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %w1 = sinter.constant dense<2.0> : tensor<8x8xf32>
  %w2 = sinter.constant dense<3.0> : tensor<8x8xf32>
  %a = sinter.linear %x, %w1 transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %b = sinter.linear %x, %w2 transpose_weight : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
}
