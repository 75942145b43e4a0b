// RUN: sinter-opt %s --sinter-lower-to-kernels --convert-sinter-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s --sinter-lower-to-kernels="matmul-kernel=false" --convert-sinter-to-linalg -split-input-file | FileCheck %s --check-prefix=OFF

// Tests that f32 linear becomes one call of the runtime's matmul kernel: the
// batch and sequence fold into the rows of a [1, rows, K] view, the weight
// is read in place as [1, N, K] with the transposed flag and the bias flag
// (3), and the result is unfolded back to [2, S, 256].
// CHECK-LABEL: func.func private @sinter_matmul_f32
// CHECK-SAME: (memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, i32) attributes {llvm.emit_c_interface, sinter.no_capture}
// CHECK-LABEL: func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x64xf32>, %[[W:.*]]: tensor<256x64xf32>, %[[B:.*]]: tensor<256xf32>)
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x?x64xf32> into tensor<?x64xf32>
// CHECK-DAG: %[[A:.*]] = tensor.expand_shape %[[ROWS]] {{\[\[}}0, 1], [2]] output_shape [1, %{{.*}}, 64] : tensor<?x64xf32> into tensor<1x?x64xf32>
// CHECK-DAG: tensor.expand_shape %[[W]] {{\[\[}}0, 1], [2]] output_shape [1, 256, 64] : tensor<256x64xf32> into tensor<1x256x64xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x?x256xf32>
// CHECK-DAG: bufferization.to_buffer %[[B]] read_only
// CHECK: call @sinter_matmul_f32({{.*}}, %[[FLAGS]])
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[T]] {{\[\[}}0, 1], [2]] : tensor<1x?x256xf32> into tensor<?x256xf32>
// CHECK: %[[R:.*]] = tensor.expand_shape %[[C]] {{\[\[}}0, 1], [2]] output_shape [2, %{{.*}}, 256]
// CHECK: return %[[R]]
// CHECK-NOT: linalg.generic
// OFF-LABEL: func @linear
// OFF-NOT: call
// OFF: linalg.generic
func.func @linear(%x: tensor<2x?x64xf32>, %w: tensor<256x64xf32>, %b: tensor<256xf32>) -> tensor<2x?x256xf32> {
  %0 = sinter.linear %x, %w, %b transpose_weight : (tensor<2x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<2x?x256xf32>
  return %0 : tensor<2x?x256xf32>
}

// -----

// Tests a constant weight: packed at compile time into the kernel's layout
// (20 columns in 2 slivers of 4 x 16, zero-padded) and passed with the
// packed flag (4 | transposed 1 = 5); the original constant is left dead.
// CHECK-LABEL: func @constant_weight
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 5 : i32
// CHECK-DAG: %[[PACKED:.*]] = arith.constant dense_resource<sinter_packed_weight> : tensor<1x2x64xf32>
// CHECK-DAG: bufferization.to_buffer %[[PACKED]] read_only
// CHECK: call @sinter_matmul_f32({{.*}}, %[[FLAGS]])
func.func @constant_weight(%x: tensor<3x4xf32>) -> tensor<3x20xf32> {
  %w = sinter.constant dense<1.0> : tensor<20x4xf32>
  %0 = sinter.linear %x, %w transpose_weight : (tensor<3x4xf32>, tensor<20x4xf32>) -> tensor<3x20xf32>
  return %0 : tensor<3x20xf32>
}

// -----

// Tests a batched matmul (batch 2 x heads 4): the batch dimensions fold into
// one, no flags, no bias (an empty descriptor in its place).
// CHECK-LABEL: func @batched
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 0 : i32
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] : tensor<2x4x16x32xf32> into tensor<8x16x32xf32>
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<8x8x32xf32>
// CHECK-DAG: memref.alloca() : memref<0xf32>
// CHECK: call @sinter_matmul_f32({{.*}}, %[[FLAGS]])
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] output_shape [2, 4, 8, 32] : tensor<8x8x32xf32> into tensor<2x4x8x32xf32>
func.func @batched(%a: tensor<2x4x8x16xf32>, %b: tensor<2x4x16x32xf32>) -> tensor<2x4x8x32xf32> {
  %0 = sinter.matmul %a, %b : (tensor<2x4x8x16xf32>, tensor<2x4x16x32xf32>) -> tensor<2x4x8x32xf32>
  return %0 : tensor<2x4x8x32xf32>
}

// -----

