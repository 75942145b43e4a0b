// RUN: sinter-opt %s --split-input-file --verify-diagnostics --sinter-flash-attention-for-gpu --cse | FileCheck %s

!view = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>

// Grouped-query (4 heads on 2), causal, masked attention, as the CPU
// lowering leaves it: one launch of 64-thread blocks, ceil(Sq / 64) * B * H
// of them (at least 1), K and V staged 64 keys at a time (d + dv = 96
// floats a key fit 48 KiB), each thread folding 16 scores at a time: 16 x
// 64 FMAs for the scores, the mask read at index 0 where it broadcasts,
// keys past Sk or after row + Sk - Sq hidden as -inf, one exp for the
// correction and 16 for the weights, 16 x 32 FMAs into the output row.
// The call and the CPU kernel's declaration are gone.
// CHECK-NOT:   func.func private @sinter_attention_f32
// CHECK-LABEL: func.func @gqa_causal_masked
// CHECK-DAG:   %[[Q2:.*]] = memref.dim %{{.*}}, %c2 : memref<1x4x?x64xf32>
// CHECK-DAG:   %[[SK:.*]] = memref.dim %{{.*}}, %c2 : memref<1x2x?x64xf32>
// CHECK:       %[[TILES:.*]] = arith.ceildivui %[[Q2]], %c64
// CHECK:       gpu.launch blocks({{.*}}) in ({{.*}}) threads({{.*}}) in (%{{.*}} = %c64, %{{.*}} = %c1, %{{.*}} = %c1) module(@sinter_kernels) workgroup(%[[KT:.*]] : memref<64x64xf32, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<64x32xf32, #gpu.address_space<workgroup>>)
// CHECK:         scf.for %{{.*}} = %c0 to %[[SK]] step %c64 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c4096 step %c64 {
// CHECK:             memref.store %{{.*}}, %[[KT]]
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c2048 step %c64 {
// CHECK:             memref.store %{{.*}}, %[[VT]]
// CHECK:           gpu.barrier
// CHECK:           scf.for %{{.*}} = %c0 to %c64 step %c16 iter_args
// CHECK-COUNT-64:    math.fma
// CHECK:             memref.load %{{.*}}[%c0, %c0, %c0, %{{.*}}] : memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK:             arith.cmpi ule
// CHECK:             arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK-COUNT-17:    math.exp
// CHECK-NOT:         math.exp
// CHECK:             scf.yield
// CHECK:           gpu.barrier
// CHECK:         arith.cmpf ogt
// CHECK:         scf.if
// CHECK-COUNT-32:  memref.store %{{.*}} : memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-NOT:   call @sinter_attention_f32
func.func private @sinter_attention_f32(!view, !view, !view, !view, !view, f32, i32) attributes {llvm.emit_c_interface}
func.func @gqa_causal_masked(%q: memref<1x4x?x64xf32>, %k: memref<1x2x?x64xf32>, %v: memref<1x2x?x32xf32>, %m: memref<1x1x1x?xf32>, %o: memref<1x4x?x32xf32>) {
  %qc = memref.cast %q : memref<1x4x?x64xf32> to !view
  %kc = memref.cast %k : memref<1x2x?x64xf32> to !view
  %vc = memref.cast %v : memref<1x2x?x32xf32> to !view
  %mc = memref.cast %m : memref<1x1x1x?xf32> to !view
  %oc = memref.cast %o : memref<1x4x?x32xf32> to !view
  %scale = arith.constant 0.125 : f32
  %flags = arith.constant 3 : i32
  call @sinter_attention_f32(%qc, %kc, %vc, %mc, %oc, %scale, %flags) : (!view, !view, !view, !view, !view, f32, i32) -> ()
  return
}

// -----

!view = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>

// Heads of 256: 16 keys a stage (2 x 16 x 256 floats, 32 KiB); no mask,
// not causal: no mask load, no causal bound.
// CHECK-LABEL: func.func @wide_heads
// CHECK:       workgroup(%{{.*}} : memref<16x256xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x256xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT:   arith.cmpi ule
// CHECK:       gpu.terminator
func.func private @sinter_attention_f32(!view, !view, !view, !view, !view, f32, i32) attributes {llvm.emit_c_interface}
func.func @wide_heads(%q: memref<2x2x8x256xf32>, %k: memref<2x2x8x256xf32>, %v: memref<2x2x8x256xf32>, %o: memref<2x2x8x256xf32>) {
  %qc = memref.cast %q : memref<2x2x8x256xf32> to !view
  %kc = memref.cast %k : memref<2x2x8x256xf32> to !view
  %vc = memref.cast %v : memref<2x2x8x256xf32> to !view
  %oc = memref.cast %o : memref<2x2x8x256xf32> to !view
  %scale = arith.constant 0.0625 : f32
  %flags = arith.constant 0 : i32
  call @sinter_attention_f32(%qc, %kc, %vc, %qc, %oc, %scale, %flags) : (!view, !view, !view, !view, !view, f32, i32) -> ()
  return
}

// -----

!view = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>

func.func private @sinter_attention_f32(!view, !view, !view, !view, !view, f32, i32) attributes {llvm.emit_c_interface}
func.func @dynamic_head_size(%q: memref<1x1x8x?xf32>, %o: memref<1x1x8x?xf32>) {
  %qc = memref.cast %q : memref<1x1x8x?xf32> to !view
  %oc = memref.cast %o : memref<1x1x8x?xf32> to !view
  %scale = arith.constant 1.0 : f32
  %flags = arith.constant 0 : i32
  // expected-error @+1 {{unsupported on the GPU: an attention whose head sizes are not known at compile time}}
  call @sinter_attention_f32(%qc, %qc, %qc, %qc, %oc, %scale, %flags) : (!view, !view, !view, !view, !view, f32, i32) -> ()
  return
}
