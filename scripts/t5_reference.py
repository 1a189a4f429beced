"""Reference fixtures for strand's T5 parity test (crates/model/tests/t5_parity.rs).

Builds randomly initialised Hugging Face `T5ForConditionalGeneration` models (no biases, relative position buckets 32 / max distance 128, eps 1e-6, dropout 0),
runs one padded batch through them in eager f32 attention and saves

    crates/model/tests/fixtures/t5/{untied,tied}/weights.safetensors   HF parameter names
    crates/model/tests/fixtures/t5/{untied,tied}/batch.safetensors     inputs + expected outputs
    crates/model/tests/fixtures/t5/{untied,tied}/config.json           the T5Config fields

Parity shape (chosen so the fixtures stay well under 8 MB while exercising every code path):
d_model 64, d_kv 16, 4 heads (inner dim 64), d_ff 128, 2 encoder + 2 decoder layers, vocab 128.
The batch has 3 rows; the encoder length is 70 (row 1 padded after 41 tokens, row 2 after 9) so
relative distances up to 69 reach the logarithmic buckets including the exact boundaries 16, 32
and 64; the decoder length is 36 (labels padded with -100), so the causal buckets up to 22 are hit.

- `untied`: `tie_word_embeddings = False` (separate `lm_head.weight`, no output scaling), decoder
  attention mask left out (HF's default when training from labels).
- `tied`: the T5 v1.0 layout: ReLU feed-forward (`wi`, `wo`), `tie_word_embeddings = True`
  (logits = (dec * d_model^-0.5) @ shared^T; no `lm_head.weight` stored), and an explicit decoder
  attention mask that hides the padded tail.

batch.safetensors holds: input_ids, attention_mask, labels, decoder_input_ids (HF's own
shift-right of labels), decoder_attention_mask (tied only), encoder_last_hidden_state [B,S,d],
logits [B,T,V] and loss [1] (float32, computed by HF in float32), plus logits_f64 / loss_f64
computed by the same weights in float64 (to show the float32 rounding floor), and `generated`
[B, 8]: HF greedy `generate` output (start id dropped; `min_new_tokens` keeps EOS out).

Regenerate (needs torch, transformers and safetensors; the numbers depend on the seed only):

    /work/main/.venv/bin/python scripts/t5_reference.py

Tested with torch 2.15 and transformers 5.23.
"""

from __future__ import annotations

import json
import pathlib

import torch
from safetensors.torch import save_file
from transformers import T5Config, T5ForConditionalGeneration

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "model" / "tests" / "fixtures" / "t5"

SHAPE = dict(
    vocab_size=128,
    d_model=64,
    d_kv=16,
    num_heads=4,
    d_ff=128,
    num_layers=2,
    num_decoder_layers=2,
    relative_attention_num_buckets=32,
    relative_attention_max_distance=128,
    layer_norm_epsilon=1e-6,
    dropout_rate=0.0,
    feed_forward_proj="gated-gelu",
)
ENC_LEN = 70
ENC_LENGTHS = [70, 41, 9]
DEC_LEN = 36
DEC_LENGTHS = [36, 20, 5]
GEN_LEN = 8


def make_batch(gen: torch.Generator) -> dict[str, torch.Tensor]:
    batch = len(ENC_LENGTHS)
    # Token ids avoid 0 (pad) inside the real part; 1 (eos) closes each sequence.
    input_ids = torch.randint(2, SHAPE["vocab_size"], (batch, ENC_LEN), generator=gen)
    attention_mask = torch.zeros(batch, ENC_LEN, dtype=torch.long)
    labels = torch.randint(2, SHAPE["vocab_size"], (batch, DEC_LEN), generator=gen)
    for row, (n_enc, n_dec) in enumerate(zip(ENC_LENGTHS, DEC_LENGTHS)):
        input_ids[row, n_enc - 1] = 1
        input_ids[row, n_enc:] = 0
        attention_mask[row, :n_enc] = 1
        labels[row, n_dec - 1] = 1
        labels[row, n_dec:] = -100
    return dict(input_ids=input_ids, attention_mask=attention_mask, labels=labels)


