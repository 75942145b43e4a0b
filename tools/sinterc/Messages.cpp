//===- Messages.cpp - What sinterc prints besides its files ---------------===//

#include "tools/sinterc/Messages.h"

#include "frontend/ModelLoader.h"
#include "ir/SinterOps.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

namespace sinter::messages {

std::string describe(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    auto opType = dyn_cast_if_present<StringAttr>(fused.getMetadata());
    for (Location inner : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(inner))
        return ("node '" + name.getName().getValue() + "'" +
                (opType ? " (" + opType.getValue() + ")" : ""))
            .str();
  }
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return describe(callSite.getCallee());
  return "sinterc";
}

LogicalResult printDiagnostic(Diagnostic &diag) {
  llvm::raw_ostream &os = llvm::errs();
  os << describe(diag.getLocation()) << ": ";
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    llvm::WithColor(os, llvm::HighlightColor::Error) << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    llvm::WithColor(os, llvm::HighlightColor::Warning) << "warning: ";
    break;
  case DiagnosticSeverity::Note:
    llvm::WithColor(os, llvm::HighlightColor::Note) << "note: ";
    break;
  case DiagnosticSeverity::Remark:
    llvm::WithColor(os, llvm::HighlightColor::Remark) << "remark: ";
    break;
  }
  os << diag.str() << "\n";
  for (Diagnostic &note : diag.getNotes())
    os << "  note: " << note.str() << "\n";
  return success();
}

void printSupportedOps() {
  llvm::outs() << llvm::left_justify("domain", 10)
               << llvm::left_justify("operator", 22) << "opsets\n";
  for (const sinter::OnnxOpSupport &op : sinter::supportedOnnxOps())
    llvm::outs() << llvm::left_justify(
                        op.domain.empty() ? "ai.onnx" : op.domain, 10)
                 << llvm::left_justify(op.name, 22) << op.minOpset << "-"
                 << op.maxOpset << "\n";
  llvm::outs() << sinter::supportedOnnxOps().size() << " operators\n";
}

int checkModel(MLIRContext &context, StringRef inputPath,
               const sinter::ImportOptions &options) {
  FailureOr<std::shared_ptr<sinter::OnnxModelFile>> model =
      sinter::readOnnxModel(context, inputPath);
  if (failed(model))
    return 1;
  sinter::OnnxModelReport report = sinter::checkOnnxModel(**model);
  llvm::outs() << inputPath << ": " << report.nodes << " nodes, "
               << report.ops.size() << " operator types\n";
  llvm::outs() << llvm::left_justify("operator", 24)
               << llvm::left_justify("domain", 16)
               << llvm::right_justify("opset", 6)
               << llvm::right_justify("nodes", 7) << "  status\n";
  for (const sinter::OnnxModelReport::OpCount &op : report.ops)
    llvm::outs() << llvm::left_justify(op.name, 24)
                 << llvm::left_justify(
                        op.domain.empty() ? "ai.onnx" : op.domain, 16)
                 << llvm::right_justify(std::to_string(op.opset), 6)
                 << llvm::right_justify(std::to_string(op.count), 7) << "  "
                 << (op.supported ? "supported" : "UNSUPPORTED") << "\n";

  // Import the model with every problem reported, and list them after the
  // table rather than on stderr: they are the answer to --check.
  std::vector<std::string> problems;
  int64_t otherErrors = 0;
  {
    ScopedDiagnosticHandler collect(&context, [&](Diagnostic &diag) {
      std::string message = diag.str();
      StringRef severity =
          diag.getSeverity() == DiagnosticSeverity::Warning ? "warning: " : "";
      if (diag.getSeverity() == DiagnosticSeverity::Error &&
          !StringRef(message).starts_with("unsupported operator "))
        ++otherErrors;
      problems.push_back(describe(diag.getLocation()) + ": " +
                         severity.str() + message);
      return success();
    });
    sinter::ImportOptions checking = options;
    checking.reportAllProblems = true;
    (void)sinter::importOnnxModel(context, **model, checking);
  }
  if (!problems.empty()) {
    llvm::outs() << "problems:\n";
    for (const std::string &problem : problems)
      llvm::outs() << "  " << problem << "\n";
  }
  if (report.unsupportedNodes == 0 && otherErrors == 0) {
    llvm::outs() << "all operators are supported\n";
    return 0;
  }
  if (report.unsupportedNodes)
    llvm::outs() << report.unsupportedNodes << " of " << report.nodes
                 << " nodes use unsupported operators\n";
  else
    llvm::outs() << "all operators are supported\n";
  if (otherErrors)
    llvm::outs() << otherErrors << " other problem"
                 << (otherErrors == 1 ? "" : "s")
                 << " (inputs, attribute values, values needed at import time)\n";
  return 1;
}

std::string formatBytes(int64_t bytes) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (bytes >= (1 << 20))
    os << llvm::format("%.2f MiB", bytes / 1048576.0);
  else if (bytes >= 1024)
    os << llvm::format("%.1f KiB", bytes / 1024.0);
  else
    os << bytes << " B";
  return text;
}

void printFusionStats(ModuleOp module, llvm::raw_ostream &os) {
  llvm::StringMap<int64_t> counts;
  module.walk([&](Operation *op) {
    if (isa<sinter::SinterDialect>(op->getDialect()))
      ++counts[op->getName().stripDialect()];
  });
  os << "fused ops:  ";
  for (StringRef name :
       {"attention", "layer_norm", "rms_norm", "add_norm", "gelu", "silu",
        "swiglu", "rotary_embedding", "linear"})
    os << " " << name << " " << counts.lookup(name);
  os << "\nunfused:    matmul " << counts.lookup("matmul") << " softmax "
     << counts.lookup("softmax") << "\n";
  // What --quantize (or an imported quantized model) left as integers: the
  // dequantized constants, and the linear layers whose input is rounded.
  int64_t weights = 0, int8Inputs = 0;
  module.walk([&](sinter::DequantizeOp dq) {
    weights += bool(dq.getInput().getDefiningOp<sinter::ConstantOp>());
  });
  module.walk([&](sinter::LinearOp linear) {
    if (auto dq = linear.getInput().getDefiningOp<sinter::DequantizeOp>())
      int8Inputs += !dq.getInput().getDefiningOp<sinter::ConstantOp>();
  });
  if (weights)
    os << "quantized:   " << weights << " weights (sinter.dequantize)\n";
  if (int8Inputs)
    os << "int8 inputs: " << int8Inputs
       << " linear layers (sinter.dynamic_quantize, sinter.quantize)\n";
}

} // namespace sinter::messages
