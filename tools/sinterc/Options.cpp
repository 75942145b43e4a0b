//===- Options.cpp - sinterc's command line -------------------------------===//

#include "tools/sinterc/Options.h"

#include "codegen/gpu/GpuPipeline.h"
#include "tools/common/CommandLine.h"

#include "codegen/CpuPipeline.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <cstdio>

namespace cl = llvm::cl;
using llvm::StringRef;
using llvm::Twine;

namespace sinter {

char UsageError::ID;

namespace {

// What --help shows, by category; every other option (LLVM's, MLIR's) is
// under --help-hidden.
cl::OptionCategory ioCategory("Input and output");
cl::OptionCategory codegenCategory("Code generation");
cl::OptionCategory compressionCategory("Compression");
cl::OptionCategory calibrationCategory("Calibration and evaluation");
cl::OptionCategory diagnosticsCategory("Diagnostics");

enum class Target { Cpu, Cuda };

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model>"),
                               cl::cat(ioCategory));
cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output: the artifact's path without extension (out/model "
             "writes out/model.so, .h and .weights), or the file to write "
             "for --emit=mlir|llvm ('-' for stdout)"),
    cl::value_desc("path"), cl::init("-"), cl::cat(ioCategory));

cl::opt<Emit> emit(
    "emit",
    cl::desc("Stage to stop at and write (default: so with -o, else mlir)"),
    cl::values(clEnumValN(Emit::None, "none",
                          "nothing: import and verify the model only"),
               clEnumValN(Emit::Mlir, "mlir",
                          "the model in the sinter dialect"),
               clEnumValN(Emit::MlirLlvm, "mlir-llvm",
                          "the model in MLIR's LLVM dialect, before "
                          "translation (what sinter-opt "
                          "--sinter-cpu-pipeline=entry=NAME prints)"),
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
    cl::init(Emit::Mlir), cl::cat(ioCategory));

cl::opt<std::string>
    apiName("name",
            cl::desc("Prefix of the artifact's C API (default: the output's "
                     "file name as a C identifier)"),
            cl::value_desc("identifier"), cl::cat(ioCategory));
cl::opt<std::string> entry(
    "entry",
    cl::desc("The function to compile (default: @main, or the only public "
             "function of a .mlir module)"),
    cl::value_desc("name"), cl::cat(ioCategory));
cl::opt<std::string> extraPasses(
    "pass-pipeline",
    cl::desc("Passes to run on the bufferized code before it is lowered "
             "further (e.g. from --load-pass-plugin)"),
    cl::value_desc("pipeline"), cl::cat(ioCategory));

cl::opt<Target> target(
    "target", cl::desc("Where the model runs (default: cpu)"),
    cl::values(clEnumValN(Target::Cpu, "cpu", "this machine's CPU (or --cpu)"),
               clEnumValN(Target::Cuda, "cuda",
                          "an NVIDIA GPU: kernels in PTX for --gpu-arch, "
                          "launched by the runtime through the CUDA driver "
                          "(docs/gpu.md)")),
    cl::init(Target::Cpu), cl::cat(codegenCategory));
cl::opt<std::string>
    gpuArch("gpu-arch",
            cl::desc("The GPU architecture of --target=cuda: sm_80, sm_86, "
                     "sm_89 or sm_90 (default); the GPU must be at least this"),
            cl::init("sm_90"), cl::cat(codegenCategory));
cl::opt<std::string> gpuMatmulPrecision(
    "gpu-matmul-precision",
    cl::desc("How --target=cuda multiplies in matmuls, linear layers and "
             "attention: on tensor cores accumulating in f32, tf32x3 "
             "(default: f32 accuracy), tf32 or bf16; or fp32 with FMAs"),
    cl::init("tf32x3"), cl::cat(codegenCategory));

cl::opt<std::string> cpu("cpu",
                         cl::desc("Target CPU (an LLVM CPU name), or 'native' "
                                  "for this machine's CPU and features"),
                         cl::init("native"), cl::cat(codegenCategory));
cl::opt<unsigned> optLevel("O", cl::desc("Optimization level (0-3)"),
                           cl::Prefix, cl::init(3), cl::cat(codegenCategory));
cl::opt<bool> fuse(
    "fuse",
    cl::desc("Run the transformer fusion passes (attention, norms, GELU, "
             "SiLU/SwiGLU, rotary embeddings, linear layers). Default: on "
             "when compiling at -O1 and above; --emit=mlir writes the "
             "imported model unless --fuse is given"),
    cl::cat(codegenCategory));
cl::opt<Quantization> quantize(
    "quantize", cl::desc("Store the weights as integers, and with w8a8 "
                         "round the linear layers' inputs to int8 too "
                         "(docs/quantization.md)"),
    cl::values(clEnumValN(Quantization::None, "none", "f32 weights (default)"),
               clEnumValN(Quantization::W8, "w8",
                          "int8, one scale per output channel"),
               clEnumValN(Quantization::W4, "w4",
                          "uint4 in groups with scales and zero points"),
               clEnumValN(Quantization::W8A8, "w8a8",
                          "int8 weights per output channel and int8 "
                          "activations: the int8 GEMM")),
    cl::init(Quantization::None), cl::cat(compressionCategory));
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
    cl::init(ActivationScales::Auto), cl::cat(compressionCategory));
