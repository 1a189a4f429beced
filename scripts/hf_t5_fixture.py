"""A tiny Hugging Face T5 with its own tokenizer and output vocabulary, for strand's `hf:` tests,
and the check that transformers loads a `strand export --format hf` directory.

    /work/main/.venv/bin/python scripts/hf_t5_fixture.py make
    /work/main/.venv/bin/python scripts/hf_t5_fixture.py check-export EXPORT_DIR STRAND_PREDICT_TSV

`make` writes tests/fixtures/hf-tiny-t5/ (about 100 KB):

- `model/`: `T5ForConditionalGeneration` saved with `save_pretrained` (config.json,
  model.safetensors, generation_config.json) and its input tokenizer saved the same way
  (tokenizer.json, tokenizer_config.json): a BPE over `ACGTN` trained on random DNA, specials
  `<pad>` 0, `</s>` 1, `<unk>` 2, a post-processor that appends `</s>` (as T5's tokenizers do).
  d_model 32, d_kv 16, 2 heads, d_ff 64, 2 + 2 layers, gated-GELU, untied LM head, vocabulary 48
  (the tokenizer has 32 ids: rows 32..47 exist only in the model, as T5's padded vocabularies).
- `labels/`: the output vocabulary in the style of `guanine/t5_regression_vocab`: a WordLevel
  tokenizer whose tokens "0" … "4" have ids 36, 37, 39, 40, 42 of the model's vocabulary.
- `expected.json`: for each sequence, transformers' input ids (`tokenizer(seq)`), the logits of the
  first decoder step from `[0]` over the whole vocabulary (padded batch, f32, eager attention), the
  softmax over the five label ids and the argmax label string (GUANinE's procedure restricted to the
  label tokens); plus the logits of a three-token decoder input for the first sequence.

`check-export` loads EXPORT_DIR with `AutoModelForSeq2SeqLM.from_pretrained` (and its tokenizer
with `AutoTokenizer` when tokenizer.json is there), scores the sequences of STRAND_PREDICT_TSV's
FASTA (`<tsv>.fa` beside it) as strand's text-to-text head does (softmax over the label ids listed
in EXPORT_DIR/labels/tokenizer.json), compares with strand's `p_*` columns and writes the result
to tests/fixtures/hf-tiny-t5/export_check.json. strand crops inputs to the run's `max_len`
(longest training sequence + `</s>`), transformers does not: give sequences within it. Recorded
run (2026-12-02): a run fine-tuned 2 steps from the fixture on two 30-bp classes "0"/"1", exported,
4 sequences of 4-31 bp: max |Δp| 1.2e-7.

Tested with torch 2.15, transformers 5.24, tokenizers 0.22.
"""

from __future__ import annotations

import csv
import json
import pathlib
import random
import sys

import torch
from tokenizers import Tokenizer, models, processors, trainers
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "hf-tiny-t5"
SPECIALS = ["<pad>", "</s>", "<unk>"]
LABELS = {"0": 36, "1": 37, "2": 39, "3": 40, "4": 42}
SEQUENCES = [
    "ACGTACGTTTGACCA",
    "GGGCCCAATTNACGTAGCTAGCTAGGATCCA",
    "TTTTTTTTAAAAAAAACCCCGGGG",
    "ACGT",
    "CATGCATGCATGGTACCGTAGGCTAGCTTAACGGATCGATCGGCTAAGCTAGCATCGA",
]


def input_tokenizer() -> Tokenizer:
    rng = random.Random(7)
    corpus = ["".join(rng.choice("ACGT") for _ in range(200)) for _ in range(200)]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    trainer = trainers.BpeTrainer(
        vocab_size=32,
        special_tokens=SPECIALS,
        initial_alphabet=list("ACGTN"),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return tok


def label_tokenizer() -> Tokenizer:
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **LABELS}
    return Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))


