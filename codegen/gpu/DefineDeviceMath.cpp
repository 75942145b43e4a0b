//===- DefineDeviceMath.cpp - libdevice's functions that are instructions ==//
//
// --convert-gpu-to-nvvm turns math ops into calls of libdevice's __nv_*
// functions, which live in CUDA's libdevice.bc: compiling must not need
// CUDA, so sinter approximates the transcendental functions beforehand, and
// this pass defines the rest (floor, sqrt, fma, ...), whose NVPTX
// instructions LLVM's intrinsics reach directly. A call it does not know
// stays a declaration, which the artifact writer reports.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;

namespace sinter {

#define GEN_PASS_DEF_DEFINEDEVICEMATH
#include "codegen/Passes.h.inc"

namespace {

/// The LLVM intrinsic op that computes libdevice's `function` (without
/// the __nv_ prefix and the f suffix of the f32 variants), or "".
StringRef intrinsicFor(StringRef function) {
  return llvm::StringSwitch<StringRef>(function)
      .Case("floor", "llvm.intr.floor")
      .Case("ceil", "llvm.intr.ceil")
      .Case("trunc", "llvm.intr.trunc")
      .Case("round", "llvm.intr.round")
      .Cases({"rint", "nearbyint"}, "llvm.intr.roundeven")
      .Case("fabs", "llvm.intr.fabs")
      .Case("sqrt", "llvm.intr.sqrt")
      .Case("fma", "llvm.intr.fma")
      .Case("copysign", "llvm.intr.copysign")
      .Case("fmin", "llvm.intr.minnum")
      .Case("fmax", "llvm.intr.maxnum")
      .Default("");
}

struct DefineDeviceMathPass
    : impl::DefineDeviceMathBase<DefineDeviceMathPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      StringRef name = func.getName();
      if (!func.isExternal() || !name.consume_front("__nv_"))
        continue;
      LLVM::LLVMFunctionType type = func.getFunctionType();
      Type result = type.getReturnType();
      if (!result.isF32() && !result.isF64())
        continue;
      // floorf is the f32 floor, floor the f64 one.
      if (result.isF32() && !name.consume_back("f"))
        continue;
      bool isReciprocalSqrt = name == "rsqrt";
      StringRef intrinsic = isReciprocalSqrt ? "llvm.intr.sqrt" : intrinsicFor(name);
      if (intrinsic.empty() ||
          llvm::any_of(type.getParams(), [&](Type t) { return t != result; }))
        continue;
      OpBuilder b(func.getContext());
      Block *entry = func.addEntryBlock(b);
      b.setInsertionPointToStart(entry);
      Location loc = func.getLoc();
      OperationState state(loc, intrinsic);
      state.addOperands(entry->getArguments());
      state.addTypes(result);
      Value value = b.create(state)->getResult(0);
      if (isReciprocalSqrt)
        value = LLVM::FDivOp::create(
            b, loc,
            LLVM::ConstantOp::create(b, loc, result,
                                     b.getFloatAttr(result, 1.0)),
            value);
      LLVM::ReturnOp::create(b, loc, value);
      func.setLinkage(LLVM::Linkage::Internal);
    }
  }
};

} // namespace
} // namespace sinter
