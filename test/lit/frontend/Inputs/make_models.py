#!/usr/bin/python3
"""Writes the binary ONNX files that test/lit/frontend/*.test import: a few
valid models (external data, initializers listed as inputs) and handcrafted
broken ones (truncated, corrupt, sizes that disagree with the data, absurd
shapes, external data that escapes the model's folder).

Run it again to regenerate them; the output is deterministic.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def linear_model(weight, name="linear", inputs_include_weight=False, n=4):
    """y = x @ w: the smallest model that reads an initializer."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, n])
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")
    inputs = [x]
    if inputs_include_weight:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 4]))
    graph = helper.make_graph([node], name, inputs, [y], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def weight_tensor(values=None):
    values = np.arange(16, dtype=np.float32).reshape(4, 4) if values is None else values
    return numpy_helper.from_array(values, "w")


def save(model, name):
    with open(path(name), "wb") as f:
        f.write(model.SerializeToString())


def external(model_name, data_name, location, data, length=None, n=4):
    w = weight_tensor(np.zeros((4, n), dtype=np.float32))
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    entries = {"location": location, "offset": "0"}
    if length is not None:
        entries["length"] = str(length)
    for key, value in entries.items():
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    save(linear_model(w, n=n), model_name)
    if data is not None:
        with open(path(data_name), "wb") as f:
            f.write(data)


good = linear_model(weight_tensor())
save(good, "linear.onnx")
# IR < 4 style: the initializer is also listed as a graph input.
save(linear_model(weight_tensor(), inputs_include_weight=True), "initializer-as-input.onnx")

# Weights in an external file next to the model, as exporters write >2 GB models.
external("external.onnx", "external.bin", "external.bin",
         np.arange(16, dtype=np.float32).tobytes(), length=64)
# Large enough (4x64) to become a dense resource that points into the file.
external("external-large.onnx", "external-large.bin", "external-large.bin",
         np.arange(256, dtype=np.float32).tobytes(), n=64)
external("external-missing.onnx", None, "no-such-file.bin", None)
external("external-escape.onnx", None, "../../../../../../etc/hostname", None)
# A symbolic link inside the folder that points out of it.
external("external-symlink.onnx", None, "escape-link.bin", None)
if not os.path.islink(path("escape-link.bin")):
    os.symlink("/", path("escape-link.bin"))
external("external-short.onnx", "external-short.bin", "external-short.bin",
         np.arange(8, dtype=np.float32).tobytes())
# 2 GiB of weights (4 x 2^27 floats) in an external file that the test
# makes sparse (truncate -s 2G): more than the process may use under the
# test's address-space limit.
external("huge-weights.onnx", None, "huge-weights.bin", None, n=2**27)

# Broken files.
open(path("empty.onnx"), "wb").close()
data = good.SerializeToString()
with open(path("truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(path("not-onnx.onnx"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)

# Sizes that disagree with the data.
w = weight_tensor()
w.raw_data = w.raw_data[:12]
save(linear_model(w), "raw-size-mismatch.onnx")
w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 4],
                float_data=[1.0, 2.0, 3.0])
save(linear_model(w), "typed-size-mismatch.onnx")
w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**31, 2**31],
                raw_data=b"\0" * 16)
save(linear_model(w), "absurd-initializer.onnx")
absurd = linear_model(weight_tensor())
absurd.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2**62
save(absurd, "absurd-input.onnx")
w = helper.make_tensor("w", TensorProto.STRING, [1], [b"weights"])
save(linear_model(w), "string-initializer.onnx")

# Nodes that the fuzz targets (test/fuzz/) found crashing the importer.
def node_model(node, inputs, outputs, opset):
    graph = helper.make_graph([node], "g", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def floats(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


save(node_model(helper.make_node("Min", ["x", ""], ["y"]), [floats("x", [2])],
                [floats("y", [2])], 17), "min-empty-input.onnx")
save(node_model(helper.make_node("GroupNormalization", ["", "s", "b"], ["y"],
                                 num_groups=2),
                [floats("s", [2]), floats("b", [2])], [floats("y", [2, 4, 3])], 18),
     "group-norm-no-input.onnx")
body = helper.make_graph([helper.make_node("Identity", ["a"], ["o"])], "body",
                         [floats("a", [2])], [floats("o", [2])])
save(node_model(helper.make_node("Scan", ["x", "x"], ["y"], body=body,
                                 num_scan_inputs=-2**63),
                [floats("x", [2])], [floats("y", [2])], 17), "scan-int64-min.onnx")
print("wrote the models in", HERE)
