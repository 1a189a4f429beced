"""Reads strand's exports the way a Python colleague would: pandas and Hugging Face `datasets`.

Exports two real tasks with the strand binary, in Parquet and CSV:
- cnnprom/ecoli (../shared/data/cnnprom): no published splits, strand derives a seeded,
  stratified 80/10/10 train/valid/test split (seed 0, recorded in split.json);
- gb/human_enhancers_ensembl (../shared/data/genomic_benchmarks_real, GB's native layout): the
  publisher's train/test, with a seeded 10% of train derived as valid.

For every split it reads `<split>.parquet` with pandas.read_parquet and
datasets.load_dataset("parquet", data_files=...), and `<split>.csv` with pandas.read_csv and
datasets.load_dataset("csv", data_files=...), and checks: the columns (id, sequence, label,
label_index), the row counts and per-class counts against split.json, that label_index is the
position of label in card.json's class names, that ids are unique, that the sequences are upper-
case ACGTN, and that Parquet and CSV hold the same rows. It then writes what it read (counts, label
vocabulary, first ids, column dtypes) to crates/data/tests/fixtures/export/python_read.json, which
crates/data/tests/export_python.rs compares with strand's own export of the same tasks (cargo test
never needs Python).

Run from the repository root after `cargo build --release -p strand-runner`:

    /work/main/.venv/bin/python scripts/check_export.py
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402

TASKS = [
    ("cnnprom/ecoli", "cnnprom"),
    ("gb/human_enhancers_ensembl", "genomic_benchmarks_real"),
]
FIRST_IDS = 5


def export(strand, task, data_dir, fmt, to):
    cmd = [strand, "data", "export", task, "--data-dir", data_dir, "--format", fmt, "--to", to]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    print(f"$ strand data export {task} --format {fmt}\n{out.stdout}", end="")


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")


def read_task(strand, task, data_dir, root, cache):
    name = task.split("/")[1]
    for fmt in ("parquet", "csv"):
        export(strand, task, data_dir, fmt, os.path.join(root, fmt))
    pq_dir = os.path.join(root, "parquet", name)
    csv_dir = os.path.join(root, "csv", name)
    card = json.load(open(os.path.join(pq_dir, "card.json")))
    manifest = json.load(open(os.path.join(pq_dir, "split.json")))
    csv_manifest = json.load(open(os.path.join(csv_dir, "split.json")))
    same = [(s["split"], s["records"], s["classes"]) for s in manifest["splits"]]
    check(same == [(s["split"], s["records"], s["classes"]) for s in csv_manifest["splits"]]
          and manifest["split_plan"] == csv_manifest["split_plan"],
          f"{task}: the parquet and csv exports hold different splits")
    names = card["labels"]["names"]
    result = {
        "task": task,
        "classes": names,
        "split_plan": manifest["split_plan"],
        "splits": {},
    }
    for s in manifest["splits"]:
        split = s["split"]
        pq_path = os.path.join(pq_dir, s["file"])
        csv_path = os.path.join(csv_dir, f"{split}.csv")
        df = pd.read_parquet(pq_path)
        dc = pd.read_csv(csv_path, keep_default_na=False, dtype={"id": str, "label": str})
        check(list(df.columns) == ["id", "sequence", "label", "label_index"], f"{pq_path} columns")
        check(list(dc.columns) == list(df.columns), f"{csv_path} columns")
        check(len(df) == s["records"] == len(dc), f"{split}: {len(df)} rows, manifest {s['records']}")
        counts = df["label"].value_counts().to_dict()
        check(counts == s["classes"], f"{split}: per-class {counts} vs {s['classes']}")
        check(set(df["label"]) <= set(names), f"{split}: labels outside the card")
        check(all(names[i] == l for l, i in zip(df["label"], df["label_index"])),
              f"{split}: label_index is not the card's class position")
        check(df["id"].is_unique, f"{split}: duplicate ids")
        check(df["sequence"].str.fullmatch("[ACGTN]+").all(), f"{split}: non-ACGTN sequence")
        check((df.astype(str).values == dc.astype(str).values).all(), f"{split}: csv != parquet")
        ds = datasets.load_dataset("parquet", data_files={split: pq_path}, cache_dir=cache)[split]
        dcsv = datasets.load_dataset("csv", data_files={split: csv_path}, cache_dir=cache)[split]
        check(ds.num_rows == dcsv.num_rows == s["records"], f"{split}: datasets row counts")
        check(ds.column_names == list(df.columns), f"{split}: datasets columns {ds.column_names}")
        check(ds[:FIRST_IDS]["id"] == list(df["id"][:FIRST_IDS]), f"{split}: datasets ids")
        check(sorted(set(ds["label"])) == sorted(counts), f"{split}: datasets labels")
        result["splits"][split] = {
            "rows": len(df),
            "derived": s["derived"],
            "per_class": {k: int(v) for k, v in sorted(counts.items())},
            "first_ids": list(df["id"][:FIRST_IDS]),
            "pandas_dtypes": {c: str(t) for c, t in df.dtypes.items()},
            "datasets_features": {c: str(f.dtype) for c, f in ds.features.items()},
        }
        print(f"  {split}: {len(df)} rows {result['splits'][split]['per_class']} "
              f"(pandas, datasets: parquet and csv agree)")
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--strand", default=os.path.join(repo, "target/release/strand"))
    ap.add_argument("--data", default=os.path.join(repo, "../shared/data"))
    ap.add_argument("--out", default=os.path.join(
        repo, "crates/data/tests/fixtures/export/python_read.json"))
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for task, folder in TASKS:
            results.append(read_task(a.strand, task, os.path.join(a.data, folder),
                                     os.path.join(tmp, "out"), os.path.join(tmp, "hf-cache")))
    fixture = {
        "generated_by": "scripts/check_export.py",
        "versions": {"pandas": pd.__version__, "pyarrow": pyarrow.__version__,
                     "datasets": datasets.__version__},
        "tasks": results,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"all checks passed; wrote {os.path.relpath(a.out, repo)}")


if __name__ == "__main__":
    main()
