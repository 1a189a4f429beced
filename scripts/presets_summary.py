#!/usr/bin/env python3
"""The README's model-preset table from the runs of scripts/presets_table.sh: per task and
preset, test MCC and accuracy as mean ± sd over seeds (sample sd, n−1), and the wall time of one
training epoch (the median over seeds of each run's median `seconds` of its epoch lines in
metrics.jsonl).

Each input is an output directory of presets_table.sh (runs/presets) or a record directory
written by `--record` (its cells.csv: one row per finished run, no checkpoints). Several inputs
are merged, a (task, preset, seed) found twice keeping its first occurrence: the table can be
completed over several sessions, each committing its runs to the record.

    python3 scripts/presets_summary.py runs/presets
    python3 scripts/presets_summary.py runs/presets docs/results/presets --record docs/results/presets
"""
import argparse
import csv
import datetime
import json
import pathlib
import statistics
import sys

ORDER = ["cnn-gb", "cnnprom", "basset-style", "dilated-resnet"]
FIELDS = ["task", "preset", "seed", "mcc", "accuracy", "epochs", "epoch_seconds_median", "date"]


def fmt(xs):
    if len(xs) == 1:
        return f"{xs[0]:.3f}"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}"


def run_rows(root):
    """One row per finished run under a presets_table.sh output directory."""
    out = []
    for task_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for preset in sorted(p for p in task_dir.iterdir() if p.is_dir()):
            for seed in sorted(preset.glob("seed-*")):
                scores = seed / "scores.json"
                if not scores.is_file():
                    continue
                s = json.loads(scores.read_text())
                secs = []
                for line in (seed / "metrics.jsonl").read_text().splitlines():
                    rec = json.loads(line)
                    if "seconds" in rec and "batch" not in rec:
                        secs.append(rec["seconds"])
                out.append({
                    "task": s["task"], "preset": preset.name,
                    "seed": int(seed.name.removeprefix("seed-")),
                    "mcc": s["splits"]["test"]["mcc"],
                    "accuracy": s["splits"]["test"]["accuracy"],
                    "epochs": len(secs),
                    "epoch_seconds_median": statistics.median(secs) if secs else float("nan"),
                    "date": datetime.datetime.fromtimestamp(
                        scores.stat().st_mtime, datetime.timezone.utc).date(),
                })
    return out


def load(path):
    p = pathlib.Path(path)
    if (p / "cells.csv").is_file():
        with open(p / "cells.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        for r in rows:
            r["seed"], r["epochs"] = int(r["seed"]), int(r["epochs"])
            for k in ("mcc", "accuracy", "epoch_seconds_median"):
                r[k] = float(r[k])
        return rows
    if not p.is_dir():
        sys.exit(f"{p}: neither a presets_table.sh output nor a record directory (cells.csv)")
    return run_rows(p)


def merge(inputs):
    rows, seen = [], set()
    for path in inputs:
        for r in load(path):
            key = (r["task"], r["preset"], r["seed"])
            if key in seen:
                continue
            seen.add(key)
            rows.append(r)
    return rows


def write_record(dest, rows):
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / "cells.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for r in sorted(rows, key=lambda r: (r["task"], r["preset"], r["seed"])):
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in FIELDS})
    print(f"wrote {dest}/cells.csv ({len(rows)} runs)", file=sys.stderr)


def table(rows):
    print("| task | preset | seeds | test MCC | test accuracy | s / epoch |")
    print("|---|---|---:|---:|---:|---:|")
    tasks = sorted({r["task"] for r in rows})
    for task in tasks:
        presets = sorted({r["preset"] for r in rows if r["task"] == task},
                         key=lambda p: (ORDER.index(p) if p in ORDER else 99, p))
        for preset in presets:
            rs = [r for r in rows if r["task"] == task and r["preset"] == preset]
            secs = [r["epoch_seconds_median"] for r in rs]
            print(f"| {task} | {preset} | {len(rs)} | {fmt([r['mcc'] for r in rs])} | "
                  f"{fmt([r['accuracy'] for r in rs])} | {statistics.median(secs):.1f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="*", default=["runs/presets"],
                    help="presets_table.sh outputs or record directories, merged in this order")
    ap.add_argument("--record", metavar="DIR", help="write the merged runs as CSV to DIR")
    a = ap.parse_args()
    rows = merge(a.inputs)
    if a.record:
        write_record(a.record, rows)
    table(rows)


if __name__ == "__main__":
    main()
