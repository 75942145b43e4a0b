//===- ModelLoader.cpp - One entry point for every model format -----------===//

#include "frontend/ModelLoader.h"
#include "ir/SinterDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

namespace sinter {

void registerModelDialects(DialectRegistry &registry) {
  registry.insert<SinterDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect>();
}

FailureOr<OwningOpRef<ModuleOp>> loadModel(MLIRContext &context, StringRef path,
                                           const ImportOptions &options) {
  DialectRegistry registry;
  registerModelDialects(registry);
  context.appendDialectRegistry(registry);

  if (path.ends_with(".mlir")) {
    Location loc = NameLoc::get(StringAttr::get(&context, path));
    if (!options.dimSizes.empty() || !options.dimBounds.empty() ||
        !options.frozenInputs.empty())
      return emitError(loc) << "--dim, --max-dim and --freeze-input apply to "
                               "ONNX models; a .mlir graph states its own "
                               "sizes and constants";
    llvm::SourceMgr sourceMgr;
    std::string message;
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path);
    if (!buffer)
      return emitError(loc) << "cannot read '" << path
                            << "': " << buffer.getError().message();
    sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
    if (!module || failed(verify(*module)))
      return failure();
    return module;
  }
  if (!path.ends_with(".onnx") && !path.ends_with(".onnxtext"))
    return emitError(NameLoc::get(StringAttr::get(&context, path)))
           << "'" << path
           << "' has an unknown extension: sinter reads .onnx, .onnxtext "
              "and .mlir models";
  FailureOr<std::shared_ptr<OnnxModelFile>> model =
      readOnnxModel(context, path);
  if (failed(model))
    return failure();
  return importOnnxModel(context, **model, options);
}

} // namespace sinter
