//===- Passes.td - Graph-level passes ------------------------*- tablegen -*-===//
//
// The passes that work on the sinter dialect before code generation. The
// fusion passes find the subgraphs that exporters emit for the layers of a
// transformer and replace them by sinter's composite ops; each accepts the
// spellings of the common exporters and leaves near misses alone (an
// intermediate with another use, a reduction over the wrong axis, a mask
// that does not broadcast).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PASSES_PASSES_TD
#define SINTER_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseLinear : Pass<"sinter-fuse-linear"> {
  let summary = "Turn matmul by a 2-D weight (+ bias) into sinter.linear";
  let description = [{
    `matmul(x, W)` with a 2-D `W` becomes `linear(x, W)`; a `W` that is the
    transpose of a matrix becomes `linear(x, W^T) transpose_weight` (the
    PyTorch `nn.Linear` layout, no copy); a following `add` of a bias of N
    elements (shaped `[N]` or `[1, ..., 1, N]`, on either side) is folded
    into the op, as is a bias added to a `linear` without one.

    Before:
    ```mlir
    %0 = sinter.matmul %x, %w : (tensor<1x32x64xf32>, tensor<64x256xf32>) -> tensor<1x32x256xf32>
    %1 = sinter.add %b, %0 : (tensor<256xf32>, tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
    ```
    After:
    ```mlir
    %1 = sinter.linear %x, %w, %b : (tensor<1x32x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<1x32x256xf32>
    ```
  }];
}

def FuseLayerNorm : Pass<"sinter-fuse-layer-norm"> {
  let summary = "Find layer normalization spelled with reductions";
  let description = [{
    Matches `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)` over the
    trailing axes (the square as `pow` or `mul`, the division as `div`,
    `mul` by `reciprocal`/`rsqrt`), with an optional following `* gamma`
    and `+ beta` shaped like the normalized dimensions, and replaces it by
    `sinter.layer_norm` (gamma of ones when absent).

    Before (the spelling of exports before opset 17):
    ```mlir
    %m = sinter.reduce_mean %x axes [2] keepdims : tensor<1x32x64xf32> -> tensor<1x32x1xf32>
    %d = sinter.sub %x, %m : ...
    %s = sinter.pow %d, %two : ...
    %v = sinter.reduce_mean %s axes [2] keepdims : ...
    %e = sinter.add %v, %eps : ...
    %r = sinter.sqrt %e : ...
    %n = sinter.div %d, %r : ...
    %g = sinter.mul %n, %gamma : ...
    %y = sinter.add %g, %beta : ...
    ```
    After:
    ```mlir
    %y = sinter.layer_norm %x, %gamma, %beta axis 2 epsilon 1.0e-05 : ...
    ```
  }];
}

def FuseRmsNorm : Pass<"sinter-fuse-rms-norm"> {
  let summary = "Find root-mean-square normalization";
  let description = [{
    Matches `x * rsqrt(mean(x^2) + eps)` over the trailing axes, also
    spelled `x / sqrt(...)`, `x * (1 / sqrt(...))` or with `reciprocal`,
    with an optional following `* weight` shaped like the normalized
    dimensions, and replaces it by `sinter.rms_norm`.

    Before (the LLaMA spelling):
    ```mlir
    %s = sinter.pow %x, %two : ...
    %m = sinter.reduce_mean %s axes [2] keepdims : ...
    %e = sinter.add %m, %eps : ...
    %r = sinter.sqrt %e : ...
    %i = sinter.div %one, %r : ...
    %n = sinter.mul %x, %i : ...
    %y = sinter.mul %n, %w : ...
    ```
    After:
    ```mlir
    %y = sinter.rms_norm %x, %w axis 2 epsilon 1.0e-05 : ...
    ```
  }];
}

def FuseResidualNorm : Pass<"sinter-fuse-residual-norm"> {
  let summary = "Fold a residual add into the layer or RMS norm after it";
  let description = [{
    `layer_norm(a + b)` and `rms_norm(a + b)`, where `a`, `b` and the sum
    have one type (a broadcasting bias add does not qualify), become
    `sinter.add_norm`, whose first result replaces the sum everywhere else
    it is used (the residual stream). Run it after `sinter-fuse-layer-norm`
    and `sinter-fuse-rms-norm`.

    Before:
    ```mlir
    %s = sinter.add %x, %r : ...
    %y = sinter.layer_norm %s, %g, %b axis 2 epsilon 1.0e-05 : ...
    ```
    After:
    ```mlir
    %s, %y = sinter.add_norm %x, %r, %g, %b kind layer axis 2
        epsilon 1.0e-05 : ...
    ```
  }];
}

