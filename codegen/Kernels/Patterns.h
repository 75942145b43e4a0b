//===- Patterns.h - Calls of the runtime's kernels by family ----*- C++ -*-===//
//
// The patterns of `sinter-lower-to-kernels` (LowerToKernels.cpp), one
// populate function per kernel family, each defined in the file of that
// name.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_KERNELS_PATTERNS_H
#define SINTER_CODEGEN_KERNELS_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace sinter {

/// Attention.cpp: f32 attention as the flash-attention kernel.
void populateAttentionKernelPatterns(mlir::RewritePatternSet &patterns);

/// Norm.cpp: f32 layer_norm, rms_norm, add_norm as the norm kernel.
void populateNormKernelPatterns(mlir::RewritePatternSet &patterns);

/// Matmul.cpp: f32 linear, matmul, conv as the matmul and conv kernels,
/// depthwise conv as the depthwise kernel; quantized weights (and W8A8
/// linears) as the quantized matmul kernels.
void populateMatmulKernelPatterns(mlir::RewritePatternSet &patterns);

} // namespace sinter

#endif // SINTER_CODEGEN_KERNELS_PATTERNS_H
