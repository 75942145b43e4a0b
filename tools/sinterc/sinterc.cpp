//===- sinterc.cpp - The sinter compiler driver ---------------------------===//
//
//   sinterc model.onnx -o out/model                out/model.{so,h,weights}
//   sinterc model.onnx --emit=mlir -o model.mlir   import only
//   sinterc model.onnx --emit=obj -o out/model     out/model.{o,h,weights}
//   sinterc --check model.onnx                     op histogram, unsupported
//   ops sinterc --list-ops                             supported ONNX operators
//   sinterc m.onnx --dim sequence=128 --freeze-input axes=axes.pb
//
// Models are .onnx, .onnxtext or .mlir files. Errors name the node, tensor or
// file they concern; nothing is written unless the whole job succeeds.
//
//===----------------------------------------------------------------------===//

#include "codegen/Artifact.h"
#include "codegen/CpuPipeline.h"
#include "codegen/Passes.h"
#include "frontend/ModelLoader.h"
#include "passes/Passes.h"
#include "tools/sinterc/Calibration.h"
#include "tools/sinterc/Evaluation.h"
#include "tools/sinterc/Report.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"

#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include <chrono>

using namespace mlir;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("sinterc options");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model>"),
                               cl::cat(category));
cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output: the artifact's path without extension (out/model "
             "writes out/model.so, .h and .weights), or the file to write "
             "for --emit=mlir|llvm ('-' for stdout)"),
    cl::value_desc("path"), cl::init("-"), cl::cat(category));

enum class Emit { None, Mlir, Llvm, Ptx, Nvvm, Obj, So };
cl::opt<Emit> emit(
    "emit",
    cl::desc("Stage to stop at and write (default: so with -o, else mlir)"),
    cl::values(clEnumValN(Emit::None, "none",
                          "nothing: import and verify the model only"),
               clEnumValN(Emit::Mlir, "mlir",
                          "the model in the sinter dialect"),
               clEnumValN(Emit::Llvm, "llvm",
                          "the artifact's LLVM IR (weights not written)"),
               clEnumValN(Emit::Ptx, "ptx",
                          "the PTX of the model's GPU kernels "
                          "(--target=cuda)"),
               clEnumValN(Emit::Nvvm, "nvvm",
                          "the LLVM IR of the model's GPU kernels, from "
                          "which the PTX is made (--target=cuda)"),
               clEnumValN(Emit::Obj, "obj",
                          "the artifact's object file, header and weights"),
               clEnumValN(Emit::So, "so",
                          "the artifact: shared library, header and weights")),
    cl::init(Emit::Mlir), cl::cat(category));

cl::opt<std::string>
    apiName("name",
            cl::desc("Prefix of the artifact's C API (default: the output's "
                     "file name as a C identifier)"),
            cl::value_desc("identifier"), cl::cat(category));
cl::opt<std::string> entry(
    "entry",
    cl::desc("The function to compile (default: @main, or the only public "
             "function of a .mlir module)"),
    cl::value_desc("name"), cl::cat(category));
cl::opt<std::string> extraPasses(
    "pass-pipeline",
    cl::desc("Passes to run on the bufferized code before it is lowered "
             "further (e.g. from --load-pass-plugin)"),
    cl::value_desc("pipeline"), cl::cat(category));

enum class Target { Cpu, Cuda };
cl::opt<Target> target(
    "target", cl::desc("Where the model runs (default: cpu)"),
    cl::values(clEnumValN(Target::Cpu, "cpu", "this machine's CPU (or --cpu)"),
               clEnumValN(Target::Cuda, "cuda",
                          "an NVIDIA GPU: kernels in PTX for --gpu-arch, "
                          "launched by the runtime through the CUDA driver "
                          "(docs/gpu.md)")),
    cl::init(Target::Cpu), cl::cat(category));
cl::opt<std::string>
    gpuArch("gpu-arch",
            cl::desc("The GPU architecture of --target=cuda: sm_80, sm_86, "
                     "sm_89 or sm_90 (default); the GPU must be at least this"),
            cl::init("sm_90"), cl::cat(category));
cl::opt<std::string> gpuMatmulPrecision(
    "gpu-matmul-precision",
    cl::desc("How --target=cuda multiplies in matmuls, linear layers and "
             "attention: on tensor cores accumulating in f32, tf32x3 "
             "(default: f32 accuracy), tf32 or bf16; or fp32 with FMAs"),
    cl::init("tf32x3"), cl::cat(category));

cl::opt<std::string> cpu("cpu",
                         cl::desc("Target CPU (an LLVM CPU name), or 'native' "
                                  "for this machine's CPU and features"),
                         cl::init("native"), cl::cat(category));
