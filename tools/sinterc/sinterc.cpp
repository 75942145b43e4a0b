//===- sinterc.cpp - The sinter compiler driver ---------------------------===//
//
//   sinterc model.onnx -o out/model                out/model.{so,h,weights}
//   sinterc model.onnx --emit=mlir -o model.mlir   import only
//   sinterc model.onnx --emit=obj -o out/model     out/model.{o,h,weights}
//   sinterc --check model.onnx                     op histogram, unsupported
//   sinterc --list-ops                             supported ONNX operators
//   sinterc m.onnx --dim sequence=128 --freeze-input axes=axes.pb
//
// Models are .onnx, .onnxtext or .mlir files. Errors name the node, tensor or
// file they concern; nothing is written unless the whole job succeeds. The
// options are read in Options.cpp, the files written in Outputs.cpp; here a
// compile is a sequence of stages: import, fuse, instrument, calibrate,
// compress, lower, emit the object, evaluate, write.
//
//===----------------------------------------------------------------------===//

#include "codegen/Artifact.h"
#include "codegen/CpuPipeline.h"
#include "codegen/Passes.h"
#include "frontend/ModelLoader.h"
#include "passes/Passes.h"
#include "tools/sinterc/Calibration.h"
#include "tools/sinterc/Evaluation.h"
#include "tools/sinterc/Messages.h"
#include "tools/sinterc/Options.h"
#include "tools/sinterc/Outputs.h"
#include "tools/sinterc/Report.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"

#include <chrono>
#include <new>
#include <unistd.h>

using namespace mlir;
using sinter::DriverOptions;
using sinter::Emit;
using namespace sinter::messages;

namespace {

/// A failure already reported as diagnostics: nothing more to print.
class ReportedError : public llvm::ErrorInfo<ReportedError> {
public:
  static char ID;
  void log(llvm::raw_ostream &) const override {}
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }
};
char ReportedError::ID;

llvm::Error reported() { return llvm::make_error<ReportedError>(); }

llvm::Error reportedIf(LogicalResult result) {
  return failed(result) ? reported() : llvm::Error::success();
}

