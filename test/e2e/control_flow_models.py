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
  numpy.

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