// Tests a broadcast left side ([1, M, K] against [3, K, N]): the result's
// batch comes from the right side.
// CHECK-LABEL: func @broadcast_lhs
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<3x5x7xf32>
// CHECK: call @sinter_matmul_f32
func.func @broadcast_lhs(%a: tensor<1x5x6xf32>, %b: tensor<3x6x7xf32>) -> tensor<3x5x7xf32> {
  %0 = sinter.matmul %a, %b : (tensor<1x5x6xf32>, tensor<3x6x7xf32>) -> tensor<3x5x7xf32>
  return %0 : tensor<3x5x7xf32>
}

// -----

// Tests one matrix against a batch of matrices (an MoE layer's experts on
// the same tokens): the left side is a batch of 1 that the kernel
// broadcasts, the batch of 8 comes from the right side.
// CHECK-LABEL: func @experts
// CHECK-DAG: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, %{{.*}}, 64] : tensor<?x64xf32> into tensor<1x?x64xf32>
// CHECK-DAG: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<8x?x128xf32>
// CHECK: call @sinter_matmul_f32
func.func @experts(%x: tensor<?x64xf32>, %w: tensor<8x64x128xf32>) -> tensor<8x?x128xf32> {
  %0 = sinter.matmul %x, %w : (tensor<?x64xf32>, tensor<8x64x128xf32>) -> tensor<8x?x128xf32>
  return %0 : tensor<8x?x128xf32>
}

// -----