/// The one place errors are printed; the exit code says what failed.
int exitCode(llvm::Error error) {
  int code = sinter::kExitOk;
  auto print = [](const llvm::ErrorInfoBase &info) {
    // (Empty when the command-line parser printed it already.)
    if (std::string message = info.message(); !message.empty())
      llvm::WithColor::error(llvm::errs(), "sinterc") << message << "\n";
  };
  llvm::handleAllErrors(
      std::move(error),
      [&](const sinter::UsageError &usage) {
        print(usage);
        code = sinter::kExitUsage;
      },
      [&](const ReportedError &) { code = sinter::kExitFailure; },
      [&](const llvm::ErrorInfoBase &other) {
        print(other);
        code = sinter::kExitFailure;
      });
  return code;
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


/// One compile: the stages, the pass managers they ran (kept alive: timers
/// are keyed by pass address, which a freed pass would hand on to an
/// unrelated one) and the timing report they share.
class Compiler {
public:
  Compiler(MLIRContext &context, const DriverOptions &options)
      : context(context), options(options) {
    timingManager.setEnabled(options.timing);
    timingRoot = timingManager.getRootScope();
  }
  ~Compiler() {
    if (!statsFolder.empty())
      llvm::sys::fs::remove_directories(statsFolder);
  }

  /// --emit=mlir: the model after fusion and compression.
  llvm::Error writeMlir(ModuleOp module);
  /// Every later stage.
  llvm::Error compileArtifact(ModuleOp module);

private:
  /// What --timing and --print-ir-after-all ask of every pass manager.
  void instrument(PassManager &pm) {
    if (options.timing)
      pm.enableTiming(timingRoot);
    if (options.printIRAfterAll) {
      pm.getContext()->disableMultithreading();
      pm.enableIRPrinting();
    }
  }
  /// Runs the passes `build` adds on `module`.
  llvm::Error runPasses(ModuleOp module,
                        llvm::function_ref<void(OpPassManager &)> build) {
    passManagers.push_back(std::make_unique<PassManager>(&context));
    instrument(*passManagers.back());
    build(*passManagers.back());
    return reportedIf(passManagers.back()->run(module));
  }
  sinter::PassManagerSetup setup() {
    return [this](PassManager &pm) { instrument(pm); };
  }

  // The stages, in order.
  llvm::Error fuse(ModuleOp module);
  llvm::Error insertProbes(ModuleOp module);
  llvm::Error calibrate(ModuleOp module, llvm::TargetMachine &machine);
  llvm::Error writeStatsFiles();
  llvm::Error compress(ModuleOp module);
  llvm::Error lower(ModuleOp module, llvm::TargetMachine &machine);
  void printStats();
  llvm::Error writeSingleOutput(ModuleOp module);
  llvm::Error emitObject(llvm::TargetMachine &machine);
  llvm::Error evaluate(ModuleOp reference, llvm::TargetMachine &machine);
  llvm::Error renderReport();
  llvm::Error writeArtifact();

  MLIRContext &context;
  const DriverOptions &options;
  DefaultTimingManager timingManager;
  TimingScope timingRoot;
  std::vector<std::unique_ptr<PassManager>> passManagers;
  Progress progress;

  // What the stages produce.
  sinter::CalibrationResult stats;
  /// The statistics the passes read: --calibration-stats, or this run's in
  /// a temporary folder (removed with the compiler) under their final names.
  std::string statsPath;
  SmallString<128> statsFolder;
  std::string fusionStats;
  llvm::LLVMContext llvmContext;
  sinter::CompiledModel model;
  SmallString<0> object;
  std::string evaluation, report;
};

llvm::Error Compiler::fuse(ModuleOp module) {
  if (!options.compression.fuse)
    return llvm::Error::success();
  return runPasses(module, sinter::buildTransformerFusionPipeline);
}

llvm::Error Compiler::insertProbes(ModuleOp module) {
  return runPasses(module, [](OpPassManager &pm) {
    pm.addPass(sinter::createInsertProbes());
  });
}

/// The compression passes, after fusion (the linear layers it forms are
/// what the quantized kernel runs) and calibration.
llvm::Error Compiler::compress(ModuleOp module) {
  sinter::CompressionOptions compression =
      sinter::finishCompression(options, statsPath);
  if (compression.quantize == sinter::Quantization::None)
    return llvm::Error::success();
  return runPasses(module, [&](OpPassManager &pm) {
    sinter::buildQuantizationPhase(pm, compression);
  });
}

llvm::Error Compiler::writeMlir(ModuleOp module) {
  statsPath = options.calibrationStats;
  if (llvm::Error error = fuse(module))
    return error;
  if (options.compression.instrument)
    if (llvm::Error error = insertProbes(module))
      return error;
  if (llvm::Error error = compress(module))
    return error;
  if (llvm::AreStatisticsEnabled())
    printFusionStats(module, llvm::errs());
  return sinter::writeOutput(options.outputPath, [&](llvm::raw_ostream &os) {
    module->print(os);
    os << "\n";
    return llvm::Error::success();
  });
}

/// Calibration measures the model as fused, before compression, in an
/// instrumented build run in this process.
llvm::Error Compiler::calibrate(ModuleOp module,
                                llvm::TargetMachine &machine) {
  progress.stage("calibrating");
  OwningOpRef<ModuleOp> instrumented = module.clone();
  if (!options.compression.instrument)
    if (llvm::Error error = insertProbes(*instrumented))
      return error;
  sinter::ProbeInfos probes = sinter::collectProbeInfos(*instrumented);
  FailureOr<ObjectBuild> build =
      compileToObject(*instrumented, setup(), machine, options.artifact);
  if (failed(build))
    return reported();
  sinter::CalibrationOptions calibration;
  calibration.dataDir = options.calibrateDir;
  calibration.maxSamples = options.calibrationSamples;
  calibration.rowsFileName =
      llvm::sys::path::filename(options.stem + ".stats.rows").str();
  llvm::Expected<sinter::CalibrationResult> result = sinter::runCalibration(
      build->model, build->object, options.artifact, probes, calibration);
  if (!result)
    return result.takeError();
  stats = std::move(*result);
  return writeStatsFiles();
}

/// The passes read statistics from files: this run's go to a temporary
/// folder, under their final names (the stats file names its rows file).
llvm::Error Compiler::writeStatsFiles() {
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("sinter-stats", statsFolder))
    return llvm::createStringError(ec, "cannot create a temporary folder: " +
                                           ec.message());
  std::string statsName =
      llvm::sys::path::filename(options.stem + ".stats.json").str();
  std::string rowsName =
      llvm::sys::path::filename(options.stem + ".stats.rows").str();
  for (auto [name, bytes] :
       {std::pair<std::string, const std::string *>{statsName, &stats.stats},
        {rowsName, &stats.rows}}) {
    SmallString<256> path(statsFolder);
    llvm::sys::path::append(path, name);
    if (llvm::Error error =
            sinter::tools::writeFileBytes(std::string(path), *bytes))
      return error;
    if (name == statsName)
      statsPath = std::string(path);
  }
  return llvm::Error::success();
}

