#!/usr/bin/env python3
"""Is a classifier more than a base-composition detector?

Compares a strand predictions file (`strand eval --run RUN --split test --predictions`) with the
A+T fraction of the same sequences: the AUROC of the model's scores, the AUROC of the A+T
fraction alone (higher A+T scored as positive, or its reverse, whichever is larger), and the
Spearman correlation between the two. A model whose scores rank the sequences like their A+T
fraction (ρ near 1) has learnt composition, not motifs.

    scripts/composition_check.py runs/ecoli/predictions.tsv \\
        negative=../shared/data/cnnprom/Ecoli_non_prom.fa positive=../shared/data/cnnprom/Ecoli_prom.fa

Ids in the predictions file are the FASTA record names (strand's ids for FASTA-per-class tasks).

A run's own outputs (`outputs.<split>.tsv`: id, label, one `p:<class>` column per class; the
score is the probability of the second class) with the sequences of a Genomic Benchmarks
native-layout split directory (ids `<class>/<name>`, sequence in `<dir>/<class>/<name>.txt`):

    scripts/composition_check.py runs/probe/outputs.test.tsv \
        dir=../shared/data/genomic_benchmarks_real/human_enhancers_ensembl/test

Pure Python (no NumPy/SciPy needed); ties get mid-ranks in both statistics.
"""

import pathlib

import gzip
import sys


def read_fasta(path):
    opener = gzip.open if path.endswith(".gz") else open
    seqs, name = {}, None
    with opener(path, "rt") as f:
        for line in f:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0] if line[1:].split() else ""
                seqs[name] = []
            elif name is not None:
                seqs[name].append(line.upper())
    return {k: "".join(v) for k, v in seqs.items()}


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def auroc(labels, scores):
    r = ranks(scores)
    pos = sum(labels)
    neg = len(labels) - pos
    rank_sum = sum(ri for ri, y in zip(r, labels) if y)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb)


def read_predictions(path):
    """(id, label or None, score) rows of `strand eval --predictions` or `outputs.<split>.tsv`."""
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        two_classes = len(header) == 4 and all(h.startswith("p:") for h in header[2:])
        if header[:2] == ["id", "prediction"]:
            pick = lambda c: (c[0], None, float(c[1]))  # noqa: E731
        elif header[:2] == ["id", "label"] and two_classes:
            pick = lambda c: (c[0], int(c[1]), float(c[3]))  # noqa: E731
        else:
            sys.exit(f"{path}: expected 'id<TAB>prediction' or 'id<TAB>label<TAB>p:A<TAB>p:B' "
                     f"(two classes), got {header}")
        for line in f:
            rows.append(pick(line.rstrip("\n").split("\t")))
    return rows


def main(argv):
    if len(argv) == 2 and argv[1].startswith("dir="):
        root = pathlib.Path(argv[1].split("=", 1)[1])
        rows = read_predictions(argv[0])
        if any(label is None for _, label, _ in rows):
            sys.exit(f"{argv[0]}: dir= needs a run's outputs.<split>.tsv (it has the labels)")
        names = sorted({rid.split("/", 1)[0] for rid, _, _ in rows})
        positive = next(c for c in names if any(l == 1 and r.startswith(c + "/")
                                                for r, l, _ in rows))
        labels, scores, at = [], [], []
        for rid, label, score in rows:
            f = root / f"{rid}.txt"
            if not f.is_file():
                sys.exit(f"{argv[0]}: id {rid!r}: no {f}")
            seq = f.read_text().strip().upper()
            labels.append(label)
            scores.append(score)
            at.append(sum(c in "AT" for c in seq) / max(1, len(seq)))
        report(labels, scores, at, positive)
        return
    if len(argv) != 3 or any("=" not in a for a in argv[1:]):
        sys.exit(__doc__)
    classes = [a.split("=", 1) for a in argv[1:]]
    seqs = [read_fasta(path) for _, path in classes]
    labels, scores, at = [], [], []
    for n, (rid, _, pred) in enumerate(read_predictions(argv[0]), start=2):
        hits = [c for c, s in enumerate(seqs) if rid in s]
        if len(hits) != 1:
            sys.exit(f"{argv[0]}:{n}: id {rid!r} is in {len(hits)} of the class files")
        s = seqs[hits[0]][rid]
        labels.append(hits[0])
        scores.append(pred)
        at.append(sum(c in "AT" for c in s) / max(1, len(s)))
    report(labels, scores, at, classes[1][0])


def report(labels, scores, at, positive):
    at_auc = auroc(labels, at)
    print(f"records {len(labels)} ({sum(labels)} {positive})")
    print(f"AUROC of the model's scores      {auroc(labels, scores):.4f}")
    print(f"AUROC of the A+T fraction alone  {max(at_auc, 1 - at_auc):.4f}"
          f" ({'higher' if at_auc >= 0.5 else 'lower'} A+T = {positive})")
    print(f"Spearman(scores, A+T fraction)   {spearman(scores, at):+.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