// Tests a 2-D convolution as one call of the convolution kernel: the
// unpadded input, the weight as [1, 8, 36], the bias (flags 1) and the
// geometry (kernel 3 x 3, strides 2 x 2, dilations 1 x 1, pads top 1 and
// left 0), written into the 2 x 8 x 6 x 5 output: no pad, no windows, no
// transpose.
// CHECK-LABEL: func @conv
// CHECK-NOT: tensor.pad
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i32
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<8x4x3x3xf32> into tensor<8x36xf32>
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<2x8x6x5xf32>
// CHECK: call @sinter_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[OUT:.*]], %[[OUT]], %[[C3]], %[[C3]], %[[C2]], %[[C2]], %[[C1]], %[[C1]], %[[C1]], %[[C0]], %{{.*}}, %{{.*}}, %[[C1]])
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.generic
func.func @conv(%x: tensor<2x4x12x10xf32>, %w: tensor<8x4x3x3xf32>, %b: tensor<8xf32>) -> tensor<2x8x6x5xf32> {
  %0 = sinter.conv %x, %w, %b strides [2, 2] pads [1, 0, 1, 1] dilations [1, 1] group 1 : (tensor<2x4x12x10xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x8x6x5xf32>
  return %0 : tensor<2x8x6x5xf32>
}

// -----

// Tests the epilogue the kernel applies: the residual add and the ReLU
// after a conv are one call (flags 7: bias, residual, clamp to [0, inf]),
// and a clip after a conv without a residual sets [0, 6] (flags 5). The
// residual may be computed after the conv: the call goes where the ReLU was.
// CHECK-LABEL: func @conv_epilogue
// CHECK-DAG: %[[F7:.*]] = arith.constant 7 : i32
// CHECK-DAG: %[[F5:.*]] = arith.constant 5 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[SIX:.*]] = arith.constant 6.000000e+00 : f32
// CHECK: %[[R:.*]] = math.exp
// CHECK: call @sinter_conv2d_f32({{.*}}, %[[ZERO]], %[[INF]], %[[F7]])
// CHECK: call @sinter_conv2d_f32({{.*}}, %[[ZERO]], %[[SIX]], %[[F5]])
// CHECK-NOT: sinter.{{add|relu|clip|conv}}
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @conv_epilogue(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>, %b: tensor<8xf32>, %s: tensor<1x8x8x8xf32>) -> (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) {
  %0 = sinter.conv %x, %w, %b strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %r = math.exp %s : tensor<1x8x8x8xf32>
  %1 = sinter.add %0, %r : (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %2 = sinter.relu %1 : tensor<1x8x8x8xf32>
  %3 = sinter.conv %x, %w, %b strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %4 = sinter.clip %3 {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x8x8x8xf32>
  return %2, %4 : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>
}

// -----

// Tests what the epilogue leaves alone: a conv read twice keeps its ReLU
// apart, and an add that broadcasts is no residual (flags 1 on both).
// CHECK-LABEL: func @conv_no_epilogue
// CHECK-DAG: %[[F1:.*]] = arith.constant 1 : i32
// CHECK: call @sinter_conv2d_f32({{.*}}, %[[F1]])
// CHECK: linalg.generic
// CHECK: call @sinter_conv2d_f32({{.*}}, %[[F1]])
// CHECK: linalg.generic
func.func @conv_no_epilogue(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>, %b: tensor<8xf32>, %s: tensor<1x8x1x1xf32>) -> (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) {
  %0 = sinter.conv %x, %w, %b strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %1 = sinter.relu %0 : tensor<1x8x8x8xf32>
  %2 = sinter.conv %x, %w, %b strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %3 = sinter.add %2, %s : (tensor<1x8x8x8xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x8x8xf32>
  return %0, %1, %3 : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>
}

// -----

// Tests a 1-D convolution as a 2-D one over one row: [2, 4, 20] expanded to
// [2, 4, 1, 20], kernel 1 x 5, stride 1 x 3, dilation 1 x 2, pads top 0 and
// left 4, no bias (flags 0); the output collapsed back to [2, 8, 6].
// CHECK-LABEL: func @conv1d
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i32
// CHECK-DAG: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [2, 4, 1, 20]
// CHECK: call @sinter_conv2d_f32({{.*}}, %[[C1]], %[[C5]], %[[C1]], %[[C3]], %[[C1]], %[[C2]], %[[C0]], %[[C4]], %{{.*}}, %{{.*}}, %[[C0]])
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : tensor<2x8x1x6xf32> into tensor<2x8x6xf32>
func.func @conv1d(%x: tensor<2x4x20xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x8x6xf32> {
  %0 = sinter.conv %x, %w strides [3] pads [4, 0] dilations [2] group 1 : (tensor<2x4x20xf32>, tensor<8x4x5xf32>) -> tensor<2x8x6xf32>
  return %0 : tensor<2x8x6xf32>
}

// -----

// Tests a convolution of fewer than 4 output channels: not the convolution
// kernel (it would take its term-by-term loop) but the im2col product.
// CHECK-LABEL: func @conv_few_channels
// CHECK-NOT: sinter_conv2d_f32
// CHECK: call @sinter_matmul_f32
func.func @conv_few_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<3x4x3x3xf32>) -> tensor<1x3x6x6xf32> {
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x4x8x8xf32>, tensor<3x4x3x3xf32>) -> tensor<1x3x6x6xf32>
  return %0 : tensor<1x3x6x6xf32>
}

// -----

// Tests a 3-D convolution as a GEMM: the padded input's 2 x 2 x 2 windows
// copied out as rows ([1, 3 x 3 x 3 positions, 2 x 2 x 2 x 2]), the weight
// read as [1, 8, 16] transposed with its bias (flags 3), the product
// [1, 27, 8] transposed to channels first and expanded to 1 x 8 x 3 x 3 x 3.
// CHECK-LABEL: func @conv3d
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[P:.*]] = tensor.pad
// CHECK-DAG: %[[W:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<1x2x4x4x4xf32>) outs(%{{.*}} : tensor<1x3x3x3x2x2x2x2xf32>)
// CHECK-DAG: tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3], [4, 5, 6, 7]] : tensor<1x3x3x3x2x2x2x2xf32> into tensor<1x27x16xf32>
// CHECK-DAG: memref.alloc() {alignment = 64 : i64} : memref<1x27x8xf32>
// CHECK: call @sinter_matmul_f32({{.*}}, %[[FLAGS]])
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1]
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3, 4]] output_shape [1, 8, 3, 3, 3]
func.func @conv3d(%x: tensor<1x2x3x3x3xf32>, %w: tensor<8x2x2x2x2xf32>, %b: tensor<8xf32>) -> tensor<1x8x3x3x3xf32> {
  %0 = sinter.conv %x, %w, %b strides [1, 1, 1] pads [1, 1, 1, 0, 0, 0] dilations [1, 1, 1] group 1 : (tensor<1x2x3x3x3xf32>, tensor<8x2x2x2x2xf32>, tensor<8xf32>) -> tensor<1x8x3x3x3xf32>
  return %0 : tensor<1x8x3x3x3xf32>
}

// -----

