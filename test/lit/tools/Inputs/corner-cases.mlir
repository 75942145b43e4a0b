// Graphs that need the less common steps of the CPU pipeline, for
// sinterc-codegen.test: a result that is an input (the deallocation
// pipeline clones it), an integer power (math.ipowi becomes a function),
// and empty slices and split pieces that start at the end.
func.func @passthrough(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

func.func @integer_power(%x: tensor<4xi64>, %y: tensor<4xi64>) -> tensor<4xi64> {
  %0 = sinter.pow %x, %y : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

func.func @empty_pieces(%x: tensor<10xf32>) -> (tensor<0xf32>, tensor<0xf32>, tensor<10xf32>) {
  %0 = sinter.slice %x starts [10] ends [12] steps [1] : tensor<10xf32> -> tensor<0xf32>
  %1:2 = sinter.split %x axis 0 sizes [10, 0] : tensor<10xf32> -> tensor<10xf32>, tensor<0xf32>
  return %0, %1#1, %1#0 : tensor<0xf32>, tensor<0xf32>, tensor<10xf32>
}