def fast(tok: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def model() -> T5ForConditionalGeneration:
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=48,
        d_model=32,
        d_kv=16,
        num_heads=2,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        dropout_rate=0.0,
        feed_forward_proj="gated-gelu",
        decoder_start_token_id=0,
        tie_word_embeddings=False,  # also sets scale_decoder_outputs = False
    )
    # transformers 5 ties every T5 in __post_init__; set the field back for a separate lm_head
    # (see scripts/t5_reference.py).
    config.tie_word_embeddings = False
    m = T5ForConditionalGeneration(config).eval()
    m.set_input_embeddings(m.shared)
    assert m.lm_head.weight.data_ptr() != m.shared.weight.data_ptr()
    m.config._attn_implementation = "eager"
    return m


def first_step(m, tokenizer, seqs: list[str]) -> torch.Tensor:
    enc = tokenizer(seqs, padding=True, return_tensors="pt")
    start = torch.zeros(len(seqs), 1, dtype=torch.long)
    with torch.no_grad():
        out = m(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            decoder_input_ids=start,
        )
    return out.logits[:, 0, :]


def make() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tok = fast(input_tokenizer())
    labels = fast(label_tokenizer())
    m = model()
    m.save_pretrained(OUT / "model")
    tok.save_pretrained(OUT / "model")
    labels.save_pretrained(OUT / "labels")

    logits = first_step(m, tok, SEQUENCES)
    ids = list(LABELS.values())
    probs = torch.softmax(logits[:, ids], dim=1)
    names = list(LABELS)
    argmax = [names[i] for i in probs.argmax(dim=1).tolist()]
    dec_in = torch.tensor([[0, LABELS["3"], 1]])
    enc = tok(SEQUENCES[:1], return_tensors="pt")
    with torch.no_grad():
        multi = m(input_ids=enc["input_ids"], decoder_input_ids=dec_in).logits[0]
    expected = dict(
        sequences=SEQUENCES,
        input_ids=[tok(s)["input_ids"] for s in SEQUENCES],
        label_names=names,
        label_ids=ids,
        first_step_logits=logits.tolist(),
        label_probs=probs.tolist(),
        argmax_label=argmax,
        multi_step=dict(decoder_input_ids=dec_in[0].tolist(), logits=multi.tolist()),
    )
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({size / 1024:.0f} KB); input ids of {SEQUENCES[3]}: {expected['input_ids'][3]}")


def check_export(export: pathlib.Path, tsv: pathlib.Path) -> None:
    m = AutoModelForSeq2SeqLM.from_pretrained(export).eval()
    m.config._attn_implementation = "eager"
    label_vocab = json.loads((export / "labels" / "tokenizer.json").read_text())["model"]["vocab"]
    label_names = [n for n in sorted(label_vocab, key=label_vocab.get) if n not in SPECIALS]
    ids = [label_vocab[n] for n in label_names]
    with tsv.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    fasta = tsv.with_suffix(".fa").read_text().split(">")[1:]
    seqs = {r.split("\n", 1)[0]: r.split("\n", 1)[1].replace("\n", "") for r in fasta}
    has_tokenizer = (export / "tokenizer.json").is_file()
    tok = AutoTokenizer.from_pretrained(export) if has_tokenizer else None
    worst = 0.0
    for row in rows:
        seq = seqs[row["id"]]
        enc = tok(seq, return_tensors="pt")
        with torch.no_grad():
            logits = m(**enc, decoder_input_ids=torch.zeros(1, 1, dtype=torch.long)).logits[0, 0]
        probs = torch.softmax(logits[ids], dim=0)
        strand = torch.tensor([float(row[f"p_{n}"]) for n in label_names])
        worst = max(worst, (probs - strand).abs().max().item())
    result = dict(
        export=str(export.name),
        transformers_loads=True,
        tokenizer_json=has_tokenizer,
        sequences=len(rows),
        label_names=label_names,
        max_abs_prob_diff=worst,
        tolerance=1e-5,
        ok=worst <= 1e-5,
    )
    (OUT / "export_check.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    if not result["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["make"]:
        make()
    elif sys.argv[1:2] == ["check-export"] and len(sys.argv) == 4:
        check_export(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
