// RUN: sinter-opt %s --split-input-file --sinter-externalize-weights | FileCheck %s
// RUN: sinter-opt %s --split-input-file --sinter-externalize-weights=min-bytes=1 | FileCheck %s --check-prefix=ALL

// Constants of 64 bytes or more move to the weights file at 64-byte aligned
// offsets; small ones stay in the object.
// CHECK-LABEL: module attributes {sinter.weights_size = 324 : i64}
// CHECK: memref.global "private" constant @big {{.*}} {sinter.weight_offset = 0 : i64}
// CHECK: memref.global "private" constant @odd {{.*}} {sinter.weight_offset = 256 : i64}
// CHECK: memref.global "private" constant @small : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]>{{$}}
// CHECK: func.func @main(%[[X:.*]]: memref<64xf32>, %[[W:.*]]: memref<?xi8> {sinter.abi = "weights"})
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[BIG:.*]] = memref.view %[[W]][%[[C0]]][] : memref<?xi8> to memref<64xf32>
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: memref.view %[[W]][%[[C256]]][] : memref<?xi8> to memref<17xf32>
// CHECK: memref.get_global @small
// CHECK: memref.copy %[[BIG]], %[[X]]
// ALL: {sinter.weights_size = 392 : i64}
// ALL: @small {{.*}} {sinter.weight_offset = 384 : i64}
memref.global "private" constant @big : memref<64xf32> = dense<1.0>
memref.global "private" constant @odd : memref<17xf32> = dense<2.0>
memref.global "private" constant @small : memref<2xf32> = dense<[1.0, 2.0]>
func.func @main(%x: memref<64xf32>) {
  %0 = memref.get_global @big : memref<64xf32>
  %1 = memref.get_global @odd : memref<17xf32>
  %2 = memref.get_global @small : memref<2xf32>
  memref.copy %0, %x : memref<64xf32> to memref<64xf32>
  return
}

// -----

// A constant another function reads stays where it is: only the entry
// function receives the weights.
// CHECK-LABEL: module attributes {sinter.weights_size = 0 : i64}
// CHECK: memref.global "private" constant @shared : memref<32xf32> = dense<3.000000e+00>{{$}}
// CHECK: func.func @main(%{{.*}}: memref<32xf32>, %{{.*}}: memref<?xi8> {sinter.abi = "weights"})
// CHECK-NOT: memref.view
memref.global "private" constant @shared : memref<32xf32> = dense<3.0>
func.func @main(%x: memref<32xf32>) {
  %0 = memref.get_global @shared : memref<32xf32>
  memref.copy %0, %x : memref<32xf32> to memref<32xf32>
  call @helper(%x) : (memref<32xf32>) -> ()
  return
}
func.func private @helper(%x: memref<32xf32>) {
  %0 = memref.get_global @shared : memref<32xf32>
  memref.copy %0, %x : memref<32xf32> to memref<32xf32>
  return
}

// -----

// The entry function can be named; a missing one is an error.
// RUN: not sinter-opt %s --split-input-file --sinter-externalize-weights=entry=nope 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: the module has no function 'nope' to compile
func.func @main() {
  return
}