def shape(ff: str) -> dict:
    return dict(SHAPE, feed_forward_proj=ff)


def build(tied: bool, seed: int, ff: str) -> T5ForConditionalGeneration:
    torch.manual_seed(seed)
    config = T5Config(**shape(ff), tie_word_embeddings=tied)
    # transformers 5 forces `tie_word_embeddings = True` in T5Config.__post_init__ and keeps the
    # user's choice only as `scale_decoder_outputs`; set the field back so lm_head is separate.
    config.tie_word_embeddings = tied
    config.decoder_start_token_id = 0  # as in the released configs (T5 convention: pad id)
    config._attn_implementation = "eager"
    model = T5ForConditionalGeneration(config).eval()
    # With `tie_word_embeddings = False`, transformers 5 also unties the stacks' `embed_tokens`
    # from `shared`; T5 always shares them, so re-share explicitly.
    model.set_input_embeddings(model.shared)
    for stack in (model.encoder, model.decoder):
        assert stack.embed_tokens.weight.data_ptr() == model.shared.weight.data_ptr()
    same = model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()
    assert same == tied, "lm_head tying does not follow the requested variant"
    assert model.config.scale_decoder_outputs == tied
    return model


def run(model, batch, decoder_attention_mask):
    with torch.no_grad():
        out = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            labels=batch["labels"],
            decoder_attention_mask=decoder_attention_mask,
        )
    return out


def weights(model, tied: bool) -> dict[str, torch.Tensor]:
    state = {}
    for name, tensor in model.state_dict().items():
        if name.endswith("embed_tokens.weight"):
            continue  # copies of shared.weight
        if tied and name == "lm_head.weight":
            continue  # equal to shared.weight
        state[name] = tensor.detach().to(torch.float32).contiguous().clone()
    return state


def variant(name: str, tied: bool, seed: int, ff: str) -> None:
    gen = torch.Generator().manual_seed(seed + 1000)
    batch = make_batch(gen)
    model = build(tied, seed, ff)
    decoder_input_ids = model._shift_right(batch["labels"])
    dec_mask = None
    if tied:
        # Start token plus every position whose previous label is real.
        real = (batch["labels"] != -100).long()
        dec_mask = torch.cat([torch.ones_like(real[:, :1]), real[:, :-1]], dim=1)
    out = run(model, batch, dec_mask)
    with torch.no_grad():
        generated = model.generate(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            max_new_tokens=GEN_LEN,
            min_new_tokens=GEN_LEN,
            do_sample=False,
            num_beams=1,
        )[:, 1:]  # drop the start id
    out64 = run(model.double(), batch, dec_mask)
    model = model.float()

    target = OUT / name
    target.mkdir(parents=True, exist_ok=True)
    save_file(weights(model, tied), str(target / "weights.safetensors"))
    tensors = dict(
        input_ids=batch["input_ids"].contiguous(),
        attention_mask=batch["attention_mask"].contiguous(),
        labels=batch["labels"].contiguous(),
        decoder_input_ids=decoder_input_ids.contiguous(),
        encoder_last_hidden_state=out.encoder_last_hidden_state.float().contiguous(),
        logits=out.logits.float().contiguous(),
        loss=out.loss.float().reshape(1).contiguous(),
        logits_f64=out64.logits.contiguous(),
        loss_f64=out64.loss.reshape(1).contiguous(),
        generated=generated.contiguous(),
    )
    if dec_mask is not None:
        tensors["decoder_attention_mask"] = dec_mask.contiguous()
    save_file(tensors, str(target / "batch.safetensors"))
    config = dict(shape(ff), tie_word_embeddings=tied)
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    gap = (out.logits.double() - out64.logits).abs().max() / out64.logits.abs().max()
    print(
        f"{name}: loss {out.loss.item():.7f} (f64 {out64.loss.item():.9f}), "
        f"max |logit| {out.logits.abs().max().item():.3f}, f32 vs f64 logits rel {gap.item():.2e}"
    )


def main() -> None:
    variant("untied", tied=False, seed=0, ff="gated-gelu")
    variant("tied", tied=True, seed=1, ff="relu")


if __name__ == "__main__":
    main()