// Tests a conv_transpose whose kernel tiles its output (2 x 2, stride 2)
// as one matmul call: x channels-last as [N*H*W, C] times the weight as
// [C, M*2*2], then the blocks interleaved into place and the bias added.
// CHECK-LABEL: func @conv_transpose_tiling
// CHECK: %[[XT:.*]] = linalg.transpose ins(%{{.*}} : tensor<2x16x5x7xf32>) outs(%{{.*}} : tensor<2x5x7x16xf32>) permutation = [0, 2, 3, 1]
// CHECK: call @sinter_matmul_f32
// CHECK-SAME: memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x5x7x8x2x2xf32>) outs(%{{.*}} : tensor<2x8x5x2x7x2xf32>) permutation = [0, 3, 1, 4, 2, 5]
// CHECK-NOT: linalg.generic {{.*}}"reduction"
// CHECK: return
func.func @conv_transpose_tiling(%x: tensor<2x16x5x7xf32>, %w: tensor<16x8x2x2xf32>, %b: tensor<8xf32>) -> tensor<2x8x10x14xf32> {
  %0 = sinter.conv_transpose %x, %w, %b strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<2x16x5x7xf32>, tensor<16x8x2x2xf32>, tensor<8xf32>) -> tensor<2x8x10x14xf32>
  return %0 : tensor<2x8x10x14xf32>
}

// -----

// Tests the conv_transposes whose windows overlap (4 x 4, stride 2) or
// skip (2 x 2, stride 3), or that are padded: each stays the general
// lowering, a contraction over a zero-interleaved input.
// CHECK-LABEL: func @conv_transpose_not_tiling
// CHECK-NOT: call
// CHECK-COUNT-3: linalg.generic {{.*}}"reduction"
func.func @conv_transpose_not_tiling(%x: tensor<1x4x5x5xf32>, %w4: tensor<4x2x4x4xf32>, %w2: tensor<4x2x2x2xf32>) -> (tensor<1x2x12x12xf32>, tensor<1x2x14x14xf32>, tensor<1x2x8x8xf32>) {
  %0 = sinter.conv_transpose %x, %w4 strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<1x4x5x5xf32>, tensor<4x2x4x4xf32>) -> tensor<1x2x12x12xf32>
  %1 = sinter.conv_transpose %x, %w2 strides [3, 3] pads [0, 0, 0, 0] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<1x4x5x5xf32>, tensor<4x2x2x2xf32>) -> tensor<1x2x14x14xf32>
  %2 = sinter.conv_transpose %x, %w2 strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] output_padding [0, 0] group 1 : (tensor<1x4x5x5xf32>, tensor<4x2x2x2xf32>) -> tensor<1x2x8x8xf32>
  return %0, %1, %2 : tensor<1x2x12x12xf32>, tensor<1x2x14x14xf32>, tensor<1x2x8x8xf32>
}

// -----

// Tests what stays a contraction: a vector operand, batches that broadcast
// only in part, other element types, and grouped convolutions.
// CHECK-LABEL: func @not_for_the_kernel
// CHECK-NOT: call
// CHECK-COUNT-4: linalg.generic {{.*}}"reduction"
func.func @not_for_the_kernel(%m: tensor<5x6xf32>, %v: tensor<6xf32>, %a: tensor<2x1x5x6xf32>, %b: tensor<1x3x6x7xf32>, %h: tensor<5x6xf16>, %g: tensor<6x7xf16>, %x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> (tensor<5xf32>, tensor<2x3x5x7xf32>, tensor<5x7xf16>, tensor<1x4x6x6xf32>) {
  %0 = sinter.matmul %m, %v : (tensor<5x6xf32>, tensor<6xf32>) -> tensor<5xf32>
  %1 = sinter.matmul %a, %b : (tensor<2x1x5x6xf32>, tensor<1x3x6x7xf32>) -> tensor<2x3x5x7xf32>
  %2 = sinter.matmul %h, %g : (tensor<5x6xf16>, tensor<6x7xf16>) -> tensor<5x7xf16>
  %3 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 2 : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0, %1, %2, %3 : tensor<5xf32>, tensor<2x3x5x7xf32>, tensor<5x7xf16>, tensor<1x4x6x6xf32>
}

// -----

// Tests that a constant convolution weight is packed at compile time into
// the kernel's layout for A (flags 8, SINTER_CONV_PACKED_WEIGHT): one
// sliver of 12 rows by K = 2, depth step by depth step, rows 4 to 11 zero:
// 1 3 5 7 0 ... 0, then 2 4 6 8 0 ... 0.
// CHECK-LABEL: func @conv_constant_weight
// CHECK-DAG: %[[F8:.*]] = arith.constant 8 : i32
// CHECK-DAG: %[[PACKED:.*]] = arith.constant dense_resource<sinter_packed_weight> : tensor<1x1x24xf32>
// CHECK-DAG: bufferization.to_buffer %[[PACKED]] read_only
// CHECK: call @sinter_conv2d_f32({{.*}}, %[[F8]])
// CHECK: sinter_packed_weight: "0x040000000000803F000040400000A0400000E040000000000000000000000000000000000000000000000000000000000000000000000040000080400000C040000000410000000000000000000000000000000000000000000000000000000000000000"
func.func @conv_constant_weight(%x: tensor<1x1x3x3xf32>) -> tensor<1x4x3x2xf32> {
  %w = sinter.constant dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]], [[[5.0, 6.0]]], [[[7.0, 8.0]]]]> : tensor<4x1x1x2xf32>
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x1x3x3xf32>, tensor<4x1x1x2xf32>) -> tensor<1x4x3x2xf32>
  return %0 : tensor<1x4x3x2xf32>
}

