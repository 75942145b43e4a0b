"""Control flow and recurrent layers the way other tools write them, against
references computed independently of sinter:

- a PyTorch model with a two-layer bidirectional LSTM and a GRU (batch
  first), exported by torch.onnx.export, against PyTorch's own outputs; its
  LLVM IR must call the packed GEMM kernel a bounded number of times (the
  time steps are a loop, not unrolled);
- a graph built with onnx.helper whose output comes from a nested If on
  conditions computed from the input, the branches reading values of the
  enclosing graphs, against numpy, with inputs that take each path;
- a Loop with a trip count known at import and a scan output, against
  numpy;
- LSTM, GRU and RNN nodes with every activation, clip, input_forget,
  peepholes, linear_before_reset, sequence_lens, initial states, reverse,
  bidirectional and layout 1, against the spec's equations in numpy (one
  batch entry and one time step at a time, float64).

Each model is compiled with sinterc and run with sinter-run (atol 1e-5,
rtol 1e-4).

Usage: control_flow_models.py --bin build/bin --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(11)


def torch_recurrent_model(path):
    """LSTM (2 layers, bidirectional) -> GRU -> Linear, batch first."""
    import torch

    torch.manual_seed(3)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(6, 8, num_layers=2, bidirectional=True,
                                      batch_first=True)
            self.gru = torch.nn.GRU(16, 5, batch_first=True)
            self.head = torch.nn.Linear(5, 3)

        def forward(self, x):
            y, _ = self.lstm(x)
            z, h = self.gru(y)
            return self.head(z), h

    net = Net().eval()
    x = torch.randn(2, 7, 6)
    with torch.no_grad():
        y, h = net(x)
        torch.onnx.export(net, (x,), path, input_names=["x"],
                          output_names=["y", "h"], opset_version=14)
    return [x.numpy()], [y.numpy(), h.numpy()]


def nested_if_model(path, x):
    """y = If(sum(x) > 0,
              If(max(x) > 2, x * w + s, x - w),
              -x * s)
    with s = sum(x) read by the branches from the outer graph."""
    w = np.array([0.5, -1.0, 2.0], np.float32)
    f = TensorProto.FLOAT
    out = lambda name: helper.make_tensor_value_info(name, f, [2, 3])
    inner_then = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], ["xw"]),
         helper.make_node("Add", ["xw", "s"], ["a"])], "inner_then", [], [out("a")])
    inner_else = helper.make_graph(
        [helper.make_node("Sub", ["x", "w"], ["b"])], "inner_else", [], [out("b")])
    outer_then = helper.make_graph(
        [helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0),
         helper.make_node("Greater", ["m", "two"], ["c2"]),
         helper.make_node("If", ["c2"], ["t"], then_branch=inner_then,
                          else_branch=inner_else)],
        "outer_then", [], [out("t")],
        [numpy_helper.from_array(np.array(2, np.float32), "two")])
    outer_else = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["nx"]),
         helper.make_node("Mul", ["nx", "s"], ["e"])], "outer_else", [], [out("e")])
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
         helper.make_node("Greater", ["s", "zero"], ["c1"]),
         helper.make_node("If", ["c1"], ["y"], then_branch=outer_then,
                          else_branch=outer_else)],
        "nested_if", [helper.make_tensor_value_info("x", f, [2, 3])], [out("y")],
        [numpy_helper.from_array(w, "w"),
         numpy_helper.from_array(np.array(0, np.float32), "zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    s = x.sum()
    if s > 0:
        y = x * w + s if x.max() > 2 else x - w
    else:
        y = -x * s
    return [x], [y.astype(np.float32)]


def loop_model(path):
    """Loop of 4 iterations: acc += x[i] * acc_scale; scan output acc."""
    f = TensorProto.FLOAT
    x = RNG.normal(size=(6, 3)).astype(np.float32)
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
         helper.make_node("Mul", ["acc_in", "half"], ["scaled"]),
         helper.make_node("Add", ["scaled", "row"], ["acc_out"]),
         helper.make_node("Identity", ["acc_out"], ["scan"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", f, [3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", f, [3]),
         helper.make_tensor_value_info("scan", f, [3])],
        [numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    graph = helper.make_graph(
        [helper.make_node("Loop", ["m", "", "acc0"], ["acc", "rows"], body=body)],
        "loop", [helper.make_tensor_value_info("x", f, [6, 3]),
                 helper.make_tensor_value_info("acc0", f, [3])],
        [helper.make_tensor_value_info("acc", f, [3]),
         helper.make_tensor_value_info("rows", f, [4, 3])],
        [numpy_helper.from_array(np.array(4, np.int64), "m")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    acc = RNG.normal(size=3).astype(np.float32)
    inputs = [x, acc.copy()]
    rows = []
    for i in range(4):
        acc = acc * np.float32(0.5) + x[i]
        rows.append(acc)
    return inputs, [acc, np.stack(rows)]


def activation(name, x, alpha, beta):
    """The ONNX recurrent activations, from their definitions."""
    if name == "Relu":
        return np.maximum(x, 0)
    if name == "Tanh":
        return np.tanh(x)
    if name == "Sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "Affine":
        return alpha * x + beta
    if name == "LeakyRelu":
        return np.where(x >= 0, x, alpha * x)
    if name == "ThresholdedRelu":
        return np.where(x > alpha, x, 0)
    if name == "ScaledTanh":
        return alpha * np.tanh(beta * x)
    if name == "HardSigmoid":
        return np.clip(alpha * x + beta, 0, 1)
    if name == "Elu":
        return np.where(x < 0, alpha * (np.exp(x) - 1), x)
    if name == "Softsign":
        return x / (1 + np.abs(x))
    assert name == "Softplus"
    return np.log(1 + np.exp(x))


def recurrent_reference(kind, x, w, r, b, lens, h0, c0, p, acts, clip,
                        input_forget, lbr, direction, layout):
    """One batch entry and one time step at a time, in float64: the ONNX
    operator's equations as the spec writes them."""
    if layout:
        x, h0, c0 = x.transpose(1, 0, 2), h0.transpose(1, 0, 2), c0.transpose(1, 0, 2)
    seq, batch, _ = x.shape
    dirs, hidden = w.shape[0], r.shape[2]
    per_dir = len(acts) // dirs
    y = np.zeros((seq, dirs, batch, hidden))
    yh, yc = np.zeros((dirs, batch, hidden)), np.zeros((dirs, batch, hidden))
    for d in range(dirs):
        f = [lambda v, a=a: activation(a[0], np.clip(v, -clip, clip) if clip else v,
                                       a[1], a[2]) for a in acts[d * per_dir:(d + 1) * per_dir]]
        gates = w.shape[1] // hidden
        wb, rb = b[d][:gates * hidden], b[d][gates * hidden:]
        split = lambda v: [v[k * hidden:(k + 1) * hidden] for k in range(gates)]
        for n in range(batch):
            h, c = h0[d, n].astype(np.float64), c0[d, n].astype(np.float64)
            steps = range(lens[n])
            if direction == "reverse" or d == 1:
                steps = reversed(steps)
            for t in steps:
                xw = split(w[d] @ x[t, n] + wb)
                if kind == "LSTM":
                    hr = split(r[d] @ h + rb)
                    pi, po, pf = (p[d][k * hidden:(k + 1) * hidden] for k in range(3))
                    i = f[0](xw[0] + hr[0] + pi * c)
                    fg = 1 - i if input_forget else f[0](xw[2] + hr[2] + pf * c)
                    c = fg * c + i * f[1](xw[3] + hr[3])
                    o = f[0](xw[1] + hr[1] + po * c)
                    h = o * f[2](c)
                elif kind == "GRU":
                    rmat = [r[d][k * hidden:(k + 1) * hidden] for k in range(3)]
                    rbs = split(rb)
                    z = f[0](xw[0] + rmat[0] @ h + rbs[0])
                    rg = f[0](xw[1] + rmat[1] @ h + rbs[1])
                    if lbr:
                        cand = f[1](xw[2] + rg * (rmat[2] @ h + rbs[2]))
                    else:
                        cand = f[1](xw[2] + rmat[2] @ (rg * h) + rbs[2])
                    h = (1 - z) * cand + z * h
                else:
                    h = f[0](xw[0] + r[d] @ h + rb)
                y[t, d, n] = h
            yh[d, n], yc[d, n] = h, c
    if layout:
        y, yh, yc = y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)
    return [a.astype(np.float32) for a in (y, yh, yc)]


