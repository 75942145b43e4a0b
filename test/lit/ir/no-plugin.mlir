// UNSUPPORTED: sanitizer
// RUN: not mlir-opt %s 2>&1 | FileCheck %s

// Tests the other side of dialect-plugin.mlir: without the plugin, upstream
// mlir-opt does not know the sinter dialect.

// CHECK: Dialect `sinter' not found for custom op 'sinter.gelu'
func.func @plugin(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sinter.gelu %x approximate tanh : tensor<4xf32>
  return %0 : tensor<4xf32>
}