cl::opt<unsigned> optLevel("O", cl::desc("Optimization level (0-3)"),
                           cl::Prefix, cl::init(3), cl::cat(category));
cl::opt<bool> fuse(
    "fuse",
    cl::desc("Run the transformer fusion passes (attention, norms, GELU, "
             "SiLU/SwiGLU, rotary embeddings, linear layers). Default: on "
             "when compiling at -O1 and above; --emit=mlir writes the "
             "imported model unless --fuse is given"),
    cl::cat(category));
cl::opt<bool> flashAttention(
    "flash-attention",
    cl::desc("Run f32 attention as a flash-attention kernel (default; the "
             "runtime's, or with --target=cuda a generated GPU kernel); "
             "=false lowers it to two contractions around a softmax, which "
             "materialize the scores"),
    cl::init(true), cl::cat(category));
cl::opt<bool> normKernel(
    "norm-kernel",
    cl::desc("Run f32 layer/RMS norms (and residual add + norm) as the "
             "runtime's norm kernel (default); =false lowers them to "
             "reductions and elementwise passes"),
    cl::init(true), cl::cat(category));
cl::opt<bool> matmulKernel(
    "matmul-kernel",
    cl::desc("Run f32 matmul and linear layers as the runtime's packed GEMM "
             "kernel (default); =false lowers them to contractions"),
    cl::init(true), cl::cat(category));
cl::opt<bool> mergeLinears(
    "merge-linears",
    cl::desc("Merge linear layers that read the same input (attention's Q, "
             "K and V; a gated MLP's gate and up) into one product "
             "(default); =false keeps one product per layer"),
    cl::init(true), cl::cat(category));
enum class Quantize { None, W8, W4, W8A8 };
cl::opt<Quantize> quantize(
    "quantize", cl::desc("Store the weights as integers, and with w8a8 "
                         "round the linear layers' inputs to int8 too "
                         "(docs/quantization.md)"),
    cl::values(clEnumValN(Quantize::None, "none", "f32 weights (default)"),
               clEnumValN(Quantize::W8, "w8",
                          "int8, one scale per output channel"),
               clEnumValN(Quantize::W4, "w4",
                          "uint4 in groups with scales and zero points"),
               clEnumValN(Quantize::W8A8, "w8a8",
                          "int8 weights per output channel and int8 "
                          "activations: the int8 GEMM")),
    cl::init(Quantize::None), cl::cat(category));
enum class ActivationScales { Auto, Dynamic, Static };
cl::opt<ActivationScales> activationScales(
    "activation-scales",
    cl::desc("With --quantize=w8a8: how the activations' scales are chosen"),
    cl::values(clEnumValN(ActivationScales::Auto, "auto",
                          "static with calibration statistics, else dynamic "
                          "(default)"),
               clEnumValN(ActivationScales::Dynamic, "dynamic",
                          "one scale per row (token), computed at run time"),
               clEnumValN(ActivationScales::Static, "static",
                          "one scale per tensor, from the calibration "
                          "statistics")),
    cl::init(ActivationScales::Auto), cl::cat(category));
cl::opt<double> smooth(
    "smooth",
    cl::desc("With --quantize=w8a8: move activation outliers into the "
             "weights first, SmoothQuant's migration strength ALPHA in [0, "
             "1] (needs --calibrate or --calibration-stats)"),
    cl::value_desc("alpha"), cl::init(-1.0), cl::cat(category));
cl::opt<int64_t> groupSize(
    "group-size",
    cl::desc("Weights per scale with --quantize (default: per output "
             "channel for w8, 32 for w4)"),
    cl::init(0), cl::cat(category));
cl::opt<std::string> keepFp32(
    "keep-fp32",
    cl::desc("With --quantize: keep the layers and weights whose ONNX names "
             "match this regular expression in f32"),
    cl::value_desc("regex"), cl::cat(category));
