#!/usr/bin/env python3
"""The Genomic Benchmarks baseline CNN in PyTorch, as upstream runs it, on a native-layout folder.

The reference strand's `cnn-gb` is compared with on the same records
(`../shared/reference/genomic_benchmarks.md` §4, upstream `src/genomic_benchmarks/models/torch.py`
and `experiments/utils/torch_cnn_classifier.ipynb`):

- input: `<data-dir>/<dataset>/{train,test}/<class>/<id>.txt`, one sequence per file (newlines
  removed); classes in sorted order (class 1 = the second name: `positive`, `ocr`), as strand.
  Upstream's class order is the file system's `iterdir()` order; accuracy does not depend on it.
- tokens: characters with `<bos>`/`<eos>`; vocabulary built on train in order of first
  occurrence, `<pad>` appended for variable-length datasets, `<unk>` at index 0.
- padding: variable-length datasets (train lengths differ) are right-padded with `<pad>` to
  `max train length + 3` and longer sequences right-cropped to it; fixed-length: `L + 2`.
- model: Embedding(V, 100) → Conv1d(100→16, k8) BN ReLU MaxPool2 → Conv1d(16→8, k8) BN MaxPool2 →
  Conv1d(8→4, k8) BN MaxPool2 → flatten → Linear(512) → Linear(out); PyTorch default init.
- loss: `--loss bce` (default; strand's): BCE-with-logits on the logit for two classes,
  cross-entropy for more. `--loss gb-paper`: upstream's double sigmoid for two classes
  (`binary_cross_entropy_with_logits(sigmoid(z), y)`), cross-entropy for more (upstream has no
  bug there).
- training: Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), batch 64, shuffled, 10 epochs, no
  validation, no schedule; evaluated once on the whole test split after the last epoch (BN in
  eval mode). Predictions: `sigmoid(z) > 0.5` (binary), argmax (more classes).

Seeds: `torch.manual_seed(seed)` before the model is built (initialisation) and a seeded
generator for the shuffle (upstream sets none).

Metrics on test: accuracy, F1 (binary: class 1 positive; more classes: macro) and MCC
(Matthews; the multi-class form of Gorodkin 2004, sklearn's `matthews_corrcoef`).

Prints one JSON object per seed (`--json`) or a human line, and the mean ± sd over seeds.

    .venv/bin/python scripts/gb_reference.py --data-dir ../shared/data/genomic_benchmarks_real \
        --dataset human_enhancers_ensembl --seeds 0,1,2,3,4 --json
"""

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_split(root: Path, split: str, classes=None):
    """(sequences, labels, classes) of one split in GB's native layout."""
    d = root / split
    if not d.is_dir():
        sys.exit(f"{d}: no such split folder (expected <data-dir>/<dataset>/{split}/<class>/)")
    names = sorted(p.name for p in d.iterdir() if p.is_dir())
    if classes is None:
        classes = names
    elif names != classes:
        sys.exit(f"{d}: classes {names} differ from train's {classes}")
    seqs, labels = [], []
    for c, name in enumerate(classes):
        for f in sorted((d / name).iterdir(), key=lambda p: p.name):
            if f.suffix != ".txt":
                continue
            seqs.append(f.read_text().replace("\n", "").replace("\r", ""))
            labels.append(c)
    if not seqs:
        sys.exit(f"{d}: no records")
    return seqs, labels, classes


class Vocab:
    """Upstream's `build_vocab`: first occurrence order, `<pad>` if padding, `<unk>` at 0."""

    def __init__(self, train_seqs, padding):
        order = []
        seen = set()
        for s in train_seqs:
            for tok in ["<bos>", *s, "<eos>"]:
                if tok not in seen:
                    seen.add(tok)
                    order.append(tok)
        if padding:
            order.append("<pad>")
        self.itos = ["<unk>", *order]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def encode(self, seq, input_len, padding):
        ids = [self.stoi.get(t, 0) for t in ["<bos>", *seq, "<eos>"]]
        if padding:
            ids = ids[:input_len] + [self.stoi["<pad>"]] * max(0, input_len - len(ids))
        return ids


class GbCnn(nn.Module):
    """genomic_benchmarks.models.torch.CNN, returning logits (the sigmoid is the loss's)."""

    def __init__(self, vocab, input_len, n_out):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 100)
        layers, c_in, n = [], 100, input_len
        for i, c in enumerate((16, 8, 4)):
            layers += [nn.Conv1d(c_in, c, 8), nn.BatchNorm1d(c)]
            if i == 0:
                layers.append(nn.ReLU())
            layers.append(nn.MaxPool1d(2))
            c_in, n = c, (n - 8 + 1) // 2
        self.convs = nn.Sequential(*layers)
        self.hidden = nn.Linear(c_in * n, 512)
        self.output = nn.Linear(512, n_out)

    def forward(self, x):
        x = self.embedding(x).transpose(1, 2)
        return self.output(self.hidden(self.convs(x).flatten(1)))


