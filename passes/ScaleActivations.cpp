//===- ScaleActivations.cpp - AWQ and SmoothQuant channel scales ----------===//
//
// x * W = (x / s) * (s * W) for any positive per-channel s: the choice of s
// decides whether an activation channel's range is carried by the
// activation or by the weight row it meets. Weight-only quantization wants
// the rows that meet large activations rounded finely (AWQ); int8
// activations want the activations' outlier channels tamed (SmoothQuant).
// Both choices come from the calibration statistics.
//
//===----------------------------------------------------------------------===//

#include "passes/CalibrationStats.h"
#include "passes/Matchers.h"
#include "passes/Passes.h"
#include "passes/WeightQuantization.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace sinter {
#define GEN_PASS_DEF_SCALEACTIVATIONS
#include "passes/Passes.h.inc"
} // namespace sinter

using namespace sinter;

namespace {

/// A layer reading the scaled value: its weight viewed as [outer, K,
/// inner] around the input channels K.
struct Member {
  Operation *op;
  OpOperand *input, *weight;
  std::vector<float> values;
  int64_t outer, channels, inner;

  /// The weight with row k (input channel k) multiplied by s[k].
  std::vector<float> scaledBy(ArrayRef<float> s) const {
    std::vector<float> scaled(values);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < channels; ++k)
        for (int64_t i = 0; i < inner; ++i)
          scaled[(o * channels + k) * inner + i] *= s[k];
    return scaled;
  }
};

