//===- sinterc.cpp - The sinter compiler driver ---------------------------===//
//
//   sinterc model.onnx --emit=mlir -o model.mlir   import
//   sinterc model.onnx --emit=obj -o model.o       compile for this CPU
//   sinterc --check model.onnx                     op histogram, unsupported ops
//   sinterc --list-ops                             supported ONNX operators
//   sinterc m.onnx --dim sequence=128 --freeze-input axes=axes.pb
//
// Models are .onnx, .onnxtext or .mlir files. Errors name the node, tensor or
// file they concern; nothing is written unless the whole job succeeds.
//
//===----------------------------------------------------------------------===//

#include "codegen/CpuPipeline.h"
#include "codegen/Passes.h"
#include "frontend/ModelLoader.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("sinterc options");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model>"),
                               cl::cat(category));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::cat(category));

enum class Emit { None, Mlir, Llvm, Obj };
cl::opt<Emit> emit(
    "emit", cl::desc("Stage to stop at and write"),
    cl::values(clEnumValN(Emit::None, "none",
                          "nothing: import and verify the model only"),
               clEnumValN(Emit::Mlir, "mlir", "the model in the sinter dialect"),
               clEnumValN(Emit::Llvm, "llvm", "LLVM IR for the target CPU"),
               clEnumValN(Emit::Obj, "obj", "an object file for the target CPU")),
    cl::init(Emit::Mlir), cl::cat(category));

cl::opt<std::string> cpu("cpu",
                         cl::desc("Target CPU (an LLVM CPU name), or 'native' "
                                  "for this machine's CPU and features"),
                         cl::init("native"), cl::cat(category));
cl::opt<unsigned> optLevel("O", cl::desc("Optimization level (0-3)"),
                           cl::Prefix, cl::init(3), cl::cat(category));
cl::opt<bool> timing("timing", cl::desc("Print the time of each pass"),
                     cl::cat(category));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::cat(category));

cl::list<std::string> dims("dim",
                           cl::desc("Bind a symbolic dimension to a size"),
                           cl::value_desc("name=size"), cl::cat(category));
cl::list<std::string>
    maxDims("max-dim", cl::desc("Upper bound of a symbolic dimension"),
            cl::value_desc("name=size"), cl::cat(category));

cl::list<std::string> freezeInputs(
    "freeze-input",
    cl::desc("Replace a graph input by the constant in an ONNX TensorProto "
             "file (for inputs that carry shapes, axes or other values)"),
    cl::value_desc("name=tensor.pb"), cl::cat(category));

cl::opt<bool> listOps("list-ops",
                      cl::desc("Print the supported ONNX operators and exit"),
                      cl::cat(category));
cl::opt<bool> check("check",
                    cl::desc("Print the model's operator histogram and the "
                             "unsupported operators, without compiling"),
                    cl::cat(category));

/// "node '/h.0/MatMul' (MatMul)", a tensor or file name, or file:line:col.
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

/// Parses `name=size` entries of --dim / --max-dim.
bool parseDimFlags(const cl::list<std::string> &flags, StringRef flag,
                   llvm::StringMap<int64_t> &out) {
  for (const std::string &entry : flags) {
    auto [name, size] = StringRef(entry).split('=');
    int64_t value;
    if (name.empty() || size.getAsInteger(10, value) || value < 0) {
      llvm::WithColor::error(llvm::errs(), "sinterc")
          << "--" << flag << " expects name=size with size >= 0, got '"
          << entry << "'\n";
      return false;
    }
    out[name] = value;
  }
  return true;
}

int printSupportedOps() {
  llvm::outs() << llvm::left_justify("domain", 10)
               << llvm::left_justify("operator", 22) << "opsets\n";
  for (const sinter::OnnxOpSupport &op : sinter::supportedOnnxOps())
    llvm::outs() << llvm::left_justify(op.domain.empty() ? "ai.onnx"
                                                         : op.domain,
                                       10)
                 << llvm::left_justify(op.name, 22) << op.minOpset << "-"
                 << op.maxOpset << "\n";
  llvm::outs() << sinter::supportedOnnxOps().size() << " operators\n";
  return 0;
}

