// A graph with a shape error on line 5, for sinterc-mlir.test.
func.func @bad(%x: tensor<4x16xf32>, %w: tensor<15x8xf32>) -> tensor<4x8xf32> {
  // The weight's 15 rows do not match the input's 16 columns.
  %y =
       sinter.matmul %x, %w : (tensor<4x16xf32>, tensor<15x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
