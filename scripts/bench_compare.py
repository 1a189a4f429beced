#!/usr/bin/env python3
"""Runs `strand bench` and scripts/bench_torch.py alternately on the same shapes and prints a
Markdown table: samples/s of each (median over --rounds), their ratio, first-step time, peak
memory and, for T5, MFU.

    scripts/bench_compare.py --set cpu                      # GB CNN b64 + t5-tiny b8, CPU
    scripts/bench_compare.py --set gpu --device cuda --out results/   # the H100 shapes
    # two strand builds (e.g. before/after a change) alternating with PyTorch in one run
    scripts/bench_compare.py --set cpu --rounds 3 --strand old=/tmp/strand-old --strand new=target/release/strand

Alternating (strand, torch, strand, torch, ...) spreads background load over both sides; on a
shared machine the spread between rounds is reported next to the median.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (model, batch, seq_len, dec_len, precision, warmup, steps)
SETS = {
    "cpu": [
        ("cnn-gb", 64, 251, None, "f32", 3, 20),
        ("t5-tiny", 8, 512, 128, "f32", 1, 3),
    ],
    "cpu-cnn": [
        ("cnn-gb", 64, 251, None, "f32", 3, 20),
    ],
    "gpu": [
        ("cnn-gb", 64, 251, None, "f32", 20, 100),
        ("cnn-gb", 1024, 251, None, "f32", 10, 50),
        ("t5-small", 64, 512, 128, "f32", 3, 10),
        ("t5-small", 64, 512, 128, "bf16", 3, 10),
    ],
}


def run_one(cmd, log, timeout):
    """Runs one benchmark command; returns its JSON line (or None on failure)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired as e:
        log.write(f"$ {' '.join(cmd)}\nTIMEOUT after {timeout} s\n{e.stdout or ''}\n")
        log.flush()
        print(f"TIMEOUT ({timeout} s): {' '.join(cmd)}", file=sys.stderr)
        return None
    log.write(f"$ {' '.join(cmd)}\n{p.stdout}{p.stderr}\n")
    log.flush()
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        print(f"FAILED ({p.returncode}): {' '.join(cmd)}\n  " + "\n  ".join(tail),
              file=sys.stderr)
        return None
    for line in reversed(p.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def fmt_rate(xs):
    if not xs:
        return "failed"
    m = statistics.median(xs)
    f = ",.0f" if m >= 100 else ".2f"
    if len(xs) > 1:
        return f"{m:{f}} ({min(xs):{f}}–{max(xs):{f}})"
    return f"{m:{f}}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=sorted(SETS), default="cpu")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--strand", action="append",
                    help="strand binary, or LABEL=PATH; repeat to compare builds "
                         "(default: target/release/strand)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--only", help="comma-separated model names to keep")
    ap.add_argument("--out", type=Path, help="directory for results.jsonl and bench.log")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per benchmark command")
    a = ap.parse_args()
    builds = []
    for spec in a.strand or [str(HERE.parent / "target/release/strand")]:
        label, _, path = spec.rpartition("=") if "=" in spec else ("strand", "", spec)
        builds.append((label or "strand", path))

    shapes = SETS[a.set]
    if a.only:
        keep = set(a.only.split(","))
        shapes = [s for s in shapes if s[0] in keep]
    out = a.out or Path(".")
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "bench.log", "a")
    results = open(out / "results.jsonl", "a")

    rows = []
    for model, batch, seq, dec, prec, warmup, steps in shapes:
        common = ["--model", model, "--batch", str(batch), "--seq-len", str(seq),
                  "--device", a.device, "--precision", prec, "--warmup", str(warmup),
                  "--steps", str(steps), "--json"]
        if dec:
            common += ["--dec-len", str(dec)]
        runs = {label: [] for label, _ in builds}
        runs["pytorch"] = []
        for _ in range(a.rounds):
            cmds = [(label, [path, "bench", *common]) for label, path in builds]
            cmds.append(("pytorch", [a.python, str(HERE / "bench_torch.py"), *common]))
            for tool, cmd in cmds:
                r = run_one(cmd, log, a.timeout)
                if r is not None:
                    runs[tool].append(r)
                    results.write(json.dumps(r) + "\n")
                    results.flush()
                    print(f"{tool:8} {model} b{batch} {prec}: {r['samples_per_s']:.1f} "
                          f"samples/s, first step {r['first_step_s']:.1f} s", flush=True)
        rows.append(((model, batch, seq, dec, prec), runs))

    print()
    for label, _ in builds:
        print(f"strand = {label}:")
        print_table(rows, label)
        print()


def print_table(rows, label):
    print("| model | batch | tokens | precision | strand samples/s | PyTorch samples/s | ratio "
          "| strand first step (s) | PyTorch first step (s) | strand peak mem (MiB) "
          "| PyTorch peak mem (MiB) | strand MFU | PyTorch MFU |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (model, batch, seq, dec, prec), runs in rows:
        ours = runs[label]
        s = [r["samples_per_s"] for r in ours]
        t = [r["samples_per_s"] for r in runs["pytorch"]]
        ratio = f"{statistics.median(s) / statistics.median(t):.2f}×" if s and t else "n/a"

        def med(rs, key, scale=1.0, pct=False):
            xs = [r[key] for r in rs if r.get(key) is not None]
            if not xs:
                return "n/a"
            m = statistics.median(xs) * scale
            return f"{m * 100:.1f}%" if pct else f"{m:,.1f}"

        tokens = f"{seq}→{dec}" if dec else f"{seq} bp"
        print(f"| {model} | {batch} | {tokens} | {prec} | {fmt_rate(s)} | {fmt_rate(t)} | {ratio} "
              f"| {med(ours, 'first_step_s')} | {med(runs['pytorch'], 'first_step_s')} "
              f"| {med(ours, 'peak_mem_bytes', 1 / 2**20)} "
              f"| {med(runs['pytorch'], 'peak_mem_bytes', 1 / 2**20)} "
              f"| {med(ours, 'mfu', pct=True)} | {med(runs['pytorch'], 'mfu', pct=True)} |")

if __name__ == "__main__":
    main()