cl::opt<double> smooth(
    "smooth",
    cl::desc("With --quantize=w8a8: move activation outliers into the "
             "weights first, SmoothQuant's migration strength ALPHA in [0, "
             "1] (needs --calibrate or --calibration-stats)"),
    cl::value_desc("alpha"), cl::init(-1.0), cl::cat(compressionCategory));
cl::opt<int64_t> groupSize(
    "group-size",
    cl::desc("Weights per scale with --quantize (default: per output "
             "channel for w8, 32 for w4)"),
    cl::init(0), cl::cat(compressionCategory));
cl::opt<std::string> keepFp32(
    "keep-fp32",
    cl::desc("With --quantize: keep the layers and weights whose ONNX names "
             "match this regular expression in f32"),
    cl::value_desc("regex"), cl::cat(compressionCategory));
cl::opt<std::string> calibrate(
    "calibrate",
    cl::desc("Run the model's instrumented build on the samples in this "
             "folder and write what it measured to <output>.stats.json "
             "(docs/calibration.md)"),
    cl::value_desc("dir"), cl::cat(calibrationCategory));
cl::opt<int64_t> calibrationSamples(
    "calibration-samples",
    cl::desc("With --calibrate: use at most this many samples (0: all)"),
    cl::init(0), cl::cat(calibrationCategory));
cl::opt<std::string> calibrationStats(
    "calibration-stats",
    cl::desc("A stats file of an earlier --calibrate, for the passes that "
             "need statistics (--awq)"),
    cl::value_desc("file"), cl::cat(calibrationCategory));
cl::opt<bool> awq(
    "awq",
    cl::desc("With --quantize: scale the weights' input channels by the "
             "activations' magnitudes before rounding (AWQ; needs "
             "--calibrate or --calibration-stats)"),
    cl::cat(compressionCategory));
cl::opt<std::string> evalDir(
    "eval",
    cl::desc("Run the f32 reference and the artifact on the samples in this "
             "folder, print what the compression costs, and write "
             "<output>.eval.json (docs/calibration.md)"),
    cl::value_desc("dir"), cl::cat(calibrationCategory));
cl::opt<int64_t> evalSamples(
    "eval-samples", cl::desc("With --eval: use at most this many samples"),
    cl::init(0), cl::cat(calibrationCategory));
cl::opt<std::string> reportPath(
    "report",
    cl::desc("Write the optimization report, one self-contained HTML page of "
             "the calibration statistics and the --eval figures"),
    cl::value_desc("file.html"), cl::cat(calibrationCategory));
cl::opt<bool> instrument(
    "instrument",
    cl::desc("Compile the instrumented build (calibration probes) as the "
             "artifact, to run it elsewhere"),
    cl::cat(calibrationCategory));