def FuseGelu : Pass<"sinter-fuse-gelu"> {
  let summary = "Find GELU in its erf and tanh spellings";
  let description = [{
    Matches `0.5 * x * (1 + erf(x / sqrt(2)))` and
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))` in any order
    of the factors (constants may be folded together, `x^3` may be `pow` or
    products, the inner sum may be factored as `x * (1 + 0.044715 * x^2)`)
    and replaces them by `sinter.gelu` with `approximate none` or `tanh`.

    Before:
    ```mlir
    %0 = sinter.div %x, %sqrt2 : ...
    %1 = sinter.erf %0 : ...
    %2 = sinter.add %1, %one : ...
    %3 = sinter.mul %x, %2 : ...
    %y = sinter.mul %3, %half : ...
    ```
    After:
    ```mlir
    %y = sinter.gelu %x approximate none : ...
    ```
  }];
}

def FuseSilu : Pass<"sinter-fuse-silu"> {
  let summary = "Find SiLU and SwiGLU gating";
  let description = [{
    `x * sigmoid(x)` (either order) and `x / (1 + exp(-x))` become
    `sinter.silu`; `silu(g) * u` with both of one type becomes
    `sinter.swiglu %g, %u`, the gate of LLaMA-style feed-forward layers.

    Before:
    ```mlir
    %s = sinter.sigmoid %g : tensor<1x32x176xf32>
    %a = sinter.mul %g, %s : ...
    %h = sinter.mul %a, %u : ...
    ```
    After:
    ```mlir
    %h = sinter.swiglu %g, %u : tensor<1x32x176xf32>
    ```
  }];
}

def FuseRotaryEmbedding : Pass<"sinter-fuse-rotary-embedding"> {
  let summary = "Find rotary position embeddings (rotate-half and interleaved)";
  let description = [{
    Matches `x * cos + rotate(x) * sin` on a 4-D `x` where `rotate` is the
    rotate-half form `concat(-x[..., h:], x[..., :h])` (slices or a split)
    or the interleaved form (pairs `(2i, 2i + 1)`, built from strided
    slices, stacked and reshaped), and `cos`/`sin` repeat each angle twice
    (halves equal, or neighbours equal for the interleaved form), which is
    checked on constant tables and on tables built by `concat(f, f)`.
    Replaces the subgraph by `sinter.rotary_embedding` with the half-size
    tables. A rotation of the first R < D features concatenated with the
    rest becomes one op as well.

    Before:
    ```mlir
    %a = sinter.mul %q, %cos : (tensor<1x4x32x16xf32>, tensor<32x16xf32>) -> ...
    %hi = sinter.slice %q starts [0, 0, 0, 8] ends [...] steps [1, 1, 1, 1] : ...
    %lo = sinter.slice %q starts [0, 0, 0, 0] ends [..., 8] steps [1, 1, 1, 1] : ...
    %n = sinter.neg %hi : ...
    %r = sinter.concat %n, %lo axis 3 : ...
    %b = sinter.mul %r, %sin : ...
    %y = sinter.add %a, %b : ...
    ```
    After:
    ```mlir
    %c = sinter.slice %cos starts [0, 0] ends [..., 8] steps [1, 1] : ...
    %s = sinter.slice %sin starts [0, 0] ends [..., 8] steps [1, 1] : ...
    %y = sinter.rotary_embedding %q, %c, %s : ...
    ```
  }];
}

def FuseAttention : Pass<"sinter-fuse-attention"> {
  let summary = "Find scaled dot-product attention";
  let description = [{
    Matches `softmax(scale * Q K^T + mask) V` on 4-D tensors and replaces it
    by `sinter.attention`:

    - the scale by `mul` or `div` of the scores, or of Q and/or K before
      the product (pre-scaled queries), or absent;
    - K^T as a transpose of K (folded into a transpose of K's producer
      when K is itself transposed) or any other operand (transposed back);
    - the mask as an `add` of a tensor that broadcasts to the scores, or a
      `where` with a boolean condition (either branch), which becomes an
      additive mask; a mask that hides exactly the keys after each query
      (a constant, or `trilu` of a splat) becomes the `causal` flag;
    - grouped-query K and V repeated with reshape/expand/reshape (or `tile`
      for one KV head) are taken before the repetition: the op reads each
      KV head once for its group of query heads.

    Before (GPT-2):
    ```mlir
    %kt = sinter.transpose %k [0, 1, 3, 2] : ...
    %s = sinter.matmul %q, %kt : ...
    %t = sinter.mul %s, %scale : ...
    %m = sinter.where %keep, %t, %neg_inf : ...
    %p = sinter.softmax %m axis 3 : ...
    %o = sinter.matmul %p, %v : ...
    ```
    After:
    ```mlir
    %o = sinter.attention %q, %k, %v causal scale 2.500000e-01 : ...
    ```
  }];
}

#endif // SINTER_PASSES_PASSES_TD
