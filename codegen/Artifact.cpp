//===- Artifact.cpp - Compiling a model into a deployable artifact --------===//

#include "codegen/Artifact.h"
#include "codegen/BufferPlacement.h"
#include "codegen/IndexChecks.h"
#include "codegen/Passes.h"
#include "codegen/RuntimeTypes.inc"
#include "ir/SinterOps.h"

#include "runtime/include/sinter/runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"

using namespace mlir;

namespace sinter {

std::string toCIdentifier(StringRef name) {
  std::string id;
  for (char c : name)
    id += llvm::isAlnum(c) ? c : '_';
  if (id.empty() || llvm::isDigit(id[0]))
    id.insert(id.begin(), '_');
  return id;
}

//===----------------------------------------------------------------------===//
// The entry function's inputs and outputs.
//===----------------------------------------------------------------------===//

/// The sinter_dtype (ONNX's numbering) of an element type, or 0.
static int dtypeOf(Type type) {
  if (type.isF32())
    return SINTER_FLOAT32;
  if (type.isF16())
    return SINTER_FLOAT16;
  if (type.isF64())
    return SINTER_FLOAT64;
  if (type.isBF16())
    return SINTER_BFLOAT16;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return 0;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1:
    return SINTER_BOOL;
  case 8:
    return isUnsigned ? SINTER_UINT8 : SINTER_INT8;
  case 16:
    return isUnsigned ? SINTER_UINT16 : SINTER_INT16;
  case 32:
    return isUnsigned ? SINTER_UINT32 : SINTER_INT32;
  case 64:
    return isUnsigned ? SINTER_UINT64 : SINTER_INT64;
  }
  return 0;
}

static FailureOr<TensorDescription> describeTensor(func::FuncOp func, Type type,
                                                   DictionaryAttr attrs,
                                                   StringRef role,
                                                   unsigned index) {
  TensorDescription tensor;
  auto name = attrs ? attrs.getAs<StringAttr>("sinter.name") : nullptr;
  tensor.name = name ? name.str() : (role + Twine(index)).str();
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return emitError(func.getLoc())
           << role << " " << index << " ('" << tensor.name
           << "') is not a ranked tensor: " << type;
  int dtype = dtypeOf(ranked.getElementType());
  if (!dtype)
    return emitError(func.getLoc())
           << "unsupported: " << role << " " << index << " ('" << tensor.name
           << "') has element type " << ranked.getElementType()
           << ", which has no C dtype";
  tensor.dtype = dtype;
  tensor.dtypeName = sinter_dtype_name(dtype);
  auto dimNames = attrs ? attrs.getAs<ArrayAttr>("sinter.dim_names") : nullptr;
  auto bounds = func->getAttrOfType<DictionaryAttr>("sinter.dim_bounds");
  for (int64_t d = 0; d < ranked.getRank(); ++d) {
    std::string symbol;
    if (dimNames && d < (int64_t)dimNames.size())
      if (auto s = dyn_cast<StringAttr>(dimNames[d]))
        symbol = s.str();
    if (!ranked.isDynamicDim(d)) {
      tensor.shape.push_back(ranked.getDimSize(d));
      tensor.maxShape.push_back(ranked.getDimSize(d));
      tensor.dimNames.push_back("");
      continue;
    }
    // Unnamed dynamic dimensions get a name of their own: they bind to
    // nothing else.
    if (symbol.empty())
      symbol = (role + Twine(index) + "." + Twine(d)).str();
    IntegerAttr bound =
        bounds ? bounds.getAs<IntegerAttr>(symbol) : IntegerAttr();
    tensor.shape.push_back(-1);
    tensor.maxShape.push_back(bound ? bound.getInt() : -1);
    tensor.dimNames.push_back(symbol);
  }
  return tensor;
}

/// The inputs and outputs of `func`; outputs' dynamic dimensions must be
/// sizes of inputs (the runtime sizes output buffers from them).
static LogicalResult describeSignature(func::FuncOp func,
                                       CompiledModel &model) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    FailureOr<TensorDescription> input = describeTensor(
        func, func.getArgumentTypes()[i], func.getArgAttrDict(i), "input", i);
    if (failed(input))
      return failure();
    model.inputs.push_back(std::move(*input));
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    FailureOr<TensorDescription> output = describeTensor(
        func, func.getResultTypes()[i], func.getResultAttrDict(i), "output", i);
    if (failed(output))
      return failure();
    model.outputs.push_back(std::move(*output));
  }
  return success();
}

