#!/usr/bin/env python3
"""The README's model-preset table from the runs of scripts/presets_table.sh: per task and
preset, test MCC and accuracy as mean ± sd over seeds (sample sd, n−1), and the median wall time
of one training epoch (the `seconds` of every epoch line in metrics.jsonl, all seeds).

    python3 scripts/presets_summary.py runs/presets
"""
import json
import pathlib
import statistics
import sys

ORDER = ["cnn-gb", "cnnprom", "basset-style", "dilated-resnet"]


def fmt(xs):
    if len(xs) == 1:
        return f"{xs[0]:.3f}"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}"


def main(root):
    root = pathlib.Path(root)
    print("| task | preset | seeds | test MCC | test accuracy | s / epoch |")
    print("|---|---|---:|---:|---:|---:|")
    for task_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        presets = [p for p in task_dir.iterdir() if p.is_dir()]
        presets.sort(key=lambda p: ORDER.index(p.name) if p.name in ORDER else 99)
        for preset in presets:
            mcc, acc, secs, task = [], [], [], None
            for seed in sorted(preset.glob("seed-*")):
                scores = seed / "scores.json"
                if not scores.is_file():
                    continue
                s = json.loads(scores.read_text())
                task = s["task"]
                mcc.append(s["splits"]["test"]["mcc"])
                acc.append(s["splits"]["test"]["accuracy"])
                for line in (seed / "metrics.jsonl").read_text().splitlines():
                    rec = json.loads(line)
                    if "seconds" in rec and "batch" not in rec:
                        secs.append(rec["seconds"])
            if mcc:
                print(f"| {task} | {preset.name} | {len(mcc)} | {fmt(mcc)} | {fmt(acc)} | "
                      f"{statistics.median(secs):.1f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/presets")
