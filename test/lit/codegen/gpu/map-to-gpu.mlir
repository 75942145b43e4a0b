// RUN: sinter-opt %s --split-input-file --verify-diagnostics --sinter-map-to-gpu --cse | FileCheck %s

// A 2-D loop nest: one launch, one thread per iteration, the last
// dimension the fastest (remainder), a guard for the last block's extra
// threads; all kernels name one module.
// CHECK-LABEL: func.func @elementwise
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C4]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) module(@sinter_kernels)
// CHECK:   %[[ID:.*]] = arith.addi %{{.*}}, %[[TX]]
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[ID]], %{{.*}}
// CHECK:   scf.if %[[IN]] {
// CHECK:     %[[J:.*]] = arith.remui %[[ID]], %{{.*}}
// CHECK:     %[[I:.*]] = arith.divui %[[ID]], %{{.*}}
// CHECK:     memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK:     memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
// CHECK:   gpu.terminator
// CHECK-NOT: scf.parallel
func.func @elementwise(%x: memref<16x64xf32>, %y: memref<16x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c64) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<16x64xf32>
    %w = arith.mulf %v, %v : f32
    memref.store %w, %y[%i, %j] : memref<16x64xf32>
    scf.reduce
  }
  return
}

// -----

// Fewer iterations than a block: one block of exactly that many threads.
// A loop with a reduction inside stays sequential in each thread.
// CHECK-LABEL: func.func @row_sums
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: gpu.launch {{.*}} threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C8]],
// CHECK:   scf.for {{.*}} iter_args
func.func @row_sums(%x: memref<8x32xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %sum = scf.for %k = %c0 to %c32 step %c1 iter_args(%acc = %zero) -> f32 {
      %v = memref.load %x[%i, %k] : memref<8x32xf32>
      %next = arith.addf %acc, %v : f32
      scf.yield %next : f32
    }
    memref.store %sum, %y[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// A dynamic trip count: the grid is computed on the host, and an empty
// loop launches nothing. Heap buffers move to the device, stream-ordered.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[T0:.*]] = gpu.wait async
// CHECK: %[[BUF:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] (%{{.*}}) : memref<?xf32>
// CHECK: gpu.wait [%[[T1]]]
// CHECK: %[[GRID:.*]] = arith.ceildivui
// CHECK: %[[ANY:.*]] = arith.cmpi ugt, %{{.*}}, %{{.*}}
// CHECK: scf.if %[[ANY]] {
// CHECK:   gpu.launch blocks({{.*}}) in (%{{.*}} = %[[GRID]],
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %{{.*}},
// CHECK: %[[T2:.*]] = gpu.wait async
// CHECK: %[[T3:.*]] = gpu.dealloc async [%[[T2]]] %[[BUF]]
// CHECK: gpu.wait [%[[T3]]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @dynamic(%x: memref<?xf32>, %y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %tmp = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %x[%i] : memref<?xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %tmp[%i] : memref<?xf32>
    scf.reduce
  }
  memref.copy %tmp, %y : memref<?xf32> to memref<?xf32>
  memref.dealloc %tmp : memref<?xf32>
  return
}

// -----

// A copy between device buffers: a kernel; a strided source is read
// through its layout.
// CHECK-LABEL: func.func @copy
// CHECK: gpu.launch
// CHECK:   %[[V:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<4x8xf32, strided<[16, 1]>>
// CHECK:   memref.store %[[V]], %{{.*}}[%{{.*}}, %{{.*}}] : memref<4x8xf32>
// CHECK-NOT: memref.copy
func.func @copy(%x: memref<4x16xf32>, %y: memref<4x8xf32>) {
  %view = memref.subview %x[0, 0] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1]>>
  memref.copy %view, %y : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  return
}

// -----

// Shape buffers stay on the host: the reshape reads them there.
// CHECK-LABEL: func.func @reshape
// CHECK: %[[SHAPE:.*]] = memref.alloc() : memref<2xindex>
// CHECK-NOT: gpu.launch
// CHECK: memref.store %{{.*}}, %[[SHAPE]]
// CHECK: memref.reshape %{{.*}}(%[[SHAPE]])
func.func @reshape(%x: memref<?xf32>, %rows: index, %cols: index) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %shape = memref.alloc() : memref<2xindex>
  memref.store %rows, %shape[%c0] : memref<2xindex>
  memref.store %cols, %shape[%c1] : memref<2xindex>
  %y = memref.reshape %x(%shape) : (memref<?xf32>, memref<2xindex>) -> memref<?x?xf32>
  return %y : memref<?x?xf32>
}

// -----

// Sequential code that writes device memory runs as one device thread.
// CHECK-LABEL: func.func @sequential
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
// CHECK-NEXT: memref.store
func.func @sequential(%y: memref<4xf32>) {
  %c2 = arith.constant 2 : index
  %v = arith.constant 1.0 : f32
  memref.store %v, %y[%c2] : memref<4xf32>
  return
}

// -----

// A 0-d op (a mean's final division) is straight-line code: the load, the
// arithmetic and the store run together as one device thread.
// CHECK-LABEL: func.func @scalar
// CHECK: gpu.launch
// CHECK-NEXT: %[[S:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK-NEXT: %[[M:.*]] = arith.divf %[[S]], %{{.*}} : f32
// CHECK-NEXT: memref.store %[[M]], %{{.*}}[] : memref<f32>
// CHECK-NEXT: gpu.terminator
func.func @scalar(%sum: memref<f32>, %mean: memref<f32>) {
  %count = arith.constant 6.0 : f32
  %s = memref.load %sum[] : memref<f32>
  %m = arith.divf %s, %count : f32
  memref.store %m, %mean[] : memref<f32>
  return
}

// -----

// A value read from device memory that host code needs (a loop bound).
func.func @device_bound(%x: memref<4xindex>, %y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{unsupported on the GPU: host code computes a value from the contents of device memory}}
  %n = memref.load %x[%c0] : memref<4xindex>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %y[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

func.func @host_reads_device(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{unsupported on the GPU: host code computes a value from the contents of device memory}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

func.func @reduction(%x: memref<4xf32>, %y: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{unsupported on the GPU: a parallel loop with reductions}}
  %sum = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
    %v = memref.load %x[%i] : memref<4xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  memref.store %sum, %y[] : memref<f32>
  return
}

// -----

func.func private @cpu_kernel(memref<4xf32>)

func.func @call(%x: memref<4xf32>) {
  // expected-error @+1 {{unsupported on the GPU: a call in the model's host code}}
  func.call @cpu_kernel(%x) : (memref<4xf32>) -> ()
  return
}

// -----

func.func @alloc_in_loop(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    // expected-error @+1 {{unsupported on the GPU: a buffer allocated inside a loop nest}}
    %tmp = memref.alloca() : memref<2xf32>
    %v = memref.load %x[%i] : memref<4xf32>
    memref.store %v, %tmp[%c0] : memref<2xf32>
    scf.reduce
  }
  return
}