llvm::Error Compiler::lower(ModuleOp module, llvm::TargetMachine &machine) {
  // Counted now: lowering replaces the ops in place.
  if (llvm::AreStatisticsEnabled()) {
    llvm::raw_string_ostream os(fusionStats);
    printFusionStats(module, os);
  }
  progress.stage("lowering");
  FailureOr<sinter::CompiledModel> compiled = sinter::compileModel(
      module, setup(), llvmContext, machine, options.artifact);
  if (failed(compiled))
    return reported();
  model = std::move(*compiled);
  return llvm::Error::success();
}

/// --stats is LLVM's own flag (registered by libLLVM), given our meaning.
void Compiler::printStats() {
  if (!llvm::AreStatisticsEnabled())
    return;
  llvm::outs() << fusionStats
               << "weights:     " << formatBytes(model.weights.size()) << "\n"
               << "arena:       " << formatBytes(model.arenaBytes) << " ("
               << formatBytes(model.arenaUnsharedBytes)
               << " of intermediates without reuse)\n"
               << "heap allocations: " << model.heapAllocations << "\n";
  if (options.artifact.gpu)
    llvm::outs() << "GPU kernels: " << StringRef(model.ptx).count(".entry ")
                 << " (" << formatBytes(model.ptx.size()) << " of PTX for "
                 << options.artifact.gpu->chip << "), "
                 << model.tiledContractions
                 << " of them tiled contractions in " << model.matmulPrecision
                 << " and " << model.flashAttentions << " flash attentions\n";
}

/// --emit=mlir-llvm, llvm, ptx, nvvm: one file.
llvm::Error Compiler::writeSingleOutput(ModuleOp module) {
  return sinter::writeOutput(options.outputPath, [&](llvm::raw_ostream &os)
                                                     -> llvm::Error {
    switch (options.emit) {
    case Emit::MlirLlvm:
      module->print(os);
      os << "\n";
      break;
    case Emit::Ptx:
      os << model.ptx;
      break;
    case Emit::Nvvm: {
      // (Empty for a model without kernels, whose outputs are empty.)
      if (model.kernelBitcode.empty())
        break;
      llvm::LLVMContext kernelContext;
      llvm::Expected<std::unique_ptr<llvm::Module>> kernels =
          llvm::parseBitcodeFile(
              llvm::MemoryBufferRef(model.kernelBitcode, "kernels"),
              kernelContext);
      if (!kernels)
        return llvm::createStringError(
            "the kernels' LLVM bitcode does not read back: " +
            llvm::toString(kernels.takeError()));
      (*kernels)->print(os, nullptr);
      break;
    }
    default:
      model.llvmModule->print(os, nullptr);
    }
    return llvm::Error::success();
  });
}

