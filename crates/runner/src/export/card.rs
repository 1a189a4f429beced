//! The `README.md` model card of an exported directory: where the model comes from, its shape,
//! tokenizer, label tokens and the run's scores, and how to load it.

use super::Source;
use std::fmt::Write;
use strand_model::Tokenizer;

/// The card's Markdown.
pub(crate) fn render(src: &Source, tokenizer_json: bool) -> String {
    let c = &src.config;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "---\nlibrary_name: transformers\ntags:\n- t5\n- genomics\n- strand\n---\n"
    );
    let _ = writeln!(s, "# T5 exported by strand {}\n", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "Source: {}.\n", src.origin);
    let _ = writeln!(
        s,
        "`T5ForConditionalGeneration`: d_model {}, {} + {} layers, {} heads of {}, d_ff {}, {:?} \
         feed-forward, vocabulary {}, LM head {}; {} parameters.\n",
        c.d_model,
        c.num_layers,
        c.num_decoder_layers,
        c.num_heads,
        c.d_kv,
        c.d_ff,
        c.feed_forward_proj,
        c.vocab_size,
        if c.tie_word_embeddings {
            "tied (scaled by d_model^-0.5)"
        } else {
            "untied"
        },
        c.num_params()
    );
    let spec = src.tokenizer.spec();
    if tokenizer_json {
        let _ = writeln!(
            s,
            "Tokenizer: strand's `{spec}` as `tokenizer.json` (it appends `</s>`, as strand does; \
             checked to give strand's ids on test sequences).\n"
        );
    } else {
        let _ = writeln!(
            s,
            "Tokenizer: strand's `{spec}` is **not expressible** as a Hugging Face tokenizer \
             (overlapping k-mers); its spec is in `strand_tokenizer.json`. Feed the model strand's \
             ids (`strand tokenizer encode`) followed by `</s>` = 1.\n"
        );
    }
    if !src.labels.is_empty() {
        let list: Vec<String> = src
            .labels
            .iter()
            .map(|(n, i)| format!("`{n}` = {i}"))
            .collect();
        let _ = writeln!(
            s,
            "Text-to-text labels (output vocabulary in `labels/tokenizer.json`): {}. The \
             prediction is one decoder step from `decoder_input_ids = [[0]]`, read at these ids \
             (strand scores the softmax over them).\n",
            list.join(", ")
        );
    }
    if let Some(sc) = &src.scores {
        let _ = writeln!(
            s,
            "## Scores\n\nTask `{}` (data version {}), seed {}, {} epochs (best {}):\n",
            sc.task, sc.data_version, sc.seed, sc.epochs, sc.best_epoch
        );
        let _ = writeln!(s, "| split | metric | value |\n|---|---|---|");
        for (split, metrics) in &sc.splits {
            for (m, v) in metrics {
                let _ = writeln!(s, "| {split} | {m} | {v:.4} |");
            }
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "## Use\n\n```python\nimport torch\nfrom transformers import AutoModelForSeq2SeqLM, \
         AutoTokenizer\nmodel = AutoModelForSeq2SeqLM.from_pretrained(\"DIR\")\n{}logits = \
         model(**enc, decoder_input_ids=torch.zeros(1, 1, dtype=torch.long)).logits[0, 0]\n```\n\n\
         With strand: `strand predict --init hf:DIR --head text --label-vocab hf:DIR/labels \
         --task TASK --fasta seqs.fa`.",
        if tokenizer_json {
            "enc = AutoTokenizer.from_pretrained(\"DIR\")(\"ACGTACGT\", return_tensors=\"pt\")\n"
        } else {
            "enc = {\"input_ids\": torch.tensor([IDS + [1]])}\n"
        }
    );
    s
}
