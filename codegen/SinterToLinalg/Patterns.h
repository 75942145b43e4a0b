//===- Patterns.h - The sinter to linalg patterns by op family --*- C++ -*-===//
//
// One populate function per op family, each defined in the file of that
// name; ConvertSinterToLinalg (codegen/SinterToLinalg.cpp) applies them.
// The calls of the runtime's kernels are a pass of their own that runs
// before (codegen/Kernels/).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CODEGEN_SINTERTOLINALG_PATTERNS_H
#define SINTER_CODEGEN_SINTERTOLINALG_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace sinter {

/// Elementwise.cpp: unary, binary, comparison and select ops, GELU, casts,
/// constants.
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);

/// Contractions.cpp: matmul, linear, conv.
void populateContractionPatterns(mlir::RewritePatternSet &patterns);

/// Reductions.cpp: reduce_{sum,mean,max,min,prod}, softmax, log_softmax, topk,
/// cumsum.
void populateReductionPatterns(mlir::RewritePatternSet &patterns);

/// DataMovement.cpp: transpose, reshape, expand, slice, concat, split,
/// gather, gather_elements, scatter_elements, range, trilu.
void populateDataMovementPatterns(mlir::RewritePatternSet &patterns);

/// DataMovement.cpp: the gathers whose table is a sinter.dequantize that
/// can be read through its integers (a quantized embedding: only the
/// gathered rows are dequantized). They must match while the dequantize is
/// still a sinter op, so ConvertSinterToLinalg applies them in a round of
/// their own before the other patterns.
void populateGatherOfDequantizedPatterns(mlir::RewritePatternSet &patterns);

/// Resampling.cpp: pad, resize.
void populateResamplingPatterns(mlir::RewritePatternSet &patterns);

/// Quantization.cpp: quantize, dynamic_quantize, dequantize.
void populateQuantizationPatterns(mlir::RewritePatternSet &patterns);

/// Composites.cpp: layer_norm, rms_norm, add_norm, attention,
/// rotary_embedding, decomposed.
void populateCompositePatterns(mlir::RewritePatternSet &patterns);

/// Vision.cpp: pool, max_pool_indices, conv_transpose, depthwise conv.
void populateVisionPatterns(mlir::RewritePatternSet &patterns);
/// Math.cpp: tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, rem,
/// shift_left, shift_right, argmax, argmin.
void populateMathPatterns(mlir::RewritePatternSet &patterns);

/// Probes.cpp: probe_tensor, probe_attention, probe_routing.
void populateProbePatterns(mlir::RewritePatternSet &patterns);

} // namespace sinter

#endif // SINTER_CODEGEN_SINTERTOLINALG_PATTERNS_H
