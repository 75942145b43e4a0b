// RUN: sinter-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(sinter-distribute-loops))" | FileCheck %s
// RUN: sinter-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(sinter-distribute-loops{min-work=0}))" | FileCheck %s --check-prefix=ALL

// Large and loop-free inside: the innermost dimension becomes sequential,
// the others stay parallel.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK-NEXT: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[J]]]
func.func @elementwise(%x: memref<512x512xf32>, %y: memref<512x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c512 = arith.constant 512 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c512, %c512) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<512x512xf32>
    %w = arith.mulf %v, %v : f32
    memref.store %w, %y[%i, %j] : memref<512x512xf32>
    scf.reduce
  }
  return
}

// -----

// Small: everything sequential (threads would cost more than they save),
// unless min-work says otherwise.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// ALL-LABEL: func.func @small
// ALL: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// ALL-NEXT: scf.for
func.func @small(%x: memref<4x8xf32>, %y: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x8xf32>
    memref.store %v, %y[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}

// -----

// A contraction in (m, k, n) order: the outer parallel loop keeps both its
// dimensions (its body has loops); the nested parallel loop over n becomes
// sequential, one level of threads only.
// CHECK-LABEL: func.func @contraction
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}})
// CHECK: scf.for
// CHECK: scf.for
// CHECK-NOT: scf.parallel
func.func @contraction(%a: memref<1x64x64xf32>, %b: memref<64x64xf32>, %c: memref<1x64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%bi, %m) = (%c0, %c0) to (%c1, %c64) step (%c1, %c1) {
    scf.for %k = %c0 to %c64 step %c1 {
      scf.parallel (%n) = (%c0) to (%c64) step (%c1) {
        %x = memref.load %a[%bi, %m, %k] : memref<1x64x64xf32>
        %y = memref.load %b[%k, %n] : memref<64x64xf32>
        %acc = memref.load %c[%bi, %m, %n] : memref<1x64x64xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%bi, %m, %n] : memref<1x64x64xf32>
        scf.reduce
      }
    }
    scf.reduce
  }
  return
}
