//===- Report.cpp - sinterc --report --------------------------------------===//
//
// Plots are SVG drawn here, so that the page needs nothing but a browser:
// no script library, no fonts, no network. Every mark has a <title>, which
// browsers show on hover, with the exact figure.
//
//===----------------------------------------------------------------------===//

#include "tools/sinterc/Report.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <vector>

using llvm::StringRef;
namespace json = llvm::json;

namespace sinter {

namespace {

std::string escape(StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string number(double value, const char *format = "%.4g") {
  if (!std::isfinite(value))
    return "-";
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format(format, value);
  return text;
}

std::vector<double> numbers(const json::Object &object, StringRef key) {
  std::vector<double> values;
  if (const json::Array *array = object.getArray(key))
    for (const json::Value &v : *array)
      values.push_back(v.getAsNumber().value_or(NAN));
  return values;
}

/// A color for t in [0, 1]: dark blue through teal to yellow (a perceptual
/// ramp in the manner of viridis).
std::string ramp(double t) {
  static const double stops[][3] = {{68, 1, 84},    {59, 82, 139},
                                    {33, 145, 140}, {94, 201, 98},
                                    {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4;
  int i = std::min(int(t), 3);
  double f = t - i;
  char text[16];
  snprintf(text, sizeof text, "#%02x%02x%02x",
           int(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
           int(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
           int(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  return text;
}

double median(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(),
                              [](double v) { return !std::isfinite(v); }),
               values.end());
  if (values.empty())
    return NAN;
  std::nth_element(values.begin(), values.begin() + values.size() / 2,
                   values.end());
  return values[values.size() / 2];
}

/// Activation ranges: one row per probed value, a bar from min to max on a
/// symmetric scale, the rms marked, and the channels' max |x| as a strip
/// colored by its ratio to the median channel (outlier channels glow).
void activationSection(llvm::raw_ostream &os, const json::Array &tensors) {
  os << "<section><h2>Activations entering the layers</h2>\n"
     << "<p>One row per value that linear, matmul and conv layers read. The "
        "bar spans min to max; the tick is the rms. The strip shows each "
        "channel's max |x| over the median channel's: channels far brighter "
        "than the rest are the outliers that activation-aware scaling "
        "(AWQ, SmoothQuant) exists for.</p>\n";
  double scale = 1e-30;
  for (const json::Value &v : tensors)
    if (const json::Object *t = v.getAsObject())
      scale = std::max({scale, std::fabs(t->getNumber("min").value_or(0)),
                        std::fabs(t->getNumber("max").value_or(0))});
  const int nameWidth = 300, barWidth = 260, stripWidth = 360, rowHeight = 18;
  int height = rowHeight * int(tensors.size()) + 24;
  os << "<svg class=\"plot\" width=\"" << nameWidth + barWidth + stripWidth + 120
     << "\" height=\"" << height << "\" role=\"img\" aria-label=\"activation "
     << "ranges\">\n";
  os << "<text x=\"" << nameWidth + barWidth / 2
     << "\" y=\"12\" class=\"axis\" text-anchor=\"middle\">range (scale ±"
     << number(scale, "%.3g") << ")</text>\n"
     << "<text x=\"" << nameWidth + barWidth + 20 + stripWidth / 2
     << "\" y=\"12\" class=\"axis\" text-anchor=\"middle\">per-channel max|x| "
        "/ median (0 to 8+)</text>\n"
     << "<text x=\"" << nameWidth + barWidth + stripWidth + 30
     << "\" y=\"12\" class=\"axis\">max ratio</text>\n";
  int y = 20;
  for (const json::Value &v : tensors) {
    const json::Object *t = v.getAsObject();
    if (!t)
      continue;
    std::string name = std::string(t->getString("name").value_or(""));
    double lo = t->getNumber("min").value_or(NAN),
           hi = t->getNumber("max").value_or(NAN),
           rms = t->getNumber("rms").value_or(NAN);
    auto xOf = [&](double value) {
      return nameWidth + barWidth / 2.0 + value / scale * (barWidth / 2.0 - 4);
    };
    os << "<text x=\"" << nameWidth - 6 << "\" y=\"" << y + 12
       << "\" text-anchor=\"end\" class=\"label\">" << escape(name)
       << "</text>\n";
    if (std::isfinite(lo) && std::isfinite(hi))
      os << "<rect x=\"" << number(xOf(lo)) << "\" y=\"" << y + 3
         << "\" width=\"" << number(std::max(xOf(hi) - xOf(lo), 1.0))
         << "\" height=\"11\" class=\"range\"><title>" << escape(name)
         << ": min " << number(lo) << ", max " << number(hi) << ", rms "
         << number(rms) << "</title></rect>\n"
         << "<line x1=\"" << number(xOf(rms)) << "\" x2=\"" << number(xOf(rms))
         << "\" y1=\"" << y + 1 << "\" y2=\"" << y + 16
         << "\" class=\"tick\"/>\n";
    std::vector<double> channels = numbers(*t, "channel_abs_max");
    double middle = median(channels), worst = 0;
    double cell = channels.empty() ? 0 : double(stripWidth) / channels.size();
    for (size_t c = 0; c < channels.size(); ++c) {
      double ratio = middle > 0 ? channels[c] / middle : 0;
      worst = std::max(worst, ratio);
      os << "<rect x=\"" << number(nameWidth + barWidth + 20 + c * cell)
         << "\" y=\"" << y + 2 << "\" width=\"" << number(cell + 0.05)
         << "\" height=\"13\" fill=\"" << ramp(ratio / 8)
         << "\"><title>channel " << c << ": max|x| " << number(channels[c])
         << " (" << number(ratio, "%.2f") << "x the median)</title></rect>\n";
    }
    os << "<text x=\"" << nameWidth + barWidth + stripWidth + 30 << "\" y=\""
       << y + 12 << "\" class=\"label\">" << number(worst, "%.1f")
       << "x</text>\n";
    y += rowHeight;
  }
  os << "</svg>\n</section>\n";
}

/// Attention mass: a heatmap with a row per layer x head and a column per
/// key position; attention sinks are bright columns.
void attentionSection(llvm::raw_ostream &os, const json::Array &attention) {
  os << "<section><h2>Where attention heads look</h2>\n"
     << "<p>Each row is a head; each column a key position. The color is the "
        "mean attention a query gives to that position (normalized per row "
        "by its largest value). A column bright in every row is an attention "
        "sink: a position that all queries consult, which KV-cache eviction "
        "must keep.</p>\n";
  int rows = 0, keys = 0;
  for (const json::Value &v : attention)
    if (const json::Object *a = v.getAsObject()) {
      rows += int(a->getInteger("heads").value_or(0));
      keys = std::max(keys, int(a->getInteger("keys").value_or(0)));
    }
  const int nameWidth = 300, cellHeight = 12;
  double cell = keys ? std::max(2.0, std::min(12.0, 640.0 / keys)) : 0;
  int width = nameWidth + int(cell * keys) + 20;
  os << "<svg class=\"plot\" width=\"" << width << "\" height=\""
     << rows * cellHeight + 30 << "\" role=\"img\" aria-label=\"attention "
     << "mass heatmap\">\n"
     << "<text x=\"" << nameWidth << "\" y=\"12\" class=\"axis\">key position "
        "0 → "
     << std::max(keys - 1, 0) << "</text>\n";
  int y = 20;
  for (const json::Value &v : attention) {
    const json::Object *a = v.getAsObject();
    const json::Array *mass = a ? a->getArray("key_mass") : nullptr;
    if (!mass)
      continue;
    std::string name = std::string(a->getString("name").value_or(""));
    for (size_t h = 0; h < mass->size(); ++h) {
      std::vector<double> row;
      if (const json::Array *values = (*mass)[h].getAsArray())
        for (const json::Value &m : *values)
          row.push_back(m.getAsNumber().value_or(NAN));
      double top = 0;
      for (double m : row)
        if (std::isfinite(m))
          top = std::max(top, m);
      os << "<text x=\"" << nameWidth - 6 << "\" y=\"" << y + 10
         << "\" text-anchor=\"end\" class=\"label\">" << escape(name)
         << " head " << h << "</text>\n";
      for (size_t j = 0; j < row.size(); ++j)
        os << "<rect x=\"" << number(nameWidth + j * cell) << "\" y=\"" << y
           << "\" width=\"" << number(cell + 0.05) << "\" height=\""
           << cellHeight << "\" fill=\"" << ramp(top > 0 ? row[j] / top : 0)
           << "\"><title>" << escape(name) << " head " << h << ", key " << j
           << ": mean attention " << number(row[j]) << "</title></rect>\n";
      y += cellHeight;
    }
  }
  os << "</svg>\n";

  // Head importance: the mean norm of each head's output, and how spread
  // its attention is.
  os << "<h3>Head output norm and attention entropy</h3>\n"
     << "<p>Heads whose output is small contribute little (candidates for "
        "pruning); heads with low entropy attend sharply.</p>\n"
     << "<table><tr><th>layer</th><th>head</th><th>mean output norm</th>"
        "<th></th><th>entropy (nats)</th></tr>\n";
  double largest = 1e-30;
  for (const json::Value &v : attention)
    if (const json::Object *a = v.getAsObject())
      for (double n : numbers(*a, "output_norm"))
        if (std::isfinite(n))
          largest = std::max(largest, n);
  for (const json::Value &v : attention) {
    const json::Object *a = v.getAsObject();
    if (!a)
      continue;
    std::vector<double> norms = numbers(*a, "output_norm"),
                        entropy = numbers(*a, "entropy");
    for (size_t h = 0; h < norms.size(); ++h)
      os << "<tr><td>" << escape(a->getString("name").value_or("")) << "</td><td>"
         << h << "</td><td>" << number(norms[h]) << "</td><td><svg width=\"160\" "
         << "height=\"10\"><rect width=\""
         << number(160 * std::max(norms[h], 0.0) / largest)
         << "\" height=\"10\" class=\"bar\"/></svg></td><td>"
         << number(h < entropy.size() ? entropy[h] : NAN) << "</td></tr>\n";
  }
  os << "</table>\n</section>\n";
}

void routingSection(llvm::raw_ostream &os, const json::Array &routing) {
  os << "<section><h2>Expert usage</h2>\n<p>How often each router picked "
        "each expert. Rarely used experts are what sparse dispatch and "
        "expert pruning work with.</p>\n";
  for (const json::Value &v : routing) {
    const json::Object *r = v.getAsObject();
    if (!r)
      continue;
    std::vector<double> choices = numbers(*r, "choices");
    double top = 1;
    for (double c : choices)
      top = std::max(top, c);
    double total = 0;
    for (double c : choices)
      total += c;
    os << "<h3>" << escape(r->getString("name").value_or("")) << "</h3>\n"
       << "<svg class=\"plot\" width=\"" << 40 + 30 * choices.size()
       << "\" height=\"140\" role=\"img\" aria-label=\"expert usage\">\n";
    for (size_t e = 0; e < choices.size(); ++e) {
      double h = 100 * choices[e] / top;
      os << "<rect x=\"" << 20 + 30 * e << "\" y=\"" << number(110 - h)
         << "\" width=\"24\" height=\"" << number(h)
         << "\" class=\"bar\"><title>expert " << e << ": " << number(choices[e])
         << " picks (" << number(total > 0 ? 100 * choices[e] / total : 0, "%.1f")
         << "%)</title></rect>\n<text x=\"" << 32 + 30 * e
         << "\" y=\"126\" text-anchor=\"middle\" class=\"label\">" << e
         << "</text>\n";
    }
    os << "</svg>\n";
  }
  os << "</section>\n";
}

void transformationSection(llvm::raw_ostream &os,
                           const json::Object *evaluation) {
  os << "<section><h2>Transformations and their cost</h2>\n";
  if (!evaluation) {
    os << "<p>No evaluation: compile with <code>--eval=DIR</code> to measure "
          "what the compression costs against the f32 reference.</p>\n"
       << "</section>\n";
    return;
  }
  double reference =
      evaluation->getNumber("reference_weights_bytes").value_or(0);
  double weights = evaluation->getNumber("weights_bytes").value_or(0);
  double ms = evaluation->getNumber("median_ms").value_or(NAN),
         referenceMs =
             evaluation->getNumber("reference_median_ms").value_or(NAN);
  os << "<table><tr><th>transformation</th><th>weights</th>"
        "<th>time per sample</th><th>output</th>"
        "<th>relative error</th><th>max abs error</th><th>top-1 agreement</th>"
        "<th>bits per token (f32 → this)</th></tr>\n";
  if (const json::Array *outputs = evaluation->getArray("outputs"))
    for (const json::Value &v : *outputs) {
      const json::Object *o = v.getAsObject();
      if (!o)
        continue;
      std::string bits = "-";
      if (auto before = o->getNumber("reference_bits_per_token"))
        bits = number(*before, "%.4f") + " → " +
               number(o->getNumber("bits_per_token").value_or(NAN), "%.4f");
      os << "<tr><td>"
         << escape(evaluation->getString("transformations").value_or(""))
         << "</td><td>" << number(reference > 0 ? weights / reference : NAN, "%.3f")
         << "× (" << number(weights / 1024, "%.1f") << " KiB)</td><td>"
         << number(ms, "%.3f") << " ms (f32: " << number(referenceMs, "%.3f")
         << " ms)</td><td>"
         << escape(o->getString("name").value_or("")) << "</td><td>"
         << number(o->getNumber("relative_error").value_or(NAN)) << "</td><td>"
         << number(o->getNumber("max_abs_error").value_or(NAN)) << "</td><td>"
         << number(100 * o->getNumber("top1_agreement").value_or(NAN), "%.2f")
         << "%</td><td>" << bits << "</td></tr>\n";
    }
  os << "</table>\n<p>Measured on "
     << evaluation->getInteger("samples").value_or(0)
     << " samples against the f32 build of the same model.</p>\n</section>\n";
}

constexpr const char *kStyle = R"css(
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 2px 10px; text-align: left; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
.plot { display: block; margin: 0.5em 0; }
.label { font-size: 11px; fill: #333; } .axis { font-size: 11px; fill: #777; }
.range { fill: #3b528b; } .tick { stroke: #fde725; stroke-width: 2; }
.bar { fill: #21918c; }
footer { margin-top: 3em; color: #888; font-size: 12px; }
)css";

} // namespace

llvm::Expected<std::string> renderReport(StringRef modelName,
                                         StringRef statsJson,
                                         StringRef evaluationJson) {
  llvm::Expected<json::Value> stats = json::parse(statsJson);
  if (!stats)
    return stats.takeError();
  const json::Object *top = stats->getAsObject();
  if (!top || top->getString("format") != "sinter-calibration-stats")
    return llvm::createStringError("--report: not a sinter stats file");
  std::optional<json::Value> evaluation;
  if (!evaluationJson.empty()) {
    llvm::Expected<json::Value> parsed = json::parse(evaluationJson);
    if (!parsed)
      return parsed.takeError();
    evaluation = std::move(*parsed);
  }
  std::string page;
  llvm::raw_string_ostream os(page);
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
     << "<title>sinter report: " << escape(modelName) << "</title>\n<style>"
     << kStyle << "</style></head>\n<body>\n<h1>sinter optimization report: "
     << escape(modelName) << "</h1>\n<p>Calibrated on "
     << top->getInteger("samples").value_or(0)
     << " samples. Hover over any mark for its figure.</p>\n";
  transformationSection(os, evaluation ? evaluation->getAsObject() : nullptr);
  const json::Array *tensors = top->getArray("tensors");
  const json::Array *attention = top->getArray("attention");
  const json::Array *routing = top->getArray("routing");
  if (tensors && !tensors->empty())
    activationSection(os, *tensors);
  if (attention && !attention->empty())
    attentionSection(os, *attention);
  if (routing && !routing->empty())
    routingSection(os, *routing);
  os << "<footer>Written by sinterc --report from the statistics of "
        "--calibrate (format sinter-calibration-stats version "
     << top->getInteger("version").value_or(0)
     << "); docs/calibration.md explains every figure.</footer>\n"
     << "<script>document.body.dataset.rendered = "
        "String(document.querySelectorAll('svg.plot').length);</script>\n"
     << "</body></html>\n";
  return page;
}

} // namespace sinter
