// RUN: sinter-opt %s --sinter-approximate-math | FileCheck %s
// RUN: sinter-opt %s --sinter-approximate-math="all=true" | FileCheck %s --check-prefix=ALL

// tanh, erf and exp on f32 become arithmetic (no libm call left to keep
// the loop scalar); f64 and functions outside the list stay as they are.
// CHECK-LABEL: func.func @approximated
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: arith.mulf
// CHECK: return
func.func @approximated(%x: f32) -> (f32, f32, f32) {
  %0 = math.tanh %x : f32
  %1 = math.erf %x : f32
  %2 = math.exp %x : f32
  return %0, %1, %2 : f32, f32, f32
}

// CHECK-LABEL: func.func @kept
// CHECK: math.tanh %{{.*}} : f64
// CHECK: math.cos %{{.*}} : f32
func.func @kept(%x: f64, %y: f32) -> (f64, f32) {
  %0 = math.tanh %x : f64
  %1 = math.cos %y : f32
  return %0, %1 : f64, f32
}

// With all=true (targets without libm, the GPU) every f32 function with an
// approximation goes too (cos); f64 has none and stays.
// ALL-LABEL: func.func @kept
// ALL: math.tanh %{{.*}} : f64
// ALL-NOT: math.cos
// ALL: return