def recurrent_model(path, kind, direction, acts, clip=0.0, input_forget=0,
                    lbr=0, layout=0, peepholes=False):
    """A recurrent node with every optional input, the weights as
    initializers (as exporters write them), X, sequence_lens and the
    initial states as graph inputs."""
    seq, batch, size, hidden = 5, 3, 4, 3
    dirs = 2 if direction == "bidirectional" else 1
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    f = TensorProto.FLOAT
    x = RNG.normal(size=(batch, seq, size) if layout else (seq, batch, size)).astype(np.float32)
    w = (RNG.normal(size=(dirs, gates * hidden, size)) * 0.5).astype(np.float32)
    r = (RNG.normal(size=(dirs, gates * hidden, hidden)) * 0.5).astype(np.float32)
    b = (RNG.normal(size=(dirs, 2 * gates * hidden)) * 0.3).astype(np.float32)
    p = (RNG.normal(size=(dirs, 3 * hidden)) * 0.3).astype(np.float32)
    lens = np.array([5, 2, 4], np.int32)
    state_shape = (batch, dirs, hidden) if layout else (dirs, batch, hidden)
    h0 = RNG.normal(size=state_shape).astype(np.float32)
    c0 = RNG.normal(size=state_shape).astype(np.float32)
    inputs = ["x", "w", "r", "b", "lens", "h0"]
    values = [x, lens, h0]
    graph_inputs = [helper.make_tensor_value_info("x", f, x.shape),
                    helper.make_tensor_value_info("lens", TensorProto.INT32, [batch]),
                    helper.make_tensor_value_info("h0", f, state_shape)]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w, "w"), (r, "r"), (b, "b"))]
    if kind == "LSTM":
        inputs += ["c0", "p" if peepholes else ""]
        values.append(c0)
        graph_inputs.append(helper.make_tensor_value_info("c0", f, state_shape))
        if peepholes:
            inits.append(numpy_helper.from_array(p, "p"))
    outputs = ["y", "yh"] + (["yc"] if kind == "LSTM" else [])
    alphas = [a[1] for a in acts if a[0] in ("Affine", "LeakyRelu", "ThresholdedRelu",
                                               "ScaledTanh", "HardSigmoid", "Elu")]
    betas = [a[2] for a in acts if a[0] in ("Affine", "ScaledTanh", "HardSigmoid")]
    attrs = dict(hidden_size=hidden, direction=direction, layout=layout,
                 activations=[a[0] for a in acts])
    if alphas:
        attrs["activation_alpha"] = alphas
    if betas:
        attrs["activation_beta"] = betas
    if clip:
        attrs["clip"] = clip
    if kind == "LSTM":
        attrs["input_forget"] = input_forget
    if kind == "GRU":
        attrs["linear_before_reset"] = lbr
    node = helper.make_node(kind, inputs, outputs, **attrs)
    y, yh, yc = recurrent_reference(
        kind, x, w, r, b, lens, h0, c0, p if peepholes else np.zeros_like(p), acts,
        clip, input_forget, lbr, direction, layout)
    refs = [y, yh] + ([yc] if kind == "LSTM" else [])
    graph = helper.make_graph([node], kind.lower(), graph_inputs,
                              [helper.make_tensor_value_info(n, f, a.shape)
                               for n, a in zip(outputs, refs)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return values, refs


RECURRENT_CASES = {
    "lstm-bidirectional-all": dict(
        kind="LSTM", direction="bidirectional", clip=2.5, input_forget=1,
        layout=1, peepholes=True,
        acts=[("HardSigmoid", 0.3, 0.4), ("Elu", 0.9, 0), ("Softsign", 0, 0),
              ("Sigmoid", 0, 0), ("ScaledTanh", 0.8, 1.2), ("Softplus", 0, 0)]),
    "lstm-reverse-peepholes": dict(
        kind="LSTM", direction="reverse", peepholes=True,
        acts=[("Sigmoid", 0, 0), ("Tanh", 0, 0), ("Tanh", 0, 0)]),
    "gru-reverse": dict(
        kind="GRU", direction="reverse",
        acts=[("Sigmoid", 0, 0), ("ThresholdedRelu", 0.2, 0)]),
    "gru-bidirectional-lbr": dict(
        kind="GRU", direction="bidirectional", lbr=1, layout=1, clip=1.5,
        acts=[("LeakyRelu", 0.1, 0), ("Tanh", 0, 0), ("Sigmoid", 0, 0),
              ("Affine", 0.7, 0.2)]),
    "rnn-bidirectional": dict(
        kind="RNN", direction="bidirectional",
        acts=[("Relu", 0, 0), ("Affine", 0.5, 0.1)]),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cases = [("torch-lstm-gru", torch_recurrent_model, True)]
    for k, x in enumerate([np.array([[1, 2, 3], [0.5, -1, 0]], np.float32),
                           np.array([[1, 0.5, 1], [0.5, -1, 0]], np.float32),
                           np.array([[-1, 2, -3], [0.5, -1, 0]], np.float32)]):
        cases.append((f"nested-if-{k}", lambda p, x=x: nested_if_model(p, x), False))
    cases.append(("loop", loop_model, False))
    for name, params in RECURRENT_CASES.items():
        cases.append((name, lambda p, params=params: recurrent_model(p, **params), False))
    failures = 0
    for name, build, gemm in cases:
        stem = os.path.join(args.work, name)
        inputs, outputs = build(stem + ".onnx")
        files = []
        for kind, arrays in (("input", inputs), ("reference", outputs)):
            for i, array in enumerate(arrays):
                files.append(f"--{kind}={stem}-{kind}{i}.npy")
                np.save(f"{stem}-{kind}{i}.npy", array)
        compiled = subprocess.run([os.path.join(args.bin, "sinterc"), stem + ".onnx",
                                   "-o", stem], capture_output=True, text=True)
        if compiled.returncode != 0:
            print(f"{name}: compile FAILED\n{compiled.stderr}")
            failures += 1
            continue
        if gemm:
            # 3 LSTM directions x 2 products + the GRU's 3 + the head: a
            # loop keeps the count independent of the sequence length.
            ir = subprocess.run([os.path.join(args.bin, "sinterc"), stem + ".onnx",
                                 "--emit=llvm", "-o", "-"], capture_output=True, text=True)
            calls = ir.stdout.count("call void @_mlir_ciface_sinter_matmul_f32(")
            ok = 0 < calls <= 16
            failures += not ok
            print(f"{name}: {calls} calls of the GEMM kernel {'ok' if ok else 'FAIL'}")
        for threads in (1, 2):
            run = subprocess.run([os.path.join(args.bin, "sinter-run"), stem + ".so",
                                  f"--num-threads={threads}", "--atol=1e-5",
                                  "--rtol=1e-4"] + files,
                                 capture_output=True, text=True)
            errors = [l.split(":", 1)[1].strip() for l in run.stdout.splitlines()
                      if "max abs error" in l]
            print(f"{name} {threads} thread(s): {'ok' if run.returncode == 0 else 'FAIL'} "
                  f"{'; '.join(errors) if errors else run.stderr.strip()}")
            failures += run.returncode != 0
    print("PASS" if failures == 0 else f"FAIL: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
