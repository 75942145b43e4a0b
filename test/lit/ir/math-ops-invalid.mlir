// RUN: sinter-opt %s -split-input-file -verify-diagnostics

// The verifier and shape inference errors of the ops of SinterMathOps.td.

func.func @argmax_axis(%x: tensor<2x5xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.argmax %x axis 2 : tensor<2x5xf32> -> tensor<2xi64>
  return
}

// -----

func.func @argmin_result(%x: tensor<2x5xf32>) {
  // expected-error @+2 {{'sinter.argmin' op inferred type(s) 'tensor<5xi64>' are incompatible with return type(s) of operation 'tensor<2xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.argmin %x axis 0 : tensor<2x5xf32> -> tensor<2xi64>
  return
}

// -----

func.func @shift_float(%x: tensor<3xf32>) {
  // expected-error @+1 {{must be ranked tensor of}}
  %0 = sinter.shift_left %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @tan_int(%x: tensor<3xi32>) {
  // expected-error @+1 {{must be ranked tensor of}}
  %0 = sinter.tan %x : tensor<3xi32>
  return
}

// -----

func.func @reduce_prod_twice(%x: tensor<2x5xf32>) {
  // expected-error @+2 {{axis 1 is reduced twice}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.reduce_prod %x axes [1, 1] : tensor<2x5xf32> -> tensor<2xf32>
  return
}
