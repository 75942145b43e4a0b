// RUN: sinter-opt %s --split-input-file --sinter-plan-arena | FileCheck %s

// A chain a -> b -> c -> d: a and c never live together, so c reuses a's
// bytes; b and d likewise. Largest buffers are placed first.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[ARENA:[^:]*]]: memref<?xi8> {sinter.abi = "arena"})
// CHECK-SAME: sinter.arena_size = 2048 : i64, sinter.arena_unshared_size = 4096 : i64
// CHECK: arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[ARENA]]
// CHECK: memref.copy %{{.*}}, %[[A]]
// CHECK: arith.constant 1024 : index
// CHECK: %[[B:.*]] = memref.view %[[ARENA]]
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %[[ARENA]]
// CHECK: memref.copy %[[B]], %[[C]]
// CHECK: arith.constant 1024 : index
// CHECK: %[[D:.*]] = memref.view %[[ARENA]]
// CHECK: memref.copy %[[C]], %[[D]]
// CHECK-NOT: memref.alloc
func.func @main(%x: memref<256xf32>, %y: memref<256xf32>) {
  %a = memref.alloc() : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %b = memref.alloc() : memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  %c = memref.alloc() : memref<256xf32>
  memref.copy %b, %c : memref<256xf32> to memref<256xf32>
  %d = memref.alloc() : memref<256xf32>
  memref.copy %c, %d : memref<256xf32> to memref<256xf32>
  memref.copy %d, %y : memref<256xf32> to memref<256xf32>
  return
}

// -----

// A view keeps its buffer alive: %a is read through %v after %b is
// written, so they cannot share. Buffers of different sizes fill gaps.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: sinter.arena_size = 1536 : i64
// CHECK: arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<16x16xf32>
// CHECK: arith.constant 1024 : index
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<128xf32>
func.func @main(%x: memref<16x16xf32>, %y: memref<256xf32>) {
  %a = memref.alloc() : memref<16x16xf32>
  memref.copy %x, %a : memref<16x16xf32> to memref<16x16xf32>
  %v = memref.collapse_shape %a [[0, 1]] : memref<16x16xf32> into memref<256xf32>
  %b = memref.alloc() : memref<128xf32>
  %s = memref.subview %v[0] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1]>>
  memref.copy %s, %b : memref<128xf32, strided<[1]>> to memref<128xf32>
  memref.copy %v, %y : memref<256xf32> to memref<256xf32>
  return
}

// -----

// Dynamic shapes, returned buffers and buffers of other functions keep
// their allocations.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: sinter.arena_size = 0 : i64
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: return
// CHECK-LABEL: func.func private @helper
// CHECK: memref.alloc() : memref<4xf32>
func.func @main(%x: memref<?xf32>) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %a = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %a : memref<?xf32> to memref<?xf32>
  %r = memref.alloc() : memref<8xf32>
  return %r : memref<8xf32>
}
func.func private @helper() {
  %a = memref.alloc() : memref<4xf32>
  return
}

// -----

// A dynamic size with a bound (sinter.max_shape of the argument, from
// --max-dim) is planned at the bound: 32 x 4 floats, through the size of
// another planned buffer. The view keeps the run-time size.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: sinter.arena_size = 1024 : i64
// CHECK: %[[N:.*]] = memref.dim %{{.*}}, %c0 : memref<?x4xf32>
// CHECK: %[[A:.*]] = memref.view %{{.*}}[%{{.*}}][%[[N]]] : memref<?xi8> to memref<?x4xf32>
// CHECK: %[[M:.*]] = memref.dim %[[A]], %c0
// CHECK: memref.view %{{.*}}[%{{.*}}][%[[M]]] : memref<?xi8> to memref<?x4xf32>
// CHECK-NOT: memref.alloc
func.func @main(%x: memref<?x4xf32> {sinter.max_shape = array<i64: 32, 4>}, %y: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  %a = memref.alloc(%n) : memref<?x4xf32>
  memref.copy %x, %a : memref<?x4xf32> to memref<?x4xf32>
  %m = memref.dim %a, %c0 : memref<?x4xf32>
  %b = memref.alloc(%m) : memref<?x4xf32>
  memref.copy %a, %b : memref<?x4xf32> to memref<?x4xf32>
  memref.copy %b, %y : memref<?x4xf32> to memref<?x4xf32>
  return
}

// -----

// A buffer passed to a call escapes (the callee may keep it) and stays on
// the heap, unless the callee is declared sinter.no_capture, as the
// runtime's kernels are: then the call is one more use.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: sinter.arena_size = 1024 : i64
// CHECK: %[[KEPT:.*]] = memref.alloc() : memref<256xf32>
// CHECK: call @may_keep(%[[KEPT]])
// CHECK: %[[PLANNED:.*]] = memref.view
// CHECK: call @kernel(%[[PLANNED]])
// CHECK: memref.copy %[[PLANNED]]
func.func private @may_keep(memref<256xf32>)
func.func private @kernel(memref<256xf32>) attributes {sinter.no_capture}
func.func @main(%y: memref<256xf32>) {
  %a = memref.alloc() : memref<256xf32>
  call @may_keep(%a) : (memref<256xf32>) -> ()
  %b = memref.alloc() : memref<256xf32>
  call @kernel(%b) : (memref<256xf32>) -> ()
  memref.copy %b, %y : memref<256xf32> to memref<256xf32>
  return
}