/// The passes that fold the entry's output sizes back to its arguments
/// (bindOutputDims).
static void buildOutputDimsPipeline(OpPassManager &pm) {
  addSinterToLinalg(pm, RuntimeKernels());
  pm.addPass(memref::createResolveRankedShapeTypeResultDimsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// Gives each dynamic output dimension the symbol of the input dimension
/// it equals, found by lowering a copy of the module to linalg and folding
/// `tensor.dim` of the results back to the arguments. The runtime sizes
/// output buffers from these before it runs the model.
static LogicalResult bindOutputDims(ModuleOp module, func::FuncOp entry,
                                    CompiledModel &model) {
  SmallVector<std::pair<unsigned, unsigned>> dynamicDims;
  for (auto [i, output] : llvm::enumerate(model.outputs))
    for (auto [d, size] : llvm::enumerate(output.shape))
      if (size < 0)
        dynamicDims.push_back({i, d});
  if (dynamicDims.empty())
    return success();

  OwningOpRef<ModuleOp> copy = module.clone();
  auto func = copy->lookupSymbol<func::FuncOp>(entry.getName());
  auto terminator = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  OpBuilder b(terminator);
  SmallVector<Value> sizes;
  for (auto [i, d] : dynamicDims)
    sizes.push_back(tensor::DimOp::create(b, terminator.getLoc(),
                                          terminator.getOperand(i), d));
  func::ReturnOp::create(b, terminator.getLoc(), sizes);
  terminator.erase();
  func.removeResAttrsAttr();
  func.setType(
      FunctionType::get(func.getContext(), func.getArgumentTypes(),
                        SmallVector<Type>(sizes.size(), b.getIndexType())));
  PassManager pm(func.getContext());
  buildOutputDimsPipeline(pm);
  if (failed(pm.run(*copy)))
    return failure();

  auto folded = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  for (auto [operand, dim] : llvm::zip(folded.getOperands(), dynamicDims)) {
    auto [output, d] = dim;
    // A size computed from constants only (a window's length from a
    // frozen input): the output dimension is static after all.
    if (std::optional<int64_t> size = getConstantIntValue(operand)) {
      model.outputs[output].shape[d] = *size;
      model.outputs[output].maxShape[d] = *size;
      model.outputs[output].dimNames[d] = "";
      continue;
    }
    auto dimOp = operand.getDefiningOp<tensor::DimOp>();
    auto arg = dimOp ? dyn_cast<BlockArgument>(dimOp.getSource()) : nullptr;
    std::optional<int64_t> index =
        dimOp ? dimOp.getConstantIndex() : std::nullopt;
    if (!arg || arg.getOwner()->getParentOp() != func || !index)
      return emitError(entry.getLoc())
             << "unsupported: dimension " << d << " of output " << output
             << " ('" << model.outputs[output].name
             << "') is not the size of an input dimension: it depends on "
                "input values (freeze them with --freeze-input) or on "
                "symbolic sizes (fix them with --dim)";
    const TensorDescription &input = model.inputs[arg.getArgNumber()];
    model.outputs[output].dimNames[d] = input.dimNames[*index];
    model.outputs[output].maxShape[d] = input.maxShape[*index];
  }
  return success();
}

/// A name as one token of the descriptor: %XX for anything but
/// [A-Za-z0-9._/:-], "%" alone for the empty string.
static std::string escapeToken(StringRef text) {
  if (text.empty())
    return "%";
  std::string out;
  for (unsigned char c : text) {
    if (llvm::isAlnum(c) || StringRef("._/:-").contains(c))
      out += c;
    else
      out += "%" + llvm::utohexstr(c, /*LowerCase=*/false, /*Width=*/2);
  }
  return out;
}

static std::string describeTensorLine(StringRef keyword,
                                      const TensorDescription &tensor) {
  std::string line = (keyword + " " + escapeToken(tensor.name) + " " +
                      Twine(tensor.dtype) + " " + Twine(tensor.shape.size()))
                         .str();
  for (size_t d = 0; d < tensor.shape.size(); ++d)
    line += tensor.shape[d] >= 0 ? " " + std::to_string(tensor.shape[d])
                                 : " ?" + escapeToken(tensor.dimNames[d]) +
                                       ":" + std::to_string(tensor.maxShape[d]);
  return line + "\n";
}

/// The descriptor's "bounds" lines: one per input used as indices.
static std::string indexBoundLines(const CompiledModel &model) {
  std::string lines;
  int64_t count = 0;
  for (auto [i, input] : llvm::enumerate(model.inputs))
    if (input.indexBound >= 0) {
      lines += "bound " + std::to_string(i) + " " +
               std::to_string(-input.indexBound) + " " +
               std::to_string(input.indexBound) + "\n";
      ++count;
    }
  return count ? "bounds " + std::to_string(count) + "\n" + lines : "";
}

static std::string descriptorText(const CompiledModel &model, StringRef name) {
  std::string text = "sinter-model 1\nname " + escapeToken(name) + "\n";
  text += "weights " + std::to_string(model.weights.size()) + " " +
          llvm::utohexstr(model.weightsChecksum, true, 16) + "\n";
  text += "arena " + std::to_string(model.arenaBytes) + "\n";
  text += "inputs " + std::to_string(model.inputs.size()) + "\n";
  for (const TensorDescription &input : model.inputs)
    text += describeTensorLine("input", input);
  text += "outputs " + std::to_string(model.outputs.size()) + "\n";
  for (const TensorDescription &output : model.outputs)
    text += describeTensorLine("output", output);
  text += indexBoundLines(model);
  if (!model.indexChecks.empty()) {
    text += "checks " + std::to_string(model.indexChecks.size()) + "\n";
    for (const std::string &check : model.indexChecks)
      text += "check " + escapeToken(check) + "\n";
  }
  if (!model.probes.empty()) {
    text += "probes " + std::to_string(model.probes.size()) + "\n";
    for (const ProbeDescription &probe : model.probes)
      text += "probe " + std::to_string(probe.kind) + " " +
              escapeToken(probe.name) + "\n";
  }
  if (!model.device.empty())
    text += "device " + model.device + "\n";
  return text + "end\n";
}

//===----------------------------------------------------------------------===//
// The entry point and the C API in LLVM IR.
//===----------------------------------------------------------------------===//

/// Adds `<name>__entry(void **descriptors)` (calls the C wrapper of the
/// entry function with each descriptor), the model definition, and the
/// exported `<name>_*` functions that forward to the runtime; everything
/// else becomes internal to the library.
static LogicalResult addRuntimeInterface(llvm::Module &module,
                                         const CompiledModel &model,
                                         const std::string &name,
                                         StringRef entryName, Location loc) {
  llvm::LLVMContext &context = module.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(context);
  llvm::Type *i32 = llvm::Type::getInt32Ty(context);
  llvm::Type *voidType = llvm::Type::getVoidTy(context);
  llvm::Function *wrapper =
      module.getFunction(("_mlir_ciface_" + entryName).str());
  size_t descriptors = model.inputs.size() + model.outputs.size() +
                       (model.indexChecks.empty() ? 0 : 1) + 2;
  if (!wrapper || wrapper->arg_size() != descriptors ||
      !wrapper->getReturnType()->isVoidTy())
    return emitError(loc) << "internal error: the C wrapper of @" << entryName
                          << " does not take the " << descriptors
                          << " buffers the runtime passes";

  // The runtime's allocation functions return fresh memory, as malloc
  // does; LLVM's alias analysis knows malloc by its name only.
  for (StringRef allocation :
       {"_mlir_memref_to_llvm_alloc", "_mlir_memref_to_llvm_aligned_alloc"})
    if (llvm::Function *function = module.getFunction(allocation))
      function->addRetAttr(llvm::Attribute::NoAlias);

  auto *entry = llvm::Function::Create(
      llvm::FunctionType::get(voidType, {ptr}, false),
      llvm::GlobalValue::InternalLinkage, name + "__entry", module);
  {
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "", entry));
    SmallVector<llvm::Value *> args;
    for (size_t i = 0; i < descriptors; ++i)
      args.push_back(b.CreateLoad(
          ptr, b.CreateConstInBoundsGEP1_64(ptr, entry->getArg(0), i)));
    b.CreateCall(wrapper, args);
    b.CreateRetVoid();
  }

  auto *descriptor = new llvm::GlobalVariable(
      module,
      llvm::ArrayType::get(llvm::Type::getInt8Ty(context),
                           model.descriptor.size() + 1),
      true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantDataArray::getString(context, model.descriptor),
      name + "__descriptor");
  auto *defType = llvm::StructType::get(context, {i32, ptr, ptr});
  auto *def = new llvm::GlobalVariable(
      module, defType, true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantStruct::get(
          defType,
          {llvm::ConstantInt::get(i32, SINTER_ABI_VERSION), descriptor, entry}),
      name + "__definition");

  // <name>_<suffix>(args) { return sinter_rt_<suffix>([definition,] args); }
  struct Forward {
    const char *suffix;
    llvm::Type *result;
    SmallVector<llvm::Type *> params;
    bool passDefinition;
  };
  Forward forwards[] = {
      {"load", i32, {ptr, i32, ptr}, true},
      {"free", voidType, {ptr}, false},
      {"error", ptr, {ptr}, false},
      {"num_inputs", i32, {ptr}, false},
      {"num_outputs", i32, {ptr}, false},
      {"input_info", ptr, {ptr, i32}, false},
      {"output_info", ptr, {ptr, i32}, false},
      {"set_num_threads", i32, {ptr, i32}, false},
      {"run", i32, {ptr, ptr, i32, ptr, i32}, false},
      // Instrumented builds only (the plain API does not change).
      {"num_probes", i32, {ptr}, false},
      {"probe", ptr, {ptr, i32}, false},
  };
  llvm::StringSet<llvm::MallocAllocator> exported;
  for (const Forward &forward : forwards) {
    if (model.probes.empty() && StringRef(forward.suffix).contains("probe"))
      continue;
    SmallVector<llvm::Type *> calleeParams;
    if (forward.passDefinition)
      calleeParams.push_back(ptr);
    calleeParams.append(forward.params.begin(), forward.params.end());
    llvm::FunctionCallee callee = module.getOrInsertFunction(
        (Twine("sinter_rt_") + forward.suffix).str(),
        llvm::FunctionType::get(forward.result, calleeParams, false));
    auto *api = llvm::Function::Create(
        llvm::FunctionType::get(forward.result, forward.params, false),
        llvm::GlobalValue::ExternalLinkage, name + "_" + forward.suffix,
        module);
    exported.insert(api->getName());
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "", api));
    SmallVector<llvm::Value *> args;
    if (forward.passDefinition)
      args.push_back(def);
    for (llvm::Argument &arg : api->args())
      args.push_back(&arg);
    llvm::CallInst *call = b.CreateCall(callee, args);
    call->setTailCall();
    if (forward.result->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(call);
  }
  // Lets tools that dlopen an artifact (sinter-run) find its prefix.
  auto *artifactName = new llvm::GlobalVariable(
      module,
      llvm::ArrayType::get(llvm::Type::getInt8Ty(context), name.size() + 1),
      true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantDataArray::getString(context, name),
      "sinter_artifact_name");
  exported.insert(artifactName->getName());

  for (llvm::Function &function : module)
    if (!function.isDeclaration() && !exported.contains(function.getName()))
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  // llvm.global_ctors (a CUDA model's kernel registration) keeps its
  // appending linkage.
  for (llvm::GlobalVariable &global : module.globals())
    if (!global.isDeclaration() && !exported.contains(global.getName()) &&
        !global.getName().starts_with("llvm."))
      global.setLinkage(llvm::GlobalValue::InternalLinkage);
  return success();
}

