// RUN: sinter-opt %s --sinter-scale-activations="stats=%S/Inputs/scale-stats.json method=smooth alpha=0.5" -split-input-file -verify-diagnostics | FileCheck %s
// RUN: not sinter-opt %s --sinter-scale-activations="method=smooth" 2>&1 | FileCheck %s --check-prefix=NO-STATS
// RUN: not sinter-opt %s --sinter-scale-activations="stats=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not sinter-opt %s --sinter-scale-activations="stats=%S/Inputs/stats-version-2.json" 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not sinter-opt %s --sinter-scale-activations="stats=%S/Inputs/scale-stats.json method=gptq" 2>&1 | FileCheck %s --check-prefix=METHOD

// SmoothQuant's scales with alpha 0.5, s = sqrt(max|x| / max|W|) per
// channel, from the hand-written statistics of Inputs/scale-stats.json.
// The norm's output (max|x| 4 and 1) feeds /a and /b, whose rows have
// max|W| 1 and 4 between them: s = [2, 0.5]. Every reader is scaled, so
// the norm's scale [1, 1] and offset [0.5, 0.5] become [0.5, 2] and
// [0.25, 1], and the weight rows are multiplied by s. The GELU's output
// (max|x| 1 and 4) feeds /c (max|W| 4 and 1): s = [0.5, 2], applied by a
// mul by 1/s = [2, 0.5] before /c. /d reads a value without statistics
// and is left alone, with a warning. The scaled layers record their input's
// new largest magnitude, max over k of max|x_k| / s_k = 2 for both values,
// for static int8 activations.
// CHECK-LABEL: func @smooth
// CHECK: %[[WD:.*]] = sinter.constant dense<{{\[\[}}4.000000e+00, 4.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[GAMMA:.*]] = sinter.constant dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[BETA:.*]] = sinter.constant dense<[2.500000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[N:.*]] = sinter.layer_norm %arg0, %[[GAMMA]], %[[BETA]] axis 1
// CHECK: %[[WA:.*]] = sinter.constant dense<{{\[\[}}2.000000e+00, 1.000000e+00], [1.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK: sinter.linear %[[N]], %[[WA]] {sinter.calibrated_abs_max = 2.000000e+00 : f64}
// CHECK: %[[WB:.*]] = sinter.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00], [5.000000e-01, 5.000000e-01]]> : tensor<2x2xf32>
// CHECK: sinter.linear %[[N]], %[[WB]] {sinter.calibrated_abs_max = 2.000000e+00 : f64}
// CHECK: %[[G:.*]] = sinter.gelu
// CHECK: %[[INV:.*]] = sinter.constant dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK: %[[GS:.*]] = sinter.mul %[[G]], %[[INV]]
// CHECK: %[[WC:.*]] = sinter.constant dense<2.000000e+00> : tensor<2x2xf32>
// CHECK: sinter.linear %[[GS]], %[[WC]] {sinter.calibrated_abs_max = 2.000000e+00 : f64}
// CHECK: sinter.linear %arg0, %[[WD]] :
func.func @smooth(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %gamma = sinter.constant dense<1.0> : tensor<2xf32>
  %beta = sinter.constant dense<0.5> : tensor<2xf32>
  %wa = sinter.constant dense<[[1.0, 0.5], [2.0, 4.0]]> : tensor<2x2xf32>
  %wb = sinter.constant dense<[[0.5, 0.5], [1.0, 1.0]]> : tensor<2x2xf32>
  %wc = sinter.constant dense<[[4.0, 4.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %n = sinter.layer_norm %x, %gamma, %beta axis 1 epsilon 1.0e-05 : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %a = sinter.linear %n, %wa : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32> loc("/a")
  %b = sinter.linear %n, %wb : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32> loc("/b")
  %g = sinter.gelu %x approximate none : tensor<4x2xf32>
  %c = sinter.linear %g, %wc : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32> loc("/c")
  // expected-warning @+1 {{sinter-scale-activations: 1 layers have no calibration statistics}}
  %d = sinter.linear %x, %wc : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %a, %b, %c, %d : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}

// NO-STATS: error: sinter-scale-activations: needs the stats file of sinterc --calibrate (option stats)
// MISSING: error: sinter-scale-activations: cannot read {{.*}}missing.json
// VERSION: error: sinter-scale-activations: {{.*}}stats-version-2.json has version 2; this compiler reads version 1
// METHOD: error: sinter-scale-activations: method must be awq or smooth, got 'gptq'
