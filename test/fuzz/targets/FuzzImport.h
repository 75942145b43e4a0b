//===- FuzzImport.h - Loading a model, as the importer targets do -*- C++ -*-===//
//
// The two importer targets end alike: load the model at a path through
// loadModel (as sinterc does), with diagnostics dropped (a clean error is
// the expected outcome of most inputs), and hold a successful load to a
// module that verifies.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TEST_FUZZ_FUZZIMPORT_H
#define SINTER_TEST_FUZZ_FUZZIMPORT_H

#include "FuzzSupport.h"

#include "frontend/ModelLoader.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

namespace sinter::fuzz {

inline void loadAndVerify(const std::string &path,
                          const ImportOptions &options) {
  static mlir::DialectRegistry registry = [] {
    mlir::DialectRegistry made;
    registerModelDialects(made);
    return made;
  }();
  // A context per input: the weights of one input must not pile up in the
  // resources of the next.
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> module =
      loadModel(context, path, options);
  if (succeeded(module) && failed(mlir::verify(**module)))
    finding("a model loaded into a module that does not verify");
}

} // namespace sinter::fuzz

#endif // SINTER_TEST_FUZZ_FUZZIMPORT_H
