//===- Passes.td - Code generation passes ----------------------*- tablegen -*-===//

#ifndef SINTER_CODEGEN_PASSES_TD
#define SINTER_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def MergeSiblingLinears : Pass<"sinter-merge-sibling-linears"> {
  let summary = "Merge linear layers that read the same input into one product";
  let description = [{
    Linear layers with the same input, constant weights of one layout and
    depth, and constant biases (or none) become one `sinter.linear` by the
    weights laid side by side — attention's Q, K and V projections, a gated
    MLP's gate and up — followed by a `sinter.split` of its last axis. The
    product packs its input once and has more columns to share among
    threads. A weight or bias that anything else reads keeps its linear
    apart (merging would copy it); a missing bias is zeros. sinterc runs
    this pass at code generation, after the compression passes (which
    leave quantized weights as `dequantize`, not constants, so quantized
    layers stay apart); `--merge-linears=false` turns it off.

    Before:
    ```mlir
    %q = sinter.linear %x, %wq, %bq transpose_weight : (tensor<128x768xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<128x768xf32>
    %k = sinter.linear %x, %wk transpose_weight : (tensor<128x768xf32>, tensor<768x768xf32>) -> tensor<128x768xf32>
    ```
    After:
    ```mlir
    %qk = sinter.linear %x, %w, %b transpose_weight : (tensor<128x768xf32>, tensor<1536x768xf32>, tensor<1536xf32>) -> tensor<128x1536xf32>
    %q, %k = sinter.split %qk axis 1 sizes [768, 768] : tensor<128x1536xf32> -> tensor<128x768xf32>, tensor<128x768xf32>
    ```
  }];
}

