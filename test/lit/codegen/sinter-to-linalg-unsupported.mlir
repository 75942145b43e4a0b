// RUN: sinter-opt %s --convert-sinter-to-linalg -verify-diagnostics

// Tests that an op without a lowering yet fails the pass with an error that
// names it, instead of leaving sinter ops for later stages.
func.func @cumsum(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'sinter.cumsum' has no lowering to linalg yet}}
  %0 = sinter.cumsum %x axis 1 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