int checkModel(MLIRContext &context) {
  FailureOr<std::shared_ptr<sinter::OnnxModelFile>> model =
      sinter::readOnnxModel(context, inputPath);
  if (failed(model))
    return 1;
  sinter::OnnxModelReport report = sinter::checkOnnxModel(**model);
  llvm::outs() << inputPath << ": " << report.nodes << " nodes, "
               << report.ops.size() << " operator types\n";
  llvm::outs() << llvm::left_justify("operator", 24)
               << llvm::left_justify("domain", 16) << llvm::right_justify("opset", 6)
               << llvm::right_justify("nodes", 7) << "  status\n";
  for (const sinter::OnnxModelReport::OpCount &op : report.ops)
    llvm::outs() << llvm::left_justify(op.name, 24)
                 << llvm::left_justify(op.domain.empty() ? "ai.onnx"
                                                         : op.domain,
                                       16)
                 << llvm::right_justify(std::to_string(op.opset), 6)
                 << llvm::right_justify(std::to_string(op.count), 7) << "  "
                 << (op.supported ? "supported" : "UNSUPPORTED") << "\n";
  if (report.unsupportedNodes == 0) {
    llvm::outs() << "all operators are supported\n";
    return 0;
  }
  llvm::outs() << report.unsupportedNodes << " of " << report.nodes
               << " nodes use unsupported operators\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAllPasses();
  sinter::registerSinterCodegenPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions({&category, &cl::getGeneralCategory()});
  cl::ParseCommandLineOptions(argc, argv, "sinter model compiler\n");

  if (listOps)
    return printSupportedOps();
  if (inputPath.empty()) {
    llvm::WithColor::error(llvm::errs(), "sinterc")
        << "no model given (see --help)\n";
    return 1;
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  MLIRContext context(registry);
  // Messages locate the node; dumping the op (with its weights) is noise.
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, printDiagnostic);
  if (check)
    return checkModel(context);

  sinter::ImportOptions options;
  if (!parseDimFlags(dims, "dim", options.dimSizes) ||
      !parseDimFlags(maxDims, "max-dim", options.dimBounds))
    return 1;
  for (const std::string &entry : freezeInputs) {
    auto [name, file] = StringRef(entry).split('=');
    if (name.empty() || file.empty()) {
      llvm::WithColor::error(llvm::errs(), "sinterc")
          << "--freeze-input expects name=tensor.pb, got '" << entry << "'\n";
      return 1;
    }
    options.frozenInputs[name] = file.str();
  }
  FailureOr<OwningOpRef<ModuleOp>> module =
      sinter::loadModel(context, inputPath, options);
  if (failed(module))
    return 1;
  if (emit == Emit::None)
    return 0;
  if (optLevel > 3) {
    llvm::WithColor::error(llvm::errs(), "sinterc")
        << "-O" << optLevel << " is not a level (0 to 3)\n";
    return 1;
  }

  // Everything below writes into a temporary that is kept only on success.
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputPath, &error);
  if (!output) {
    llvm::WithColor::error(llvm::errs(), "sinterc") << error << "\n";
    return 1;
  }
  if (emit == Emit::Mlir) {
    (*module)->print(output->os());
    output->os() << "\n";
    output->keep();
    return 0;
  }

  PassManager pm(&context);
  if (timing)
    pm.enableTiming();
  if (printIRAfterAll) {
    context.disableMultithreading();
    pm.enableIRPrinting();
  }
  if (failed(sinter::lowerToLLVMDialect(**module, pm)))
    return 1;
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      sinter::createTargetMachine({cpu, optLevel});
  if (!machine) {
    llvm::WithColor::error(llvm::errs(), "sinterc")
        << llvm::toString(machine.takeError()) << "\n";
    return 1;
  }
  llvm::LLVMContext llvmContext;
  FailureOr<std::unique_ptr<llvm::Module>> llvmModule =
      sinter::translateToLLVMIR(**module, llvmContext, **machine, optLevel);
  if (failed(llvmModule))
    return 1;
  if (emit == Emit::Llvm)
    (*llvmModule)->print(output->os(), nullptr);
  else if (failed(sinter::emitObjectFile(**llvmModule, **machine,
                                         output->os())))
    return 1;
  output->keep();
  return 0;
}
