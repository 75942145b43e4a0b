//===- QuantizeWeights.cpp - Weight-only int8 / int4 quantization ---------===//
//
// Each constant weight becomes integers, scales (and zero points) behind a
// sinter.dequantize; the rules are in Passes.td and docs/quantization.md,
// and test/e2e/quantize_numerics.py implements them again on its own, so
// any change here must change both.
//
//===----------------------------------------------------------------------===//

#include "passes/Matchers.h"
#include "passes/WeightQuantization.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// A constant of `type` from one byte per element (i8, ui4, i4) or the
/// raw bfloat16 bits.
Value constantFromBytes(OpBuilder &b, Location loc, RankedTensorType type,
                        ArrayRef<char> bytes) {
  auto attr = DenseElementsAttr::getFromRawBuffer(type, bytes);
  return ConstantOp::create(b, loc, attr);
}

struct QuantizeWeightsPass
    : sinter::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  void runOnOperation() override {
    Operation *root = getOperation();
    if (bits != 8 && bits != 4) {
      root->emitError() << "sinter-quantize-weights: bits must be 8 or 4, got "
                        << unsigned(bits);
      return signalPassFailure();
    }
    if (groupSize < 0) {
      root->emitError() << "sinter-quantize-weights: group-size must be >= 0, "
                           "got "
                        << int64_t(groupSize);
      return signalPassFailure();
    }
    std::string error;
    llvm::Regex pattern(keepFp32);
    keep = &pattern;
    done.clear();
    if (!keepFp32.empty() && !pattern.isValid(error)) {
      root->emitError() << "sinter-quantize-weights: keep-fp32 '" << keepFp32
                        << "' is not a regular expression: " << error;
      return signalPassFailure();
    }

    root->walk([&](Operation *op) {
      if (kept(op))
        return;
      if (auto linear = dyn_cast<LinearOp>(op)) {
        quantizeOperand(linear.getWeightMutable(),
                        linear.getTransposeWeight() ? 1 : 0);
        if (linear.getBias())
          narrowVector(linear.getBiasMutable()[0]);
      } else if (auto matmul = dyn_cast<MatmulOp>(op)) {
        int64_t rank = matmul.getRhs().getType().getRank();
        if (rank >= 2)
          quantizeOperand(matmul.getRhsMutable(), rank - 2);
      } else if (auto gather = dyn_cast<GatherOp>(op)) {
        auto data = cast<RankedTensorType>(gather.getData().getType());
        if (gather.getAxis() == 0 && data.getRank() >= 2)
          quantizeOperand(gather.getDataMutable(), data.getRank() - 1);
      } else if (auto conv = dyn_cast<ConvOp>(op)) {
        quantizeFlattened(conv.getWeightMutable());
        if (conv.getBias())
          narrowVector(conv.getBiasMutable()[0]);
      } else if (isa<LayerNormOp, RmsNormOp, AddNormOp>(op)) {
        for (OpOperand &operand : op->getOpOperands())
          if (cast<RankedTensorType>(operand.get().getType()).getRank() == 1)
            narrowVector(operand);
      }
      // Tensors added to activations (position embeddings; after fusion
      // also the residual operand of add_norm).
      if (auto add = dyn_cast<AddOp>(op))
        quantizeAddend(add->getOpOperands());
      else if (auto addNorm = dyn_cast<AddNormOp>(op))
        quantizeAddend(addNorm->getOpOperands().take_front(2));
    });
    // The f32 originals have no users left (unless an op that is kept
    // still reads them).
    root->walk([](ConstantOp constant) {
      if (constant->use_empty())
        constant->erase();
    });
  }

  bool matchesKeep(Location loc) {
    if (keepFp32.empty())
      return false;
    SmallVector<StringRef> names;
    collectLocationNames(loc, names);
    return llvm::any_of(names, [&](StringRef name) { return keep->match(name); });
  }

  bool kept(Operation *op) { return matchesKeep(op->getLoc()); }

  int64_t blockFor(int64_t size) {
    return quantizationBlock(size, bits, groupSize);
  }

  /// Replaces the f32 constant in `operand` by its quantized form, blocked
  /// along `axis`; shared constants are quantized once per axis.
  void quantizeOperand(OpOperand &operand, int64_t axis) {
    if (Value dequantized = quantized(operand.get(), axis))
      operand.set(dequantized);
  }

  /// sinter.dequantize of `value` (an f32 constant) quantized in blocks
  /// along `axis`; null when it is not such a constant or is kept.
  Value quantized(Value value, int64_t axis) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || !type.getElementType().isF32() || !type.hasStaticShape() ||
        type.getNumElements() == 0 || matchesKeep(value.getLoc()))
      return Value();
    auto key = std::make_pair(value, axis);
    if (auto it = done.find(key); it != done.end())
      return it->second;
    std::optional<std::vector<float>> values = f32Values(value);
    if (!values)
      return Value();
    ArrayRef<int64_t> shape = type.getShape();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= shape[d];
    for (int64_t d = axis + 1; d < int64_t(shape.size()); ++d)
      inner *= shape[d];
    int64_t block = blockFor(shape[axis]);
    std::optional<Quantized> quantized =
        quantize(*values, outer, shape[axis], inner, block, bits);
    if (!quantized) {
      value.getDefiningOp()->emitWarning()
          << "kept in f32: holds values too large or not finite to quantize";
      return Value();
    }
    OpBuilder b(value.getDefiningOp());
    b.setInsertionPointAfter(value.getDefiningOp());
    Location loc = value.getLoc();
    Type intType = bits == 8 ? Type(b.getIntegerType(8))
                             : Type(IntegerType::get(b.getContext(), 4,
                                                     IntegerType::Unsigned));
    SmallVector<int64_t> scaleShape(shape);
    scaleShape[axis] = (shape[axis] + block - 1) / block;
    auto bytesOf = [](const std::vector<int8_t> &v) {
      return ArrayRef<char>(reinterpret_cast<const char *>(v.data()), v.size());
    };
    Value q = constantFromBytes(b, loc, RankedTensorType::get(shape, intType),
                                bytesOf(quantized->q));
    std::vector<uint16_t> scaleBits;
    for (float s : quantized->scales)
      scaleBits.push_back(bfloat16Bits(s));
    Value scale = constantFromBytes(
        b, loc, RankedTensorType::get(scaleShape, b.getBF16Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(scaleBits.data()),
                       scaleBits.size() * 2));
    Value zeroPoint;
    if (bits == 4)
      zeroPoint = constantFromBytes(
          b, loc, RankedTensorType::get(scaleShape, intType),
          bytesOf(quantized->zeroPoints));
    Value dequantized = DequantizeOp::create(
        b, loc, type, q, scale, zeroPoint, b.getI64IntegerAttr(axis),
        b.getI64IntegerAttr(block));
    done[key] = dequantized;
    return dequantized;
  }

  /// A conv weight [out, in, k...] quantized as [out, in * k...] (groups
  /// along whole filters), then reshaped back.
  void quantizeFlattened(OpOperand &operand) {
    Value value = operand.get();
    auto type = dyn_cast<RankedTensorType>(value.getType());
    auto constant = value.getDefiningOp<ConstantOp>();
    if (!constant || !type || !type.getElementType().isF32() ||
        !type.hasStaticShape() || type.getRank() < 2 ||
        type.getNumElements() == 0 || matchesKeep(value.getLoc()))
      return;
    std::optional<std::vector<float>> values = f32Values(value);
    if (!values)
      return;
    int64_t out = type.getDimSize(0), rest = type.getNumElements() / out;
    OpBuilder b(constant);
    b.setInsertionPointAfter(constant);
    auto flat = ConstantOp::create(
        b, constant.getLoc(),
        DenseElementsAttr::get(
            RankedTensorType::get({out, rest}, b.getF32Type()),
            ArrayRef<float>(*values)));
    Value dequantized = quantized(flat, 1);
    if (!dequantized)
      return;
    b.setInsertionPointAfterValue(dequantized);
    operand.set(ReshapeOp::create(b, constant.getLoc(), dequantized,
                                  ValueRange{},
                                  b.getDenseI64ArrayAttr(type.getShape())));
  }

  /// The constants of rank >= 2 with at least 1024 elements among
  /// `operands`, quantized along their last dimension.
  void quantizeAddend(MutableArrayRef<OpOperand> operands) {
    for (OpOperand &operand : operands) {
      auto type = cast<RankedTensorType>(operand.get().getType());
      if (type.getRank() >= 2 && type.hasStaticShape() &&
          type.getNumElements() >= 1024)
        quantizeOperand(operand, type.getRank() - 1);
    }
  }

  /// A 1-D f32 constant of at least 16 elements (a bias, a norm's scale or
  /// offset) stored as bfloat16 and widened where it is read.
  void narrowVector(OpOperand &operand) {
    Value value = operand.get();
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || type.getRank() != 1 || !type.getElementType().isF32() ||
        !type.hasStaticShape() || type.getNumElements() < 16 ||
        matchesKeep(value.getLoc()))
      return;
    auto key = std::make_pair(value, int64_t(-1));
    if (auto it = done.find(key); it != done.end()) {
      operand.set(it->second);
      return;
    }
    std::optional<std::vector<float>> values = f32Values(value);
    if (!values)
      return;
    std::vector<uint16_t> halves;
    for (float x : *values) {
      if (!std::isfinite(x))
        return;
      // Round to nearest even.
      uint32_t bits32;
      std::memcpy(&bits32, &x, 4);
      bits32 += 0x7fffu + ((bits32 >> 16) & 1);
      halves.push_back(uint16_t(bits32 >> 16));
    }
    OpBuilder b(value.getDefiningOp());
    b.setInsertionPointAfter(value.getDefiningOp());
    Value narrow = constantFromBytes(
        b, value.getLoc(),
        RankedTensorType::get(type.getShape(), b.getBF16Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(halves.data()),
                       halves.size() * 2));
    Value widened = CastOp::create(b, value.getLoc(), type, narrow);
    done[key] = widened;
    operand.set(widened);
  }

  /// keep-fp32, compiled for the current run.
  llvm::Regex *keep = nullptr;
  llvm::DenseMap<std::pair<Value, int64_t>, Value> done;
};

} // namespace
