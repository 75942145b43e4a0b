// RUN: sinter-opt %s | sinter-opt | FileCheck %s
// RUN: sinter-opt %s --mlir-print-op-generic | sinter-opt | FileCheck %s

// Round trip of the ops of SinterVisionOps.td through their custom assembly
// (and through the generic form).

// CHECK-LABEL: func @pools
func.func @pools(%x: tensor<1x3x7x7xf32>, %i: tensor<2x4x9xi8>, %d: tensor<?x3x5x5x5xf32>)
    -> (tensor<1x3x3x3xf32>, tensor<1x3x4x4xf32>, tensor<1x3x7x7xf32>, tensor<2x4x5xi8>, tensor<?x3x2x2x2xf32>, tensor<1x3x3x3xi64>) {
  // CHECK: sinter.pool max %{{.*}} kernel [3, 3] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode : tensor<1x3x7x7xf32> -> tensor<1x3x3x3xf32>
  %0 = sinter.pool max %x kernel [3, 3] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode : tensor<1x3x7x7xf32> -> tensor<1x3x3x3xf32>
  // CHECK: sinter.pool avg %{{.*}} kernel [3, 3] strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] count_include_pad : tensor<1x3x7x7xf32> -> tensor<1x3x4x4xf32>
  %1 = sinter.pool avg %x kernel [3, 3] strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] count_include_pad : tensor<1x3x7x7xf32> -> tensor<1x3x4x4xf32>
  // CHECK: sinter.pool lp %{{.*}} kernel [3, 3] strides [1, 1] pads [2, 2, 2, 2] dilations [2, 2] p 3 : tensor<1x3x7x7xf32> -> tensor<1x3x7x7xf32>
  %2 = sinter.pool lp %x kernel [3, 3] strides [1, 1] pads [2, 2, 2, 2] dilations [2, 2] p 3 : tensor<1x3x7x7xf32> -> tensor<1x3x7x7xf32>
  // CHECK: sinter.pool max %{{.*}} kernel [2] strides [2] pads [0, 1] dilations [1] : tensor<2x4x9xi8> -> tensor<2x4x5xi8>
  %3 = sinter.pool max %i kernel [2] strides [2] pads [0, 1] dilations [1] : tensor<2x4x9xi8> -> tensor<2x4x5xi8>
  // CHECK: sinter.pool max %{{.*}} : tensor<?x3x5x5x5xf32> -> tensor<?x3x2x2x2xf32>
  %4 = sinter.pool max %d kernel [2, 2, 2] strides [2, 2, 2] pads [0, 0, 0, 0, 0, 0] dilations [1, 1, 1] : tensor<?x3x5x5x5xf32> -> tensor<?x3x2x2x2xf32>
  // CHECK: sinter.max_pool_indices %{{.*}} kernel [3, 3] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode column_major : tensor<1x3x7x7xf32> -> tensor<1x3x3x3xi64>
  %5 = sinter.max_pool_indices %x kernel [3, 3] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode column_major : tensor<1x3x7x7xf32> -> tensor<1x3x3x3xi64>
  return %0, %1, %2, %3, %4, %5 : tensor<1x3x3x3xf32>, tensor<1x3x4x4xf32>, tensor<1x3x7x7xf32>, tensor<2x4x5xi8>, tensor<?x3x2x2x2xf32>, tensor<1x3x3x3xi64>
}

// CHECK-LABEL: func @conv_transpose
func.func @conv_transpose(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>)
    -> tensor<1x8x10x10xf32> {
  // CHECK: sinter.conv_transpose %{{.*}}, %{{.*}}, %{{.*}} strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] output_padding [1, 1] group 4 : (tensor<1x8x4x4xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>) -> tensor<1x8x10x10xf32>
  %0 = sinter.conv_transpose %x, %w, %b strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] output_padding [1, 1] group 4 : (tensor<1x8x4x4xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>) -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}