def LowerToKernels : Pass<"sinter-lower-to-kernels"> {
  let summary = "Lower sinter ops to calls of the runtime's kernels";
  let description = [{
    Runs before `convert-sinter-to-linalg`, while the operands' producers
    are still sinter ops: the ops that a hand-written kernel of the runtime
    computes become `func.call`s of it (declared in the module on first use,
    with `llvm.emit_c_interface` and `sinter.no_capture`) on views of their
    operands' buffers (`bufferization.to_buffer` cast to fully dynamic
    strided memrefs); the kernel writes a new 64-byte aligned buffer, which
    `bufferization.to_tensor ... restrict writable` hands back as the op's
    result. Whatever a kernel does not take (other element types, dynamic
    head sizes, partly broadcast batches ...) stays for
    `convert-sinter-to-linalg`.

    With `flash-attention` (the default), f32 `sinter.attention` with head
    sizes up to 256 becomes a call of the flash-attention kernel on strided
    views that read Q, K and V in place through the transposes, reshapes and
    splits that separate the heads; the sequence x sequence scores never
    exist.

    With `norm-kernel` (the default), f32 `sinter.layer_norm`,
    `sinter.rms_norm` and `sinter.add_norm` become calls of the norm kernel
    on [rows, normalized elements] views.

    With `matmul-kernel` (the default), f32 `sinter.linear`, `sinter.matmul`
    of matrices and `sinter.conv` with one group become calls of the packed
    GEMM kernel on [batch, rows, cols] views, constant weights packed at
    compile time into its layout (a 1-D or 2-D conv through the conv
    kernel, which packs its windows from the input; a 3-D one after copying
    its windows out as rows); a depthwise `sinter.conv` becomes the
    depthwise kernel. A ReLU or clip after a conv (and, for one group, a
    residual add before it) is applied by the kernel. A weight that is a
    `sinter.dequantize` of a constant becomes the quantized kernel on its
    integers (the f32 weight never exists), and a linear of int8
    activations by an int8 per-column weight (W8A8) the int8 kernel.

    Before:
    ```mlir
    %y = sinter.linear %x, %w, %b transpose_weight : (tensor<2x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<2x8x256xf32>
    ```
    After:
    ```mlir
    %rows = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x64xf32> into tensor<16x64xf32>
    %a = tensor.expand_shape %rows [[0, 1], [2]] output_shape [1, 16, 64] : tensor<16x64xf32> into tensor<1x16x64xf32>
    %out = memref.alloc() {alignment = 64 : i64} : memref<1x16x256xf32>
    ...
    call @sinter_matmul_f32(%av, %wv, %bv, %outv, %c3_i32) : (memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, ...) -> ()
    %t = bufferization.to_tensor %out restrict writable : memref<1x16x256xf32> to tensor<1x16x256xf32>
    %c = tensor.collapse_shape %t [[0, 1], [2]] : tensor<1x16x256xf32> into tensor<16x256xf32>
    %y = tensor.expand_shape %c [[0, 1], [2]] output_shape [2, 8, 256] : tensor<16x256xf32> into tensor<2x8x256xf32>
    ```
  }];
  let options = [
    Option<"flashAttention", "flash-attention", "bool", /*default=*/"true",
           "Lower f32 attention to the runtime's flash-attention kernel">,
    Option<"normKernel", "norm-kernel", "bool", /*default=*/"true",
           "Lower f32 layer/RMS norms to the runtime's norm kernel">,
    Option<"matmulKernel", "matmul-kernel", "bool", /*default=*/"true",
           "Lower f32 matmul, linear and conv to the runtime's kernels">
  ];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

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
    them. The patterns live in `codegen/SinterToLinalg/`, one file per op
    family. A gather whose table is a `sinter.dequantize` reads the gathered
    rows through its integers; those gathers are lowered in a first round of
    their own, while the dequantize is still a sinter op. The calls of the
    runtime's kernels are made before this pass, by
    `sinter-lower-to-kernels`.
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ExternalizeWeights : Pass<"sinter-externalize-weights", "::mlir::ModuleOp"> {
  let summary = "Read constant buffers from the weights file instead of the object";
  let description = [{
    Runs on bufferized code. Every `memref.global` constant of at least
    `min-bytes` bytes that only the entry function reads is given an offset
    in the weights file (`sinter.weight_offset`, 64-byte aligned), and each
    `memref.get_global` of it becomes a `memref.view` of a new trailing
    argument of the entry function, the mapped weights (`memref<?xi8>`,
    marked `sinter.abi = "weights"`). The globals stay, unread, for the
    artifact writer to copy into the weights file and drop; the module gets
    `sinter.weights_size`. Constants read as the shape of a
    `memref.reshape` stay in the object: host code reads them, and on a GPU
    target the weights are in device memory. Keeping weights out of the object is what lets
    the runtime map them read-only and share them between processes.

    Before:
    ```mlir
    memref.global "private" constant @w : memref<64x64xf32> = dense<...>
    func.func @main(%x: memref<4x64xf32>, %y: memref<4x64xf32>) {
      %w = memref.get_global @w : memref<64x64xf32>
    ```
    After:
    ```mlir
    memref.global "private" constant @w : memref<64x64xf32> = dense<...> {sinter.weight_offset = 0 : i64}
    func.func @main(%x: memref<4x64xf32>, %y: memref<4x64xf32>,
                    %weights: memref<?xi8> {sinter.abi = "weights"}) {
      %c0 = arith.constant 0 : index
      %w = memref.view %weights[%c0][] : memref<?xi8> to memref<64x64xf32>
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"",
           "The function the runtime calls (default: @main, or the only "
           "public function)">,
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"64",
           "Smaller constants stay in the object">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def CheckIndices : Pass<"sinter-check-indices", "::mlir::ModuleOp"> {
  let summary = "Check the indices the model computes, and report the first "
                "outside its range after the run";
  let description = [{
    ONNX makes an index outside `[-size, size)` of a `Gather`,
    `GatherElements` or `ScatterElements` an error; the lowering clamps it
    (a compiled model must never read outside its buffers), which would
    turn a bad index into a plausible output. Inputs that reach the indices
    unchanged are checked by the runtime before the run
    (`inputIndexBounds`); this pass checks the others — indices computed in
    the model (`Range`, arithmetic, `ArgMax`, a shape ...) and inputs that
    index a dimension of dynamic size. Constant indices into a dimension of
    static size are checked now: one outside its range fails the pass
    (every run of the model would fail).

    For each such op in the entry function's body (ops nested in a loop
    body are not checked), one reduction over the indices finds the first
    position whose index is outside the range; the entry gets one more
    result, `tensor<16xi64>`, that holds the first fault (the op's number +
    1, the index, the size it indexes, the rank and the position: the
    layout of SINTER_INDEX_FAULT_* in `sinter/runtime.h`), or zeros. The
    entry's `sinter.index_check_sites` names the checked ops in the order
    of their numbers; the runtime reads the record after each run and
    fails it with `SINTER_INVALID_ARGUMENT` and a message naming the op.

    Before:
    ```mlir
    func.func @main(%table: tensor<256x8xf32>, %n: tensor<i64>) -> tensor<?x8xf32> {
      %ids = sinter.range %start, %n, %one : tensor<i64> -> tensor<?xi64>
      %rows = sinter.gather %table[%ids] axis 0 : (tensor<256x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
      return %rows : tensor<?x8xf32>
    }
    ```
    After (the reduction abridged):
    ```mlir
    func.func @main(...) -> (tensor<?x8xf32>, tensor<16xi64>)
        attributes {sinter.index_check_sites = ["node 'rows' (Gather)"]} {
      ...
      %first = linalg.generic {iterator_types = ["reduction"]} ins(%ids : tensor<?xi64>) outs(%none : tensor<i64>) { ... arith.minsi ... }
      %record = tensor.from_elements %site, %value, %c256, %c1, %p0, ... : tensor<16xi64>
      return %rows, %record : tensor<?x8xf32>, tensor<16xi64>
    }
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"",
           "The function the runtime calls (default: @main, or the only "
           "public function)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PlanArena : Pass<"sinter-plan-arena", "::mlir::ModuleOp"> {
  let summary = "Place intermediate buffers in one arena laid out from liveness";
  let description = [{
    Runs on bufferized code, before deallocations are inserted. Each
    statically shaped `memref.alloc` in the entry function's body lives from
    its allocation to the last use of the buffer or of any view of it; the
    pass packs these live ranges into one arena (best fit, largest buffers
    first, 64-byte aligned offsets), so that buffers whose lifetimes do not
    overlap share memory. Each allocation becomes a `memref.view` of a new
    trailing argument of the entry function (`memref<?xi8>`, marked
    `sinter.abi = "arena"`), and the function records the arena's size in
    `sinter.arena_size`. A dynamically shaped buffer is planned at its
    largest size when its sizes have upper bounds (constants, the bounds of
    the arguments' dimensions in `sinter.max_shape`, and the arithmetic
    and buffer sizes between); other dynamic buffers, buffers allocated in
    nested regions and buffers that escape (returned, or passed to a call
    whose callee is not declared `sinter.no_capture`, as the runtime's
    kernels are) keep their heap allocations.

    Before:
    ```mlir
    %a = memref.alloc() : memref<256xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<256xf32>)
    ```
    After:
    ```mlir
    %c0 = arith.constant 0 : index
    %a = memref.view %arena[%c0][] : memref<?xi8> to memref<256xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<256xf32>)
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"",
           "The function the runtime calls (default: @main, or the only "
           "public function)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def DistributeLoops : Pass<"sinter-distribute-loops", "::mlir::func::FuncOp"> {
  let summary = "Decide which parallel loops run on several threads";
  let description = [{
    Runs on the `scf.parallel` loops that `--convert-linalg-to-parallel-loops`
    makes of each structured op, before `--convert-scf-to-openmp` turns what
    stays parallel into OpenMP worksharing loops. A loop nested in another
    parallel loop becomes sequential (one level of threads, no nested
    teams). An outermost loop whose estimated work (iterations times the
    ops of its body, nested sequential loops counted by their trip counts)
    is below `min-work` becomes sequential too: forking threads costs a few
    microseconds, more than such a loop takes. The others, when their body
    has no loop of its own, keep all but their innermost dimension parallel;
    the innermost becomes an `scf.for`, the contiguous loop that LLVM
    vectorizes. (A loop whose body has loops stays parallel in every
    dimension: the inner loops are the ones to vectorize.)

    Before:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c512, %c512) step (%c1, %c1) {
      ...
    }
    ```
    After:
    ```mlir
    scf.parallel (%i) = (%c0) to (%c512) step (%c1) {
      scf.for %j = %c0 to %c512 step %c1 {
        ...
      }
    }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"262144",
           "Loops with less estimated work (ops executed) run on one thread">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def InterchangeContractions : Pass<"sinter-interchange-contractions"> {
  let summary = "Make the contiguous output dimension the innermost loop of contractions";
  let description = [{
    A `linalg.generic` with reduction dimensions (a matmul, a batched
    matmul, the products in attention, a depthwise convolution or a pool
    of stride 1) whose output's last dimension `n` also indexes the last,
    contiguous dimension of an input with stride 1 (alone, or plus other
    loops: `x[c, h + i, w + j]` moves along `w`) is given the loop order
    `(other dims..., reductions..., n)`: every iteration of the innermost
    loop then updates a different output element from contiguous data, a
    loop LLVM vectorizes (`C[m, n] += A[m, k] * B[k, n]` over `n`), where
    the default order leaves a strided scalar dot product over `k` that it
    cannot (floating-point sums are not reassociated). Each output element
    still sums its terms in the same order: the results are bit-identical.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n), (m, n, k) -> (m, n)],
                    iterator_types = ["parallel", "parallel", "reduction"]} ...
    ```
    After:
    ```mlir
    linalg.generic {indexing_maps = [(m, k, n) -> (m, k), (m, k, n) -> (k, n), (m, k, n) -> (m, n)],
                    iterator_types = ["parallel", "reduction", "parallel"]} ...
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def FuseElementwise : Pass<"sinter-fuse-elementwise"> {
  let summary = "Fuse elementwise producers into consumers, never recomputing work";
  let description = [{
    `--linalg-fuse-elementwise-ops` with one rule more: an elementwise
    producer is fused into a consumer that has reduction loops (a matmul)
    only when its body is data movement (yields, casts, no arithmetic).
    Fusing arithmetic there would recompute it in every iteration of the
    consumer's parallel loops that the producer's result does not depend
    on: a GELU fused into the next matmul computes `erf` once per output
    column, 256 to 4096 times too often. Producers that only move or
    convert data (transposes, broadcasts, casts) still fuse, saving their
    buffer. Consumers without reductions take any elementwise producer.

    Before:
    ```mlir
    %g = linalg.generic {iterator_types = ["parallel", "parallel"]} ins(%x) { math.erf ... }
    %y = linalg.generic {iterator_types = ["parallel", "parallel", "reduction"]} ins(%g, %w) { mulf, addf }
    ```
    After: unchanged (an elementwise chain ending in `%g` is fused into one
    op, but not into `%y`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ApproximateMath : Pass<"sinter-approximate-math"> {
  let summary = "Replace libm calls by polynomial approximations the vectorizer can use";
  let description = [{
    `math.tanh`, `math.erf`, `math.exp` and `math.expm1` on f32 become
    MLIR's polynomial and rational approximations (arith ops only, about
    1 ulp to a few ulp from the correctly rounded value), instead of scalar
    calls into libm that keep every loop around them scalar. GELU, softmax
    and SiLU loops then vectorize. Other types and functions are left to
    libm, unless `all` is set: then every function MLIR can approximate
    (logarithms, sines, arc tangents, ...) is approximated, in f32 for
    narrower floats; this is for targets without libm, such as the GPU.

    Before:
    ```mlir
    %y = math.tanh %x : f32
    ```
    After: a clamped rational polynomial in `%x` (`arith.mulf`,
    `arith.addf`, `arith.divf`, `arith.select`).
  }];
  let options = [
    Option<"all", "all", "bool", /*default=*/"false",
           "Approximate every function that has an approximation (no libm)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def MapToGpu : Pass<"sinter-map-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Run every loop nest and copy on the GPU, one thread per iteration";
  let description = [{
    Runs on the loops that `--convert-linalg-to-parallel-loops` makes of
    bufferized code, whose memrefs are all device memory: the runtime hands
    a CUDA model device pointers for its inputs, outputs, weights and arena.
    In every function body:

    - each `scf.parallel` becomes a `gpu.launch` of `block-size`-thread
      blocks with one thread per iteration; iterations are numbered with
      the last dimension varying fastest, so that neighbouring threads
      access neighbouring elements; a loop with a dynamic trip count
      launches nothing when it is empty;
    - each `memref.copy` becomes such a launch over the copied elements;
    - `memref.alloc` and `memref.dealloc` become `gpu.alloc` and
      `gpu.dealloc`;
    - any other op that reads or writes device memory (a sequential loop,
      a store) runs in a launch of one thread.

    All launches name one kernel module, `@sinter_kernels`, so that
    `--gpu-kernel-outlining` puts every kernel in one GPU module: the model
    has one PTX text, loaded once. Shape buffers (the shape operands of
    `memref.reshape`, read by host code) stay in host memory. Host code
    that needs a value read from device memory, parallel loops with
    reductions and buffers allocated inside loop nests are reported as
    unsupported.

    Before:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c64) step (%c1, %c1) {
      %v = memref.load %x[%i, %j] : memref<4x64xf32>
      memref.store %v, %y[%i, %j] : memref<4x64xf32>
    }
    ```
    After:
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, ...)
               threads(%tx, %ty, %tz) in (%sx = %c256, ...)
               module(@sinter_kernels) {
      %id = arith.addi (%bx * 256), %tx
      scf.if %id < 256 {
        %j = %id mod 64, %i = %id / 64
        ...
      }
    }
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def FlashAttentionForGpu : Pass<"sinter-flash-attention-for-gpu", "::mlir::ModuleOp"> {
  let summary = "Run each fused attention as one flash-attention GPU kernel";
  let description = [{
    Runs before `--sinter-map-to-gpu`, on bufferized code in which each f32
    `sinter.attention` is a call of the runtime's CPU flash-attention kernel
    on strided views (`sinter-lower-to-kernels` with `flash-attention=true`). Each
    call becomes one `gpu.launch`: 64-thread blocks, one query row a
    thread, for one (batch, head) pair (grouped-query heads read their
    key/value head); the keys and values are staged in shared memory as
    many at a time as 48 KiB holds (up to 64), and each thread folds 16
    scores at a time into its running maximum, sum and output row with the
    online softmax, in registers. The scale, an additive mask (broadcast in
    any dimension of size 1) and causal masking (row i sees keys up to
    i + Sk - Sq) are applied as on the CPU; a row whose keys are all hidden
    is zeros. The Sq x Sk scores never exist in memory.

    Before:
    ```mlir
    call @sinter_attention_f32(%q, %k, %v, %mask, %out, %scale, %flags)
        : (memref<?x?x?x?xf32, strided<...>>, ..., f32, i32) -> ()
    ```
    After:
    ```mlir
    gpu.launch blocks(...) in (%gx = max(ceil(Sq / 64) * B * H, 1), ...)
               threads(...) in (%sx = 64, ...)
               workgroup(%k_tile : memref<64x64xf32, #gpu.address_space<workgroup>>,
                         %v_tile : memref<64x64xf32, #gpu.address_space<workgroup>>) {
      ... the scaled query row in registers
      scf.for %stage = 0 to %Sk step 64 iter_args(%max, %sum, %out_row...) {
        ... stage K and V, gpu.barrier
        scf.for %step = 0 to 64 step 16 iter_args(...) {
          ... 16 scores, mask, causal, online softmax
        }
        gpu.barrier
      }
      ... the output row / sum
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def TileContractionsForGpu : Pass<"sinter-tile-contractions-for-gpu", "::mlir::ModuleOp"> {
  let summary = "Run each f32 contraction as a tiled GPU kernel, on tensor cores";
  let description = [{
    Runs before `--sinter-map-to-gpu`, on bufferized code whose memrefs are
    device memory. Each `linalg.generic` that is a contraction of f32
    buffers -- C += A B over one reduced dimension k, with an m dimension
    that only A indexes, an n dimension that only B indexes and any batch
    dimensions (matmul, batched and broadcast matmul, linear with either
    weight layout, attention's two products) -- becomes one `gpu.launch` of
    128-thread blocks. Each block computes a 64x64 tile of C for one batch
    index: it copies 16-word slices of A's rows and B's columns into shared
    memory (zeros past the edges of any size, static or dynamic) and each of
    its four warps multiplies a 32x32 quarter of the tile.

    `precision` chooses the multiplication:
    - `tf32x3` (default): tensor cores, `mma.sync.m16n8k8` on TF32, each
      value split when staged into a TF32 high part and a TF32 remainder,
      three products per step (remainder x high, high x remainder, high x
      high): the accuracy of f32 at three times the tensor-core work;
    - `tf32`: tensor cores on TF32 (the operands rounded to 10 mantissa
      bits, to nearest, when staged), accumulating in f32; needs sm_80 or
      later;
    - `bf16`: tensor cores, `mma.sync.m16n8k16` on BF16 (8 mantissa bits),
      accumulating in f32;
    - `fp32`: f32 FMAs, exact as the CPU's.

    Other generics are left to `--sinter-map-to-gpu`.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n),
                                     (m, n, k) -> (m, n)], ...}
        ins(%a, %b : memref<?x768xf32>, memref<768x768xf32>)
        outs(%c : memref<?x768xf32>) { mulf, addf }
    ```
    After:
    ```mlir
    gpu.launch blocks(...) in (%gx = max(ceil(M / 64), 1), %gy = 12, %gz = 1)
               threads(...) in (%sx = 128, ...)
               workgroup(%sa : memref<64x20xi32, #gpu.address_space<workgroup>>,
                         %sb : memref<64x20xi32, #gpu.address_space<workgroup>>)
               module(@sinter_kernels) {
      scf.for %k0 = 0 to 768 step 16 iter_args(... 32 f32 accumulators) {
        ... stage A and B (nvvm.convert.float.to.tf32), gpu.barrier
        ... 16 x nvvm.mma.sync (m16n8k8, tf32), gpu.barrier
      }
      ... store the accumulators within C's bounds
    }
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"tf32x3\"",
           "The multiplication: tf32x3, tf32 or bf16 (tensor cores), or fp32">
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::scf::SCFDialect"];
}

def DefineDeviceMath : Pass<"sinter-define-device-math", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Define libdevice's functions that are single NVPTX instructions";
  let description = [{
    Runs on GPU modules after `--convert-gpu-to-nvvm`, which calls
    libdevice's `__nv_*` functions for math ops. libdevice is part of CUDA,
    which compiling must not need; sinter's GPU pipeline approximates the
    transcendental functions before (`sinter-approximate-math{all=true}`),
    and this pass gives a body to each declared `__nv_*` function that is an
    LLVM intrinsic with an NVPTX instruction: floor, ceil, trunc, round,
    rint, fabs, sqrt, rsqrt (as 1/sqrt), fma, copysign, fmin, fmax, in f32
    (`__nv_floorf`) and f64 (`__nv_floor`). The bodies are internal and
    inlined by LLVM. Other declarations are left alone: the PTX would call
    a function it does not define, which sinterc reports as unsupported.

    Before:
    ```mlir
    llvm.func @__nv_floorf(f32) -> f32
    ```
    After:
    ```mlir
    llvm.func internal @__nv_floorf(%x: f32) -> f32 {
      %0 = llvm.intr.floor(%x) : (f32) -> f32
      llvm.return %0 : f32
    }
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // SINTER_CODEGEN_PASSES_TD
