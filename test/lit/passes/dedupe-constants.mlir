// RUN: sinter-opt %s --sinter-dedupe-constants | FileCheck %s

// Tests that resource constants with equal contents merge into the first,
// that equal bytes of another type do not, and that a uniform one becomes
// a splat.
// CHECK-LABEL: func @dedupe
// CHECK-NEXT: %[[A:.*]] = sinter.constant dense_resource<first> : tensor<2x2xf32>
// CHECK-NEXT: %[[I:.*]] = sinter.constant dense_resource<as_int> : tensor<2x2xi32>
// CHECK-NEXT: %[[Z:.*]] = sinter.constant dense<0.000000e+00> : tensor<2x2xf32>
// CHECK-NEXT: %[[D:.*]] = sinter.constant dense_resource<different> : tensor<2x2xf32>
// CHECK-NEXT: return %[[A]], %[[A]], %[[I]], %[[Z]], %[[D]]
func.func @dedupe() -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %a = sinter.constant dense_resource<first> : tensor<2x2xf32>
  %b = sinter.constant dense_resource<second> : tensor<2x2xf32>
  %i = sinter.constant dense_resource<as_int> : tensor<2x2xi32>
  %z = sinter.constant dense_resource<zeros> : tensor<2x2xf32>
  %d = sinter.constant dense_resource<different> : tensor<2x2xf32>
  return %a, %b, %i, %z, %d : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi32>, tensor<2x2xf32>, tensor<2x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      first: "0x040000000000803F000000400000404000008040",
      second: "0x040000000000803F000000400000404000008040",
      as_int: "0x040000000000803F000000400000404000008040",
      zeros: "0x0400000000000000000000000000000000000000",
      different: "0x040000000000803F000000400000404000008041"
    }
  }
#-}
