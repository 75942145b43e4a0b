//===- Evaluation.cpp - sinterc --eval ------------------------------------===//

#include "tools/sinterc/Evaluation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <chrono>
#include <cmath>

using namespace sinter::tools;
using llvm::StringRef;

namespace sinter {

namespace {

/// What is compared of one output, summed over the samples.
struct OutputComparison {
  std::string name;
  bool floating = false;
  int64_t elements = 0, mismatches = 0;
  double errorSquares = 0, referenceSquares = 0, maxAbsError = 0;
  /// Rows (all but the last dimension) whose largest element is the same.
  int64_t rows = 0, top1Agreements = 0;
  /// Next-token cross-entropy (bits) of both builds over the predicted
  /// positions, for token-id samples and [batch, sequence, vocabulary]
  /// logits.
  int64_t predictions = 0;
  double referenceBits = 0, artifactBits = 0;
  int64_t vocabulary = 0;
};

bool isFloat(sinter_dtype dtype) {
  return dtype == SINTER_FLOAT32 || dtype == SINTER_FLOAT64 ||
         dtype == SINTER_FLOAT16 || dtype == SINTER_BFLOAT16;
}

std::vector<double> toDoubles(const sinter_tensor &t) {
  std::vector<int64_t> shape(t.shape, t.shape + t.rank);
  int64_t count = elementCount(shape);
  std::vector<double> values(count);
  for (int64_t i = 0; i < count; ++i)
    values[i] = elementAsDouble(t.data, t.dtype, i);
  return values;
}

/// -log2 softmax(row)[target].
double crossEntropyBits(const double *row, int64_t size, int64_t target) {
  double largest = -INFINITY;
  for (int64_t j = 0; j < size; ++j)
    largest = std::max(largest, row[j]);
  double total = 0;
  for (int64_t j = 0; j < size; ++j)
    total += std::exp(row[j] - largest);
  return (std::log(total) - (row[target] - largest)) / std::log(2.0);
}

int64_t argmax(const double *row, int64_t size) {
  return std::max_element(row, row + size) - row;
}

double medianOf(std::vector<double> values) {
  if (values.empty())
    return NAN;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// Runs `sample` on `model`, adding the run's time (ms) to `times`.
llvm::Expected<std::vector<sinter_tensor>>
timedRun(LoadedModel &model, Sample &sample, std::vector<double> &times) {
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<std::vector<sinter_tensor>> outputs = model.run(sample);
  times.push_back(std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count());
  return outputs;
}

} // namespace

llvm::Expected<std::string> evaluate(LoadedModel &reference,
                                     LoadedModel &artifact,
                                     const EvaluationOptions &options,
                                     llvm::raw_ostream &summary) {
  llvm::Expected<std::vector<Sample>> samples =
      reference.samples(options.dataDir, options.maxSamples);
  if (!samples)
    return samples.takeError();
  int numOutputs = reference.api.numOutputs(reference.session);
  std::vector<OutputComparison> outputs(numOutputs);
  for (int i = 0; i < numOutputs; ++i)
    outputs[i].name = reference.api.outputInfo(reference.session, i)->name;

  for (Sample &sample : *samples) {
    llvm::Expected<std::vector<sinter_tensor>> ref = reference.run(sample);
    if (!ref)
      return ref.takeError();
    // The reference's outputs live in its session until its next run.
    std::vector<std::vector<double>> expected;
    std::vector<std::vector<int64_t>> shapes;
    for (const sinter_tensor &t : *ref) {
      expected.push_back(toDoubles(t));
      shapes.emplace_back(t.shape, t.shape + t.rank);
    }
    llvm::Expected<std::vector<sinter_tensor>> out = artifact.run(sample);
    if (!out)
      return out.takeError();
    for (int i = 0; i < numOutputs; ++i) {
      OutputComparison &c = outputs[i];
      const sinter_tensor &t = (*out)[i];
      std::vector<int64_t> shape(t.shape, t.shape + t.rank);
      if (shape != shapes[i])
        return llvm::createStringError(
            "--eval: output '" + c.name + "' has shape " + shapeString(shape) +
            " in the artifact and " + shapeString(shapes[i]) +
            " in the reference on " + sample.source);
      std::vector<double> got = toDoubles(t);
      const std::vector<double> &want = expected[i];
      c.floating = isFloat(t.dtype);
      c.elements += got.size();
      for (size_t e = 0; e < got.size(); ++e) {
        double d = got[e] - want[e];
        c.errorSquares += d * d;
        c.referenceSquares += want[e] * want[e];
        c.maxAbsError = std::max(c.maxAbsError, std::fabs(d));
        c.mismatches += got[e] != want[e];
      }
      if (!c.floating || shape.empty() || shape.back() < 2)
        continue;
      int64_t width = shape.back(), rows = got.size() / width;
      for (int64_t r = 0; r < rows; ++r)
        c.top1Agreements += argmax(&got[r * width], width) ==
                            argmax(&want[r * width], width);
      c.rows += rows;
      // Language-model logits [batch, sequence, vocabulary] of token ids
      // [batch, sequence]: position p predicts the id at p + 1.
      const HostTensor &ids = sample.inputs.front();
      if (!sample.tokens || shape.size() != 3 || ids.shape.size() != 2 ||
          ids.shape[0] != shape[0] || ids.shape[1] != shape[1])
        continue;
      c.vocabulary = width;
      for (int64_t b = 0; b < shape[0]; ++b)
        for (int64_t p = 0; p + 1 < shape[1]; ++p) {
          int64_t target = (int64_t)elementAsDouble(
              ids.bytes.data(), ids.dtype, b * shape[1] + p + 1);
          if (target < 0 || target >= width)
            continue;
          int64_t row = (b * shape[1] + p) * width;
          c.referenceBits += crossEntropyBits(&want[row], width, target);
          c.artifactBits += crossEntropyBits(&got[row], width, target);
          ++c.predictions;
        }
    }
  }

  // Timing: at least 10 runs of each build, the samples in turn (the runs
  // above were the warm-up).
  std::vector<double> referenceTimes, artifactTimes;
  size_t timedRuns = samples->empty() ? 0 : std::max<size_t>(10, samples->size());
  for (size_t r = 0; r < timedRuns; ++r) {
    Sample &sample = (*samples)[r % samples->size()];
    if (llvm::Error error =
            timedRun(reference, sample, referenceTimes).takeError())
      return error;
  }
  for (size_t r = 0; r < timedRuns; ++r) {
    Sample &sample = (*samples)[r % samples->size()];
    if (llvm::Error error = timedRun(artifact, sample, artifactTimes).takeError())
      return error;
  }

  llvm::json::Array reports;
  summary << "evaluation on " << samples->size() << " samples of "
          << options.dataDir << ": " << options.transformations
          << " against the f32 reference\n";
  if (options.referenceBytes > 0)
    summary << llvm::format("  weights: %.3fx of the reference's\n",
                            double(options.artifactBytes) /
                                double(options.referenceBytes));
  double referenceMs = medianOf(referenceTimes),
         artifactMs = medianOf(artifactTimes);
  summary << llvm::format("  time per sample (median, 1 thread): %.3f ms, "
                          "reference %.3f ms (%.2fx)\n",
                          artifactMs, referenceMs, referenceMs / artifactMs);
  for (const OutputComparison &c : outputs) {
    llvm::json::Object report{{"name", c.name}, {"elements", c.elements}};
    summary << "  output '" << c.name << "': ";
    if (!c.floating) {
      report["mismatches"] = c.mismatches;
      summary << c.mismatches << " of " << c.elements << " elements differ\n";
      reports.push_back(std::move(report));
      continue;
    }
    double relative = std::sqrt(c.errorSquares) /
                      std::max(std::sqrt(c.referenceSquares), 1e-300);
    report["relative_error"] = relative;
    report["max_abs_error"] = c.maxAbsError;
    summary << llvm::format("relative error %.3g, max abs error %.3g",
                            relative, c.maxAbsError);
    if (c.rows > 0) {
      double agreement = double(c.top1Agreements) / double(c.rows);
      report["top1_agreement"] = agreement;
      report["rows"] = c.rows;
      summary << llvm::format(", top-1 agreement %.2f%%", 100 * agreement);
    }
    if (c.predictions > 0) {
      double before = c.referenceBits / double(c.predictions);
      double after = c.artifactBits / double(c.predictions);
      // Byte-level models: bits per token are bits per byte.
      StringRef unit = c.vocabulary == 256 ? "bits per byte" : "bits per token";
      report["predictions"] = c.predictions;
      report["reference_bits_per_token"] = before;
      report["bits_per_token"] = after;
      report["perplexity_reference"] = std::exp2(before);
      report["perplexity"] = std::exp2(after);
      summary << llvm::format(", %s %.4f -> %.4f (%+.4f)", unit.data(),
                              before, after, after - before);
    }
    summary << "\n";
    reports.push_back(std::move(report));
  }
  llvm::json::Object root{{"format", "sinter-evaluation"},
                          {"version", kEvaluationFormatVersion},
                          {"samples", (int64_t)samples->size()},
                          {"transformations", options.transformations},
                          {"reference_weights_bytes", options.referenceBytes},
                          {"weights_bytes", options.artifactBytes},
                          {"median_ms", artifactMs},
                          {"reference_median_ms", referenceMs},
                          {"outputs", std::move(reports)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}

} // namespace sinter
