// RUN: sinter-opt %s --sinter-fuse-gelu -split-input-file | FileCheck %s

// Tests the erf form of PyTorch exports: x / sqrt(2), erf, + 1, * x, * 0.5.
// CHECK-LABEL: func @erf_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<1x32x256xf32>)
// CHECK-NEXT: %[[Y:.*]] = sinter.gelu %[[X]] approximate none : tensor<1x32x256xf32>
// CHECK-NEXT: return %[[Y]]
func.func @erf_pytorch(%x: tensor<1x32x256xf32>) -> tensor<1x32x256xf32> {
  %sqrt2 = sinter.constant dense<1.41421354> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %half = sinter.constant dense<0.5> : tensor<f32>
  %0 = sinter.div %x, %sqrt2 : (tensor<1x32x256xf32>, tensor<f32>) -> tensor<1x32x256xf32>
  %1 = sinter.erf %0 : tensor<1x32x256xf32>
  %2 = sinter.add %1, %one : (tensor<1x32x256xf32>, tensor<f32>) -> tensor<1x32x256xf32>
  %3 = sinter.mul %x, %2 : (tensor<1x32x256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %4 = sinter.mul %3, %half : (tensor<1x32x256xf32>, tensor<f32>) -> tensor<1x32x256xf32>
  return %4 : tensor<1x32x256xf32>
}

// -----

// Tests another order (TensorFlow style): 0.5 * x first, x * 0.7071, the
// 1 on the left.
// CHECK-LABEL: func @erf_reordered
// CHECK: sinter.gelu %{{.*}} approximate none
// CHECK-NOT: sinter.erf
func.func @erf_reordered(%x: tensor<8xf32>) -> tensor<8xf32> {
  %rsqrt2 = sinter.constant dense<0.707106769> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %half = sinter.constant dense<0.5> : tensor<f32>
  %h = sinter.mul %half, %x : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %0 = sinter.mul %x, %rsqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = sinter.erf %0 : tensor<8xf32>
  %2 = sinter.add %one, %1 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = sinter.mul %h, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %3 : tensor<8xf32>
}

// -----

// Tests the tanh form of GPT-2 exports (x^3 as products).
// CHECK-LABEL: func @tanh_gpt2
// CHECK-SAME: (%[[X:.*]]: tensor<1x32x256xf32>)
// CHECK-NEXT: %[[Y:.*]] = sinter.gelu %[[X]] approximate tanh
// CHECK-NEXT: return %[[Y]]
func.func @tanh_gpt2(%x: tensor<1x32x256xf32>) -> tensor<1x32x256xf32> {
  %c = sinter.constant dense<4.471500e-02> : tensor<f32>
  %k = sinter.constant dense<0.797884583> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %half = sinter.constant dense<0.5> : tensor<f32>
  %0 = sinter.mul %x, %x : (tensor<1x32x256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %1 = sinter.mul %x, %0 : (tensor<1x32x256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %2 = sinter.mul %c, %1 : (tensor<f32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %3 = sinter.add %x, %2 : (tensor<1x32x256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %4 = sinter.mul %k, %3 : (tensor<f32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %5 = sinter.tanh %4 : tensor<1x32x256xf32>
  %6 = sinter.add %one, %5 : (tensor<f32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %7 = sinter.mul %x, %6 : (tensor<1x32x256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  %8 = sinter.mul %half, %7 : (tensor<f32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  return %8 : tensor<1x32x256xf32>
}

// -----

// Tests the tanh form with pow(x, 3) and with the factored inner sum
// x * (1 + 0.044715 x^2).
// CHECK-LABEL: func @tanh_pow
// CHECK: sinter.gelu %{{.*}} approximate tanh
// CHECK-LABEL: func @tanh_factored
// CHECK: sinter.gelu %{{.*}} approximate tanh
// CHECK-NOT: sinter.tanh
func.func @tanh_pow(%x: tensor<8xf32>) -> tensor<8xf32> {
  %three = sinter.constant dense<3.0> : tensor<f32>
  %c = sinter.constant dense<4.471500e-02> : tensor<f32>
  %k = sinter.constant dense<0.797884583> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %half = sinter.constant dense<0.5> : tensor<f32>
  %0 = sinter.pow %x, %three : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = sinter.mul %0, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %2 = sinter.add %1, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = sinter.mul %2, %k : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %4 = sinter.tanh %3 : tensor<8xf32>
  %5 = sinter.add %4, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %6 = sinter.mul %5, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %7 = sinter.mul %x, %6 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %7 : tensor<8xf32>
}
func.func @tanh_factored(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c = sinter.constant dense<4.471500e-02> : tensor<f32>
  %k = sinter.constant dense<0.797884583> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %half = sinter.constant dense<0.5> : tensor<f32>
  %0 = sinter.mul %x, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = sinter.mul %0, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %2 = sinter.add %one, %1 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = sinter.mul %x, %k : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %4 = sinter.mul %3, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %5 = sinter.tanh %4 : tensor<8xf32>
  %6 = sinter.add %5, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %7 = sinter.mul %x, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %8 = sinter.mul %7, %6 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %8 : tensor<8xf32>
}

// -----

// Near misses: the erf argument is another tensor; the coefficient is not
// 0.5; the cdf is also returned; the erf scale is 1 instead of 1/sqrt(2).
// CHECK-LABEL: func @near_misses
// CHECK-NOT: sinter.gelu
// CHECK: return
func.func @near_misses(%x: tensor<8xf32>, %z: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %rsqrt2 = sinter.constant dense<0.707106769> : tensor<f32>
  %one = sinter.constant dense<1.0> : tensor<f32>
  %half = sinter.constant dense<0.5> : tensor<f32>
  %a0 = sinter.mul %z, %rsqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %a1 = sinter.erf %a0 : tensor<8xf32>
  %a2 = sinter.add %a1, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %a3 = sinter.mul %x, %a2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %a4 = sinter.mul %a3, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %b0 = sinter.mul %x, %rsqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %b1 = sinter.erf %b0 : tensor<8xf32>
  %b2 = sinter.add %b1, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %b3 = sinter.mul %x, %b2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %c0 = sinter.mul %x, %rsqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %c1 = sinter.erf %c0 : tensor<8xf32>
  %c2 = sinter.add %c1, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %c3 = sinter.mul %x, %c2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %c4 = sinter.mul %c3, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %c5 = sinter.add %c4, %c2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %d1 = sinter.erf %x : tensor<8xf32>
  %d2 = sinter.add %d1, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %d3 = sinter.mul %x, %d2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %d4 = sinter.mul %d3, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %a4, %b3, %c5, %d4 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