def loss_fn(z, y, n_classes, loss):
    if n_classes == 2:
        z = z.squeeze(1)
        if loss == "gb-paper":
            z = torch.sigmoid(z)
        return F.binary_cross_entropy_with_logits(z, y.float())
    return F.cross_entropy(z, y)


def predict(model, x, n_classes, batch):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            z = model(x[i : i + batch])
            out.append((z.squeeze(1) > 0).long() if n_classes == 2 else z.argmax(1))
    return torch.cat(out).tolist()


def metrics(pred, truth, n_classes):
    """accuracy, F1 (binary: class 1; else macro) and MCC (multi-class form)."""
    n = len(truth)
    cm = [[0] * n_classes for _ in range(n_classes)]
    for p, t in zip(pred, truth):
        cm[t][p] += 1
    acc = sum(cm[i][i] for i in range(n_classes)) / n

    def f1_of(c):
        tp = cm[c][c]
        fp = sum(cm[t][c] for t in range(n_classes)) - tp
        fn = sum(cm[c]) - tp
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)

    f1 = f1_of(1) if n_classes == 2 else sum(f1_of(c) for c in range(n_classes)) / n_classes
    t_k = [sum(cm[k]) for k in range(n_classes)]
    p_k = [sum(cm[t][k] for t in range(n_classes)) for k in range(n_classes)]
    c = sum(cm[i][i] for i in range(n_classes))
    num = c * n - sum(t * p for t, p in zip(t_k, p_k))
    den = math.sqrt((n * n - sum(p * p for p in p_k)) * (n * n - sum(t * t for t in t_k)))
    mcc = 0.0 if den == 0 else num / den
    return {"accuracy": acc, "f1": f1, "mcc": mcc}


def run(args, seed, data):
    (train_x, train_y, test_x, test_y, vocab_size, input_len, n_classes) = data
    started = time.perf_counter()
    torch.manual_seed(seed)
    model = GbCnn(vocab_size, input_len, 1 if n_classes == 2 else n_classes)
    optim = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gen)
        total, rows = 0.0, 0
        for i in range(0, len(order), args.batch):
            idx = order[i : i + args.batch]
            loss = loss_fn(model(train_x[idx]), train_y[idx], n_classes, args.loss)
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += loss.item() * len(idx)
            rows += len(idx)
        losses.append(total / rows)
    train_s = time.perf_counter() - started
    pred = predict(model, test_x, n_classes, args.batch)
    out = metrics(pred, test_y.tolist(), n_classes)
    out.update(
        dataset=args.dataset,
        seed=seed,
        loss=args.loss,
        epochs=args.epochs,
        train_losses=[round(v, 6) for v in losses],
        train_seconds=round(train_s, 2),
        seconds=round(time.perf_counter() - started, 2),
        input_len=input_len,
        vocab=vocab_size,
        torch_threads=torch.get_num_threads(),
        torch=torch.__version__,
    )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--seeds", default="0", help="comma-separated list")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--loss", choices=["bce", "gb-paper"], default="bce")
    ap.add_argument("--json", action="store_true", help="one JSON object per seed")
    args = ap.parse_args()

    root = args.data_dir / args.dataset
    tr_s, tr_y, classes = read_split(root, "train")
    te_s, te_y, _ = read_split(root, "test", classes)
    n_classes = len(classes)
    padding = len({len(s) for s in tr_s}) > 1
    input_len = max(len(s) for s in tr_s) + (3 if padding else 2)
    vocab = Vocab(tr_s, padding)
    if not padding and any(len(s) + 2 != input_len for s in te_s):
        sys.exit("fixed-length train split but test lengths differ")
    enc = lambda seqs: torch.tensor([vocab.encode(s, input_len, padding) for s in seqs])
    data = (enc(tr_s), torch.tensor(tr_y), enc(te_s), torch.tensor(te_y), len(vocab.itos),
            input_len, n_classes)
    print(
        f"# {args.dataset}: classes {classes}, train {len(tr_s)}, test {len(te_s)}, "
        f"vocab {len(vocab.itos)}, input_len {input_len}, loss {args.loss}",
        file=sys.stderr,
    )
    results = []
    for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
        r = run(args, seed, data)
        results.append(r)
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"seed {seed}: accuracy {r['accuracy']:.4f} f1 {r['f1']:.4f} "
                  f"mcc {r['mcc']:.4f} ({r['seconds']:.1f} s)", flush=True)
    if len(results) > 1:
        for k in ("accuracy", "f1", "mcc", "seconds"):
            v = [r[k] for r in results]
            print(f"# {k}: {statistics.mean(v):.4f} ± {statistics.stdev(v):.4f} (n={len(v)})",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
