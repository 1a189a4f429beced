#!/usr/bin/env python3
"""Builds every `kind = "layers"` preset of models/*.toml in PyTorch (torch.nn, layer by layer,
independently of strand's Rust code) and records its trainable parameter count and output shape
for a few input lengths and class counts: crates/runner/tests/fixtures/model_params.json, which
`config::model_show` tests compare with strand's counts.

Input layout as strand's CNNs: BOS + bases + EOS (length + 2 tokens) over the nucleotide
tokenizer's 109 ids; a learned embedding has 109 rows, one-hot input has 4 channels. Each
layer's input width is found by running the stack so far on zeros, as PyTorch users size theirs.

    .venv/bin/python scripts/model_params.py
"""
import json
import pathlib
import tomllib

import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
VOCAB = 109


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class ChannelNorm(nn.Module):
    """LayerNorm over the channels of [batch, channels, length] (or over flat features)."""

    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return self.norm(x.transpose(1, 2)).transpose(1, 2) if x.dim() == 3 else self.norm(x)


class Exp(nn.Module):
    def forward(self, x):
        return torch.exp(x)


ACT = {"relu": nn.ReLU, "gelu": nn.GELU, "softplus": nn.Softplus, "sigmoid": nn.Sigmoid,
       "tanh": nn.Tanh, "exp": Exp}


def width_after(mods, x):
    net = nn.Sequential(*mods).eval()
    with torch.no_grad():
        return net(x).shape[1]


def build(layers, x, n_out):
    """The torch.nn modules of `layers` for inputs shaped like the zeros `x`."""
    mods = []
    for spec in layers:
        t = spec["type"]
        w = width_after(mods, x)
        if t == "conv1d":
            m = nn.Conv1d(w, spec["filters"], spec["kernel"], stride=spec.get("stride", 1),
                          dilation=spec.get("dilation", 1), padding=spec.get("padding", "valid"),
                          bias=spec.get("bias", True))
        elif t == "batch_norm":
            m = nn.BatchNorm1d(w)
        elif t == "layer_norm":
            m = ChannelNorm(w)
        elif t == "activation":
            m = ACT[spec["function"]]()
        elif t == "max_pool":
            m = nn.MaxPool1d(spec["size"], spec.get("stride", spec["size"]))
        elif t == "avg_pool":
            m = nn.AvgPool1d(spec["size"], spec.get("stride", spec["size"]))
        elif t == "dropout":
            m = nn.Dropout(spec["rate"])
        elif t == "residual":
            with torch.no_grad():
                inner_x = nn.Sequential(*mods).eval()(x)
            m = Residual(build(spec["layers"], inner_x, n_out))
        elif t == "global_max_pool":
            m = nn.Sequential(nn.AdaptiveMaxPool1d(1), nn.Flatten())
        elif t == "global_avg_pool":
            m = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten())
        elif t == "flatten":
            m = nn.Flatten()
        elif t == "dense":
            m = nn.Linear(w, spec["units"], bias=spec.get("bias", True))
        elif t == "output":
            m = nn.Linear(w, n_out)
        else:
            raise ValueError(f"unknown layer type {t}")
        mods.append(m)
    return nn.Sequential(*mods)


def main():
    cases = []
    for path in sorted((ROOT / "models").glob("*.toml")):
        preset = tomllib.loads(path.read_text())
        if preset.get("kind") != "layers":
            continue
        inp = preset["input"]
        channels = inp["dim"] if inp["type"] == "embedding" else 4
        for bases, classes in [(81, 2), (251, 2), (251, 3), (802, 3)]:
            n_out = 1 if classes == 2 else classes
            x = torch.zeros(2, channels, bases + 2)
            net = build(preset["layers"], x, n_out).eval()
            params = sum(p.numel() for p in net.parameters() if p.requires_grad)
            if inp["type"] == "embedding":
                params += VOCAB * inp["dim"]
            with torch.no_grad():
                shape = list(net(x).shape)
            cases.append({"preset": preset["name"], "bases": bases, "classes": classes,
                          "params": params, "output_shape": shape})
            print(f'{preset["name"]:16} {bases:4} bp {classes} classes: {params:>10,} params')
    out = ROOT / "crates/runner/tests/fixtures/model_params.json"
    out.write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
