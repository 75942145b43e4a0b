// RUN: sinter-opt %sinter_src_root/examples/models/gpt-block.mlir -canonicalize \
// RUN:   | FileCheck %s

// Tests that the hand-written example model of docs/dialect.md (and of the
// README's main job) parses, verifies and keeps its structure through
// canonicalization: one attention, two norms, four linears, one GELU.

// CHECK-LABEL: func.func @gpt_block
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x16xf32>) -> tensor<1x?x16xf32>
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<1x?x16xf32>
// CHECK: sinter.layer_norm %[[X]]
// CHECK: %[[QKV:.*]] = sinter.linear {{.*}} transpose_weight
// CHECK: sinter.split %[[QKV]] axis 2 sizes [16, 16, 16]
// CHECK-COUNT-3: sinter.reshape {{.*}} to [1, %[[SEQ]], 2, 8]
// CHECK: sinter.attention {{.*}} causal scale 0.353553385
// CHECK: sinter.reshape {{.*}} to [1, %[[SEQ]], 16]
// CHECK: sinter.linear
// CHECK: %[[H:.*]] = sinter.add %[[X]]
// CHECK: sinter.layer_norm %[[H]]
// CHECK: sinter.linear
// CHECK: sinter.gelu {{.*}} approximate tanh
// CHECK: %[[FC2:.*]] = sinter.linear
// CHECK: %[[Y:.*]] = sinter.add %[[H]], %[[FC2]]
// CHECK: return %[[Y]]
