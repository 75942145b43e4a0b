//===- SinterAttrs.td - Attributes of the sinter dialect -------*- tablegen -*-===//

#ifndef SINTER_IR_SINTERATTRS_TD
#define SINTER_IR_SINTERATTRS_TD

include "ir/SinterBase.td"
include "mlir/IR/EnumAttr.td"

def Sinter_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how `sinter.gelu` evaluates the Gaussian CDF", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Tanh", 1, "tanh">
    ]> {
  let cppNamespace = "::sinter";
}

def Sinter_NormKind : I32EnumAttr<"NormKind",
    "which normalization `sinter.add_norm` applies", [
      I32EnumAttrCase<"Layer", 0, "layer">,
      I32EnumAttrCase<"Rms", 1, "rms">
    ]> {
  let cppNamespace = "::sinter";
}

#endif // SINTER_IR_SINTERATTRS_TD