llvm::Error Compiler::emitObject(llvm::TargetMachine &machine) {
  progress.stage("generating code");
  llvm::raw_svector_ostream os(object);
  if (failed(sinter::emitObjectFile(*model.llvmModule, machine, os)))
    return llvm::createStringError("cannot emit an object file for " +
                                   options.artifact.target.cpu);
  return llvm::Error::success();
}

/// --eval: the f32 reference (the model as fused) and the artifact, both
/// run in this process on the samples.
llvm::Error Compiler::evaluate(ModuleOp reference,
                               llvm::TargetMachine &machine) {
  progress.stage("evaluating");
  FailureOr<ObjectBuild> referenceBuild =
      compileToObject(reference, setup(), machine, options.artifact);
  if (failed(referenceBuild))
    return reported();
  // One thread: inside sinterc, runs on two OpenMP threads measure up to 4x
  // slower than in sinter-run (an interaction not understood yet), and one
  // thread gives comparable times.
  llvm::Expected<std::unique_ptr<sinter::LoadedModel>> referenceLoaded =
      sinter::LoadedModel::link(referenceBuild->model, referenceBuild->object,
                                1, "--eval");
  if (!referenceLoaded)
    return referenceLoaded.takeError();
  llvm::Expected<std::unique_ptr<sinter::LoadedModel>> artifactLoaded =
      sinter::LoadedModel::link(model, object, 1, "--eval");
  if (!artifactLoaded)
    return artifactLoaded.takeError();
  sinter::EvaluationOptions evaluationOptions;
  evaluationOptions.dataDir = options.evalDir;
  evaluationOptions.maxSamples = options.evalSamples;
  evaluationOptions.transformations =
      sinter::describeCompression(sinter::finishCompression(options, statsPath));
  evaluationOptions.referenceBytes = referenceBuild->model.weights.size();
  evaluationOptions.artifactBytes = model.weights.size();
  llvm::Expected<std::string> text = sinter::evaluate(
      **referenceLoaded, **artifactLoaded, evaluationOptions, llvm::outs());
  if (!text)
    return text.takeError();
  evaluation = std::move(*text);
  return llvm::Error::success();
}

/// --report: the statistics (this run's or --calibration-stats's) and the
/// --eval figures as one page.
llvm::Error Compiler::renderReport() {
  std::string statsText = stats.stats;
  if (statsText.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(options.calibrationStats);
    if (!buffer)
      return llvm::createStringError("cannot read " + options.calibrationStats +
                                     ": " + buffer.getError().message());
    statsText = (*buffer)->getBuffer().str();
  }
  llvm::Expected<std::string> page = sinter::renderReport(
      llvm::sys::path::filename(options.inputPath), statsText, evaluation);
  if (!page)
    return llvm::createStringError("--report: " +
                                   llvm::toString(page.takeError()));
  report = std::move(*page);
  return llvm::Error::success();
}

