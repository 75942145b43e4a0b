// A graph with an op that code generation does not lower yet, for
// sinterc-codegen.test.
func.func @negate(%x: tensor<4x8xui8>) -> tensor<4x8xui8> {
  %0 = sinter.neg %x : tensor<4x8xui8>
  return %0 : tensor<4x8xui8>
}
