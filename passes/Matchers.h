//===- Matchers.h - Matching exported subgraphs -----------------*- C++ -*-===//
//
// Helpers shared by the fusion passes: exporters spell the same arithmetic
// in many orders (x * 0.5 * y, 0.5 * (x * y), y / 2 * x, ...), so the passes
// match on normalized views of the IR (a product as its factors and a
// constant coefficient, a slice as a range of its last axis) instead of on
// one literal op tree.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PASSES_MATCHERS_H
#define SINTER_PASSES_MATCHERS_H

#include "ir/Locations.h"
#include "ir/SinterOps.h"

#include "mlir/IR/PatternMatch.h"
#include <array>
#include <optional>

namespace sinter {

/// The value of a constant whose elements are all equal (a `sinter.constant`
/// or `arith.constant` splat, or a one-element tensor), as a double.
std::optional<double> getSplatValue(mlir::Value value);

/// True when `value` is a splat constant within `relTolerance` of `expected`.
bool isSplatNear(mlir::Value value, double expected,
                 double relTolerance = 1e-4);

/// `value` is a splat constant that broadcasts into `like` without changing
/// its shape (its type has no more elements per dimension than `like`).
bool isScalarLike(mlir::Value value, mlir::Value like);

/// A product seen as its factors: the non-constant factors (with
/// repetition; `pow(x, 3)` gives x three times) and the product of the
/// constant scalar factors. Interior ops (all but the root) must have one
/// use, so that a match can erase them.
struct Product {
  llvm::SmallVector<mlir::Value> factors;
  double coefficient = 1.0;
  /// The factors other than `x`, when `x` occurs exactly `times` times.
  std::optional<llvm::SmallVector<mlir::Value>> without(mlir::Value x,
                                                        int times = 1) const;
};

/// Flattens `mul`, `div` by a constant, `neg` and small integer `pow` trees
/// rooted at `root`; leaves (or ops with other uses) become factors.
/// Splat constants become part of the coefficient only when they do not
/// broadcast `root`'s shape.
Product flattenProduct(mlir::Value root);

/// The two operands of a commutative binary op in both orders, so that a
/// pattern names them by role: `for (auto [x, c] : bothOrders(mul))`.
std::array<std::pair<mlir::Value, mlir::Value>, 2>
bothOrders(mlir::Operation *op);

/// The other operand of a binary op, given one of them; null when `known`
/// is not an operand.
mlir::Value otherOperand(mlir::Operation *op, mlir::Value known);

/// The single user of `value`, if it has exactly one use.
mlir::Operation *singleUser(mlir::Value value);

/// `x` when `value` is `neg(x)` or `x * -1`.
mlir::Value negated(mlir::Value value);

/// The half-open range [begin, end) and step that `value` takes of `source`
/// along `source`'s last axis, when `value` is a `sinter.slice` (or a piece
/// of a `sinter.split`) that leaves every other dimension whole. The last
/// axis must have a static size.
struct LastAxisRange {
  mlir::Value source;
  int64_t begin = 0, end = 0, step = 1;
};
std::optional<LastAxisRange> matchLastAxisRange(mlir::Value value);

/// The input of a chain of ops that only reshape or copy (`reshape`,
/// `expand` to the same shape); used to see through cosmetic reshapes.
mlir::Value stripReshapes(mlir::Value value);

/// The sizes `shape` keeps once its leading 1s are dropped down to `rank`
/// dimensions; nullopt when a dropped dimension is not 1.
std::optional<llvm::SmallVector<int64_t>>
dropLeadingOnes(llvm::ArrayRef<int64_t> shape, int64_t rank);

/// `value` reshaped to `shape` (static), or `value` itself when it has that
/// shape already.
mlir::Value reshapeTo(mlir::PatternRewriter &rewriter, mlir::Location loc,
                      mlir::Value value, llvm::ArrayRef<int64_t> shape);

/// A float splat constant of the given type.
mlir::Value splatConstant(mlir::PatternRewriter &rewriter, mlir::Location loc,
                          mlir::RankedTensorType type, double value);

/// The bytes of a `dense_resource` constant's blob; nullopt for other
/// attributes and blobs that are not loaded.
std::optional<llvm::ArrayRef<char>> resourceBytes(mlir::ElementsAttr attr);

/// The elements of a constant of at most `maxElements` elements, as
/// doubles, in row-major order (float, integer and boolean constants,
/// inline or resources); nullopt for anything else.
std::optional<llvm::SmallVector<double>>
constantElements(mlir::Value value, int64_t maxElements = 1 << 22);

/// Applies fusion patterns greedily under `root`. Not reaching a fixpoint
/// within the driver's iteration limit leaves correct IR, so it is not an
/// error.
void applyFusionPatterns(mlir::Operation *root,
                         mlir::RewritePatternSet &&patterns);

} // namespace sinter

#endif // SINTER_PASSES_MATCHERS_H
