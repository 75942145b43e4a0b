//===- SinterMathOps.td - Math and index-reduction ops -----*- tablegen -*-===//
//
// The ops that the ONNX math, activation and reduction operators need and
// that no exact decomposition into the other sinter ops gives: the inverse
// and hyperbolic trigonometric functions, the truncated remainder, the bit
// shifts, the product reduction and the arg reductions (whose result is an
// index). Included from SinterOps.td, whose base classes they share; their
// C++ is in SinterMathOps.cpp, their lowering in
// codegen/SinterToLinalg/Math.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_SINTERMATHOPS_TD
#define SINTER_IR_SINTERMATHOPS_TD

def Sinter_TanOp : Sinter_UnaryOp<"tan", Sinter_FloatTensor, "tangent">;
def Sinter_AsinOp : Sinter_UnaryOp<"asin", Sinter_FloatTensor, "arcsine">;
def Sinter_AcosOp : Sinter_UnaryOp<"acos", Sinter_FloatTensor, "arccosine">;
def Sinter_AtanOp : Sinter_UnaryOp<"atan", Sinter_FloatTensor, "arctangent">;
def Sinter_SinhOp : Sinter_UnaryOp<"sinh", Sinter_FloatTensor, "hyperbolic sine">;
def Sinter_CoshOp : Sinter_UnaryOp<"cosh", Sinter_FloatTensor,
    "hyperbolic cosine">;
def Sinter_AsinhOp : Sinter_UnaryOp<"asinh", Sinter_FloatTensor,
    "inverse hyperbolic sine">;
def Sinter_AcoshOp : Sinter_UnaryOp<"acosh", Sinter_FloatTensor,
    "inverse hyperbolic cosine">;
def Sinter_AtanhOp : Sinter_UnaryOp<"atanh", Sinter_FloatTensor,
    "inverse hyperbolic tangent">;

def Sinter_RemOp : Sinter_BinaryOp<"rem", Sinter_NumericTensor,
    "the remainder of lhs / rhs truncated toward zero (C fmod; the sign of "
    "lhs)">;
def Sinter_ShiftLeftOp : Sinter_BinaryOp<"shift_left", Sinter_IntTensor,
    "lhs shifted left by rhs bits">;
def Sinter_ShiftRightOp : Sinter_BinaryOp<"shift_right", Sinter_IntTensor,
    "lhs shifted right by rhs bits (logical for unsigned, arithmetic for "
    "signed types)">;

def Sinter_ReduceProdOp : Sinter_ReduceOp<"reduce_prod", "product">;

class Sinter_ArgReduceOp<string mnemonic, string doc>
    : Sinter_Op<mnemonic, [Pure, InferTypeOpAdaptor]> {
  let summary = "The index of the " # doc # " along one axis";
  let description = "The position along `axis` of the " # doc # " of each "
      "line (the first one, or with `select_last_index` the last one, where "
      "several are equal), as i64. With `keepdims` the axis stays as size 1. "
      "Example:\n```mlir\n%i = sinter." # mnemonic #
      " %x axis 1 keepdims : tensor<2x5xf32> -> tensor<2x1xi64>\n```";
  let arguments = (ins Sinter_NumericTensor:$input, I64Attr:$axis,
                   UnitAttr:$keepdims, UnitAttr:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = [{
    $input `axis` $axis (`keepdims` $keepdims^)?
    (`select_last_index` $select_last_index^)? attr-dict `:` type($input)
    `->` type($result)
  }];
}

def Sinter_ArgMaxOp : Sinter_ArgReduceOp<"argmax", "largest element">;
def Sinter_ArgMinOp : Sinter_ArgReduceOp<"argmin", "smallest element">;

#endif // SINTER_IR_SINTERMATHOPS_TD