//===----------------------------------------------------------------------===//
// Compiling.
//===----------------------------------------------------------------------===//

/// Copies the externalized constants into the weights data and drops them
/// from the module.
static LogicalResult takeWeights(ModuleOp module, CompiledModel &model) {
  auto size = module->getAttrOfType<IntegerAttr>(kWeightsSizeAttr);
  if (!size)
    return emitError(module.getLoc())
           << "internal error: the weights were not placed";
  model.weights.assign(size.getInt(), 0);
  for (auto global : llvm::make_early_inc_range(
           module.getBody()->getOps<memref::GlobalOp>())) {
    auto offset = global->getAttrOfType<IntegerAttr>(kWeightOffsetAttr);
    if (!offset)
      continue;
    FailureOr<std::vector<char>> bytes = constantBytes(global);
    if (failed(bytes) ||
        offset.getInt() + (int64_t)bytes->size() > size.getInt())
      return global.emitError()
             << "internal error: cannot read the data of this constant";
    llvm::copy(*bytes, model.weights.begin() + offset.getInt());
    global.erase();
  }
  module->removeAttr(kWeightsSizeAttr);
  model.weightsChecksum =
      sinter_checksum64(model.weights.data(), model.weights.size());
  return success();
}

/// The probes of an instrumented model, by id (which must number them from
/// 0 without gaps: the runtime indexes its statistics by them).
static LogicalResult describeProbes(ModuleOp module, CompiledModel &model) {
  std::vector<std::pair<Operation *, ProbeDescription>> byId;
  auto add = [&](Operation *op, int64_t id, sinter_probe_kind kind,
                 StringRef name) -> WalkResult {
    if (id >= (int64_t)byId.size())
      byId.resize(id + 1);
    if (byId[id].first) {
      InFlightDiagnostic diag = op->emitError()
                                << "probe id " << id << " is used twice";
      diag.attachNote(byId[id].first->getLoc()) << "first used here";
      return WalkResult::interrupt();
    }
    byId[id] = {op, ProbeDescription{int(kind), name.str()}};
    return WalkResult::advance();
  };
  WalkResult walk = module.walk([&](Operation *op) -> WalkResult {
    if (auto probe = dyn_cast<sinter::ProbeTensorOp>(op))
      return add(op, probe.getId(), SINTER_PROBE_TENSOR, probe.getName());
    if (auto probe = dyn_cast<sinter::ProbeAttentionOp>(op))
      return add(op, probe.getId(), SINTER_PROBE_ATTENTION, probe.getName());
    if (auto probe = dyn_cast<sinter::ProbeRoutingOp>(op))
      return add(op, probe.getId(), SINTER_PROBE_ROUTING, probe.getName());
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  for (auto [id, entry] : llvm::enumerate(byId)) {
    if (!entry.first)
      return emitError(module.getLoc())
             << "probe ids must number the probes from 0 without gaps; no "
                "probe has id "
             << id;
    model.probes.push_back(std::move(entry.second));
  }
  return success();
}

/// compileModel's first step: the entry's signature, index bounds and
/// probes described, and the module made ready for the pipelines.
static FailureOr<func::FuncOp>
prepareEntry(ModuleOp module, StringRef entryName, CompiledModel &model,
             IndexChecking checking) {
  func::FuncOp entry = findEntryFunction(module, entryName);
  if (!entry || failed(describeSignature(entry, model)) ||
      failed(bindOutputDims(module, entry, model)))
    return failure();
  if (checking != IndexChecking::None)
    for (auto [argument, bound] : inputIndexBounds(entry))
      model.inputs[argument].indexBound = bound;
  if (checking == IndexChecking::InputsAndComputed) {
    if (failed(addIndexChecks(entry)))
      return failure();
    if (auto sites = entry->getAttrOfType<ArrayAttr>(kIndexCheckSitesAttr))
      for (auto site : sites.getAsRange<StringAttr>())
        model.indexChecks.push_back(site.str());
  }
  // Bounds of dynamic sizes let the arena hold buffers sized by them.
  for (auto [i, input] : llvm::enumerate(model.inputs))
    entry.setArgAttr(
        i, kMaxShapeAttr,
        DenseI64ArrayAttr::get(module.getContext(), input.maxShape));
  if (failed(describeProbes(module, model)))
    return failure();
  prepareForLowering(module);
  return entry;
}

/// compileModel's step between placement and lowering: the arena's figures
/// read, and the weights taken out of the module.
static LogicalResult takePlacedWeights(ModuleOp module, func::FuncOp entry,
                                       CompiledModel &model) {
  if (auto arena = entry->getAttrOfType<IntegerAttr>(kArenaSizeAttr))
    model.arenaBytes = arena.getInt();
  if (auto unshared = entry->getAttrOfType<IntegerAttr>(kArenaUnsharedSizeAttr))
    model.arenaUnsharedBytes = unshared.getInt();
  entry.walk([&](memref::AllocOp) { ++model.heapAllocations; });
  // The runtime buffers are plain arguments from here on: no sinter.*
  // argument attribute goes on to LLVM.
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    SmallVector<NamedAttribute> kept;
    if (DictionaryAttr attrs = entry.getArgAttrDict(i))
      llvm::copy_if(attrs, std::back_inserter(kept), [](NamedAttribute attr) {
        return !attr.getName().getValue().starts_with("sinter.");
      });
    entry.setArgAttrs(i, kept);
  }
  return takeWeights(module, model);
}

namespace {
/// compileModel's steps between pass phases as passes, so that the
/// registered pipelines (`entry=`) run what sinterc runs; what the steps
/// describe for the artifact's files (signature, weights data) is dropped.
/// Not registered on their own: only the pipelines add them.
struct PrepareEntryPass
    : PassWrapper<PrepareEntryPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PrepareEntryPass)
  PrepareEntryPass(std::string entry, IndexChecking checking)
      : entry(std::move(entry)), checking(checking) {}
  StringRef getArgument() const override { return "sinter-prepare-entry"; }
  StringRef getDescription() const override {
    return "Describe the entry and make public functions ready for lowering";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    OpPassManager pm(ModuleOp::getOperationName());
    buildOutputDimsPipeline(pm);
    pm.getDependentDialects(registry);
  }
  void runOnOperation() override {
    CompiledModel model;
    if (failed(prepareEntry(getOperation(), entry, model, checking)))
      signalPassFailure();
  }
  std::string entry;
  IndexChecking checking;
};

