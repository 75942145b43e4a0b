// RUN: %sinter_opt %s --load-pass-plugin=%flops_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(sinter-annotate-flops))" \
// RUN:   | FileCheck %s
// RUN: %sinter_opt %s --load-pass-plugin=%flops_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(sinter-annotate-flops{emit-remarks=true}))" \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// Tests that the plugin's pass loads into sinter-opt and counts
// 2 x multiply-adds for each compute-heavy op with static shapes.

// CHECK-LABEL: func @block
// CHECK-SAME: sinter.total_flops = 1572864 : i64
func.func @block(%x: tensor<1x32x64xf32>, %w: tensor<192x64xf32>,
                 %q: tensor<1x4x32x16xf32>, %img: tensor<1x3x32x32xf32>,
                 %k: tensor<64x3x8x8xf32>) {
  // 2 * (32 * 192) * 64
  // CHECK: sinter.linear {{.*}} {sinter.flops = 786432 : i64}
  // REMARK: remark: 786432 FLOPs
  %0 = sinter.linear %x, %w transpose_weight : (tensor<1x32x64xf32>, tensor<192x64xf32>) -> tensor<1x32x192xf32>
  // 2 * (4 * 32 * 32) * (16 + 16)
  // CHECK: sinter.attention {{.*}} {sinter.flops = 262144 : i64}
  // REMARK: remark: 262144 FLOPs
  %1 = sinter.attention %q, %q, %q causal scale 0.25 : (tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>) -> tensor<1x4x32x16xf32>
  // 2 * (64 * 4 * 4) * (3 * 8 * 8)
  // CHECK: sinter.conv {{.*}} {sinter.flops = 393216 : i64}
  %2 = sinter.conv %img, %k strides [8, 8] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<64x3x8x8xf32>) -> tensor<1x64x4x4xf32>
  // 2 * (4 * 32 * 32) * 16
  // CHECK: sinter.transpose
  // CHECK-NOT: sinter.flops
  // CHECK: sinter.matmul {{.*}} {sinter.flops = 131072 : i64}
  %3 = sinter.transpose %q [0, 1, 3, 2] : tensor<1x4x32x16xf32> -> tensor<1x4x16x32xf32>
  %4 = sinter.matmul %q, %3 : (tensor<1x4x32x16xf32>, tensor<1x4x16x32xf32>) -> tensor<1x4x32x32xf32>
  return
}

// Tests that ops with dynamic shapes are counted as unknown, not guessed.
// CHECK-LABEL: func @dynamic
// CHECK-SAME: sinter.total_flops = 0 : i64, sinter.unknown_flops_ops = 1 : i64
// CHECK-NOT: sinter.flops
func.func @dynamic(%x: tensor<?x64xf32>, %w: tensor<64x64xf32>) -> tensor<?x64xf32> {
  %0 = sinter.linear %x, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
