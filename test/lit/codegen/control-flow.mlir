// RUN: sinter-opt %s --convert-sinter-to-linalg | FileCheck %s
// RUN: sinter-opt %s --sinter-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// Tests that sinter ops inside scf regions (imported If branches and
// time-step loops) are lowered where they are, and that the CPU pipeline
// bufferizes loops whose bodies compute their carried tensors anew.

// CHECK-LABEL: func.func @branches
// CHECK: scf.if %{{.*}} -> (tensor<4xf32>) {
// CHECK:   linalg.generic
// CHECK:     math.tanh
// CHECK: } else {
// CHECK:   linalg.generic
// CHECK:     arith.negf
// CHECK-NOT: sinter.
// LLVM-LABEL: llvm.func @branches
// LLVM: llvm.cond_br
func.func @branches(%x: tensor<4xf32>, %c: i1) -> tensor<4xf32> {
  %0 = scf.if %c -> (tensor<4xf32>) {
    %1 = sinter.tanh %x : tensor<4xf32>
    scf.yield %1 : tensor<4xf32>
  } else {
    %1 = sinter.neg %x : tensor<4xf32>
    scf.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// CHECK-LABEL: func.func @steps
// CHECK: scf.for {{.*}} iter_args
// CHECK:   linalg.fill
// CHECK:   linalg.generic
// CHECK:   linalg.generic
// CHECK:     math.tanh
// CHECK:   scf.yield
// Tests that the recurrent product inside the loop is the GEMM kernel's
// call, once, in the loop's body.
// LLVM-LABEL: llvm.func @steps
// LLVM: llvm.cond_br
// LLVM: llvm.call @sinter_matmul_f32(
// LLVM-NOT: llvm.call @sinter_matmul_f32(
func.func @steps(%h0: tensor<2x4xf32>, %r: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %0 = scf.for %t = %c0 to %c5 step %c1 iter_args(%h = %h0) -> (tensor<2x4xf32>) {
    %1 = sinter.linear %h, %r transpose_weight : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    %2 = sinter.tanh %1 : tensor<2x4xf32>
    scf.yield %2 : tensor<2x4xf32>
  }
  return %0 : tensor<2x4xf32>
}