struct TakeWeightsPass : PassWrapper<TakeWeightsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TakeWeightsPass)
  explicit TakeWeightsPass(std::string entry) : entry(std::move(entry)) {}
  StringRef getArgument() const override { return "sinter-take-weights"; }
  StringRef getDescription() const override {
    return "Take the placed weights out of the module (into the weights file "
           "in sinterc, dropped here)";
  }
  void runOnOperation() override {
    CompiledModel model;
    func::FuncOp func = findEntryFunction(getOperation(), entry);
    if (!func || failed(takePlacedWeights(getOperation(), func, model)))
      signalPassFailure();
  }
  std::string entry;
};
} // namespace

std::unique_ptr<Pass> createPrepareEntryPass(std::string entry,
                                            IndexChecking checking) {
  return std::make_unique<PrepareEntryPass>(std::move(entry), checking);
}

std::unique_ptr<Pass> createTakeWeightsPass(std::string entry) {
  return std::make_unique<TakeWeightsPass>(std::move(entry));
}

/// Runs `pm`, set up by the caller's instrumentation.
static LogicalResult runPhase(ModuleOp module, const PassManagerSetup &setup,
                              function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  setup(pm);
  build(pm);
  return pm.run(module);
}

FailureOr<CompiledModel> compileModel(ModuleOp module,
                                      const PassManagerSetup &setup,
                                      llvm::LLVMContext &context,
                                      llvm::TargetMachine &machine,
                                      const ArtifactOptions &options) {
  CompiledModel model;
  FailureOr<func::FuncOp> entry =
      prepareEntry(module, options.entry, model,
                   !options.checkInputIndices ? IndexChecking::None
                   : options.gpu              ? IndexChecking::Inputs
                                 : IndexChecking::InputsAndComputed);
  if (failed(entry))
    return failure();
  std::string entryName = entry->getName().str();

  PassManager placement(module.getContext());
  setup(placement);
  buildBufferizationPhase(placement, options.kernels);
  // Kernels read every constant from the device copy of the weights.
  buildPlacementPhase(placement, entryName,
                      options.gpu ? 0 : ExternalizeWeightsOptions().minBytes);
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (!options.extraPasses.empty() &&
      failed(parsePassPipeline(options.extraPasses, placement, errorStream)))
    return emitError(module.getLoc())
           << "the pass pipeline does not parse: " << errors;
  if (failed(placement.run(module)) ||
      failed(takePlacedWeights(module, *entry, model)) ||
      failed(runPhase(module, setup, [&](OpPassManager &pm) {
        if (options.gpu)
          buildGpuLoweringPhase(pm, *options.gpu);
        else
          buildCpuLoweringPhase(pm, /*threads=*/true);
      })))
    return failure();
  if (options.stopAtLLVMDialect)
    return model;
  if (options.gpu && options.gpu->kernelsAsBitcode) {
    model.kernelBitcode = kernelBitcode(module);
  } else if (options.gpu) {
    FailureOr<std::string> ptx = kernelPtx(module);
    if (failed(ptx))
      return failure();
    model.ptx = std::move(*ptx);
  }
  if (options.gpu) {
    model.device = "cuda " + options.gpu->chip;
    if (auto tiled = module->getAttrOfType<IntegerAttr>(kTiledContractionsAttr))
      model.tiledContractions = tiled.getInt();
    module->removeAttr(kTiledContractionsAttr);
    if (auto flash = module->getAttrOfType<IntegerAttr>(kFlashAttentionsAttr))
      model.flashAttentions = flash.getInt();
    module->removeAttr(kFlashAttentionsAttr);
    model.matmulPrecision = options.gpu->matmulPrecision;
  }

  FailureOr<std::unique_ptr<llvm::Module>> llvmModule =
      translateToLLVMIR(module, context, machine);
  if (failed(llvmModule))
    return failure();
  model.descriptor = descriptorText(model, options.name);
  if (failed(addRuntimeInterface(**llvmModule, model, options.name, entryName,
                                 module.getLoc())))
    return failure();
  if (llvm::Error error =
          optimizeLLVMModule(**llvmModule, machine, options.target.optLevel))
    return emitError(module.getLoc())
           << "LLVM optimization failed: " << llvm::toString(std::move(error));
  model.llvmModule = std::move(*llvmModule);
  return model;
}

