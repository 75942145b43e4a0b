#!/usr/bin/python3
"""Trains the project's own small language model, so that quantization is
measured on weights that mean something (random weights say little about
quantization error): a byte-level GPT-2-style model (2 layers, d 128,
4 heads, context 64, 0.47 M parameters) on the English text of Debian's
license files (/usr/share/common-licenses, in every Debian system), a few
minutes on 2 cores with Debian's python3-torch. The last tenth of the text
(by file) is held out for evaluation.

Writes test/models/byte-lm/: model.onnx (input_ids int64 [8, 64] ->
logits [8, 64, 256]), eval.npy (held-out windows of 64 bytes, uint8 [N, 65]:
the window and the byte after each position), and MODEL.json (the recipe
and the held-out bits per byte of the PyTorch model).

  /usr/bin/python3 test/models/make_byte_lm.py [--steps 1500]
"""
import argparse
import glob
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "byte-lm")
LAYERS, D, HEADS, CONTEXT, BATCH = 2, 128, 4, 64, 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.c_attn, self.c_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.c_fc, self.c_out = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.register_buffer("masked", ~torch.tril(torch.ones(CONTEXT, CONTEXT, dtype=torch.bool))
                             .view(1, 1, CONTEXT, CONTEXT), persistent=False)

    def forward(self, x):
        b, s, _ = x.shape
        h = self.ln_1(x)
        q, k, v = self.c_attn(h).split(D, dim=2)
        q, k, v = (t.view(b, s, HEADS, D // HEADS).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // HEADS))
        att = F.softmax(att.masked_fill(self.masked[:, :, :s, :s], float("-inf")), dim=-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(b, s, D))
        return x + self.c_out(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class ByteLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(256, D), nn.Embedding(CONTEXT, D)
        self.register_buffer("pos", torch.arange(CONTEXT).unsqueeze(0), persistent=False)
        self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, 256, bias=False)

    def forward(self, input_ids):
        x = self.wte(input_ids) + self.wpe(self.pos[:, :input_ids.shape[1]])
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def corpus():
    files = sorted(f for f in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(f))
    texts = [open(f, "rb").read() for f in files]
    held = max(1, len(texts) // 10)
    return b"".join(texts[:-held]), b"".join(texts[-held:]), [os.path.basename(f) for f in files]


def bits_per_byte(model, windows):
    with torch.no_grad():
        x = torch.from_numpy(windows[:, :CONTEXT].astype(np.int64))
        y = torch.from_numpy(windows[:, 1:].astype(np.int64))
        loss = F.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))
    return float(loss) / math.log(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    train, held, files = corpus()
    train_bytes = np.frombuffer(train, np.uint8)
    held_bytes = np.frombuffer(held, np.uint8)
    # Held-out windows, a multiple of the compiled batch.
    starts = np.arange(0, len(held_bytes) - CONTEXT - 1, CONTEXT)[:BATCH * 32]
    windows = np.stack([held_bytes[s:s + CONTEXT + 1] for s in starts])
    model = ByteLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    rng = np.random.default_rng(0)
    start = time.time()
    for step in range(args.steps):
        lr = 3e-3 * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        offsets = rng.integers(0, len(train_bytes) - CONTEXT - 1, size=16)
        batch = np.stack([train_bytes[o:o + CONTEXT + 1] for o in offsets]).astype(np.int64)
        x, y = torch.from_numpy(batch[:, :-1]), torch.from_numpy(batch[:, 1:])
        loss = F.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step} train {float(loss) / math.log(2):.3f} bits/byte "
                  f"({time.time() - start:.0f} s)", flush=True)
    model.eval()
    bpb = bits_per_byte(model, windows)
    print(f"held-out bits per byte: {bpb:.4f}")
    os.makedirs(OUT, exist_ok=True)
    example = torch.from_numpy(windows[:BATCH, :CONTEXT].astype(np.int64))
    torch.onnx.export(model, (example,), os.path.join(OUT, "model.onnx"), opset_version=17,
                      input_names=["input_ids"], output_names=["logits"],
                      do_constant_folding=True)
    np.save(os.path.join(OUT, "eval.npy"), windows)
    with open(os.path.join(OUT, "MODEL.json"), "w") as f:
        json.dump({"recipe": f"{LAYERS} layers, d {D}, {HEADS} heads, context {CONTEXT}, "
                             f"byte vocabulary; AdamW lr 3e-3 cosine, batch 16, {args.steps} steps, "
                             "seed 0",
                   "parameters": sum(p.numel() for p in model.parameters()),
                   "train_files": files[:-max(1, len(files) // 10)],
                   "held_out_files": files[-max(1, len(files) // 10):],
                   "eval_windows": int(len(windows)),
                   "torch_bits_per_byte": bpb,
                   "seconds": round(time.time() - start)}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
