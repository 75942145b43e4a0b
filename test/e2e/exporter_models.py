#!/usr/bin/python3
"""Models written the way exporters other than today's PyTorch write them,
compiled into artifacts (sinterc -o), run by sinter-run and compared with
references computed here in numpy, independently of sinter:

- tf2onnx: an NHWC Keras CNN, a Transpose around every Conv, SAME_UPPER
  padding, MaxPool, LeakyRelu, a Flatten-by-Reshape classifier; opset 13
  and opset 11 (tf2onnx's default for years), and the unused `ai.onnx.ml`
  and `com.microsoft` opset imports tf2onnx declares;
- spox / torchaudio-style front end: weights in `Constant` nodes rather
  than initializers, a log-power spectrogram clamped to `top_db` below its
  maximum by a `Clip` whose minimum is computed from the data, `Gemm` with
  alpha, beta, transB and a broadcast C, variadic `Max` and `Sum`;
- Paddle2ONNX at opset 9: an unfolded BatchNormalization, ReLU6 as `Clip`
  with min/max attributes, `Upsample`, GlobalAveragePool and attribute-style
  `Squeeze`.

  exporter_models.py --bin build/bin [--only tf2onnx-op13,...]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(20261207)


def rand(*shape, scale=1.0):
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


# ---------------------------------------------------------------- references


def conv_nchw(x, w, b, stride=1, pads=(0, 0, 0, 0)):
    """Plain 2-D convolution, NCHW / OIHW, pads (top, left, bottom, right)."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, m, oh, ow), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            out += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return out + b.reshape(1, -1, 1, 1)


def maxpool2(x):
    n, c, h, w = x.shape
    return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# -------------------------------------------------------------------- models


def tf2onnx_cnn(opset, batch):
    """Keras: Conv2D(8, 3, same) -> LeakyReLU(0.2) -> MaxPool2D -> Conv2D(8, 3,
    valid, relu) -> Flatten -> Dense(5, softmax), input NHWC Nx12x12x3 with
    the batch dynamic (tf2onnx's unk__ dimension)."""
    x = rand(batch, 12, 12, 3)
    w1, b1 = rand(8, 3, 3, 3, scale=0.3), rand(8, scale=0.1)
    w2, b2 = rand(8, 8, 3, 3, scale=0.2), rand(8, scale=0.1)
    flat = 4 * 4 * 8
    wd, bd = rand(flat, 5, scale=0.1), rand(5, scale=0.1)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "conv1/kernel"), (b1, "conv1/bias"), (w2, "conv2/kernel"),
              (b2, "conv2/bias"), (wd, "dense/kernel"), (bd, "dense/bias"),
              (np.array([-1, flat], np.int64), "flatten/shape")]]
    n = helper.make_node
    nodes = [
        n("Transpose", ["input_1"], ["conv1/in"], perm=[0, 3, 1, 2], name="model/conv1/Conv2D__6"),
        n("Conv", ["conv1/in", "conv1/kernel", "conv1/bias"], ["conv1/out"],
          auto_pad="SAME_UPPER", kernel_shape=[3, 3], strides=[1, 1], name="model/conv1/Conv2D"),
        n("Transpose", ["conv1/out"], ["conv1/nhwc"], perm=[0, 2, 3, 1],
          name="model/conv1/Conv2D__8"),
        n("LeakyRelu", ["conv1/nhwc"], ["act1"], alpha=0.2, name="model/leaky_re_lu/LeakyRelu"),
        n("Transpose", ["act1"], ["pool/in"], perm=[0, 3, 1, 2], name="model/pool/MaxPool__10"),
        n("MaxPool", ["pool/in"], ["pool/out"], kernel_shape=[2, 2], strides=[2, 2],
          name="model/pool/MaxPool"),
        n("Conv", ["pool/out", "conv2/kernel", "conv2/bias"], ["conv2/out"],
          kernel_shape=[3, 3], pads=[0, 0, 0, 0], name="model/conv2/Conv2D"),
        n("Relu", ["conv2/out"], ["conv2/relu"], name="model/conv2/Relu"),
        n("Transpose", ["conv2/relu"], ["conv2/nhwc"], perm=[0, 2, 3, 1],
          name="model/conv2/Relu__14"),
        n("Reshape", ["conv2/nhwc", "flatten/shape"], ["flat"], name="model/flatten/Reshape"),
        n("MatMul", ["flat", "dense/kernel"], ["dense/mm"], name="model/dense/MatMul"),
        n("Add", ["dense/mm", "dense/bias"], ["logits"], name="model/dense/BiasAdd"),
        n("Softmax", ["logits"], ["dense"], axis=-1 if opset >= 13 else 1,
          name="model/dense/Softmax"),
    ]
    graph = helper.make_graph(
        nodes, "tf2onnx", [helper.make_tensor_value_info("input_1", TensorProto.FLOAT,
                                                         ["unk__20", 12, 12, 3])],
        [helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["unk__21", 5])], inits)
    model = helper.make_model(graph, producer_name="tf2onnx", producer_version="1.9.3",
                              opset_imports=[helper.make_opsetid("", opset),
                                             helper.make_opsetid("ai.onnx.ml", 2),
                                             helper.make_opsetid("com.microsoft", 1)])
    # The reference, in NCHW (the layout change is the model's business).
    h = conv_nchw(x.transpose(0, 3, 1, 2), w1, b1, pads=(1, 1, 1, 1))
    h = np.where(h < 0, 0.2 * h, h)
    h = maxpool2(h)
    h = np.maximum(conv_nchw(h, w2, b2), 0)
    logits = h.transpose(0, 2, 3, 1).reshape(batch, -1) @ wd + bd
    return model, [x], [softmax(logits).astype(np.float32)]


