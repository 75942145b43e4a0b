//===- Passes.td - Code generation passes ----------------------*- tablegen -*-===//

#ifndef SINTER_CODEGEN_PASSES_TD
#define SINTER_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSinterToLinalg : Pass<"convert-sinter-to-linalg"> {
  let summary = "Lower sinter ops to linalg, tensor, arith and math";
  let description = [{
    The entry of code generation: every sinter op becomes structured ops on
    tensors — `linalg.generic` for elementwise ops (numpy broadcasting as
    indexing maps), contractions and reductions, `linalg.transpose`,
    `tensor.reshape`, `tensor.extract_slice` and `tensor.concat` for data
    movement, `arith.constant` for constants (dense resources stay
    resources). Dynamic dimensions come from `tensor.dim` of the operands;
    a dynamic dimension is assumed not to be a broadcast 1 (as in IREE and
    torch-mlir), which the runtime checks of a later stage make safe.

    Before:
    ```mlir
    %y = sinter.add %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<4x8xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%x, %b : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%a: f32, %c: f32, %out: f32):
      %s = arith.addf %a, %c : f32
      linalg.yield %s : f32
    } -> tensor<4x8xf32>
    ```
    Ops that are not lowered yet make the pass fail with an error naming
    them.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // SINTER_CODEGEN_PASSES_TD
