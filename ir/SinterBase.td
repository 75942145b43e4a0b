//===- SinterBase.td - The sinter dialect and its base classes -*- tablegen -*-===//
//
// The dialect definition and the base classes and type constraints shared by
// every sinter op.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IR_SINTERBASE_TD
#define SINTER_IR_SINTERBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Sinter_Dialect : Dialect {
  let name = "sinter";
  let cppNamespace = "::sinter";
  let summary = "Graph-level tensor ops for transformer models";
  let description = [{
    The sinter dialect describes a model as a graph of ops on ranked tensors
    with value semantics. The plain ops are close to ONNX in meaning (numpy
    broadcasting, ONNX axis conventions) but curated for what transformer
    models need; the composite ops (`attention`, `layer_norm`, `rms_norm`,
    `gelu`, `rotary_embedding`) are created by fusion passes and lowered to
    dedicated kernels.

    Every op infers its result types from its operands and attributes, and
    every dimension may be dynamic (`?`). Large constants are held as
    `dense_resource` blobs so that weights are never copied into attributes.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let hasConstantMaterializer = 1;
}

class Sinter_Op<string mnemonic, list<Trait> traits = []>
    : Op<Sinter_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Sinter_Float : AnyTypeOf<[F16, BF16, F32, F64]>;
def Sinter_Int : AnyTypeOf<[I8, I16, I32, I64, UI8, UI16, UI32, UI64]>;
def Sinter_Bool : I<1>;
// What quantized values are stored as: signless (signed) and unsigned
// integers of 4, 8, 16 and 32 bits.
def Sinter_QuantizedInt : AnyTypeOf<[I<4>, UI<4>, I8, UI8, I16, UI16, I32, UI32]>;

def Sinter_Tensor : RankedTensorOf<[AnyType]>;
def Sinter_FloatTensor : RankedTensorOf<[Sinter_Float]>;
def Sinter_NumericTensor : RankedTensorOf<[Sinter_Float, Sinter_Int]>;
def Sinter_IntTensor : RankedTensorOf<[Sinter_Int]>;
def Sinter_BoolTensor : RankedTensorOf<[Sinter_Bool]>;
def Sinter_IndexTensor : RankedTensorOf<[I32, I64]>;
def Sinter_QuantizedTensor : RankedTensorOf<[Sinter_QuantizedInt]>;

#endif // SINTER_IR_SINTERBASE_TD
