#!/usr/bin/env python3
"""PyTorch reference for `strand bench`: the same models, shapes and measurement.

Models (sizes as in strand's presets):
  cnn-gb   the Genomic Benchmarks CNN (genomic_benchmarks.md §4.2) with one logit and
           BCE-with-logits (no double sigmoid): Embedding(109, 100) → 3 × [Conv1d(k 8) →
           BatchNorm → (ReLU on the first) → MaxPool(2)] with 16, 8, 4 channels → flatten →
           Linear(512) → Linear(1); Adam(lr 1e-3, eps 1e-8). Input: BOS + seq_len bases + EOS.
  t5-*     transformers' T5ForConditionalGeneration with the [t5] table of models/t5-*.toml
           (read from the file); AdamW(lr 1e-4). Decoder inputs = labels shifted right.

Timing, as in strand: --warmup steps (the first is the cold start, measured from the start of
the script's main()), then --steps steps back to back without host synchronisation inside the
loop; the clock stops after the last loss has been read and the device synchronised.

Precision: f32 runs everything in f32 (TF32 matrix products stay off, PyTorch's default for
matmul; cuDNN convolutions may use TF32, PyTorch's default). bf16 uses torch.autocast(bfloat16)
with f32 master weights and optimizer state (what a PyTorch user runs); --bf16-mode pure casts
the whole model to bf16 instead, like strand's bf16 backend.

Prints a human summary, then (with --json) one JSON object on the last line with the same
fields as `strand bench --json`.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
import tomllib
from pathlib import Path

T0 = time.perf_counter()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCAB_NUCLEOTIDE = 109  # strand's nucleotide tokenizer: 104 specials + A C G T N
FIRST_REGULAR, BOS, EOS = 104, 3, 1

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
T5_NAMES = ("t5-tiny", "t5-small", "t5-base")


def t5_preset(name):
    """The [t5] table of models/<name>.toml: the same shape strand builds."""
    with open(MODELS_DIR / f"{name}.toml", "rb") as f:
        preset = tomllib.load(f)
    if preset.get("kind") != "t5":
        sys.exit(f"models/{name}.toml is not a T5 preset")
    return preset["t5"]


class GbCnn(nn.Module):
    """genomic_benchmarks.models.torch.CNN with one output logit (no final sigmoid)."""

    def __init__(self, vocab, input_len, n_out=1, emb=100, channels=(16, 8, 4), k=8, pool=2,
                 hidden=512):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        layers, c_in, n = [], emb, input_len
        for i, c in enumerate(channels):
            layers += [nn.Conv1d(c_in, c, k), nn.BatchNorm1d(c)]
            if i == 0:
                layers.append(nn.ReLU())
            layers.append(nn.MaxPool1d(pool))
            c_in, n = c, (n - k + 1) // pool
        self.convs = nn.Sequential(*layers)
        self.hidden = nn.Linear(c_in * n, hidden)
        self.output = nn.Linear(hidden, n_out)

    def forward(self, x):
        x = self.embedding(x).transpose(1, 2)
        x = self.convs(x).flatten(1)
        return self.output(self.hidden(x))


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0].strip() or None
    except (OSError, subprocess.CalledProcessError, IndexError):
        return None


def known_peak_flops(name, precision):
    """Same table as strand's bench.rs (dense datasheet figures; f32 = TF32 tensor cores)."""
    n = name.upper()
    if "H200" in n:
        bf16, tf32 = 989.4e12, 494.7e12
    elif "H100" in n and "PCIE" in n:
        bf16, tf32 = 756.0e12, 378.0e12
    elif "H100" in n and "NVL" in n:
        bf16, tf32 = 835.0e12, 417.5e12
    elif "H100" in n:
        bf16, tf32 = 989.4e12, 494.7e12
    else:
        return None
    return bf16 if precision == "bf16" else tf32


def t5_train_flops(cfg, batch, s, t, vocab):
    """Same count as strand's bench.rs t5_train_flops."""
    d, inner, ff = cfg["d_model"], cfg["num_heads"] * cfg["d_kv"], cfg["d_ff"]
    ff_mats = 3.0 if cfg.get("feed_forward_proj", "gated-gelu") == "gated-gelu" else 2.0
    enc = 2.0 * (4 * s * d * inner + 2 * s * s * inner + ff_mats * s * d * ff)
    dec = 2.0 * (4 * t * d * inner + 2 * t * t * inner + 2 * t * d * inner + 2 * s * d * inner
                 + 2 * t * s * inner + ff_mats * t * d * ff)
    head = 2.0 * t * d * vocab
    fwd = cfg["num_layers"] * enc + cfg["num_decoder_layers"] * dec + head
    return 3.0 * fwd * batch