def constant(name, array):
    return helper.make_node("Constant", [], [name], name=name + "_const",
                            value=numpy_helper.from_array(array, name))


def spectrogram_head(opset=17):
    """A log-power spectrogram's top-dB clamp and a small classifier on it,
    every weight in a Constant node: power -> 10*log10(max(power, 1e-10)) ->
    Clip(min = ReduceMax - 80) -> Gemm(transB, alpha, beta, C [N]) ->
    Max(h, h2) -> Sum(h, h2, bias)."""
    frames, bins, hidden = 6, 16, 10
    power = np.abs(rand(1, frames, bins)) ** 2
    power[0, 0, :4] = 0.0  # silent bins: the clamp must act
    w = rand(hidden, bins, scale=0.05)
    c = rand(hidden, scale=0.1)
    w2 = rand(hidden, bins, scale=0.05)
    bias = rand(1, hidden, scale=0.1)
    n = helper.make_node
    reduce_max = (n("ReduceMax", ["db"], ["db_max"], keepdims=0, name="top_db/max")
                  if opset < 18 else
                  n("ReduceMax", ["db", "all_axes"], ["db_max"], keepdims=0, name="top_db/max"))
    nodes = [
        constant("floor", np.array(1e-10, np.float32)),
        constant("ten", np.array(10.0, np.float32)),
        constant("ln10", np.array(np.log(10.0), np.float32)),
        constant("top_db", np.array(80.0, np.float32)),
        constant("all_axes", np.array([0, 1, 2], np.int64)),
        constant("shape2d", np.array([frames, bins], np.int64)),
        constant("W", w), constant("C", c), constant("W2", w2), constant("bias", bias),
        n("Max", ["power", "floor"], ["clamped"], name="amplitude_to_db/max"),
        n("Log", ["clamped"], ["ln"], name="amplitude_to_db/log"),
        n("Div", ["ln", "ln10"], ["log10"], name="amplitude_to_db/log10"),
        n("Mul", ["log10", "ten"], ["db"], name="amplitude_to_db/mul"),
        reduce_max,
        n("Sub", ["db_max", "top_db"], ["db_min"], name="top_db/sub"),
        n("Clip", ["db", "db_min"], ["db_clip"], name="top_db/clip"),
        n("Reshape", ["db_clip", "shape2d"], ["frames"], name="frames/reshape"),
        n("Gemm", ["frames", "W", "C"], ["h"], alpha=0.5, beta=2.0, transB=1, name="fc/gemm"),
        n("Gemm", ["frames", "W2"], ["h2"], transB=1, name="fc2/gemm"),
        n("Max", ["h", "h2"], ["hmax"], name="merge/max"),
        n("Sum", ["hmax", "h2", "bias"], ["out"], name="merge/sum"),
    ]
    graph = helper.make_graph(
        nodes, "spectrogram", [helper.make_tensor_value_info("power", TensorProto.FLOAT,
                                                             [1, frames, bins])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [frames, hidden]),
         helper.make_tensor_value_info("db_clip", TensorProto.FLOAT, [1, frames, bins])])
    model = helper.make_model(graph, producer_name="spox",
                              opset_imports=[helper.make_opsetid("", opset),
                                             helper.make_opsetid("ai.onnx.ml", 3)])
    p = power.astype(np.float64)
    db = 10.0 * np.log10(np.maximum(p, 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    f = db.reshape(frames, bins)
    h = 0.5 * f @ w.T + 2.0 * c
    h2 = f @ w2.T
    out = np.maximum(h, h2) + h2 + bias
    return model, [power], [out.astype(np.float32), db.astype(np.float32)]


def paddle_opset9():
    """Conv -> BatchNormalization -> Clip(0, 6) -> Upsample(nearest, x2) ->
    GlobalAveragePool -> Squeeze(axes=[2, 3]) -> Gemm, as Paddle2ONNX
    writes a MobileNet-style block at opset 9."""
    x = rand(1, 3, 8, 8)
    w, b = rand(6, 3, 3, 3, scale=0.4), rand(6, scale=0.1)
    scale, shift = 1 + rand(6, scale=0.2), rand(6, scale=0.2)
    mean, var = rand(6, scale=0.3), 0.5 + np.abs(rand(6))
    wf, bf = rand(4, 6, scale=0.3), rand(4, scale=0.1)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w, "conv_w"), (b, "conv_b"), (scale, "bn_scale"), (shift, "bn_shift"),
              (mean, "bn_mean"), (var, "bn_var"), (wf, "fc_w"), (bf, "fc_b"),
              (np.array([1, 1, 2, 2], np.float32), "up_scales")]]
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "conv_w", "conv_b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
          name="conv2d_0"),
        n("BatchNormalization", ["c", "bn_scale", "bn_shift", "bn_mean", "bn_var"], ["bn"],
          epsilon=1e-5, momentum=0.9, name="batch_norm_0"),
        n("Clip", ["bn"], ["relu6"], min=0.0, max=6.0, name="relu6_0"),
        n("Upsample", ["relu6", "up_scales"], ["up"], mode="nearest", name="upsample_0"),
        n("GlobalAveragePool", ["up"], ["gap"], name="pool2d_0"),
        n("Squeeze", ["gap"], ["sq"], axes=[2, 3], name="squeeze_0"),
        n("Gemm", ["sq", "fc_w", "fc_b"], ["y"], transB=1, name="fc_0"),
    ]
    graph = helper.make_graph(
        nodes, "paddle", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    model = helper.make_model(graph, producer_name="PaddlePaddle",
                              opset_imports=[helper.make_opsetid("", 9)])
    c = conv_nchw(x, w, b, pads=(1, 1, 1, 1))
    r = lambda a: a.reshape(1, -1, 1, 1)
    bn = (c - r(mean)) / np.sqrt(r(var) + 1e-5) * r(scale) + r(shift)
    relu6 = np.clip(bn, 0, 6)
    up = relu6.repeat(2, axis=2).repeat(2, axis=3)
    gap = up.mean(axis=(2, 3))
    return model, [x], [(gap @ wf.T + bf).astype(np.float32)]


MODELS = {
    "tf2onnx-op13": lambda: tf2onnx_cnn(13, batch=1),
    "tf2onnx-op11": lambda: tf2onnx_cnn(11, batch=3),
    "spectrogram-constants-op17": lambda: spectrogram_head(17),
    "spectrogram-constants-op18": lambda: spectrogram_head(18),
    "paddle-op9": paddle_opset9,
}


def check(bin_dir, name, work):
    model, inputs, references = MODELS[name]()
    folder = os.path.join(work, name)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    files = []
    for kind, arrays in (("input", inputs), ("reference", references)):
        for k, array in enumerate(arrays):
            files.append(f"--{kind}=" + os.path.join(folder, f"{kind}_{k}.npy"))
            np.save(files[-1].split("=", 1)[1], array)
    stem = os.path.join(folder, "model")
    compiled = subprocess.run([os.path.join(bin_dir, "sinterc"), path, "-o", stem],
                              capture_output=True, text=True)
    if compiled.returncode != 0:
        print(f"FAIL {name}: sinterc exit {compiled.returncode}:\n{compiled.stderr.strip()}")
        return False
    ran = subprocess.run([os.path.join(bin_dir, "sinter-run"), stem + ".so", *files],
                         capture_output=True, text=True)
    print(f"{'PASS' if ran.returncode == 0 else 'FAIL'} {name}")
    if ran.returncode != 0 or "--verbose" in sys.argv:
        print("  " + (ran.stdout + ran.stderr).strip().replace("\n", "\n  "))
    return ran.returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--only", default="", help="comma-separated (default: all)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(MODELS)
    with tempfile.TemporaryDirectory() as work:
        results = [check(args.bin, name, work) for name in names]
    print(f"{sum(results)} of {len(results)} exporter-style models pass")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