struct ScaleActivationsPass
    : sinter::impl::ScaleActivationsBase<ScaleActivationsPass> {
  using ScaleActivationsBase::ScaleActivationsBase;

  void runOnOperation() override {
    Operation *root = getOperation();
    if (method != "awq" && method != "smooth") {
      root->emitError() << "sinter-scale-activations: method must be awq or "
                           "smooth, got '"
                        << method << "'";
      return signalPassFailure();
    }
    if (method == "smooth" && !(alpha >= 0.0 && alpha <= 1.0)) {
      root->emitError() << "sinter-scale-activations: alpha must be in [0, "
                           "1], got "
                        << double(alpha);
      return signalPassFailure();
    }
    if (method == "awq" && bits != 4 && bits != 8) {
      root->emitError() << "sinter-scale-activations: bits must be 8 or 4, "
                           "got "
                        << unsigned(bits);
      return signalPassFailure();
    }
    llvm::Regex keep(keepFp32);
    std::string regexError;
    if (!keepFp32.empty() && !keep.isValid(regexError)) {
      root->emitError() << "sinter-scale-activations: keep-fp32 '" << keepFp32
                        << "' is not a regular expression: " << regexError;
      return signalPassFailure();
    }
    FailureOr<llvm::StringMap<ChannelStats>> stats =
        readStats(root, statsFile, "sinter-scale-activations");
    if (failed(stats))
      return signalPassFailure();

    // The layers by the value they read, in program order.
    llvm::MapVector<Value, SmallVector<Member>> groups;
    root->walk([&](Operation *op) {
      SmallVector<StringRef> names;
      collectLocationNames(op->getLoc(), names);
      if (!keepFp32.empty() &&
          llvm::any_of(names, [&](StringRef n) { return keep.match(n); }))
        return;
      Member member{op, nullptr, nullptr, {}, 1, 0, 1};
      ArrayRef<int64_t> shape;
      int64_t axis = 0;
      if (auto linear = dyn_cast<LinearOp>(op)) {
        member.input = &linear.getInputMutable();
        member.weight = &linear.getWeightMutable();
        shape = linear.getWeight().getType().getShape();
        axis = linear.getTransposeWeight() ? 1 : 0;
      } else if (auto matmul = dyn_cast<MatmulOp>(op)) {
        if (matmul.getRhs().getType().getRank() < 2 ||
            matmul.getLhs().getType().getRank() < 1)
          return;
        member.input = &matmul.getLhsMutable();
        member.weight = &matmul.getRhsMutable();
        shape = matmul.getRhs().getType().getShape();
        axis = int64_t(shape.size()) - 2;
      } else {
        return;
      }
      std::optional<std::vector<float>> values =
          f32Values(member.weight->get());
      if (!values || !getElementTypeOrSelf(member.input->get().getType())
                          .isF32())
        return;
      member.values = std::move(*values);
      for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
        if (d < axis)
          member.outer *= shape[d];
        else if (d > axis)
          member.inner *= shape[d];
      }
      member.channels = shape[axis];
      groups[member.input->get()].push_back(std::move(member));
    });

    int64_t missing = 0, scaled = 0;
    Operation *firstMissing = nullptr;
    for (auto &[value, members] : groups) {
      const ChannelStats *found = nullptr;
      for (const Member &member : members) {
        auto it = stats->find(layerName(member.op));
        if (it != stats->end()) {
          found = &it->second;
          break;
        }
      }
      int64_t channels = members.front().channels;
      if (!found || int64_t(found->absMean.size()) != channels ||
          int64_t(found->absMax.size()) != channels ||
          int64_t(found->meanSquare.size()) != channels ||
          int64_t(found->mean.size()) != channels ||
          llvm::any_of(members,
                       [&](const Member &m) { return m.channels != channels; })) {
        missing += members.size();
        if (!firstMissing)
          firstMissing = members.front().op;
        continue;
      }
      std::optional<std::vector<float>> scales =
          method == "awq" ? searchAwq(*found, members)
                          : smoothScales(*found, members);
      // AWQ also clips each group's range where the sampled activations
      // say that rounds better.
      bool clipping = clip && method == "awq" && found->sampleRows > 0;
      if (!scales && !clipping)
        continue;
      std::vector<float> applied =
          scales ? *scales : std::vector<float>(channels, 1.0f);
      apply(value, members, applied, clipping ? found : nullptr);
      // The statistics describe the value before the division by s: what
      // static int8 activations need of the divided value (its largest
      // magnitude) goes on the layers that now read it.
      double largest = 0.0;
      for (int64_t k = 0; k < channels; ++k)
        largest = std::max(largest, found->absMax[k] / applied[k]);
      for (const Member &m : members)
        m.op->setAttr(kCalibratedAbsMaxAttr,
                      FloatAttr::get(Float64Type::get(m.op->getContext()),
                                     largest));
      scaled += members.size();
    }
    // The f32 originals of what was rewritten.
    root->walk([](ConstantOp constant) {
      if (constant->use_empty())
        constant->erase();
    });
    if (missing)
      firstMissing->emitWarning()
          << "sinter-scale-activations: " << missing
          << " layers have no calibration statistics in " << statsFile
          << " and keep their scales (this is the first; " << scaled
          << " scaled)";
  }

  int64_t blockFor(int64_t channels) const {
    return quantizationBlock(channels, bits, groupSize);
  }

  /// The expected squared output error E|x D|^2 of the rounding
  /// D = dequantize(quantize(s W)) / s - W, summed over the group's layers
  /// and outputs, with the channels of x taken as independent:
  /// sum_k Var[x_k] D_k^2 + (sum_k E[x_k] D_k)^2 per output. The mean term
  /// matters after GELU and SiLU, whose outputs are mostly positive.
  /// Infinity when some weight cannot be quantized.
  double roundingError(const ChannelStats &stats, ArrayRef<Member> members,
                       ArrayRef<float> s) const {
    double error = 0;
    int64_t channels = s.size();
    for (const Member &m : members) {
      std::vector<float> scaled = m.scaledBy(s);
      int64_t block = blockFor(m.channels);
      int64_t blocks = (m.channels + block - 1) / block;
      std::optional<Quantized> q =
          quantize(scaled, m.outer, m.channels, m.inner, block, bits);
      if (!q)
        return INFINITY;
      if (stats.sampleRows > 0) {
        // |x D|^2 over the sampled rows x: the error AWQ measures.
        std::vector<float> d(m.values.size());
        for (int64_t o = 0; o < m.outer; ++o)
          for (int64_t k = 0; k < m.channels; ++k)
            for (int64_t i = 0; i < m.inner; ++i) {
              int64_t index = (o * m.channels + k) * m.inner + i;
              int64_t scaleIndex = (o * blocks + k / block) * m.inner + i;
              d[index] = q->dequantized(index, scaleIndex) / s[k] -
                         m.values[index];
            }
        std::vector<double> y(m.inner);
        for (int64_t r = 0; r < stats.sampleRows; ++r) {
          const float *x = &stats.samples[r * channels];
          for (int64_t o = 0; o < m.outer; ++o) {
            std::fill(y.begin(), y.end(), 0.0);
            for (int64_t k = 0; k < m.channels; ++k) {
              const float *row = &d[(o * m.channels + k) * m.inner];
              double xk = x[k];
              for (int64_t i = 0; i < m.inner; ++i)
                y[i] += xk * row[i];
            }
            for (double v : y)
              error += v * v;
          }
        }
        continue;
      }
      // Without sampled rows: the variance term and the mean's projection
      // per output (o, i).
      std::vector<double> bias(m.outer * m.inner, 0.0);
      for (int64_t o = 0; o < m.outer; ++o)
        for (int64_t k = 0; k < m.channels; ++k) {
          double variance = std::max(
              stats.meanSquare[k] - stats.mean[k] * stats.mean[k], 0.0);
          for (int64_t i = 0; i < m.inner; ++i) {
            int64_t index = (o * m.channels + k) * m.inner + i;
            int64_t scaleIndex = (o * blocks + k / block) * m.inner + i;
            double d = double(q->dequantized(index, scaleIndex)) / s[k] -
                       m.values[index];
            error += variance * d * d;
            bias[o * m.inner + i] += stats.mean[k] * d;
          }
        }
      for (double b : bias)
        error += b * b;
    }
    return error;
  }

  /// AWQ: s = m^a, normalized, with a from the grid that rounds best;
  /// nullopt when a = 0 (no scaling) is best.
  std::optional<std::vector<float>>
  searchAwq(const ChannelStats &stats, ArrayRef<Member> members) const {
    int64_t channels = stats.absMean.size();
    std::vector<float> best(channels, 1.0f);
    double plainError = roundingError(stats, members, best);
    double bestError = plainError;
    bool improved = false;
    for (int step = 1; step < 20; ++step) {
      double a = step / 20.0;
      std::vector<float> s(channels);
      double lo = INFINITY, hi = 0;
      for (int64_t k = 0; k < channels; ++k) {
        s[k] = float(std::pow(std::max(stats.absMean[k], 1e-4), a));
        lo = std::min(lo, double(s[k]));
        hi = std::max(hi, double(s[k]));
      }
      float norm = float(std::sqrt(lo * hi));
      for (float &x : s)
        x /= norm;
      double error = roundingError(stats, members, s);
      if (error < bestError) {
        bestError = error;
        best = std::move(s);
        improved = true;
      }
    }
    // Gains of a few percent on a few hundred sampled rows are fitted noise
    // more than a better rounding: on the trained LM they cost 0.001-0.003
    // bit per byte.
    if (!improved || bestError > (1.0 - minGain) * plainError)
      return std::nullopt;
    return best;
  }

  /// SmoothQuant: s = max|x|^alpha / max|W|^(1 - alpha) per channel
  /// (channels that are zero on either side keep 1).
  std::optional<std::vector<float>>
  smoothScales(const ChannelStats &stats, ArrayRef<Member> members) const {
    int64_t channels = stats.absMax.size();
    std::vector<double> weightMax(channels, 0.0);
    for (const Member &m : members)
      for (int64_t o = 0; o < m.outer; ++o)
        for (int64_t k = 0; k < channels; ++k)
          for (int64_t i = 0; i < m.inner; ++i)
            weightMax[k] =
                std::max(weightMax[k],
                         double(std::fabs(
                             m.values[(o * channels + k) * m.inner + i])));
    std::vector<float> s(channels, 1.0f);
    for (int64_t k = 0; k < channels; ++k)
      if (stats.absMax[k] > 0 && weightMax[k] > 0)
        s[k] = float(std::pow(stats.absMax[k], double(alpha)) /
                     std::pow(weightMax[k], 1.0 - double(alpha)));
    return s;
  }

  /// A constant f32 vector of `values`.
  static Value vector(OpBuilder &b, Location loc, ArrayRef<float> values) {
    auto type = RankedTensorType::get({int64_t(values.size())}, b.getF32Type());
    return ConstantOp::create(b, loc, DenseElementsAttr::get(type, values));
  }

  /// AWQ's clipping search: each group of `w` (scaled weights, the layout
  /// of `m`) is clamped to r times its range, with r from 1, 0.95, ...,
  /// 0.55 chosen to minimize the group's share of |x D|^2 over the sampled
  /// rows x (divided by s, as the scaled layer sees them).
  void clipGroups(const ChannelStats &stats, const Member &m,
                  ArrayRef<float> s, std::vector<float> &w) const {
    int64_t channels = m.channels, block = blockFor(channels);
    // At most 64 rows: the search runs per group and output.
    int64_t rows = std::min<int64_t>(stats.sampleRows, 64);
    std::vector<float> x(rows * channels);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < channels; ++k)
        x[r * channels + k] = stats.samples[r * channels + k] / s[k];
    std::vector<float> group, clamped;
    for (int64_t o = 0; o < m.outer; ++o)
      for (int64_t i = 0; i < m.inner; ++i)
        for (int64_t start = 0; start < channels; start += block) {
          int64_t length = std::min(block, channels - start);
          auto at = [&](int64_t k) {
            return (o * channels + start + k) * m.inner + i;
          };
          group.resize(length);
          float lo = 0, hi = 0;
          for (int64_t k = 0; k < length; ++k) {
            group[k] = w[at(k)];
            lo = std::min(lo, group[k]);
            hi = std::max(hi, group[k]);
          }
          if (bits == 8)
            lo = -(hi = std::max(hi, -lo));
          double bestError = INFINITY;
          float bestRatio = 1.0f;
          for (int step = 0; step < 10; ++step) {
            float ratio = 1.0f - 0.05f * step;
            clamped.resize(length);
            for (int64_t k = 0; k < length; ++k)
              clamped[k] = std::clamp(group[k], ratio * lo, ratio * hi);
            std::optional<Quantized> q =
                quantize(clamped, 1, length, 1, length, bits);
            if (!q)
              return;
            double error = 0;
            for (int64_t r = 0; r < rows; ++r) {
              double y = 0;
              for (int64_t k = 0; k < length; ++k)
                y += double(x[r * channels + start + k]) *
                     (q->dequantized(k, 0) - group[k]);
              error += y * y;
            }
            if (error < bestError) {
              bestError = error;
              bestRatio = ratio;
            }
          }
          for (int64_t k = 0; k < length; ++k)
            w[at(k)] = std::clamp(group[k], bestRatio * lo, bestRatio * hi);
        }
  }

  /// Divides the value by s (in the norm that makes it, or by a mul) and
  /// multiplies each member's weight rows by s; with `clip`, clips the
  /// scaled weights' groups (clipGroups).
  void apply(Value value, MutableArrayRef<Member> members, ArrayRef<float> s,
             const ChannelStats *clip) const {
    OpBuilder b(value.getContext());
    for (Member &m : members) {
      std::vector<float> scaled = m.scaledBy(s);
      if (clip)
        clipGroups(*clip, m, s, scaled);
      b.setInsertionPoint(m.op);
      auto type = cast<RankedTensorType>(m.weight->get().getType());
      m.weight->set(ConstantOp::create(
          b, m.weight->get().getLoc(),
          DenseElementsAttr::get(type, ArrayRef<float>(scaled))));
    }
    if (llvm::all_of(s, [](float x) { return x == 1.0f; }) ||
        foldIntoNorm(value, members, s))
      return;
    std::vector<float> inverse;
    for (float x : s)
      inverse.push_back(1.0f / x);
    if (Operation *def = value.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(value.getParentBlock());
    Value factors = vector(b, value.getLoc(), inverse);
    Value divided =
        MulOp::create(b, value.getLoc(), value.getType(), value, factors);
    for (Member &m : members)
      m.input->set(divided);
  }

  /// Divides the scale and offset of the norm that produces `value` by s,
  /// when the members are all its readers and it normalizes the last
  /// dimension alone.
  bool foldIntoNorm(Value value, ArrayRef<Member> members,
                    ArrayRef<float> s) const {
    Operation *norm = value.getDefiningOp();
    if (!norm || !llvm::all_of(value.getUses(), [&](OpOperand &use) {
          return llvm::any_of(members,
                              [&](const Member &m) { return m.input == &use; });
        }))
      return false;
    OpOperand *scale = nullptr, *bias = nullptr;
    int64_t axis = -1;
    if (auto layerNorm = dyn_cast<LayerNormOp>(norm)) {
      scale = &layerNorm.getScaleMutable();
      if (layerNorm.getBias())
        bias = &layerNorm.getBiasMutable()[0];
      axis = layerNorm.getAxis();
    } else if (auto rmsNorm = dyn_cast<RmsNormOp>(norm)) {
      scale = &rmsNorm.getScaleMutable();
      axis = rmsNorm.getAxis();
    } else if (auto addNorm = dyn_cast<AddNormOp>(norm)) {
      if (value != addNorm.getResult())
        return false;
      scale = &addNorm.getScaleMutable();
      if (addNorm.getBias())
        bias = &addNorm.getBiasMutable()[0];
      axis = addNorm.getAxis();
    } else {
      return false;
    }
    if (axis != cast<RankedTensorType>(value.getType()).getRank() - 1)
      return false;
    auto vectorType = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getRank() == 1;
    };
    if (!vectorType(scale->get()) || (bias && !vectorType(bias->get())))
      return false;
    std::optional<std::vector<float>> gamma = f32Values(scale->get());
    std::optional<std::vector<float>> beta;
    if (bias)
      beta = f32Values(bias->get());
    if (!gamma || gamma->size() != s.size() || (bias && !beta) ||
        (beta && beta->size() != s.size()))
      return false;
    OpBuilder b(norm);
    for (size_t k = 0; k < s.size(); ++k) {
      (*gamma)[k] /= s[k];
      if (beta)
        (*beta)[k] /= s[k];
    }
    scale->set(vector(b, scale->get().getLoc(), *gamma));
    if (bias)
      bias->set(vector(b, bias->get().getLoc(), *beta));
    return true;
  }
};

} // namespace
