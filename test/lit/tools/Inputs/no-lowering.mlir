// A graph with an op that code generation does not lower yet, for
// sinterc-codegen.test.
func.func @running_total(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = sinter.cumsum %x axis 1 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
