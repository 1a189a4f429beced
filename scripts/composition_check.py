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
Pure Python (no NumPy/SciPy needed); ties get mid-ranks in both statistics.
"""

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


def main(argv):
    if len(argv) != 3 or any("=" not in a for a in argv[1:]):
        sys.exit(__doc__)
    classes = [a.split("=", 1) for a in argv[1:]]
    seqs = [read_fasta(path) for _, path in classes]
    labels, scores, at = [], [], []
    with open(argv[0]) as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:2] != ["id", "prediction"]:
            sys.exit(f"{argv[0]}: expected the header 'id<TAB>prediction', got {header}")
        for n, line in enumerate(f, start=2):
            rid, pred = line.rstrip("\n").split("\t")[:2]
            hits = [c for c, s in enumerate(seqs) if rid in s]
            if len(hits) != 1:
                sys.exit(f"{argv[0]}:{n}: id {rid!r} is in {len(hits)} of the class files")
            s = seqs[hits[0]][rid]
            labels.append(hits[0])
            scores.append(float(pred))
            at.append(sum(c in "AT" for c in s) / max(1, len(s)))
    at_auc = auroc(labels, at)
    print(f"records {len(labels)} ({sum(labels)} {classes[1][0]})")
    print(f"AUROC of the model's scores      {auroc(labels, scores):.4f}")
    print(f"AUROC of the A+T fraction alone  {max(at_auc, 1 - at_auc):.4f}"
          f" ({'higher' if at_auc >= 0.5 else 'lower'} A+T = {classes[1][0]})")
    print(f"Spearman(scores, A+T fraction)   {spearman(scores, at):+.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
