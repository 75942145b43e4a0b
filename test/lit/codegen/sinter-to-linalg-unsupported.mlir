// RUN: sinter-opt %s --convert-sinter-to-linalg -verify-diagnostics

// Tests that an op without a lowering yet fails the pass with an error that
// names it, instead of leaving sinter ops for later stages.
func.func @topk(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'sinter.topk' has no lowering to linalg yet}}
  %v, %i = sinter.topk %x k 2 axis 1 : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %v : tensor<4x2xf32>
}
