// RUN: sinter-opt %s --convert-sinter-to-linalg -verify-diagnostics

// Tests that an op without a lowering (here: negation of unsigned
// integers, which has no meaning; ONNX's Neg takes signed types only)
// fails the pass with an error that names it, instead of leaving sinter ops
// for later stages.
func.func @unsigned(%x: tensor<4xui8>) -> tensor<4xui8> {
  // expected-error @+1 {{'sinter.neg' has no lowering to linalg yet}}
  %0 = sinter.neg %x : tensor<4xui8>
  return %0 : tensor<4xui8>
}