def peak_memory(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_reserved(device)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=["cnn-gb", *T5_NAMES])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=251)
    ap.add_argument("--dec-len", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--bf16-mode", default="autocast", choices=["autocast", "pure"])
    ap.add_argument("--vocab", type=int, default=4096, help="T5 vocabulary size")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--peak-flops", type=float)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if min(a.batch, a.steps, a.warmup) < 1:
        sys.exit("--batch, --steps and --warmup must be at least 1")

    torch.manual_seed(0)
    random.seed(0)
    device = torch.device(a.device)
    if device.type == "cpu":
        torch.set_num_threads(a.threads)
        if a.precision == "bf16":
            sys.exit("--precision bf16 is for CUDA (strand trains in f32 on the CPU)")
    bf16 = a.precision == "bf16"
    pure = bf16 and a.bf16_mode == "pure"
    g = torch.Generator().manual_seed(0)

    if a.model == "cnn-gb":
        input_len = a.seq_len + 2
        model = GbCnn(VOCAB_NUCLEOTIDE, input_len).to(device)
        tokens = torch.randint(FIRST_REGULAR, FIRST_REGULAR + 4, (a.batch, input_len), generator=g)
        tokens[:, 0], tokens[:, -1] = BOS, EOS
        tokens = tokens.to(device)
        labels = torch.randint(0, 2, (a.batch,), generator=g).float().to(device)
        if pure:
            model = model.to(torch.bfloat16)
            labels = labels.to(torch.bfloat16)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)

        def loss_fn():
            return F.binary_cross_entropy_with_logits(model(tokens).squeeze(1), labels)

        tokens_per_sample, dec_len, flops = input_len, None, None
    else:
        from transformers import T5Config, T5ForConditionalGeneration
        p = t5_preset(a.model)
        cfg = T5Config(vocab_size=a.vocab, pad_token_id=0, eos_token_id=1, **p)
        # transformers 5 forces tie_word_embeddings = True in T5Config.__post_init__ (see
        # scripts/t5_reference.py): set the preset's choice back, then re-share the stacks'
        # input embeddings with `shared`, as T5 does.
        tied = bool(p.get("tie_word_embeddings", False))
        cfg.tie_word_embeddings = tied
        cfg.decoder_start_token_id = 0
        model = T5ForConditionalGeneration(cfg)
        model.set_input_embeddings(model.shared)
        assert (model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()) == tied
        model = model.to(device)
        if pure:
            model = model.to(torch.bfloat16)
        lo = min(FIRST_REGULAR, a.vocab - 1)
        ids = torch.randint(lo, a.vocab, (a.batch, a.seq_len), generator=g).to(device)
        mask = torch.ones_like(ids)
        tgt = torch.randint(lo, a.vocab, (a.batch, a.dec_len), generator=g).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def loss_fn():
            return model(input_ids=ids, attention_mask=mask, labels=tgt).loss

        tokens_per_sample, dec_len = a.seq_len + a.dec_len, a.dec_len
        flops = t5_train_flops(p, a.batch, a.seq_len, a.dec_len, a.vocab)
    model.train()
    params = sum(t.numel() for t in model.parameters()) + sum(
        t.numel() for t in model.buffers() if t.is_floating_point())

    use_autocast = bf16 and not pure

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_autocast):
            loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    loss = step()
    first_loss = loss.item()
    sync()
    first_step_s = time.perf_counter() - T0
    if not torch.isfinite(torch.tensor(first_loss)):
        sys.exit(f"the first step produced a non-finite loss ({first_loss})")
    for _ in range(a.warmup - 1):
        step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    final_loss = loss.item()
    sync()
    step_s = (time.perf_counter() - start) / a.steps
    if not torch.isfinite(torch.tensor(final_loss)):
        sys.exit(f"the last step produced a non-finite loss ({final_loss})")

    name = gpu_name() if device.type == "cuda" else None
    peak, source = None, None
    if a.peak_flops:
        peak, source = a.peak_flops, "--peak-flops"
    elif name and known_peak_flops(name, a.precision):
        peak, source = known_peak_flops(name, a.precision), f"datasheet, dense, {name}"
    mfu = flops / step_s / peak if (flops and peak) else None
    r = dict(
        tool="pytorch", torch=torch.__version__, model=a.model, device=a.device,
        device_name=name or ("cpu" if device.type == "cpu" else "unknown GPU"),
        precision=a.precision + ("-pure" if pure else ("-autocast" if bf16 else "")),
        batch=a.batch, seq_len=a.seq_len, dec_len=dec_len, params=params, warmup=a.warmup,
        steps=a.steps, step_ms=step_s * 1e3, samples_per_s=a.batch / step_s,
        tokens_per_s=a.batch * tokens_per_sample / step_s, first_step_s=first_step_s,
        peak_mem_bytes=peak_memory(device), flops_per_step=flops, peak_flops=peak,
        peak_flops_source=source, mfu=mfu, final_loss=final_loss,
        threads=torch.get_num_threads() if device.type == "cpu" else None,
        attn_implementation=getattr(getattr(model, "config", None), "_attn_implementation", None),
    )
    dec = f" → {dec_len}" if dec_len else ""
    print(f"{a.model} on {a.device} ({r['device_name']}), {r['precision']}, batch {a.batch} × "
          f"{a.seq_len}{dec} tokens, {params} params (PyTorch {torch.__version__})")
    print(f"  {r['step_ms']:.2f} ms/step over {a.steps} steps after {a.warmup} warm-up: "
          f"{r['samples_per_s']:.1f} samples/s, {r['tokens_per_s']:.0f} tokens/s")
    mem = f"{r['peak_mem_bytes'] / 2**20:.1f} MiB" if r["peak_mem_bytes"] else "n/a"
    print(f"  first step done {first_step_s:.2f} s after start; peak memory {mem}; "
          f"final loss {final_loss:.4f}")
    if flops:
        extra = f": MFU {mfu * 100:.1f}% of {peak / 1e12:.1f} TFLOP/s ({source})" if mfu else ""
        print(f"  {flops / 1e12:.2f} TFLOP/step, {flops / step_s / 1e12:.2f} TFLOP/s{extra}")
    if a.json:
        print(json.dumps(r))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
