#!/usr/bin/python3
"""Vision models for bench/models/run.py --vision: ResNet-50 and MobileNetV2
from Debian's python3-torchvision, and a small U-Net (ConvTranspose and a
bilinear Resize in its decoder), with seeded random weights, exported by
torch.onnx.export at opset 11 and opset 17, at batch 1 and batch 8.

Random weights are fine for speed, but a freshly built network's batch
norms are identities (mean 0, variance 1, scale 1, shift 0), which would
hide whether BatchNormalization is folded or computed: each one gets seeded
statistics and affine parameters.

Each model goes in the ONNX backend-test layout (model.onnx and
test_data_set_0/{input,output}_0.pb, the outputs computed by PyTorch in
float32), under OUT/NAME with NAME = ARCH-opOPSET-bBATCH, e.g.
resnet50-op17-b8. The interface (CONFIGS, build_model) is make_models.py's,
so bench/models/torch_run.py rebuilds the same module as the PyTorch peer.

  make_vision_models.py --out bench/.models [--only resnet50-op17-b1,...]
"""
import argparse
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

SEED = 20261207
ARCHS = {"resnet50": 224, "mobilenetv2": 224, "unet": 128}
CONFIGS = {f"{arch}-op{opset}-b{batch}": dict(arch=arch, opset=opset, batch=batch,
                                              size=size)
           for arch, size in ARCHS.items() for opset in (11, 17) for batch in (1, 8)}


class UNet(nn.Module):
    """Two levels down (conv, conv, max pool), two up: one by a strided
    ConvTranspose, one by a bilinear resize (exported as Resize), with the
    skip connections concatenated, as segmentation models are built."""

    def __init__(self, channels=(32, 64, 128), classes=4):
        super().__init__()
        c1, c2, c3 = channels

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                                 nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1),
                                 nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.down1, self.down2, self.bottom = block(3, c1), block(c1, c2), block(c2, c3)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.dec2 = block(2 * c2, c2)
        self.reduce1 = nn.Conv2d(c2, c1, 1)
        self.dec1 = block(2 * c1, c1)
        self.head = nn.Conv2d(c1, classes, 1)

    def forward(self, x):
        s1 = self.down1(x)
        s2 = self.down2(F.max_pool2d(s1, 2))
        bottom = self.bottom(F.max_pool2d(s2, 2))
        d2 = self.dec2(torch.cat([self.up2(bottom), s2], dim=1))
        up1 = F.interpolate(self.reduce1(d2), scale_factor=2.0, mode="bilinear",
                            align_corners=False)
        return self.head(self.dec1(torch.cat([up1, s1], dim=1)))


def build_model(config):
    import torchvision

    torch.manual_seed(SEED)
    arch = config["arch"]
    if arch == "resnet50":
        model = torchvision.models.resnet50(weights=None)
    elif arch == "mobilenetv2":
        model = torchvision.models.mobilenet_v2(weights=None)
    else:
        model = UNet()
    generator = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(n, generator=generator))
                module.weight.copy_(0.8 + 0.4 * torch.rand(n, generator=generator))
                module.bias.copy_(0.1 * torch.randn(n, generator=generator))
    return model.eval()


def write_model(name, config, out):
    folder = os.path.join(out, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    model = build_model(config)
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((config["batch"], 3, config["size"], config["size"]),
                            dtype=np.float32)
    with torch.inference_mode():
        y = model(torch.from_numpy(x)).numpy()
    torch.onnx.export(model, torch.from_numpy(x), os.path.join(folder, "model.onnx"),
                      input_names=["image"], output_names=["output"],
                      opset_version=config["opset"], do_constant_folding=True)
    for stem, array in (("input_0", x), ("output_0", y)):
        tensor = numpy_helper.from_array(array, "image" if stem == "input_0" else "output")
        onnx.save_tensor(tensor, os.path.join(data, stem + ".pb"))
    print(f"wrote {folder}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CONFIGS)
    for name in names:
        if name not in CONFIGS:
            raise SystemExit(f"unknown model {name}; known: {', '.join(CONFIGS)}")
        write_model(name, CONFIGS[name], args.out)


if __name__ == "__main__":
    main()
