// A graph with an op that code generation does not lower yet, for
// sinterc-codegen.test.
func.func @magnitude(%x: tensor<4x8xui8>) -> tensor<4x8xui8> {
  %0 = sinter.abs %x : tensor<4x8xui8>
  return %0 : tensor<4x8xui8>
}
