#!/usr/bin/python3
"""Build test/models/gpt-dynamic: a tiny causal GPT whose sequence length is symbolic.

Every other model in test/models/ was exported with static shapes, so the
compiler only ever sees one input length per model. This one is exported with
`dynamic_axes`, so its input is `input_ids: int64[1, sequence]` and its output
`logits: float32[1, sequence, 64]`. Its position ids come from
`torch.arange(seq)` and its causal mask from `torch.triu(ones(seq, seq))`, both
with `seq` read from the input's shape at run time, so the exported graph
carries the shape arithmetic (Shape, Gather, Range, ConstantOfShape, Trilu,
...) that real dynamic-length exports carry.

It exists to test that a model with a symbolic sequence length imports with a
`?` dimension, compiles ONCE, and that the one compiled artifact runs correctly
at several lengths: the reference data holds three of them, 5, 17 and the
maximum 32 (the size of the position table), in the ONNX backend-test layout:

    gpt-dynamic/model.onnx
    gpt-dynamic/test_data_set_0/{input_0.pb,output_0.pb}   L = 5
    gpt-dynamic/test_data_set_1/{input_0.pb,output_0.pb}   L = 17
    gpt-dynamic/test_data_set_2/{input_0.pb,output_0.pb}   L = 32

Inputs are int64 [1, L] token ids in [0, 64); outputs are the float32 logits
that PyTorch computes in eager mode. Everything is seeded, so rerunning this
script rewrites the same model and data (same torch build assumed).

Configuration: vocab 64, d_model 32, 2 pre-LayerNorm blocks, 4 heads of 8,
GELU MLP with d_ff 64, final LayerNorm, untied LM head without bias. The
weights stay inline in model.onnx (no external data); the file is about 100 KB.

Run with the Debian Python, which has torch (python3-torch), onnx and numpy;
scripts/setup.sh installs python3-onnx and python3-numpy but not torch, which
only regenerating this model needs (`apt-get install --no-install-recommends
python3-torch`, 1.13.1 on Debian 12):

    /usr/bin/python3 test/models/make_dynamic_gpt.py

It uses the TorchScript (legacy) exporter, opset 17. With a torch that has the
dynamo exporter, `dynamo=False` is passed so the legacy one is still used.
"""

import inspect
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

VOCAB = 64
D_MODEL = 32
N_HEAD = 4
HEAD_DIM = D_MODEL // N_HEAD
D_FF = 64
N_LAYER = 2
MAX_SEQ = 32
EPS = 1e-5
OPSET = 17

WEIGHTS_SEED = 20240611
LENGTHS = (5, 17, 32)
INPUT_SEEDS = (1001, 1017, 1032)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "gpt-dynamic")


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)

    def forward(self, x):
        seq = x.shape[1]
        q, k, v = self.qkv(x).split(D_MODEL, dim=2)
        # [1, seq, C] -> [1, H, seq, hd]; -1 keeps the target shapes constant.
        q = q.reshape(1, -1, N_HEAD, HEAD_DIM).transpose(1, 2)
        k = k.reshape(1, -1, N_HEAD, HEAD_DIM).transpose(1, 2)
        v = v.reshape(1, -1, N_HEAD, HEAD_DIM).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(HEAD_DIM))
        # Causal mask from the runtime length: True above the diagonal.
        mask = torch.triu(torch.ones(seq, seq, dtype=torch.bool), diagonal=1)
        att = att.masked_fill(mask, float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v)  # [1, H, seq, hd]
        y = y.transpose(1, 2).reshape(1, -1, D_MODEL)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL, eps=EPS)
        self.attn = CausalSelfAttention()
        self.ln2 = nn.LayerNorm(D_MODEL, eps=EPS)
        self.fc = nn.Linear(D_MODEL, D_FF)
        self.act = nn.GELU()
        self.fc_out = nn.Linear(D_FF, D_MODEL)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.fc_out(self.act(self.fc(self.ln2(x))))
        return x


class DynamicGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, D_MODEL)
        self.pos_emb = nn.Embedding(MAX_SEQ, D_MODEL)
        self.blocks = nn.ModuleList([Block() for _ in range(N_LAYER)])
        self.ln_f = nn.LayerNorm(D_MODEL, eps=EPS)
        self.head = nn.Linear(D_MODEL, VOCAB, bias=False)

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, dtype=torch.long)
        x = self.tok_emb(input_ids) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def init_weights(model):
    """Seeded, small, and not the identity: every parameter matters."""
    g = torch.Generator().manual_seed(WEIGHTS_SEED)
    residual_scale = 1.0 / math.sqrt(2 * N_LAYER)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("emb.weight"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            elif ".ln" in name or name.startswith("ln_f"):
                if name.endswith("weight"):
                    p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.05)
                else:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            elif name.endswith("weight"):  # Linear [out, in]
                std = 1.0 / math.sqrt(p.shape[1])
                if name.endswith("proj.weight") or name.endswith("fc_out.weight"):
                    std *= residual_scale
                p.copy_(torch.randn(p.shape, generator=g) * std)
            else:  # Linear bias
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def write_tensor(array, path):
    tensor = numpy_helper.from_array(array)
    with open(path, "wb") as f:
        f.write(tensor.SerializeToString())


def main():
    torch.manual_seed(WEIGHTS_SEED)
    model = DynamicGPT()
    init_weights(model)
    model.eval()

    os.makedirs(OUT_DIR, exist_ok=True)
    model_path = os.path.join(OUT_DIR, "model.onnx")

    export_kwargs = dict(
        input_names=["input_ids"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {1: "sequence"}, "logits": {1: "sequence"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        export_kwargs["dynamo"] = False
    # Trace at a length that is none of the test lengths (and not 1, which the
    # tracer could specialise), so nothing is baked in by accident.
    example = torch.randint(0, VOCAB, (1, 11),
                            generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        torch.onnx.export(model, (example,), model_path, **export_kwargs)

    onnx_model = onnx.load(model_path)
    onnx.checker.check_model(onnx_model)
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL
                   for t in onnx_model.graph.initializer), "external data"
    in_dims = [d.dim_param or d.dim_value
               for d in onnx_model.graph.input[0].type.tensor_type.shape.dim]
    print(f"wrote {model_path} ({os.path.getsize(model_path)} bytes; "
          f"torch {torch.__version__}, opset {OPSET}, input_ids {in_dims}, "
          f"{len(onnx_model.graph.node)} nodes)")

    for k, (length, seed) in enumerate(zip(LENGTHS, INPUT_SEEDS)):
        ids = torch.randint(0, VOCAB, (1, length), dtype=torch.long,
                            generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            logits = model(ids)
        assert logits.shape == (1, length, VOCAB)
        assert torch.isfinite(logits).all()
        data_dir = os.path.join(OUT_DIR, f"test_data_set_{k}")
        os.makedirs(data_dir, exist_ok=True)
        write_tensor(ids.numpy().astype(np.int64),
                     os.path.join(data_dir, "input_0.pb"))
        write_tensor(logits.numpy().astype(np.float32),
                     os.path.join(data_dir, "output_0.pb"))
        print(f"wrote {data_dir}/input_0.pb, output_0.pb (L = {length}, "
              f"logits abs max {logits.abs().max().item():.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
