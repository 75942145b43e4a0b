//===- DeduplicateConstants.cpp - Merge constants by contents -------------===//

#include "passes/Matchers.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_DEDUPLICATECONSTANTS
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// A splat with the resource's one repeated element, or null when its
/// elements differ (or the element type is not a byte multiple).
DenseElementsAttr asSplat(ShapedType type, ArrayRef<char> bytes) {
  if (!type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0 || type.getNumElements() == 0)
    return {};
  size_t width = type.getElementTypeBitWidth() / 8;
  if (bytes.size() != width * type.getNumElements())
    return {};
  ArrayRef<char> first = bytes.take_front(width);
  for (size_t at = width; at < bytes.size(); at += width)
    if (bytes.slice(at, width) != first)
      return {};
  return DenseElementsAttr::getFromRawBuffer(
      RankedTensorType::get({}, type.getElementType()), first)
      .reshape(type);
}

struct DeduplicateConstantsPass
    : sinter::impl::DeduplicateConstantsBase<DeduplicateConstantsPass> {
  void runOnOperation() override {
    getOperation()->walk([](Block *block) {
      // (type, content hash) -> the first constant with that content.
      llvm::DenseMap<std::pair<Type, llvm::hash_code>, SmallVector<ConstantOp>>
          seen;
      for (Operation &op : llvm::make_early_inc_range(*block)) {
        auto constant = dyn_cast<ConstantOp>(op);
        if (!constant)
          continue;
        std::optional<ArrayRef<char>> bytes =
            resourceBytes(constant.getValue());
        if (!bytes)
          continue;
        auto type = cast<ShapedType>(constant.getType());
        if (DenseElementsAttr splat = asSplat(type, *bytes)) {
          constant.setValueAttr(splat);
          continue;
        }
        auto key = std::make_pair(Type(type), llvm::hash_value(*bytes));
        SmallVector<ConstantOp> &candidates = seen[key];
        auto same = llvm::find_if(candidates, [&](ConstantOp earlier) {
          return resourceBytes(earlier.getValue()) == bytes;
        });
        if (same == candidates.end()) {
          candidates.push_back(constant);
          continue;
        }
        constant.replaceAllUsesWith(same->getResult());
        constant.erase();
      }
    });
  }
};

} // namespace