cl::opt<std::string> calibrate(
    "calibrate",
    cl::desc("Run the model's instrumented build on the samples in this "
             "folder and write what it measured to <output>.stats.json "
             "(docs/calibration.md)"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<int64_t> calibrationSamples(
    "calibration-samples",
    cl::desc("With --calibrate: use at most this many samples (0: all)"),
    cl::init(0), cl::cat(category));
cl::opt<std::string> calibrationStats(
    "calibration-stats",
    cl::desc("A stats file of an earlier --calibrate, for the passes that "
             "need statistics (--awq)"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<bool> awq(
    "awq",
    cl::desc("With --quantize: scale the weights' input channels by the "
             "activations' magnitudes before rounding (AWQ; needs "
             "--calibrate or --calibration-stats)"),
    cl::cat(category));
cl::opt<std::string> evalDir(
    "eval",
    cl::desc("Run the f32 reference and the artifact on the samples in this "
             "folder, print what the compression costs, and write "
             "<output>.eval.json (docs/calibration.md)"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<int64_t> evalSamples(
    "eval-samples", cl::desc("With --eval: use at most this many samples"),
    cl::init(0), cl::cat(category));
cl::opt<std::string> reportPath(
    "report",
    cl::desc("Write the optimization report, one self-contained HTML page of "
             "the calibration statistics and the --eval figures"),
    cl::value_desc("file.html"), cl::cat(category));
cl::opt<bool> instrument(
    "instrument",
    cl::desc("Compile the instrumented build (calibration probes) as the "
             "artifact, to run it elsewhere"),
    cl::cat(category));
cl::opt<bool> timing("timing", cl::desc("Print the time of each pass"),
                     cl::cat(category));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::cat(category));

cl::list<std::string> dims("dim",
                           cl::desc("Bind a symbolic dimension to a size"),
                           cl::value_desc("name=size"), cl::cat(category));
cl::list<std::string> maxDims("max-dim",
                              cl::desc("Upper bound of a symbolic dimension"),
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
          << "--" << flag << " expects name=size with size >= 0, got '" << entry
          << "'\n";
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
    llvm::outs() << llvm::left_justify(
                        op.domain.empty() ? "ai.onnx" : op.domain, 10)
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
  if (report.unsupportedNodes == 0) {
    llvm::outs() << "all operators are supported\n";
    return 0;
  }
  llvm::outs() << report.unsupportedNodes << " of " << report.nodes
               << " nodes use unsupported operators\n";
  return 1;
}

/// Prints "sinterc: <stage>" once a compile has run for a few seconds, so
/// that long compiles show where they are; only to a terminal (logs and
/// pipes get the diagnostics alone).
class Progress {
public:
  void stage(StringRef name) {
    if (llvm::sys::Process::StandardErrIsDisplayed() &&
        std::chrono::steady_clock::now() - start >= std::chrono::seconds(3))
      llvm::errs() << "sinterc: " << name << "...\n";
  }

private:
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};

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

/// Writes `contents` to a temporary beside `path`, kept by the caller's
/// commit (all files appear together or none).
struct PendingFile {
  std::string path;
  std::string temporary;
};

llvm::Expected<PendingFile> writePending(StringRef path, StringRef contents) {
  PendingFile file{path.str(), ""};
  SmallString<256> model(path);
  model += ".tmp%%%%%%";
  int fd;
  SmallString<256> temporary;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model, fd, temporary))
    return llvm::createStringError(ec, "cannot write " + path.str() + ": " +
                                           ec.message());
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << contents;
  os.close();
  file.temporary = std::string(temporary);
  if (os.has_error()) {
    llvm::sys::fs::remove(file.temporary);
    return llvm::createStringError("cannot write " + path.str() + ": " +
                                   os.error().message());
  }
  return file;
}

bool fusionEnabled() {
  if (fuse.getNumOccurrences())
    return fuse;
  return emit != Emit::Mlir && optLevel >= 1;
}

/// What --timing and --print-ir-after-all ask of every pass manager; all of
/// them report to `timingRoot`, so that one report covers every stage.
void instrumentPassManager(PassManager &pm, TimingScope &timingRoot) {
  if (timing)
    pm.enableTiming(timingRoot);
  if (printIRAfterAll) {
    pm.getContext()->disableMultithreading();
    pm.enableIRPrinting();
  }
}

/// Runs the fusion passes sinterc applies before code generation. The
/// caller keeps `pm` alive while later pass managers report to the same
/// timer: timers are keyed by pass address, which a freed pass would hand
/// on to an unrelated one.
LogicalResult runFusionPasses(PassManager &pm, ModuleOp module,
                              llvm::function_ref<void(PassManager &)> setup) {
  if (!fusionEnabled())
    return success();
  setup(pm);
  sinter::buildTransformerFusionPipeline(pm);
  return pm.run(module);
}

/// Whether w8a8 takes its activations' scales from calibration statistics
/// (`statsPath`, when there are any).
bool staticActivationScales(StringRef statsPath) {
  return activationScales == ActivationScales::Static ||
         (activationScales == ActivationScales::Auto && !statsPath.empty());
}

/// The compression passes, after fusion: the linear layers it forms are what
/// the quantized kernel runs.
LogicalResult
runCompressionPasses(PassManager &pm, ModuleOp module,
                     llvm::function_ref<void(PassManager &)> setup,
                     StringRef statsPath) {
  if (quantize == Quantize::None)
    return success();
  setup(pm);
  const unsigned bits = quantize == Quantize::W4 ? 4 : 8;
  if (awq || smooth >= 0.0) {
    sinter::ScaleActivationsOptions scaling;
    scaling.statsFile = statsPath.str();
    scaling.method = awq ? "awq" : "smooth";
    scaling.alpha = smooth;
    scaling.bits = bits;
    scaling.groupSize = groupSize;
    scaling.keepFp32 = keepFp32;
    pm.addPass(sinter::createScaleActivations(scaling));
  }
  sinter::QuantizeWeightsOptions options;
  options.bits = bits;
  options.groupSize = groupSize;
  options.keepFp32 = keepFp32;
  pm.addPass(sinter::createQuantizeWeights(options));
  if (quantize == Quantize::W8A8) {
    sinter::QuantizeActivationsOptions activations;
    activations.scales = staticActivationScales(statsPath) ? "static" : "dynamic";
    activations.statsFile = statsPath.str();
    activations.keepFp32 = keepFp32;
    pm.addPass(sinter::createQuantizeActivations(activations));
  }
  return pm.run(module);
}

LogicalResult insertProbes(PassManager &pm, ModuleOp module,
                           llvm::function_ref<void(PassManager &)> setup) {
  setup(pm);
  pm.addPass(sinter::createInsertProbes());
  return pm.run(module);
}

/// --smooth's value as the user would write it (1.5, not 1.500000).
std::string smoothAlpha() {
  char alpha[32];
  std::snprintf(alpha, sizeof(alpha), "%g", double(smooth));
  return alpha;
}

/// What the compression options do, in words (for --eval).
std::string describeTransformations(StringRef statsPath) {
  if (quantize == Quantize::None)
    return "no compression";
  std::string text;
  switch (quantize) {
  case Quantize::W8:
    text = groupSize ? "int8 weights in groups of " + std::to_string(groupSize)
                     : std::string("int8 weights per output channel");
    break;
  case Quantize::W4:
    text = "int4 weights in groups of " +
           std::to_string(groupSize ? int64_t(groupSize) : 32);
    break;
  default:
    text = std::string("int8 weights and activations (") +
           (staticActivationScales(statsPath)
                ? "calibrated scale per tensor)"
                : "scale per token at run time)");
  }
  if (awq)
    text += " with AWQ";
  if (smooth >= 0.0)
    text += " with SmoothQuant (alpha " + smoothAlpha() + ")";
  if (!keepFp32.empty())
    text += ", keeping '" + keepFp32 + "' in f32";
  return text;
}

/// The composite ops the fusion passes create, and what is left unfused
/// that they look for, counted for --stats.
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

/// A build that sinterc runs in process but does not write (the
/// instrumented one of --calibrate, the reference of --eval): its object
/// file and description, its LLVM module gone with its context.
struct ObjectBuild {
  sinter::CompiledModel model;
  SmallString<0> object;
};

FailureOr<ObjectBuild> compileToObject(ModuleOp module,
                                       const sinter::PassManagerSetup &setup,
                                       llvm::TargetMachine &machine,
                                       const sinter::ArtifactOptions &options) {
  llvm::LLVMContext context;
  FailureOr<sinter::CompiledModel> model =
      sinter::compileModel(module, setup, context, machine, options);
  if (failed(model))
    return failure();
  ObjectBuild build{std::move(*model), {}};
  llvm::raw_svector_ostream os(build.object);
  if (failed(sinter::emitObjectFile(*build.model.llvmModule, machine, os)))
    return emitError(module.getLoc())
           << "cannot emit an object file for " << options.target.cpu;
  build.model.llvmModule.reset();
  return build;
}

int compileArtifact(MLIRContext &context, ModuleOp module) {
  auto fail = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "sinterc") << message << "\n";
    return 1;
  };
  if (optLevel > 3)
    return fail("-O" + Twine(optLevel) + " is not a level (0 to 3)");
  const bool cuda = target == Target::Cuda;
  if ((emit == Emit::Ptx || emit == Emit::Nvvm) && !cuda)
    return fail(Twine("--emit=") + (emit == Emit::Ptx ? "ptx" : "nvvm") +
                " writes GPU kernels: give --target=cuda");
  if (cuda && !sinter::isSupportedGpuChip(gpuArch))
    return fail("--gpu-arch must be sm_80, sm_86, sm_89 or sm_90, got '" +
                gpuArch + "'");
  if (!sinter::isSupportedMatmulPrecision(gpuMatmulPrecision))
    return fail("--gpu-matmul-precision must be tf32, tf32x3, bf16 or fp32, got '" +
                gpuMatmulPrecision + "'");
  if (!cuda && gpuMatmulPrecision.getNumOccurrences())
    return fail("--gpu-matmul-precision applies to --target=cuda");
  if (cuda && (!calibrate.empty() || !evalDir.empty() || instrument))
    return fail("--calibrate, --eval and --instrument run the model on this "
                "machine's CPU: compile without --target=cuda for them");
  for (cl::opt<bool> *kernel : {&normKernel, &matmulKernel})
    if (cuda && kernel->getNumOccurrences() && *kernel)
      return fail("--" + kernel->ArgStr +
                  " names a CPU kernel of the runtime: with --target=cuda "
                  "every op runs as generated GPU code");
  if (outputPath == "-" && (emit == Emit::Obj || emit == Emit::So))
    return fail("--emit=obj and --emit=so write several files: give -o "
                "out/name");
  if (!calibrate.empty() && emit != Emit::Obj && emit != Emit::So)
    return fail("--calibrate writes its statistics beside the artifact: give "
                "-o out/name (and --emit=so or obj)");
  if (!evalDir.empty() && emit != Emit::Obj && emit != Emit::So)
    return fail("--eval runs the artifact: give -o out/name (and --emit=so "
                "or obj)");
  if (evalSamples < 0)
    return fail("--eval-samples must be >= 0");
  if (!reportPath.empty() && calibrate.empty() && calibrationStats.empty())
    return fail("--report shows calibration statistics: give --calibrate=DIR "
                "or --calibration-stats=FILE");
  if (calibrationSamples < 0)
    return fail("--calibration-samples must be >= 0");
  if (!calibrate.empty() && !calibrationStats.empty())
    return fail("--calibrate and --calibration-stats both give statistics: "
                "choose one");
  // out/model, out/model.so and out/model.o all name the artifact out/model.
  std::string stem = outputPath;
  for (StringRef extension : {".so", ".o", ".ll"})
    if (StringRef(stem).ends_with(extension) && emit != Emit::Llvm)
      stem.resize(stem.size() - extension.size());

  sinter::ArtifactOptions options;
  options.name = sinter::toCIdentifier(
      !apiName.empty() ? StringRef(apiName)
      : outputPath == "-"
          ? StringRef("model")
          : llvm::sys::path::stem(llvm::sys::path::filename(stem + ".x")));
  if (!apiName.empty() && options.name != apiName)
    return fail("--name must be a C identifier, got '" + apiName + "'");
  options.sourceName = llvm::sys::path::filename(inputPath).str();
  options.target = {cpu, optLevel};
  options.extraPasses = extraPasses;
  options.kernels.flashAttention = flashAttention;
  options.kernels.norm = normKernel && !cuda;
  options.kernels.matmul = matmulKernel && !cuda;
  options.kernels.mergeLinears = mergeLinears;
  if (cuda)
    options.gpu = sinter::GpuTarget{gpuArch, optLevel, gpuMatmulPrecision,
                                    /*kernelsAsBitcode=*/emit == Emit::Nvvm};
  options.entry = entry;

  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      sinter::createTargetMachine(options.target);
  if (!machine)
    return fail(llvm::toString(machine.takeError()));

  Progress progress;
  DefaultTimingManager timingManager;
  timingManager.setEnabled(timing);
  TimingScope timingRoot = timingManager.getRootScope();
  auto setup = [&](PassManager &pm) { instrumentPassManager(pm, timingRoot); };

  progress.stage("fusing");
  PassManager fusionPasses(&context), probePasses(&context),
      calibrationProbes(&context), compressionPasses(&context);
  if (failed(runFusionPasses(fusionPasses, module, setup)))
    return 1;
  // --eval compares against the model as fused, in f32.
  OwningOpRef<ModuleOp> reference;
  if (!evalDir.empty())
    reference = module.clone();
  if (instrument && failed(insertProbes(probePasses, module, setup)))
    return 1;

  // Calibration measures the model as fused, before compression.
  sinter::CalibrationResult stats;
  std::string statsName =
      llvm::sys::path::filename(stem + ".stats.json").str();
  std::string rowsName = llvm::sys::path::filename(stem + ".stats.rows").str();
  if (!calibrate.empty()) {
    progress.stage("calibrating");
    OwningOpRef<ModuleOp> instrumented = module.clone();
    if (!instrument &&
        failed(insertProbes(calibrationProbes, *instrumented, setup)))
      return 1;
    sinter::ProbeInfos probes = sinter::collectProbeInfos(*instrumented);
    FailureOr<ObjectBuild> calibrationBuild =
        compileToObject(*instrumented, setup, **machine, options);
    if (failed(calibrationBuild))
      return 1;
    sinter::CalibrationOptions calibration;
    calibration.dataDir = calibrate;
    calibration.maxSamples = calibrationSamples;
    calibration.rowsFileName = rowsName;
    llvm::Expected<sinter::CalibrationResult> result = sinter::runCalibration(
        calibrationBuild->model, calibrationBuild->object, options, probes,
        calibration);
    if (!result)
      return fail(llvm::toString(result.takeError()));
    stats = std::move(*result);
  }
  // The passes read statistics from files: this run's go to a temporary
  // folder, under their final names (the stats file names its rows file).
  std::string statsPath = calibrationStats;
  SmallString<128> statsFolder;
  llvm::scope_exit removeStats([&] {
    if (!statsFolder.empty())
      llvm::sys::fs::remove_directories(statsFolder);
  });
  if (!stats.stats.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("sinter-stats", statsFolder))
      return fail("cannot create a temporary folder: " + ec.message());
    for (auto [name, bytes] : {std::pair<std::string, const std::string *>{
                                   statsName, &stats.stats},
                               {rowsName, &stats.rows}}) {
      SmallString<256> path(statsFolder);
      llvm::sys::path::append(path, name);
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      if (!ec)
        os << *bytes;
      if (ec || os.has_error())
        return fail("cannot write " + path);
      if (name == statsName)
        statsPath = std::string(path);
    }
  }
  if (failed(runCompressionPasses(compressionPasses, module, setup, statsPath)))
    return 1;
  // Counted now: lowering replaces the ops in place.
  std::string fusionStats;
  if (llvm::AreStatisticsEnabled()) {
    llvm::raw_string_ostream os(fusionStats);
    printFusionStats(module, os);
  }
  llvm::LLVMContext llvmContext;
  progress.stage("lowering");
  FailureOr<sinter::CompiledModel> model =
      sinter::compileModel(module, setup, llvmContext, **machine, options);
  if (failed(model))
    return 1;
  // --stats is LLVM's own flag (registered by libLLVM), given our meaning.
  if (llvm::AreStatisticsEnabled()) {
    llvm::outs() << fusionStats << "weights:     " << formatBytes(model->weights.size())
                 << "\n"
                 << "arena:       " << formatBytes(model->arenaBytes) << " ("
                 << formatBytes(model->arenaUnsharedBytes)
                 << " of intermediates without reuse)\n"
                 << "heap allocations: " << model->heapAllocations << "\n";
    if (cuda)
      llvm::outs() << "GPU kernels: "
                   << StringRef(model->ptx).count(".entry ") << " ("
                   << formatBytes(model->ptx.size()) << " of PTX for "
                   << gpuArch << "), " << model->tiledContractions
                   << " of them tiled contractions in "
                   << model->matmulPrecision << " and "
                   << model->flashAttentions << " flash attentions\n";
  }

  if (emit == Emit::Ptx) {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> output =
        openOutputFile(outputPath, &error);
    if (!output)
      return fail(error);
    output->os() << model->ptx;
    output->keep();
    return 0;
  }

  if (emit == Emit::Nvvm) {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> output =
        openOutputFile(outputPath, &error);
    if (!output)
      return fail(error);
    // (Empty for a model without kernels, whose outputs are empty.)
    if (!model->kernelBitcode.empty()) {
      llvm::LLVMContext kernelContext;
      llvm::Expected<std::unique_ptr<llvm::Module>> kernels =
          llvm::parseBitcodeFile(
              llvm::MemoryBufferRef(model->kernelBitcode, "kernels"),
              kernelContext);
      if (!kernels)
        return fail("the kernels' LLVM bitcode does not read back: " +
                    llvm::toString(kernels.takeError()));
      (*kernels)->print(output->os(), nullptr);
    }
    output->keep();
    return 0;
  }

  if (emit == Emit::Llvm) {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> output =
        openOutputFile(outputPath, &error);
    if (!output)
      return fail(error);
    model->llvmModule->print(output->os(), nullptr);
    output->keep();
    return 0;
  }

  progress.stage("generating code");
  SmallString<0> object;
  {
    llvm::raw_svector_ostream os(object);
    if (failed(sinter::emitObjectFile(*model->llvmModule, **machine, os)))
      return fail("cannot emit an object file for " + cpu);
  }
  std::string evaluation;
  if (!evalDir.empty()) {
    progress.stage("evaluating");
    FailureOr<ObjectBuild> referenceBuild =
        compileToObject(*reference, setup, **machine, options);
    if (failed(referenceBuild))
      return 1;
    // One thread: inside sinterc, runs on two OpenMP threads measure up to
    // 4x slower than in sinter-run (an interaction not understood yet), and
    // one thread gives comparable times.
    llvm::Expected<std::unique_ptr<sinter::LoadedModel>> referenceLoaded =
        sinter::LoadedModel::link(referenceBuild->model,
                                  referenceBuild->object, 1, "--eval");
    if (!referenceLoaded)
      return fail(llvm::toString(referenceLoaded.takeError()));
    llvm::Expected<std::unique_ptr<sinter::LoadedModel>> artifactLoaded =
        sinter::LoadedModel::link(*model, object, 1, "--eval");
    if (!artifactLoaded)
      return fail(llvm::toString(artifactLoaded.takeError()));
    sinter::EvaluationOptions evaluationOptions;
    evaluationOptions.dataDir = evalDir;
    evaluationOptions.maxSamples = evalSamples;
    evaluationOptions.transformations = describeTransformations(statsPath);
    evaluationOptions.referenceBytes = referenceBuild->model.weights.size();
    evaluationOptions.artifactBytes = model->weights.size();
    llvm::Expected<std::string> text =
        sinter::evaluate(**referenceLoaded, **artifactLoaded,
                         evaluationOptions, llvm::outs());
    if (!text)
      return fail(llvm::toString(text.takeError()));
    evaluation = std::move(*text);
  }

  std::string report;
  if (!reportPath.empty()) {
    std::string statsText = stats.stats;
    if (statsText.empty()) {
      auto buffer = llvm::MemoryBuffer::getFile(calibrationStats);
      if (!buffer)
        return fail("cannot read " + calibrationStats + ": " +
                    buffer.getError().message());
      statsText = (*buffer)->getBuffer().str();
    }
    llvm::Expected<std::string> page = sinter::renderReport(
        llvm::sys::path::filename(inputPath), statsText, evaluation);
    if (!page)
      return fail("--report: " + llvm::toString(page.takeError()));
    report = std::move(*page);
  }

  SmallString<256> directory(llvm::sys::path::parent_path(stem));
  if (!directory.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(directory))
      return fail("cannot create " + directory + ": " + ec.message());

  std::vector<PendingFile> pending;
  auto discard = [&]() {
    for (const PendingFile &file : pending)
      llvm::sys::fs::remove(file.temporary);
    return 1;
  };
  auto add = [&](StringRef path, StringRef contents) {
    llvm::Expected<PendingFile> file = writePending(path, contents);
    if (!file) {
      fail(llvm::toString(file.takeError()));
      return false;
    }
    pending.push_back(*file);
    return true;
  };
  if (!add(stem + ".weights", sinter::weightsFileBytes(*model)) ||
      !add(stem + ".h", sinter::headerText(*model, options)) ||
      (!stats.stats.empty() &&
       (!add(stem + ".stats.json", stats.stats) ||
        !add(stem + ".stats.rows", stats.rows))) ||
      (!evaluation.empty() && !add(stem + ".eval.json", evaluation)))
    return discard();
  if (!report.empty()) {
    SmallString<256> reportFolder(llvm::sys::path::parent_path(reportPath));
    if (!reportFolder.empty())
      if (std::error_code ec =
              llvm::sys::fs::create_directories(reportFolder)) {
        fail("cannot create " + reportFolder + ": " + ec.message());
        return discard();
      }
    if (!add(reportPath, report))
      return discard();
  }
  if (emit == Emit::Obj) {
    if (!add(stem + ".o", object))
      return discard();
  } else {
    progress.stage("linking");
    if (!add(stem + ".o.tmp", object))
      return discard();
    std::string objectPath = pending.back().temporary;
    pending.pop_back();
    llvm::Expected<PendingFile> so = writePending(stem + ".so", "");
    if (!so) {
      llvm::sys::fs::remove(objectPath);
      fail(llvm::toString(so.takeError()));
      return discard();
    }
    llvm::Error linked = sinter::linkSharedLibrary(
        objectPath, so->temporary, llvm::sys::path::filename(stem + ".so"));
    llvm::sys::fs::remove(objectPath);
    pending.push_back(*so);
    if (linked) {
      fail(llvm::toString(std::move(linked)));
      return discard();
    }
  }
  for (const PendingFile &file : pending)
    if (std::error_code ec = llvm::sys::fs::rename(file.temporary, file.path)) {
      fail("cannot write " + file.path + ": " + ec.message());
      return discard();
    }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAllPasses();
  sinter::registerSinterCodegenPasses();
  sinter::registerSinterGraphPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions({&category, &cl::getGeneralCategory()});
  if (cl::Option *stats = cl::getRegisteredOptions().lookup("stats")) {
    stats->setDescription("Print the ops the fusion passes created and the "
                          "artifact's memory figures: weights, arena, heap "
                          "allocations");
    stats->addCategory(category);
    stats->setHiddenFlag(cl::NotHidden);
  }
  cl::ParseCommandLineOptions(argc, argv, "sinter model compiler\n");
  // Without --emit, -o's extension says what to write.
  if (emit.getNumOccurrences() == 0 && outputPath != "-") {
    StringRef out = outputPath;
    emit = out.ends_with(".mlir")  ? Emit::Mlir
           : out.ends_with(".ll")  ? Emit::Llvm
           : out.ends_with(".ptx") ? Emit::Ptx
           : out.ends_with(".o")  ? Emit::Obj
                                  : Emit::So;
  }

  if (listOps)
    return printSupportedOps();
  auto usage = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "sinterc") << message << "\n";
    return 1;
  };
  const bool haveStats = !calibrate.empty() || !calibrationStats.empty();
  if (awq && quantize == Quantize::None)
    return usage("--awq scales weights for quantization: give --quantize=w4 "
                 "or w8");
  if (awq && quantize == Quantize::W8A8)
    return usage("--awq searches scales for weight-only rounding; with "
                 "--quantize=w8a8, --smooth=ALPHA moves activation outliers");
  if (quantize == Quantize::W8A8 && groupSize != 0)
    return usage("--quantize=w8a8 has one weight scale per output channel "
                 "(the int8 GEMM scales once per column): drop --group-size");
  if (smooth.getNumOccurrences() && quantize != Quantize::W8A8)
    return usage("--smooth prepares int8 activations: give --quantize=w8a8");
  if (smooth.getNumOccurrences() && !(smooth >= 0.0 && smooth <= 1.0))
    return usage("--smooth=ALPHA needs ALPHA in [0, 1], got " + smoothAlpha());
  if (smooth.getNumOccurrences() && !haveStats)
    return usage("--smooth needs calibration statistics: give "
                 "--calibrate=DIR or --calibration-stats=FILE");
  if (activationScales.getNumOccurrences() && quantize != Quantize::W8A8)
    return usage("--activation-scales applies to --quantize=w8a8");
  if (activationScales == ActivationScales::Static && !haveStats)
    return usage("--activation-scales=static needs calibration statistics: "
                 "give --calibrate=DIR or --calibration-stats=FILE");
  if (awq && !haveStats)
    return usage("--awq needs calibration statistics: give --calibrate=DIR or "
                 "--calibration-stats=FILE");
  if (inputPath.empty())
    return usage("no model given (see --help)");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // --target=cuda translates its kernels to LLVM IR during the pipeline.
  registerAllToLLVMIRTranslations(registry);
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

  if (emit == Emit::Mlir) {
    DefaultTimingManager timingManager;
    timingManager.setEnabled(timing);
    TimingScope timingRoot = timingManager.getRootScope();
    if (!calibrate.empty() || !evalDir.empty() || !reportPath.empty()) {
      llvm::WithColor::error(llvm::errs(), "sinterc")
          << (!calibrate.empty() ? "--calibrate writes its statistics "
                                   "beside the artifact"
              : !evalDir.empty()   ? "--eval runs the artifact"
                                   : "--report comes with an artifact")
          << ": give -o out/name (and --emit=so or obj)\n";
      return 1;
    }
    auto setup = [&](PassManager &pm) { instrumentPassManager(pm, timingRoot); };
    PassManager fusionPasses(&context), probePasses(&context),
        compressionPasses(&context);
    if (failed(runFusionPasses(fusionPasses, **module, setup)) ||
        (instrument && failed(insertProbes(probePasses, **module, setup))) ||
        failed(runCompressionPasses(compressionPasses, **module, setup,
                                    calibrationStats)))
      return 1;
    if (llvm::AreStatisticsEnabled())
      printFusionStats(**module, llvm::errs());
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> output =
        openOutputFile(outputPath, &error);
    if (!output) {
      llvm::WithColor::error(llvm::errs(), "sinterc") << error << "\n";
      return 1;
    }
    (*module)->print(output->os());
    output->os() << "\n";
    output->keep();
    return 0;
  }
  return compileArtifact(context, **module);
}