cl::opt<bool> timing("timing", cl::desc("Print the time of each pass"),
                     cl::cat(diagnosticsCategory));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::cat(diagnosticsCategory));

cl::list<std::string> dims("dim",
                           cl::desc("Bind a symbolic dimension to a size"),
                           cl::value_desc("name=size"), cl::cat(ioCategory));
cl::list<std::string> maxDims("max-dim",
                              cl::desc("Upper bound of a symbolic dimension"),
                              cl::value_desc("name=size"), cl::cat(ioCategory));

cl::list<std::string> freezeInputs(
    "freeze-input",
    cl::desc("Replace a graph input by the constant in an ONNX TensorProto "
             "file (for inputs that carry shapes, axes or other values)"),
    cl::value_desc("name=tensor.pb"), cl::cat(ioCategory));

cl::opt<bool> listOps("list-ops",
                      cl::desc("Print the supported ONNX operators and exit"),
                      cl::cat(ioCategory));
cl::opt<bool> check("check",
                    cl::desc("Print the model's operator histogram and the "
                             "unsupported operators, without compiling"),
                    cl::cat(ioCategory));


// The runtime's kernels: declared once, read by runtimeKernels() alone.
cl::opt<bool> flashAttention(
    "flash-attention",
    cl::desc("Run f32 attention as a flash-attention kernel (default; the "
             "runtime's, or with --target=cuda a generated GPU kernel); "
             "=false lowers it to two contractions around a softmax, which "
             "materialize the scores"),
    cl::init(true), cl::cat(codegenCategory));
cl::opt<bool> normKernel(
    "norm-kernel",
    cl::desc("Run f32 layer/RMS norms (and residual add + norm) as the "
             "runtime's norm kernel (default); =false lowers them to "
             "reductions and elementwise passes"),
    cl::init(true), cl::cat(codegenCategory));
cl::opt<bool> matmulKernel(
    "matmul-kernel",
    cl::desc("Run f32 matmul and linear layers as the runtime's packed GEMM "
             "kernel (default); =false lowers them to contractions"),
    cl::init(true), cl::cat(codegenCategory));
cl::opt<bool> mergeLinears(
    "merge-linears",
    cl::desc("Merge linear layers that read the same input (attention's Q, "
             "K and V; a gated MLP's gate and up) into one product "
             "(default); =false keeps one product per layer"),
    cl::init(true), cl::cat(codegenCategory));

cl::opt<bool> checkInputIndices(
    "check-input-indices",
    cl::desc("Check before each run that every input used as indices (a "
             "Gather's, GatherElements' or ScatterElements': token ids) "
             "lies within the dimension it indexes, and fail the run with "
             "the value and its position otherwise (default); =false "
             "leaves the check out (docs/runtime-abi.md)"),
    cl::init(true), cl::cat(codegenCategory));

RuntimeKernels runtimeKernels(bool cuda) {
  RuntimeKernels kernels;
  kernels.flashAttention = flashAttention;
  // On the GPU every op but attention runs as generated code.
  kernels.norm = normKernel && !cuda;
  kernels.matmul = matmulKernel && !cuda;
  kernels.mergeLinears = mergeLinears;
  return kernels;
}

llvm::Error usage(const Twine &message) {
  return llvm::make_error<UsageError>(message, llvm::inconvertibleErrorCode());
}

/// Parses `name=size` entries of --dim / --max-dim.
llvm::Error parseDimFlags(const cl::list<std::string> &flags, StringRef flag,
                          llvm::StringMap<int64_t> &out) {
  for (const std::string &entry : flags) {
    auto [name, size] = StringRef(entry).split('=');
    int64_t value;
    if (name.empty() || size.getAsInteger(10, value) || value < 0)
      return usage("--" + flag + " expects name=size with size >= 0, got '" +
                   entry + "'");
    out[name] = value;
  }
  return llvm::Error::success();
}

/// --smooth's value as the user would write it (1.5, not 1.500000).
std::string formatAlpha(double alpha) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", alpha);
  return text;
}

