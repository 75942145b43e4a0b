//===- Passes.td - Passes of the FLOP-count plugin -------------*- tablegen -*-===//

#ifndef FLOPS_PLUGIN_PASSES_TD
#define FLOPS_PLUGIN_PASSES_TD

include "mlir/Pass/PassBase.td"

def AnnotateFlops : Pass<"sinter-annotate-flops", "::mlir::func::FuncOp"> {
  let summary = "Annotate compute-heavy sinter ops with their FLOP count";
  let description = [{
    Attaches `sinter.flops` (multiply and add counted as two operations) to
    every `sinter.matmul`, `sinter.linear`, `sinter.conv` and
    `sinter.attention` whose shapes are static, and the sum to the function
    as `sinter.total_flops`. Ops with dynamic shapes are left alone and
    counted in `sinter.unknown_flops_ops`.

    Before:
    ```mlir
    %y = sinter.linear %x, %w : (tensor<4x16xf32>, tensor<16x32xf32>) -> tensor<4x32xf32>
    ```
    After:
    ```mlir
    func.func @f(...) attributes {sinter.total_flops = 4096 : i64} {
      %y = sinter.linear %x, %w {sinter.flops = 4096 : i64} : ...
    ```
  }];
  let options = [
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Also report each op's count as a remark diagnostic">
  ];
}

#endif // FLOPS_PLUGIN_PASSES_TD
