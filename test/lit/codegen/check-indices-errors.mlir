// RUN: sinter-opt %s --split-input-file --verify-diagnostics --sinter-check-indices

// A constant index outside the dimension it indexes would fail every run:
// the compile fails, naming it and its position.
func.func @main(%x: tensor<4x2xf32>) -> tensor<2x3x2xf32> {
  %idx = sinter.constant dense<[[0, 1, 2], [3, -4, 4]]> : tensor<2x3xi64>
  // expected-error @+1 {{constant index 4 at [1, 2] is outside [-4, 4), the dimension it indexes: every run would fail}}
  %rows = sinter.gather %x[%idx] axis 0 : (tensor<4x2xf32>, tensor<2x3xi64>) -> tensor<2x3x2xf32>
  return %rows : tensor<2x3x2xf32>
}

// -----

func.func @main(%x: tensor<3x5xf32>) -> tensor<3x1xf32> {
  %idx = sinter.constant dense<[[0], [-6], [1]]> : tensor<3x1xi32>
  // expected-error @+1 {{constant index -6 at [1, 0] is outside [-5, 5)}}
  %picked = sinter.gather_elements %x[%idx] axis 1 : (tensor<3x5xf32>, tensor<3x1xi32>) -> tensor<3x1xf32>
  return %picked : tensor<3x1xf32>
}