//===----------------------------------------------------------------------===//
// The files.
//===----------------------------------------------------------------------===//

static_assert(kWeightsAlignment == SINTER_WEIGHTS_ALIGNMENT,
              "the weights passes and the runtime agree on alignment");

std::string weightsFileBytes(const CompiledModel &model) {
  std::string bytes(SINTER_WEIGHTS_DATA_OFFSET, '\0');
  sinter_weights_header header = {};
  memcpy(header.magic, SINTER_WEIGHTS_MAGIC, sizeof header.magic);
  header.version = SINTER_WEIGHTS_VERSION;
  header.data_offset = SINTER_WEIGHTS_DATA_OFFSET;
  header.data_size = model.weights.size();
  header.checksum = model.weightsChecksum;
  static_assert(sizeof header == SINTER_WEIGHTS_HEADER_SIZE,
                "the weights header is 64 bytes");
  static_assert(llvm::endianness::native == llvm::endianness::little,
                "the weights file is little-endian, as this host");
  memcpy(bytes.data(), &header, sizeof header);
  bytes.append(model.weights.begin(), model.weights.end());
  return bytes;
}

static std::string shapeText(const TensorDescription &tensor) {
  std::string text = "[";
  for (size_t d = 0; d < tensor.shape.size(); ++d) {
    if (d)
      text += ", ";
    text += tensor.shape[d] >= 0
                ? std::to_string(tensor.shape[d])
                : tensor.dimNames[d] +
                      (tensor.maxShape[d] >= 0
                           ? " <= " + std::to_string(tensor.maxShape[d])
                           : "");
  }
  return text + "]";
}