/// The artifact's files, all or none.
llvm::Error Compiler::writeArtifact() {
  const std::string &stem = options.stem;
  sinter::PendingOutputs outputs;
  if (llvm::Error error =
          outputs.add(stem + ".weights", sinter::weightsFileBytes(model)))
    return error;
  if (llvm::Error error =
          outputs.add(stem + ".h", sinter::headerText(model, options.artifact)))
    return error;
  if (!stats.stats.empty()) {
    if (llvm::Error error = outputs.add(stem + ".stats.json", stats.stats))
      return error;
    if (llvm::Error error = outputs.add(stem + ".stats.rows", stats.rows))
      return error;
  }
  if (!evaluation.empty())
    if (llvm::Error error = outputs.add(stem + ".eval.json", evaluation))
      return error;
  if (!report.empty())
    if (llvm::Error error = outputs.add(options.reportPath, report))
      return error;
  if (options.emit == Emit::Obj) {
    if (llvm::Error error = outputs.add(stem + ".o", object))
      return error;
  } else {
    progress.stage("linking");
    llvm::Error linked =
        outputs.add(stem + ".so", [&](StringRef library) -> llvm::Error {
          llvm::Expected<std::string> objectPath =
              sinter::writeTemporary(stem + ".o", object);
          if (!objectPath)
            return objectPath.takeError();
          llvm::Error error = sinter::linkSharedLibrary(
              *objectPath, library, llvm::sys::path::filename(stem + ".so"));
          llvm::sys::fs::remove(*objectPath);
          return error;
        });
    if (linked)
      return linked;
  }
  return outputs.commit();
}

llvm::Error Compiler::compileArtifact(ModuleOp module) {
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      sinter::createTargetMachine(options.artifact.target);
  if (!machine)
    return machine.takeError();

  progress.stage("fusing");
  if (llvm::Error error = fuse(module))
    return error;
  // --eval compares against the model as fused, in f32.
  OwningOpRef<ModuleOp> reference;
  if (!options.evalDir.empty())
    reference = module.clone();
  if (options.compression.instrument)
    if (llvm::Error error = insertProbes(module))
      return error;
  statsPath = options.calibrationStats;
  if (!options.calibrateDir.empty())
    if (llvm::Error error = calibrate(module, **machine))
      return error;
  if (llvm::Error error = compress(module))
    return error;
  if (llvm::Error error = lower(module, **machine))
    return error;
  printStats();
  if (options.emit != Emit::Obj && options.emit != Emit::So)
    return writeSingleOutput(module);

  if (llvm::Error error = emitObject(**machine))
    return error;
  if (reference)
    if (llvm::Error error = evaluate(*reference, **machine))
      return error;
  if (!options.reportPath.empty())
    if (llvm::Error error = renderReport())
      return error;
  return writeArtifact();
}

llvm::Error run(const DriverOptions &options) {
  if (options.listOps) {
    printSupportedOps();
    return llvm::Error::success();
  }
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // --target=cuda translates its kernels to LLVM IR during the pipeline.
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  // Messages locate the node; dumping the op (with its weights) is noise.
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, printDiagnostic);
  if (options.check)
    return checkModel(context, options.inputPath, options.import) == 0 ? llvm::Error::success()
                                                       : reported();

  FailureOr<OwningOpRef<ModuleOp>> module =
      sinter::loadModel(context, options.inputPath, options.import);
  if (failed(module))
    return reported();
  if (options.emit == Emit::None)
    return llvm::Error::success();
  Compiler compiler(context, options);
  if (options.emit == Emit::Mlir)
    return compiler.writeMlir(**module);
  return compiler.compileArtifact(**module);
}

/// Out of memory (a model whose weights, or the compile's copies of them,
/// exceed what the process may use): a message, no partial output, exit
/// 1, without allocating or unwinding through LLVM's frames.
[[noreturn]] void outOfMemory() {
  static const char message[] =
      "sinterc: error: out of memory: compiling this model needs more "
      "memory than the process may use (its weights are held in memory, "
      "and copied while they are placed and written)\n";
  (void)!::write(STDERR_FILENO, message, sizeof message - 1);
  sinter::removePendingTemporaries();
  ::_exit(sinter::kExitFailure);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  std::set_new_handler(outOfMemory);
  llvm::install_bad_alloc_error_handler(
      [](void *, const char *, bool) { outOfMemory(); });
  // --pass-pipeline may name any pass.
  registerAllPasses();
  sinter::registerSinterCodegenPasses();
  sinter::registerSinterGraphPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  llvm::Expected<DriverOptions> options =
      sinter::parseCommandLine(argc, argv);
  if (!options)
    return exitCode(options.takeError());
  return exitCode(run(*options));
}
