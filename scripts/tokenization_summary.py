#!/usr/bin/env python3
"""The README's human tokenization table from `strand sweep` runs of
configs/sweeps/tokenization-human.toml: per task and tokenizer, test accuracy and MCC as mean ± sd
over seeds (sample sd, n−1) for the pretrained model and the same model from scratch (the
`<name>-scratch` rows of the sweep), their difference, and the wall time of one fine-tuning cell
(median over seeds: from the run directory's `config.resolved.toml` to its `scores.json`, i.e.
training plus scoring the test split), and the mean training loss of the first and last 10 steps
(mean over seeds). Then the pretraining runs: steps, bases seen, loss of the
first and last 10 steps, wall time.

Each input is a sweep output directory (runs/sweeps/…) or a record directory written by
`--record` (its cells.csv and pretraining.csv). Several inputs are merged: a sweep split over
several --out directories, or a new run beside the committed record of an earlier one. A cell
(task, tokenizer, seed) or pretraining run found twice keeps its first occurrence.

    python3 scripts/tokenization_summary.py runs/sweeps/tokenization-human
    # keep the per-seed numbers (no checkpoints) in the repository, then print from them
    python3 scripts/tokenization_summary.py runs/sweeps/tokenization-human --record results/tokenization-human
    python3 scripts/tokenization_summary.py results/tokenization-human
"""
import argparse
import csv
import datetime
import json
import pathlib
import statistics
import sys

CELL_FIELDS = ["task", "tokenizer", "seed", "accuracy", "mcc", "seconds", "loss_first_10",
               "loss_last_10", "date"]
PRETRAIN_FIELDS = ["tokenizer", "kind", "steps", "bases_per_example", "bases_seen",
                   "loss_first_10", "loss_last_10", "seconds", "date"]
ORDER = ["nucleotide", "kmer6", "kmer6s6", "bpe4096", "bpe8192"]


def fmt(xs):
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{xs[0]:.3f}"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}"


def day(path):
    return datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc).date()


def sweep_cells(root):
    """One row per finished fine-tuning cell of a sweep directory."""
    out = []
    for tok in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "pretrain"):
        for model in sorted(p for p in tok.iterdir() if p.is_dir()):
            for task in sorted(p for p in model.iterdir() if p.is_dir()):
                for seed in sorted(task.glob("seed-*")):
                    scores = seed / "scores.json"
                    if not scores.is_file():
                        continue
                    test = json.loads(scores.read_text())["splits"]["test"]
                    start = (seed / "config.resolved.toml").stat().st_mtime
                    lines = (seed / "metrics.jsonl").read_text().splitlines()
                    steps = [json.loads(l) for l in lines]
                    losses = [m["loss"] for m in steps
                              if "batch" in m and m.get("loss") is not None]
                    out.append({
                        "task": task.name, "tokenizer": tok.name,
                        "seed": int(seed.name.removeprefix("seed-")),
                        "accuracy": test["accuracy"], "mcc": test["mcc"],
                        "seconds": scores.stat().st_mtime - start,
                        "loss_first_10": statistics.mean(losses[:10]),
                        "loss_last_10": statistics.mean(losses[-10:]),
                        "date": day(scores),
                    })
    return out


def spec(tok):
    """A checkpoint's tokenizer (`TokenizerSpec`) as the command line writes it."""
    if isinstance(tok, str):
        return tok
    kind = tok.get("kind")
    if kind == "kmer":
        return f"kmer:{tok['k']}:{tok['stride']}"
    if kind in ("bpe", "hf"):
        return f"{kind} ({tok['vocab_size']:,} ids)"
    return kind or json.dumps(tok)


def sweep_pretraining(root):
    out = []
    for s in sorted((root / "pretrain").glob("*/summary.json")):
        j = json.loads(s.read_text())
        tok = j["tokenizer"]
        out.append({
            "tokenizer": s.parent.name,
            "kind": spec(tok),
            "steps": j["steps"], "bases_per_example": j["bases_per_example"],
            "bases_seen": j["bases_seen"], "loss_first_10": j["loss_first_10_mean"],
            "loss_last_10": j["loss_last_10_mean"], "seconds": j["seconds"], "date": day(s),
        })
    return out


def read_csv(path, numeric):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            for k in numeric:
                r[k] = float(r[k])
            rows.append(r)
    return rows


