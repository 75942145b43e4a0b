// Upstream mlir-opt is not instrumented, so it cannot load a sanitized plugin.
// UNSUPPORTED: sanitizer
// RUN: mlir-opt --load-dialect-plugin=%sinter_lib_dir/SinterDialectPlugin.so %s \
// RUN:   | FileCheck %s
// RUN: sinter-opt --load-dialect-plugin=%sinter_lib_dir/SinterDialectPlugin.so %s \
// RUN:   | FileCheck %s

// Tests that the sinter dialect loads as a dialect plugin into upstream
// mlir-opt (which otherwise rejects sinter ops) and into sinter-opt.

// CHECK-LABEL: func @plugin
// CHECK: sinter.gelu %{{.*}} approximate tanh : tensor<4xf32>
func.func @plugin(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = sinter.gelu %x approximate tanh : tensor<4xf32>
  return %0 : tensor<4xf32>
}
