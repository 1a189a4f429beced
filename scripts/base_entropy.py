#!/usr/bin/env python3
"""What a model that only knows base frequencies scores on a corpus: the held-out cross-entropy
(nats per base) of order-k Markov models (k = 0: base frequencies alone; k ≥ 1: the previous k
bases as context), fitted on half of the sampled blocks and scored on the other half, with
add-one smoothing. The floor a span-corruption loss per base has to beat before a pretrained
model knows more than composition.

    python3 scripts/base_entropy.py ../shared/data/pretrain/GRCh37_chr20.fa.gz [blocks] [block_len]

Samples `blocks` (default 20) evenly spaced blocks of `block_len` (default 250,000) bases, drops
every position whose context or base is not A/C/G/T, alternates blocks between fit and score.
Both strands are counted (the pretraining draws windows from both).
"""
import collections
import gzip
import math
import sys

COMP = str.maketrans("ACGT", "TGCA")


def read(path):
    seq = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if not line.startswith(">"):
                seq.append(line.strip().upper())
    return "".join(seq)


def counts(blocks, k):
    c = collections.Counter()
    for b in blocks:
        for s in (b, b.translate(COMP)[::-1]):
            for i in range(k, len(s)):
                w = s[i - k:i + 1]
                if "N" not in w:
                    c[w] += 1
    return c


def cross_entropy(fit, score, k):
    c = counts(fit, k)
    ctx = collections.Counter()
    for w, n in c.items():
        ctx[w[:-1]] += n
    total, n = 0.0, 0
    for w, m in counts(score, k).items():
        p = (c[w] + 1) / (ctx[w[:-1]] + 4)
        total -= m * math.log(p)
        n += m
    return total / n, n


def main():
    path = sys.argv[1]
    blocks = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    block_len = int(sys.argv[3]) if len(sys.argv) > 3 else 250_000
    seq = read(path)
    # Evenly spaced blocks over the non-N part of the sequence.
    start = next(i for i, b in enumerate(seq) if b != "N")
    step = (len(seq) - start - block_len) // blocks
    sampled = [seq[start + i * step:start + i * step + block_len] for i in range(blocks)]
    fit, score = sampled[0::2], sampled[1::2]
    print(f"{path}: {len(seq):,} bases, {blocks} blocks of {block_len:,} (fit on half, scored on the other half)")
    print("| context (bases) | cross-entropy, nats / base | bits / base | scored positions |")
    print("|---:|---:|---:|---:|")
    for k in range(0, 6):
        h, n = cross_entropy(fit, score, k)
        print(f"| {k} | {h:.4f} | {h / math.log(2):.4f} | {n:,} |")


if __name__ == "__main__":
    main()