/// `text` safe inside a C comment.
static std::string commentSafe(StringRef text) {
  std::string out = text.str();
  for (size_t at; (at = out.find("*/")) != std::string::npos;)
    out.replace(at, 2, "* /");
  return out;
}

std::string headerText(const CompiledModel &model,
                       const ArtifactOptions &options) {
  const std::string &p = options.name;
  std::string guard = StringRef(p).upper() + "_H";
  std::string macro = StringRef(p).upper();
  std::string h;
  llvm::raw_string_ostream os(h);
  os << "/* " << p << ".h: the C API of a model compiled by sinterc";
  if (!options.sourceName.empty())
    os << " from\n * " << commentSafe(options.sourceName);
  os << ". Generated: do not edit.\n *\n"
     << " * Link with " << p << ".so; the weights are in " << p << ".weights ("
     << model.weights.size() << " bytes).\n"
     << " * Inputs:\n";
  for (auto [i, t] : llvm::enumerate(model.inputs))
    os << " *   " << i << " \"" << commentSafe(t.name) << "\" " << t.dtypeName
       << " " << commentSafe(shapeText(t)) << "\n";
  os << " * Outputs:\n";
  for (auto [i, t] : llvm::enumerate(model.outputs))
    os << " *   " << i << " \"" << commentSafe(t.name) << "\" " << t.dtypeName
       << " " << commentSafe(shapeText(t)) << "\n";
  os << " *\n"
     << " * A session is for one thread at a time (a call entering it while\n"
     << " * another thread is inside gets SINTER_SESSION_BUSY); use a session\n"
     << " * per thread (they share the mapped weights' pages).\n"
     << " * docs/runtime-abi.md in sinter describes every call. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << kRuntimeTypesHeader << "\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "#define " << macro << "_NUM_INPUTS " << model.inputs.size() << "\n"
     << "#define " << macro << "_NUM_OUTPUTS " << model.outputs.size() << "\n\n"
     << "/* Maps the weights file (verifying its checksum) and allocates the\n"
     << " * arena. num_threads 0 uses every core. *session is set even on\n"
     << " * failure (unless out of memory): read " << p << "_error(), then "
     << p << "_free(). */\n"
     << "sinter_status " << p
     << "_load(const char *weights_path, int num_threads,\n"
     << "    sinter_session **session);\n"
     << "void " << p << "_free(sinter_session *session);\n"
     << "/* The last failure's message (\"\" after a success). */\n"
     << "const char *" << p << "_error(const sinter_session *session);\n"
     << "int " << p << "_num_inputs(const sinter_session *session);\n"
     << "int " << p << "_num_outputs(const sinter_session *session);\n"
     << "const sinter_tensor_info *" << p
     << "_input_info(const sinter_session *session, int index);\n"
     << "const sinter_tensor_info *" << p
     << "_output_info(const sinter_session *session, int index);\n"
     << "sinter_status " << p
     << "_set_num_threads(sinter_session *session, int num_threads);\n"
     << "/* Checks the inputs' dtypes and shapes, runs the model, and points\n"
     << " * each output at memory the session owns, valid until the next run\n"
     << " * or free. */\n"
     << "sinter_status " << p
     << "_run(sinter_session *session, const sinter_tensor *inputs,\n"
     << "    int num_inputs, sinter_tensor *outputs, int num_outputs);\n\n";
  if (!model.probes.empty())
    os << "/* This build is instrumented for calibration (sinterc --calibrate):\n"
       << " * " << model.probes.size()
       << " probes record statistics over the session's runs. */\n"
       << "int " << p << "_num_probes(const sinter_session *session);\n"
       << "const sinter_probe_stats *" << p
       << "_probe(const sinter_session *session, int index);\n\n";
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return h;
}