// -----

// Tests that a depthwise conv (group = input channels, one input channel
// per group) becomes one call of the depthwise kernel: the weight read as
// [M, KH KW], kernel 3 x 3, strides 2, dilations 1, pads top 1 and left 1,
// and the clip after it as the kernel's clamp to [0, 6] (flags 5: bias and
// clamp). With the kernels off it stays a contraction.
// CHECK-LABEL: func @depthwise
// CHECK-DAG: %[[F5:.*]] = arith.constant 5 : i32
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[SIX:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<8x1x3x3xf32> into tensor<8x9xf32>
// CHECK: call @sinter_depthwise2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[C3]], %[[C3]], %[[C2]], %[[C2]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[ZERO]], %[[SIX]], %[[F5]])
// CHECK-NOT: sinter.clip
// CHECK-NOT: linalg.generic
// CHECK: return
// OFF-LABEL: func @depthwise
// OFF-NOT: call
// OFF: linalg.generic
func.func @depthwise(%x: tensor<1x8x10x10xf32>, %w: tensor<8x1x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x5x5xf32> {
  %0 = sinter.conv %x, %w, %b strides [2, 2] pads [1, 1, 0, 0] dilations [1, 1] group 8 : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
  %1 = sinter.clip %0 {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x8x5x5xf32>
  return %1 : tensor<1x8x5x5xf32>
}

// -----

// Tests a 1-D depthwise conv with two outputs per input channel: a 2-D
// call over one row (kernel 1 x 5, strides 1 x 3, dilations 1 x 2, pads 0
// and 4), no bias and no clamp (flags 0), then the row dropped again.
// CHECK-LABEL: func @depthwise1d
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i32
// CHECK-DAG: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [2, 4, 1, 20]
// CHECK: call @sinter_depthwise2d_f32({{.*}}, %[[C1]], %[[C5]], %[[C1]], %[[C3]], %[[C1]], %[[C2]], %[[C0]], %[[C4]], %{{.*}}, %{{.*}}, %[[C0]])
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : tensor<2x8x1x6xf32> into tensor<2x8x6xf32>
func.func @depthwise1d(%x: tensor<2x4x20xf32>, %w: tensor<8x1x5xf32>) -> tensor<2x8x6xf32> {
  %0 = sinter.conv %x, %w strides [3] pads [4, 0] dilations [2] group 4 : (tensor<2x4x20xf32>, tensor<8x1x5xf32>) -> tensor<2x8x6xf32>
  return %0 : tensor<2x8x6xf32>
}

// -----

// Tests near misses of the depthwise kernel: groups of two input channels
// each (a grouped conv, not a depthwise one), and a depthwise conv whose
// result is read besides its ReLU (the ReLU stays an op of its own; the
// call carries no clamp, flags 1).
// CHECK-LABEL: func @not_depthwise
// CHECK-NOT: sinter_depthwise2d_f32
// CHECK: linalg.generic
// CHECK-LABEL: func @depthwise_shared_conv
// CHECK-DAG: %[[F1:.*]] = arith.constant 1 : i32
// CHECK: call @sinter_depthwise2d_f32({{.*}}, %[[F1]])
// CHECK: linalg.generic
func.func @not_depthwise(%x: tensor<1x8x6x6xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<1x8x4x4xf32> {
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 4 : (tensor<1x8x6x6xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}
func.func @depthwise_shared_conv(%x: tensor<1x8x6x6xf32>, %w: tensor<8x1x3x3xf32>, %b: tensor<8xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) {
  %0 = sinter.conv %x, %w, %b strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 8 : (tensor<1x8x6x6xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %1 = sinter.relu %0 : tensor<1x8x4x4xf32>
  return %0, %1 : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>
}
