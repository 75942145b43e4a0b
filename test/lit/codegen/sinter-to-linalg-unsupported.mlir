// RUN: sinter-opt %s --convert-sinter-to-linalg -verify-diagnostics

// Tests that an op without a lowering yet (here: unsigned integer tensors,
// which need their signedness carried into arith's signless ops) fails the
// pass with an error that names it, instead of leaving sinter ops for later
// stages.
func.func @unsigned(%x: tensor<4xui8>) -> tensor<4xui8> {
  // expected-error @+1 {{'sinter.abs' has no lowering to linalg yet}}
  %0 = sinter.abs %x : tensor<4xui8>
  return %0 : tensor<4xui8>
}
