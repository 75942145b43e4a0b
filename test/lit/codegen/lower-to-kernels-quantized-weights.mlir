// RUN: sinter-opt %s --sinter-lower-to-kernels --convert-sinter-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s --sinter-lower-to-kernels="matmul-kernel=false" --convert-sinter-to-linalg -split-input-file | FileCheck %s --check-prefix=OFF

// Tests that a linear layer by a dequantized constant becomes one call of
// the quantized kernel with the weight packed at compile time (qweight.h):
// the header (magic SQW1, 4 bits, flags 3 = bfloat16 scales + zero points,
// batch 1, N 3, K 4, groups of 2), then the rows of the one sliver (k = 0:
// columns 1, 5, 9 in the low nibbles), the scales of group 0 as bfloat16
// (0.5, 1, 0.125) and its zero points (8, 0, 15). The bias flag is 2.
// Without the kernel (OFF), the dequantize is one generic that reads the
// 4-bit values stored two to a byte in row-major order, the first in the
// low nibble (1 | 2 << 4 = 33, 3 | 4 << 4 = 67, ...).
// CHECK-LABEL: func.func private @sinter_qmatmul_f32
// CHECK-SAME: (memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?xi8, strided<[?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, i32) attributes {llvm.emit_c_interface, sinter.no_capture}
// CHECK-LABEL: func @linear
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<sinter_packed_qweight> : tensor<320xi8>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x?x3xf32>
// CHECK: call @sinter_qmatmul_f32({{.*}}, %[[FLAGS]])
// CHECK-NOT: sinter.
// CHECK: sinter_packed_qweight: "0x4000000053515731040000000300000000000000010000000000000003000000000000000400000000000000020000000000000002
// CHECK-SAME: 010509000000000002060A000000000003070B000000000004080C
// CHECK-SAME: 003F803F003E
// CHECK-SAME: 08000F
// OFF-LABEL: func @linear
// OFF-NOT: sinter_qmatmul_f32
// OFF: arith.constant dense<[33, 67, 101, -121, -87, -53]> : tensor<6xi8>
// OFF: linalg.generic
// OFF: tensor.extract
// OFF: arith.shrui
func.func @linear(%x: tensor<2x?x4xf32>, %b: tensor<3xf32>) -> tensor<2x?x3xf32> {
  %q = sinter.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]> : tensor<3x4xui4>
  %s = sinter.constant dense<[[0.5, 0.25], [1.0, 2.0], [0.125, 4.0]]> : tensor<3x2xbf16>
  %z = sinter.constant dense<[[8, 7], [0, 1], [15, 3]]> : tensor<3x2xui4>
  %w = sinter.dequantize %q, %s, %z axis 1 block 2 : (tensor<3x4xui4>, tensor<3x2xbf16>, tensor<3x2xui4>) -> tensor<3x4xf32>
  %y = sinter.linear %x, %w, %b transpose_weight : (tensor<2x?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x?x3xf32>
  return %y : tensor<2x?x3xf32>
}

// -----

// Tests that a gather from a quantized table reads the integers of the
// gathered rows only: one generic over the result that extracts the i8
// value, its row's scale, converts and multiplies (no f32 table).
// CHECK-LABEL: func @embedding
// CHECK-NOT: sinter.
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x5x16xf32>)
// CHECK: %[[Q:.*]] = tensor.extract %{{.*}} : tensor<32x16xi8>
// CHECK: arith.sitofp %[[Q]] : i8 to f32
// CHECK: %[[S:.*]] = tensor.extract %{{.*}} : tensor<32x1xbf16>
// CHECK: arith.extf %[[S]] : bf16 to f32
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
func.func @embedding(%ids: tensor<1x5xi64>) -> tensor<1x5x16xf32> {
  %q = sinter.constant dense<3> : tensor<32x16xi8>
  %s = sinter.constant dense<0.5> : tensor<32x1xbf16>
  %t = sinter.dequantize %q, %s axis 1 block 16 : (tensor<32x16xi8>, tensor<32x1xbf16>) -> tensor<32x16xf32>
  %e = sinter.gather %t[%ids] axis 0 : (tensor<32x16xf32>, tensor<1x5xi64>) -> tensor<1x5x16xf32>
  return %e : tensor<1x5x16xf32>
}

// -----

// Tests dequantize on its own with unsigned 8-bit values, a per-axis scale
// and zero point: (q - z) * s computed from the integers, per element.
// CHECK-LABEL: func @per_axis
// CHECK: linalg.generic
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.subf
// CHECK: arith.mulf
func.func @per_axis(%q: tensor<4x3xui8>, %s: tensor<3xf32>, %z: tensor<3xui8>) -> tensor<4x3xf32> {
  %w = sinter.dequantize %q, %s, %z axis 1 : (tensor<4x3xui8>, tensor<3xf32>, tensor<3xui8>) -> tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// -----

// Tests quantize: x / s rounded to even, plus the zero point, saturated to
// the range of ui8, converted.
// CHECK-LABEL: func @quantize
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.addf
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: arith.minimumf %{{.*}}, %{{.*}} : f32
// CHECK: arith.fptoui %{{.*}} : f32 to i8
func.func @quantize(%x: tensor<4x3xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4x3xui8> {
  %q = sinter.quantize %x, %s, %z : (tensor<4x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x3xui8>
  return %q : tensor<4x3xui8>
}