def load(path):
    """(cells, pretraining) of a sweep directory or a record directory."""
    p = pathlib.Path(path)
    if (p / "cells.csv").is_file():
        cells = read_csv(p / "cells.csv", ["seed", "accuracy", "mcc", "seconds",
                                           "loss_first_10", "loss_last_10"])
        for c in cells:
            c["seed"] = int(c["seed"])
        pre = []
        if (p / "pretraining.csv").is_file():
            pre = read_csv(p / "pretraining.csv", ["steps", "bases_per_example", "bases_seen",
                                                    "loss_first_10", "loss_last_10", "seconds"])
        return cells, pre
    if not p.is_dir():
        sys.exit(f"{p}: neither a sweep directory nor a record directory (cells.csv)")
    return sweep_cells(p), sweep_pretraining(p)


def merge(inputs):
    cells, pre, seen = [], [], set()
    for path in inputs:
        c, p = load(path)
        for row in c:
            key = ("cell", row["task"], row["tokenizer"], row["seed"])
            if key in seen:
                print(f"note: {path}: {key[1:]} already read from an earlier input, skipped",
                      file=sys.stderr)
                continue
            seen.add(key)
            cells.append(row)
        for row in p:
            key = ("pretrain", row["tokenizer"])
            if key not in seen:
                seen.add(key)
                pre.append(row)
    return cells, pre


def write_record(dest, cells, pre):
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name, fields, rows, key in [
        ("cells.csv", CELL_FIELDS, cells, lambda r: (r["task"], r["tokenizer"], r["seed"])),
        ("pretraining.csv", PRETRAIN_FIELDS, pre, lambda r: r["tokenizer"]),
    ]:
        with open(dest / name, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            for r in sorted(rows, key=key):
                w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k])
                            for k in fields})
    print(f"wrote {dest}/cells.csv ({len(cells)} cells) and pretraining.csv ({len(pre)} runs)",
          file=sys.stderr)


def table(cells, pre):
    names = {c["tokenizer"] for c in cells}
    tokenizers = sorted({n.removesuffix("-scratch") for n in names},
                        key=lambda n: (ORDER.index(n) if n in ORDER else 99, n))
    tasks = sorted({c["task"] for c in cells})
    print("| task | tokenizer | seeds | accuracy, pretrained | accuracy, scratch | MCC, pretrained "
          "| MCC, scratch | Δ MCC | train loss, steps 1–10 → 51–60 (pre / scratch) "
          "| s / cell (pre / scratch) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for task in tasks:
        for t in tokenizers:
            pre_c = [c for c in cells if c["task"] == task and c["tokenizer"] == t]
            scr_c = [c for c in cells if c["task"] == task and c["tokenizer"] == f"{t}-scratch"]
            if not pre_c and not scr_c:
                continue
            delta = "–"
            if pre_c and scr_c:
                d = (statistics.mean(c["mcc"] for c in pre_c)
                     - statistics.mean(c["mcc"] for c in scr_c))
                delta = f"{d:+.3f}"
            secs = " / ".join(
                f"{statistics.median(c['seconds'] for c in cs):.0f}" if cs else "–"
                for cs in (pre_c, scr_c))
            curve = " / ".join(
                f"{statistics.mean(c['loss_first_10'] for c in cs):.3f} → "
                f"{statistics.mean(c['loss_last_10'] for c in cs):.3f}" if cs else "–"
                for cs in (pre_c, scr_c))
            print(f"| {task.replace('_', '/', 1)} | {t} | {len(pre_c)}/{len(scr_c)} | "
                  f"{fmt([c['accuracy'] for c in pre_c])} | {fmt([c['accuracy'] for c in scr_c])} | "
                  f"{fmt([c['mcc'] for c in pre_c])} | {fmt([c['mcc'] for c in scr_c])} | "
                  f"{delta} | {curve} | {secs} |")
    print()
    print("| pretraining | tokenizer | steps | bases / example | bases seen | loss, steps 1–10 "
          "| loss, last 10 | wall, s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for s in sorted(pre, key=lambda r: ORDER.index(r["tokenizer"])
                    if r["tokenizer"] in ORDER else 99):
        print(f"| {s['tokenizer']} | {s['kind']} | {s['steps']:.0f} | "
              f"{s['bases_per_example']:.0f} | {s['bases_seen']:,.0f} | "
              f"{s['loss_first_10']:.3f} | {s['loss_last_10']:.3f} | {s['seconds']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="*", default=["runs/sweeps/tokenization-human"],
                    help="sweep output or record directories, merged in this order")
    ap.add_argument("--record", metavar="DIR",
                    help="write the merged per-seed cells and pretraining runs as CSV to DIR")
    a = ap.parse_args()
    cells, pre = merge(a.inputs)
    if a.record:
        write_record(a.record, cells, pre)
    table(cells, pre)


if __name__ == "__main__":
    main()