/// The options of the model's import and compression (every emit).
llvm::Error checkModelOptions(DriverOptions &options) {
  const bool haveStats = !calibrate.empty() || !calibrationStats.empty();
  if (awq && quantize == Quantization::None)
    return usage("--awq scales weights for quantization: give --quantize=w4 "
                 "or w8");
  if (awq && quantize == Quantization::W8A8)
    return usage("--awq searches scales for weight-only rounding; with "
                 "--quantize=w8a8, --smooth=ALPHA moves activation outliers");
  if (quantize == Quantization::W8A8 && groupSize != 0)
    return usage("--quantize=w8a8 has one weight scale per output channel "
                 "(the int8 GEMM scales once per column): drop --group-size");
  if (smooth.getNumOccurrences() && quantize != Quantization::W8A8)
    return usage("--smooth prepares int8 activations: give --quantize=w8a8");
  if (smooth.getNumOccurrences() && !(smooth >= 0.0 && smooth <= 1.0))
    return usage("--smooth=ALPHA needs ALPHA in [0, 1], got " +
                 formatAlpha(smooth));
  if (smooth.getNumOccurrences() && !haveStats)
    return usage("--smooth needs calibration statistics: give "
                 "--calibrate=DIR or --calibration-stats=FILE");
  if (activationScales.getNumOccurrences() && quantize != Quantization::W8A8)
    return usage("--activation-scales applies to --quantize=w8a8");
  if (activationScales == ActivationScales::Static && !haveStats)
    return usage("--activation-scales=static needs calibration statistics: "
                 "give --calibrate=DIR or --calibration-stats=FILE");
  if (awq && !haveStats)
    return usage("--awq needs calibration statistics: give --calibrate=DIR or "
                 "--calibration-stats=FILE");
  if (inputPath.empty())
    return usage("no model given (see --help)");

  if (llvm::Error error = parseDimFlags(dims, "dim", options.import.dimSizes))
    return error;
  if (llvm::Error error =
          parseDimFlags(maxDims, "max-dim", options.import.dimBounds))
    return error;
  for (const std::string &entry : freezeInputs) {
    auto [name, file] = StringRef(entry).split('=');
    if (name.empty() || file.empty())
      return usage("--freeze-input expects name=tensor.pb, got '" + entry +
                   "'");
    options.import.frozenInputs[name] = file.str();
  }

  if (groupSize < 0)
    return usage("--group-size must be >= 0 (0: the default of --quantize), "
                 "got " +
                 Twine(int64_t(groupSize)));
  if (std::string error; !keepFp32.empty() &&
                         !llvm::Regex(keepFp32).isValid(error))
    return usage("--keep-fp32 '" + keepFp32 +
                 "' is not a regular expression: " + error);

  CompressionOptions &compression = options.compression;
  compression.fuse = fuse.getNumOccurrences()
                         ? bool(fuse)
                         : options.emit != Emit::Mlir && optLevel >= 1;
  compression.instrument = instrument;
  compression.quantize = quantize;
  compression.scaling = awq ? "awq" : smooth >= 0.0 ? "smooth" : "";
  compression.alpha = smooth;
  compression.groupSize = groupSize;
  compression.keepFp32 = keepFp32;
  options.activationScales = activationScales;
  options.calibrateDir = calibrate;
  options.calibrationSamples = calibrationSamples;
  options.calibrationStats = calibrationStats;
  options.evalDir = evalDir;
  options.evalSamples = evalSamples;
  options.reportPath = reportPath;
  options.timing = timing;
  options.printIRAfterAll = printIRAfterAll;
  return llvm::Error::success();
}

