#!/usr/bin/env python3
"""The README's human tokenization table from a `strand sweep` of
configs/sweeps/tokenization-human.toml: per task and tokenizer, test accuracy and MCC as mean ± sd
over seeds (sample sd, n−1) for the pretrained model and the same model from scratch (the
`<name>-scratch` rows of the sweep), their difference, and the wall time of one fine-tuning cell
(median over seeds: from the run directory's `config.resolved.toml` to its `scores.json`, i.e.
training plus scoring the test split), and the mean training loss of the first and last 10 steps
(mean over seeds). Then the pretraining runs: steps, bases seen, loss of the
first and last 10 steps, wall time.

    python3 scripts/tokenization_summary.py runs/sweeps/tokenization-human
"""
import json
import pathlib
import statistics
import sys


def fmt(xs):
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{xs[0]:.3f}"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}"


def cells(root, tokenizer, task):
    """(accuracy, mcc, seconds) of every finished seed of one tokenizer on one task."""
    out = []
    for model in sorted((root / tokenizer).glob("*")):
        for seed in sorted((model / task).glob("seed-*")):
            scores = seed / "scores.json"
            if not scores.is_file():
                continue
            test = json.loads(scores.read_text())["splits"]["test"]
            start = (seed / "config.resolved.toml").stat().st_mtime
            steps = [json.loads(l) for l in (seed / "metrics.jsonl").read_text().splitlines()]
            losses = [m["loss"] for m in steps if "batch" in m and m.get("loss") is not None]
            out.append((test["accuracy"], test["mcc"], scores.stat().st_mtime - start,
                        statistics.mean(losses[:10]), statistics.mean(losses[-10:])))
    return out


def main(root):
    root = pathlib.Path(root)
    names = [p.name for p in root.iterdir() if p.is_dir() and p.name != "pretrain"]
    tokenizers = [n for n in names if not n.endswith("-scratch")]
    order = ["nucleotide", "kmer6", "kmer6s6", "bpe4096", "bpe8192"]
    tokenizers.sort(key=lambda n: order.index(n) if n in order else 99)
    tasks = sorted({t.name for n in names for m in (root / n).iterdir() for t in m.iterdir()})
    print("| task | tokenizer | seeds | accuracy, pretrained | accuracy, scratch | MCC, pretrained "
          "| MCC, scratch | Δ MCC | train loss, steps 1–10 → 51–60 (pre / scratch) "
          "| s / cell (pre / scratch) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for task in tasks:
        for t in tokenizers:
            pre, scr = cells(root, t, task), cells(root, f"{t}-scratch", task)
            if not pre and not scr:
                continue
            delta = "–"
            if pre and scr:
                delta = f"{statistics.mean(c[1] for c in pre) - statistics.mean(c[1] for c in scr):+.3f}"
            secs = " / ".join(
                f"{statistics.median(c[2] for c in cs):.0f}" if cs else "–" for cs in (pre, scr)
            )
            curve = " / ".join(
                f"{statistics.mean(c[3] for c in cs):.3f} → {statistics.mean(c[4] for c in cs):.3f}"
                if cs else "–" for cs in (pre, scr)
            )
            print(f"| {task.replace('_', '/', 1)} | {t} | {len(pre)}/{len(scr)} | "
                  f"{fmt([c[0] for c in pre])} | {fmt([c[0] for c in scr])} | "
                  f"{fmt([c[1] for c in pre])} | {fmt([c[1] for c in scr])} | {delta} | {curve} | "
                  f"{secs} |")
    print()
    print("| pretraining | tokenizer | steps | bases / example | bases seen | loss, steps 1–10 "
          "| loss, last 10 | wall, s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for t in order:
        s = root / "pretrain" / t / "summary.json"
        if not s.is_file():
            continue
        s = json.loads(s.read_text())
        tok = s["tokenizer"]
        tok = tok if isinstance(tok, str) else tok.get("kind", json.dumps(tok))
        print(f"| {t} | {tok} | {s['steps']} | {s['bases_per_example']:.0f} | "
              f"{s['bases_seen']:,.0f} | {s['loss_first_10_mean']:.3f} | "
              f"{s['loss_last_10_mean']:.3f} | {s['seconds']:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/sweeps/tokenization-human")
