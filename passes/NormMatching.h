//===- NormMatching.h - What the two norm fusions share ---------*- C++ -*-===//

#ifndef SINTER_PASSES_NORMMATCHING_H
#define SINTER_PASSES_NORMMATCHING_H

#include "passes/Matchers.h"

namespace sinter {

/// The first normalized axis when `mean` averages `input` over its trailing
/// axes with kept dimensions (what a norm does); nullopt otherwise.
std::optional<int64_t> trailingReductionAxis(ReduceMeanOp mean);

/// Matches `f(v + eps)` with f one of sqrt or, when `inverse`, one of
/// rsqrt, reciprocal(sqrt), 1 / sqrt; returns v's defining op's result and
/// eps (0 when there is no addition). Interior ops must have one use.
struct RootOfSum {
  mlir::Value radicand;
  double epsilon = 0.0;
};
std::optional<RootOfSum> matchRoot(mlir::Value value, bool inverse);

/// `numerator` divided by sqrt(radicand + eps) in any of the spellings
/// exporters use: `n / sqrt(...)`, `n * rsqrt(...)`, `n * (1 / sqrt(...))`,
/// `n * reciprocal(sqrt(...))`. `op` is the candidate division or product.
std::optional<RootOfSum> matchNormalization(mlir::Operation *op,
                                            mlir::Value numerator);

/// Follows the single use of `normalized` through a `* gamma` and (when
/// `withBias`) a `+ beta` whose shapes are the normalized trailing shape
/// `shape` (leading 1s allowed). Returns the last op absorbed.
struct Affine {
  mlir::Operation *last = nullptr;
  mlir::Value gamma, beta;
};
Affine absorbAffine(mlir::Value normalized, llvm::ArrayRef<int64_t> shape,
                    bool withBias);

/// gamma/beta as the op wants them: reshaped to the normalized shape, or
/// ones when absent.
mlir::Value normParameter(mlir::PatternRewriter &rewriter, mlir::Location loc,
                          mlir::Value value, llvm::ArrayRef<int64_t> shape,
                          mlir::Type elementType, bool onesWhenAbsent);

} // namespace sinter

#endif // SINTER_PASSES_NORMMATCHING_H