/// The options of code generation (--emit=mlir-llvm and later stages).
llvm::Error checkCodegenOptions(DriverOptions &options) {
  const Emit emitted = options.emit;
  if (optLevel > 3)
    return usage("-O" + Twine(optLevel) + " is not a level (0 to 3)");
  const bool cuda = target == Target::Cuda;
  // Checked here, not where they are used, so that a misspelling is a
  // command-line error (exit 2) found before the model is read.
  if (cpu != "native") {
    auto machine = createTargetMachine({cpu, optLevel});
    if (!machine)
      return usage("--cpu: " + llvm::toString(machine.takeError()));
  }
  if (!extraPasses.empty()) {
    mlir::OpPassManager parsed("builtin.module");
    std::string error;
    llvm::raw_string_ostream errorStream(error);
    if (mlir::failed(
            mlir::parsePassPipeline(extraPasses, parsed, errorStream)))
      return usage("--pass-pipeline does not parse: " +
                   StringRef(error).trim());
  }
  if ((emitted == Emit::Ptx || emitted == Emit::Nvvm) && !cuda)
    return usage(Twine("--emit=") + (emitted == Emit::Ptx ? "ptx" : "nvvm") +
                 " writes GPU kernels: give --target=cuda");
  if (cuda && !isSupportedGpuChip(gpuArch))
    return usage("--gpu-arch must be sm_80, sm_86, sm_89 or sm_90, got '" +
                 gpuArch + "'");
  if (!isSupportedMatmulPrecision(gpuMatmulPrecision))
    return usage(
        "--gpu-matmul-precision must be tf32, tf32x3, bf16 or fp32, got '" +
        gpuMatmulPrecision + "'");
  if (!cuda && gpuMatmulPrecision.getNumOccurrences())
    return usage("--gpu-matmul-precision applies to --target=cuda");
  if (cuda && (!calibrate.empty() || !evalDir.empty() || instrument))
    return usage("--calibrate, --eval and --instrument run the model on this "
                 "machine's CPU: compile without --target=cuda for them");
  for (cl::opt<bool> *kernel : {&normKernel, &matmulKernel})
    if (cuda && kernel->getNumOccurrences() && *kernel)
      return usage("--" + kernel->ArgStr +
                   " names a CPU kernel of the runtime: with --target=cuda "
                   "every op runs as generated GPU code");
  if (outputPath == "-" && (emitted == Emit::Obj || emitted == Emit::So))
    return usage("--emit=obj and --emit=so write several files: give -o "
                 "out/name");
  if (!calibrate.empty() && emitted != Emit::Obj && emitted != Emit::So)
    return usage("--calibrate writes its statistics beside the artifact: give "
                 "-o out/name (and --emit=so or obj)");
  if (!evalDir.empty() && emitted != Emit::Obj && emitted != Emit::So)
    return usage("--eval runs the artifact: give -o out/name (and --emit=so "
                 "or obj)");
  if (evalSamples < 0)
    return usage("--eval-samples must be >= 0");
  if (!reportPath.empty() && calibrate.empty() && calibrationStats.empty())
    return usage("--report shows calibration statistics: give "
                 "--calibrate=DIR or --calibration-stats=FILE");
  if (calibrationSamples < 0)
    return usage("--calibration-samples must be >= 0");
  if (!calibrate.empty() && !calibrationStats.empty())
    return usage("--calibrate and --calibration-stats both give statistics: "
                 "choose one");
  // out/model, out/model.so and out/model.o all name the artifact out/model.
  options.stem = outputPath;
  for (StringRef extension : {".so", ".o", ".ll"})
    if (StringRef(options.stem).ends_with(extension) && emitted != Emit::Llvm)
      options.stem.resize(options.stem.size() - extension.size());

  ArtifactOptions &artifact = options.artifact;
  artifact.name = toCIdentifier(
      !apiName.empty() ? StringRef(apiName)
      : outputPath == "-"
          ? StringRef("model")
          : llvm::sys::path::stem(
                llvm::sys::path::filename(options.stem + ".x")));
  if (!apiName.empty() && artifact.name != apiName)
    return usage("--name must be a C identifier, got '" + apiName + "'");
  artifact.sourceName = llvm::sys::path::filename(inputPath).str();
  artifact.target = {cpu, optLevel};
  artifact.extraPasses = extraPasses;
  artifact.kernels = runtimeKernels(cuda);
  artifact.checkInputIndices = checkInputIndices;
  if (cuda)
    artifact.gpu = GpuTarget{gpuArch, optLevel, gpuMatmulPrecision,
                             /*kernelsAsBitcode=*/emitted == Emit::Nvvm};
  artifact.entry = entry;
  artifact.stopAtLLVMDialect = emitted == Emit::MlirLlvm;
  return llvm::Error::success();
}

} // namespace