/// The embedded runtime archive: beside sinterc's lib/ folder, in the
/// build tree and installed alike; SINTER_RUNTIME_ARCHIVE overrides.
static std::string runtimeArchivePath() {
  if (std::optional<std::string> path =
          llvm::sys::Process::GetEnv("SINTER_RUNTIME_ARCHIVE"))
    return *path;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  SmallString<256> path(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(path, "lib", "libsinter_rt_embedded.a");
  return std::string(path);
}

llvm::Error linkSharedLibrary(StringRef objectPath, StringRef libraryPath,
                              StringRef soname) {
  std::string linker = SINTER_LLD_PATH;
  if (std::optional<std::string> path = llvm::sys::Process::GetEnv("SINTER_LD"))
    linker = *path;
  std::string archive = runtimeArchivePath();
  if (!llvm::sys::fs::exists(archive))
    return llvm::createStringError("the runtime library '" + archive +
                                   "' is missing (set SINTER_RUNTIME_ARCHIVE)");
  SmallVector<std::string> args = {linker,
                                   "-shared",
                                   "--build-id",
                                   "-z",
                                   "relro",
                                   "-z",
                                   "now",
                                   "-z",
                                   "noexecstack",
                                   "--gc-sections",
                                   "-soname",
                                   soname.str(),
                                   "-o",
                                   libraryPath.str(),
                                   objectPath.str(),
                                   archive,
                                   "-L" SINTER_SYSTEM_LIBDIR,
                                   "--as-needed",
                                   "-lomp",
                                   "-lm",
                                   "-lc"};
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  SmallString<128> log;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("sinter-link", "log", log))
    return llvm::createStringError(ec, "cannot create a temporary file");
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                          StringRef(log)};
  std::string error;
  int status = llvm::sys::ExecuteAndWait(linker, argRefs, std::nullopt,
                                         redirects, 0, 0, &error);
  std::string output;
  if (auto buffer = llvm::MemoryBuffer::getFile(log))
    output = (*buffer)->getBuffer().str();
  llvm::sys::fs::remove(log);
  if (status != 0)
    return llvm::createStringError("linking " + libraryPath.str() + " with " +
                                   linker + " failed" +
                                   (error.empty() ? "" : ": " + error) +
                                   (output.empty() ? "" : ":\n" + output));
  return llvm::Error::success();
}

} // namespace sinter
