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

def DeduplicateConstants : Pass<"sinter-dedupe-constants"> {
  let summary = "Merge constants with equal contents; uniform ones become splats";
  let description = [{
    Exporters repeat constants under different names: the rotary cos/sin
    tables once per layer and per use, zero-filled buffers per layer. CSE
    only merges constants whose attributes are the same attribute, which
    named `dense_resource` blobs never are. This pass compares contents
    (type and bytes): each later constant of a block that equals an
    earlier one is replaced by it, and a constant whose elements are all
    equal becomes a `dense` splat, which takes no room in the weights file.

    Before:
    ```mlir
    %c0 = sinter.constant dense_resource<layer0_cos> : tensor<32x16xf32>
    %c1 = sinter.constant dense_resource<layer1_cos> : tensor<32x16xf32>
    %z = sinter.constant dense_resource<zeros> : tensor<32x8xf32>
    ```
    After (when layer1_cos holds the same values):
    ```mlir
    %c0 = sinter.constant dense_resource<layer0_cos> : tensor<32x16xf32>
    %z = sinter.constant dense<0.000000e+00> : tensor<32x8xf32>
    ```
  }];
}

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

def FoldConvScale : Pass<"sinter-fold-conv-scale"> {
  let summary = "Fold per-channel constant scales and shifts into conv";
  let description = [{
    What an inference BatchNormalization after a convolution becomes: a
    `mul` of the conv's result by a constant with one value per output
    channel (shaped `[M, 1, ...]`) scales the conv's weight and bias, an
    `add` of such a constant adds to its bias. Only f32 convs whose weight
    and bias are constants, and only when the conv's result has no other
    use (otherwise both results would be needed).

    Before:
    ```mlir
    %y = sinter.conv %x, %w, %b strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
    %s = sinter.mul %y, %a : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32>
    %t = sinter.add %s, %c : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32>
    ```
    After: one `sinter.conv` with weight `w * a` and bias `b * a + c`.
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

def InsertProbes : Pass<"sinter-insert-probes"> {
  let summary = "Instrument a model for calibration: probes on activations, attention and routers";
  let description = [{
    Adds the probes that `sinterc --calibrate` reads (docs/calibration.md),
    numbered in program order from 0:
    - `sinter.probe_tensor` on the f32 input of every `linear`, the
      non-constant operands of every `matmul` (channels: the contracted
      dimension) and the input of every `conv` (channels: dimension 1),
      once per value however many layers read it;
    - `sinter.probe_attention` after every `sinter.attention`;
    - `sinter.probe_routing` on the indices of every `topk` that picks from
      a router (its input is a `softmax` or `linear` result, along a
      static dimension: the number of experts).
    A probe is named after the op that produces the value (its ONNX node
    name, or the op and its position when it has none). The probes only
    read: the instrumented model computes exactly what the model computes.

    Before:
    ```mlir
    %y = sinter.linear %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
    ```
    After:
    ```mlir
    sinter.probe_tensor %x id 0 channel_axis 2 name "input 0" : tensor<1x8x64xf32>
    %y = sinter.linear %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
}

def ScaleActivations : Pass<"sinter-scale-activations"> {
  let summary = "Move per-channel scales between activations and weights (AWQ, SmoothQuant) from calibration statistics";
  let description = [{
    For each value that f32 linear layers (or matmuls by a constant) read,
    picks a positive scale s per input channel k and rewrites
    `x * W` as `(x / s) * (s * W)`: each weight row k is multiplied by
    s[k], and the activation is divided by s: inside the norm that
    produces it (its scale and offset divided by s) when every reader of
    the norm's result is one of these layers, else by a `sinter.mul`
    before them. In f32 the model computes the same function (up to
    rounding); what changes is which side carries the channels' range,
    which is what quantization is sensitive to.

    The statistics come from `sinterc --calibrate` (`stats`: the stats
    file, docs/calibration.md); a layer is found by the name of its entry
    in a probe's `consumers`. Layers without statistics are left alone
    (one warning counts them).

    - `method=awq` (activation-aware weight quantization, for weight-only
      `bits`/`group-size`): s = m^a normalized by sqrt(max(s) min(s)),
      where m is the channels' mean |x|; a is searched over 0, 0.05, ...,
      0.95 to minimize the expected squared output error E|x D|^2 of the
      rounding D = dequantize(quantize(s W)) / s - W over the group's
      layers, with the channels of x taken as independent (from their
      means and mean squares), rounded the way `sinter-quantize-weights`
      will round. With sampled rows in the stats file (up to 256 per probe)
      the error is measured on them, |x D|^2, as AWQ does; without, it is
      estimated from the channels' means and mean squares, taken as
      independent. The scales are kept only when they cut the error by at
      least `min-gain` (10%) against plain rounding: smaller gains on a few
      hundred rows are mostly fitted noise. `clip` also clips each group's
      range (ratios 1, 0.95, ..., 0.55 of it) where the sampled rows say
      that rounds better.
    - `method=smooth` (SmoothQuant, for int8 activations): s = max|x|^alpha
      / max|W|^(1 - alpha) per channel, the weights' maximum taken over the
      group's layers.

    Before (with statistics for `/fc`):
    ```mlir
    %h = sinter.gelu %x : tensor<1x8x64xf32>
    %y = sinter.linear %h, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
    ```
    After:
    ```mlir
    %h = sinter.gelu %x : tensor<1x8x64xf32>
    %inv = sinter.constant dense<...> : tensor<64xf32>
    %hs = sinter.mul %h, %inv : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
    %ws = sinter.constant dense<...> : tensor<64x64xf32>
    %y = sinter.linear %hs, %ws : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let options = [
    Option<"statsFile", "stats", "std::string", /*default=*/"",
           "The stats file of sinterc --calibrate">,
    Option<"method", "method", "std::string", /*default=*/"\"awq\"",
           "awq (search for weight-only quantization) or smooth (SmoothQuant)">,
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "method=smooth: migration strength, in [0, 1]">,
    Option<"bits", "bits", "unsigned", /*default=*/"4",
           "method=awq: the bits the weights will be quantized to (8 or 4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "method=awq: the group size they will be quantized with (0: as "
           "sinter-quantize-weights chooses)">,
    Option<"minGain", "min-gain", "double", /*default=*/"0.1",
           "method=awq: scale a layer only when its error drops by at least "
           "this fraction">,
    Option<"clip", "clip", "bool", /*default=*/"false",
           "method=awq: also clip each group's range (searched on the "
           "sampled rows)">,
    Option<"keepFp32", "keep-fp32", "std::string", /*default=*/"",
           "Regular expression: layers whose names match are left alone">
  ];
}

def QuantizeWeights : Pass<"sinter-quantize-weights"> {
  let summary = "Store the weights as 8- or 4-bit integers (weight-only)";
  let description = [{
    Replaces each constant f32 weight by integers and scales behind a
    `sinter.dequantize`, which code generation turns into the quantized
    GEMM/GEMV kernel for linear layers (the integers are read directly);
    activations stay f32. What is quantized:
    - weights of `linear` and constant right sides of `matmul` (2-D, or
      batched: MoE experts), in groups of k (the contracted dimension);
    - embedding tables read by `gather` and `conv` weights, in groups along
      their last dimension (conv weights are flattened to [out, rest]
      first, so that groups run along the whole filter);
    - float constants of rank >= 2 with at least 1024 elements added to
      activations (`add`, the residual side of `add_norm`: position
      embeddings), along their last dimension.
    The vectors of those layers (biases, norm scales and offsets) are
    stored as bfloat16. Constants that hold non-finite values, and every
    op whose location names (ONNX node or initializer names) match
    `keep-fp32`, stay f32.

    Rounding (docs/quantization.md, which the numerical tests reimplement):
    8 bits are symmetric, s = m / 127 with m the group's largest magnitude,
    q = round(w / s) in [-127, 127]; 4 bits are asymmetric,
    s = (max(hi, 0) - min(lo, 0)) / 15, z = round(-min(lo, 0) / s) in
    [0, 15], q = clamp(round(w / s) + z, 0, 15). Scales are bfloat16,
    rounded up from the f32 quotient (so no q is clipped by the rounding);
    round() is to nearest, ties to even; a group of zeros has s = 0.

    Before:
    ```mlir
    %y = sinter.linear %x, %w, %b transpose_weight : (tensor<1x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x8x256xf32>
    ```
    After (`bits=4 group-size=32`):
    ```mlir
    %q = sinter.constant dense<...> : tensor<256x64xui4>
    %s = sinter.constant dense<...> : tensor<256x2xbf16>
    %z = sinter.constant dense<...> : tensor<256x2xui4>
    %w = sinter.dequantize %q, %s, %z axis 1 block 32 : (...) -> tensor<256x64xf32>
    %b16 = sinter.constant dense<...> : tensor<256xbf16>
    %b = sinter.cast %b16 : tensor<256xbf16> to tensor<256xf32>
    %y = sinter.linear %x, %w, %b transpose_weight : ...
    ```
  }];
  let options = [
    Option<"bits", "bits", "unsigned", /*default=*/"8",
           "Bits per weight: 8 (symmetric int8) or 4 (asymmetric uint4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Weights per scale along the grouped dimension; 0: the whole "
           "dimension for 8 bits (per output channel), 32 for 4 bits">,
    Option<"keepFp32", "keep-fp32", "std::string", /*default=*/"",
           "Regular expression: ops and weights whose names match stay f32">
  ];
}

def QuantizeActivations : Pass<"sinter-quantize-activations"> {
  let summary = "Round the inputs of int8 linear layers to int8 (W8A8)";
  let description = [{
    Gives each `sinter.linear` whose weight is int8 with one scale per
    output column and no zero points (what `sinter-quantize-weights bits=8`
    makes; run it first) int8 activations: its f32 input x becomes
    `dequantize(quantize(x))`, which code generation runs, with the weight's
    integers, as the int8 GEMM (`sinter_qmatmul_i8`): the products are
    exact in int32 and scaled once. Layers that read one value share its
    rounding. The scales (docs/quantization.md):
    - `scales=dynamic` (default): `sinter.dynamic_quantize`, one scale per
      row (token) computed at run time, s = max|x_row| / 127;
    - `scales=static`: one scale per tensor from the calibration
      statistics (`stats`, docs/calibration.md), s = max(|min|, |max|) / 127
      of the values the layer read; values beyond the calibrated range
      saturate at +-127 (or -128). Layers without statistics keep f32
      activations (one warning counts them).
    Layers whose location names match `keep-fp32`, inputs whose last
    dimension is dynamic, and layers whose weights are not per-column
    int8 keep f32 activations.

    Before:
    ```mlir
    %w = sinter.dequantize %q, %s axis 1 block 64 : (tensor<256x64xi8>, tensor<256x1xbf16>) -> tensor<256x64xf32>
    %y = sinter.linear %x, %w transpose_weight : (tensor<1x8x64xf32>, tensor<256x64xf32>) -> tensor<1x8x256xf32>
    ```
    After (`scales=dynamic`):
    ```mlir
    %xq, %xs = sinter.dynamic_quantize %x : tensor<1x8x64xf32> -> tensor<1x8x64xi8>, tensor<1x8x1xf32>
    %xd = sinter.dequantize %xq, %xs axis 2 block 64 : (tensor<1x8x64xi8>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
    %y = sinter.linear %xd, %w transpose_weight : ...
    ```
  }];
  let options = [
    Option<"scales", "scales", "std::string", /*default=*/"\"dynamic\"",
           "dynamic (per row, at run time) or static (per tensor, from the "
           "calibration statistics)">,
    Option<"statsFile", "stats", "std::string", /*default=*/"",
           "scales=static: the stats file of sinterc --calibrate">,
    Option<"keepFp32", "keep-fp32", "std::string", /*default=*/"",
           "Regular expression: layers whose names match keep f32 "
           "activations">
  ];
}

#endif // SINTER_PASSES_PASSES_TD