llvm::Expected<DriverOptions> parseCommandLine(int argc, char **argv) {
  tools::hideUnrelatedOptions({&ioCategory, &codegenCategory,
                               &compressionCategory, &calibrationCategory,
                               &diagnosticsCategory});
  if (cl::Option *stats = cl::getRegisteredOptions().lookup("stats")) {
    stats->setDescription("Print the ops the fusion passes created and the "
                          "artifact's memory figures: weights, arena, heap "
                          "allocations");
    stats->addCategory(diagnosticsCategory);
    stats->setHiddenFlag(cl::NotHidden);
  }
  // Errors in the options themselves are printed by the parser.
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "sinter model compiler\n\n"
          "Exit codes: 0 success, 1 the model cannot be compiled (bad or "
          "unsupported input, an output that cannot be written), 2 a wrong "
          "command line.\n",
          &llvm::errs()))
    return usage("");

  DriverOptions options;
  options.inputPath = inputPath;
  options.outputPath = outputPath;
  options.listOps = listOps;
  options.check = check;
  options.emit = emit;
  // Without --emit, -o's extension says what to write.
  if (emit.getNumOccurrences() == 0 && outputPath != "-") {
    StringRef out = outputPath;
    options.emit = out.ends_with(".mlir")  ? Emit::Mlir
                   : out.ends_with(".ll")  ? Emit::Llvm
                   : out.ends_with(".ptx") ? Emit::Ptx
                   : out.ends_with(".o")   ? Emit::Obj
                                           : Emit::So;
  }
  if (options.listOps)
    return options;
  if (llvm::Error error = checkModelOptions(options))
    return error;
  if (options.emit == Emit::Mlir &&
      (!calibrate.empty() || !evalDir.empty() || !reportPath.empty()))
    return usage(Twine(!calibrate.empty() ? "--calibrate writes its "
                                            "statistics beside the artifact"
                       : !evalDir.empty() ? "--eval runs the artifact"
                                          : "--report comes with an artifact") +
                 ": give -o out/name (and --emit=so or obj)");
  if (options.emit != Emit::None && options.emit != Emit::Mlir)
    if (llvm::Error error = checkCodegenOptions(options))
      return error;
  return options;
}

CompressionOptions finishCompression(const DriverOptions &options,
                                     StringRef statsPath) {
  CompressionOptions compression = options.compression;
  compression.statsFile = statsPath.str();
  // Static scales with calibration statistics, unless told otherwise.
  bool staticScales =
      options.activationScales == ActivationScales::Static ||
      (options.activationScales == ActivationScales::Auto && !statsPath.empty());
  compression.activationScales = staticScales ? "static" : "dynamic";
  return compression;
}

std::string describeCompression(const CompressionOptions &compression) {
  if (compression.quantize == Quantization::None)
    return "no compression";
  std::string text;
  switch (compression.quantize) {
  case Quantization::W8:
    text = compression.groupSize
               ? "int8 weights in groups of " +
                     std::to_string(compression.groupSize)
               : std::string("int8 weights per output channel");
    break;
  case Quantization::W4:
    text = "int4 weights in groups of " +
           std::to_string(compression.groupSize ? compression.groupSize : 32);
    break;
  default:
    text = std::string("int8 weights and activations (") +
           (compression.activationScales == "static"
                ? "calibrated scale per tensor)"
                : "scale per token at run time)");
  }
  if (compression.scaling == "awq")
    text += " with AWQ";
  if (compression.scaling == "smooth")
    text += " with SmoothQuant (alpha " + formatAlpha(compression.alpha) + ")";
  if (!compression.keepFp32.empty())
    text += ", keeping '" + compression.keepFp32 + "' in f32";
  return text;
}

} // namespace sinter
