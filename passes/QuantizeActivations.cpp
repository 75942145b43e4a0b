//===- QuantizeActivations.cpp - int8 activations for int8 layers (W8A8) ---===//
//
// The rounding of activations is made explicit in the graph as
// dequantize(quantize(x)) in front of each int8 linear layer, so that an
// f32 lowering of the same IR (the generic path) computes exactly what the
// int8 kernel computes: code generation recognizes the pair and reads its
// integers. The rules are in Passes.td and docs/quantization.md, and
// test/e2e/quantize_numerics.py implements them again on its own.
//
//===----------------------------------------------------------------------===//

#include "passes/CalibrationStats.h"
#include "passes/Matchers.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <optional>

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_QUANTIZEACTIVATIONS
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// Whether `linear`'s weight is int8 with one scale per output column and
/// no zero points: what the int8 kernel multiplies int8 activations by.
bool hasPerColumnInt8Weight(LinearOp linear) {
  auto dq = linear.getWeight().getDefiningOp<DequantizeOp>();
  return dq && dq.isPerColumnInt8(linear.getTransposeWeight() ? 1 : 0);
}

struct QuantizeActivationsPass
    : sinter::impl::QuantizeActivationsBase<QuantizeActivationsPass> {
  using QuantizeActivationsBase::QuantizeActivationsBase;

  void runOnOperation() override {
    Operation *root = getOperation();
    const char *pass = "sinter-quantize-activations";
    if (scales != "dynamic" && scales != "static") {
      root->emitError() << pass << ": scales must be dynamic or static, got '"
                        << scales << "'";
      return signalPassFailure();
    }
    llvm::Regex keep(keepFp32);
    std::string regexError;
    if (!keepFp32.empty() && !keep.isValid(regexError)) {
      root->emitError() << pass << ": keep-fp32 '" << keepFp32
                        << "' is not a regular expression: " << regexError;
      return signalPassFailure();
    }
    llvm::StringMap<ChannelStats> stats;
    if (scales == "static") {
      FailureOr<llvm::StringMap<ChannelStats>> read =
          readStats(root, statsFile, pass);
      if (failed(read))
        return signalPassFailure();
      stats = std::move(*read);
    }

    // The rounded form of each value, shared by the layers that read it
    // (with static scales, the first reader's statistics decide: the
    // probe of a value lists all its readers with the same figures).
    llvm::DenseMap<Value, Value> rounded;
    int64_t missing = 0, done = 0;
    Operation *firstMissing = nullptr;
    root->walk([&](LinearOp linear) {
      SmallVector<StringRef> names;
      collectLocationNames(linear.getLoc(), names);
      if (!keepFp32.empty() &&
          llvm::any_of(names, [&](StringRef n) { return keep.match(n); }))
        return;
      Value x = linear.getInput();
      auto type = dyn_cast<RankedTensorType>(x.getType());
      if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
          type.isDynamicDim(type.getRank() - 1) ||
          !hasPerColumnInt8Weight(linear))
        return;
      auto it = rounded.find(x);
      if (it == rounded.end()) {
        std::optional<double> largest;
        if (scales == "static") {
          largest = calibratedAbsMax(linear, stats);
          if (!largest) {
            ++missing;
            if (!firstMissing)
              firstMissing = linear;
            return;
          }
        }
        it = rounded.try_emplace(x, roundedInput(x, largest)).first;
      }
      linear.getInputMutable().set(it->second);
      ++done;
    });
    if (missing)
      firstMissing->emitWarning()
          << pass << ": " << missing
          << " int8 layers have no calibration statistics in " << statsFile
          << " and keep f32 activations (this is the first; " << done
          << " take int8)";
  }

  /// The largest magnitude of `linear`'s input over the calibration
  /// samples: recorded on the layer by a pass that changed the input after
  /// calibration, else from the stats file; nullopt when unknown or 0.
  static std::optional<double>
  calibratedAbsMax(LinearOp linear, const llvm::StringMap<ChannelStats> &stats) {
    double largest = 0.0;
    if (auto recorded = linear->getAttrOfType<FloatAttr>(kCalibratedAbsMaxAttr)) {
      largest = recorded.getValueAsDouble();
    } else {
      auto found = stats.find(layerName(linear));
      if (found == stats.end())
        return std::nullopt;
      largest = std::max(std::fabs(found->second.min),
                         std::fabs(found->second.max));
    }
    if (!std::isfinite(largest) || largest <= 0.0)
      return std::nullopt;
    return largest;
  }

  /// dequantize(quantize(x)) after x's definition: with `largest` (the
  /// calibrated max |x|), one f32 scale largest / 127; without, per row at
  /// run time.
  Value roundedInput(Value x, std::optional<double> largest) {
    OpBuilder b(x.getContext());
    b.setInsertionPointAfterValue(x);
    Location loc = x.getLoc();
    auto type = cast<RankedTensorType>(x.getType());
    const int64_t rank = type.getRank();
    auto intType = RankedTensorType::get(type.getShape(), b.getIntegerType(8));
    if (largest) {
      // The f32 quotient, as the reference implementation computes it.
      float s = float(*largest) / 127.0f;
      Value scale = ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                 ArrayRef<float>(s)));
      Value q = QuantizeOp::create(b, loc, intType, x, scale, Value(),
                                   b.getI64IntegerAttr(0),
                                   b.getI64IntegerAttr(0));
      return DequantizeOp::create(b, loc, type, q, scale, Value(),
                                  b.getI64IntegerAttr(0),
                                  b.getI64IntegerAttr(0));
    }
    SmallVector<int64_t> rowShape(type.getShape());
    rowShape.back() = 1;
    auto dynamic = DynamicQuantizeOp::create(
        b, loc, intType, RankedTensorType::get(rowShape, b.getF32Type()), x);
    return DequantizeOp::create(
        b, loc, type, dynamic.getResult(), dynamic.getScale(), Value(),
        b.getI64IntegerAttr(rank - 1),
        b.getI64IntegerAttr(type.getDimSize(rank - 1)));
  }
};

} // namespace
