use super::*;
use crate::classifier::Targets;
use crate::tokenize::PAD;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Bool, Int, TensorData};

/// The CPU device, without autodiff (inference).
fn plain() -> Device {
    Device::flex()
}

/// The CPU device with autodiff (training).
fn training() -> Device {
    Device::flex().autodiff()
}

const VOCAB: usize = 110;

fn tiny() -> T5Config {
    T5Config::new(VOCAB)
        .with_d_model(16)
        .with_d_kv(4)
        .with_num_heads(2)
        .with_d_ff(32)
        .with_num_layers(2)
        .with_num_decoder_layers(1)
        .with_dropout_rate(0.0)
}

/// Rows of regular tokens (ids 104..110), right-padded with PAD to `len`.
fn batch(rows: &[&[i64]], len: usize, device: &Device) -> TokenBatch {
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for r in rows {
        assert!(r.len() <= len);
        ids.extend(r.iter().copied());
        ids.extend(std::iter::repeat_n(PAD as i64, len - r.len()));
        mask.extend(std::iter::repeat_n(true, r.len()));
        mask.extend(std::iter::repeat_n(false, len - r.len()));
    }
    TokenBatch {
        tokens: Tensor::<2, Int>::from_data(TensorData::new(ids, [rows.len(), len]), device),
        mask: Tensor::<2, Bool>::from_data(TensorData::new(mask, [rows.len(), len]), device),
    }
}

const ROWS: [&[i64]; 4] = [
    &[104, 105, 106, 107, 1],
    &[108, 108, 105, 1],
    &[109, 104, 104, 106, 105, 1],
    &[107, 1],
];

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar()
}

fn bins() -> LabelBins {
    LabelBins::quantiles(&[0.1, 0.5, 0.9, 1.3, 2.0, 2.2, 3.5, 4.0], 4).unwrap()
}

/// Every (kind, task) pair the runner can ask for, with its expected output width.
fn configs() -> Vec<(T5HeadConfig, usize)> {
    let mut v = Vec::new();
    for kind in HeadKind::ALL {
        for classes in [Some(2), Some(5), None] {
            let b = (kind == HeadKind::TextToText && classes.is_none()).then(bins);
            let want = match (kind, classes) {
                (HeadKind::TextToText, Some(c)) => c,
                (HeadKind::TextToText, None) => 4,
                (_, Some(2)) | (_, None) => 1,
                (_, Some(c)) => c,
            };
            v.push((
                T5HeadConfig::for_task(tiny(), kind, classes, b).unwrap(),
                want,
            ));
        }
    }
    v
}

#[test]
fn output_shapes_of_every_head_and_task_kind() {
    let device = plain();
    for (config, want) in configs() {
        let head = config.init(&device);
        assert_eq!(head.kind(), config.kind);
        assert_eq!(head.n_out(), want, "{:?}", config.kind);
        let out = head.forward(&batch(&ROWS, 7, &device));
        assert_eq!(
            out.dims(),
            [4, want],
            "{:?} {:?}",
            config.kind,
            config.objective
        );
        assert!(!out.is_nan().any().into_scalar::<bool>());
    }
}

#[test]
fn extra_padding_does_not_change_any_head_output() {
    let device = plain();
    device.seed(11);
    for (config, _) in configs() {
        let head = config.init(&device);
        let a = head.forward(&batch(&ROWS, 6, &device));
        let b = head.forward(&batch(&ROWS, 13, &device));
        let d = max_abs_diff(a.clone(), b);
        assert!(
            d < 1e-5,
            "{}: padding changed the output by {d}",
            config.kind
        );
        // …while changing a real token does change it.
        let mut other = ROWS;
        other[0] = &[109, 105, 106, 107, 1];
        let c = head.forward(&batch(&other, 6, &device));
        assert!(max_abs_diff(a, c) > 1e-6, "{}", config.kind);
    }
}

#[test]
fn masked_mean_ignores_padding_and_handles_empty_rows() {
    let device = plain();
    let states = Tensor::<3>::from_data(
        TensorData::from([
            [[1.0f32, 2.0], [3.0, 4.0], [100.0, 100.0]],
            [[5.0, 6.0], [7.0, 8.0], [9.0, 9.0]],
        ]),
        &device,
    );
    let mask = Tensor::<2, Bool>::from_data(
        TensorData::from([[true, true, false], [false, false, false]]),
        &device,
    );
    let m = masked_mean(states, mask)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(m, vec![2.0, 3.0, 0.0, 0.0]);
}

#[test]
fn text_to_text_equals_first_decoder_step_logits_at_the_label_ids() {
    let device = plain();
    device.seed(5);
    let config = T5HeadConfig::for_task(tiny(), HeadKind::TextToText, Some(5), None).unwrap();
    assert_eq!(config.label_ids(), (VOCAB..VOCAB + 5).collect::<Vec<_>>());
    let T5Head::TextToText(head) = config.init(&device) else {
        panic!("not a text-to-text head")
    };
    assert_eq!(head.label_ids(), (VOCAB..VOCAB + 5).collect::<Vec<_>>());
    assert_eq!(head.t5.vocab_size(), VOCAB + 5);
    let b = batch(&ROWS, 8, &device);
    let out = head.forward(&b);
    let dec = Tensor::<2, Int>::zeros([4, 1], &device);
    let full = head
        .t5
        .forward(b.tokens.clone(), b.mask.clone().int(), dec, None);
    assert_eq!(full.dims(), [4, 1, VOCAB + 5]);
    let want = full.narrow(2, VOCAB, 5).reshape([4, 5]);
    assert!(max_abs_diff(out, want) < 1e-6);
}

#[test]
fn extending_the_vocabulary_keeps_the_pretrained_logits() {
    let device = plain();
    device.seed(9);
    for tied in [false, true] {
        let t5 = tiny().with_tie_word_embeddings(tied);
        let pretrained = t5.init(&device);
        let b = batch(&ROWS, 7, &device);
        let dec = Tensor::<2, Int>::from_data(TensorData::from([[0i64, 105]; 4]), &device);
        let before = pretrained.forward(b.tokens.clone(), b.mask.clone().int(), dec.clone(), None);
        let config = T5HeadConfig::for_task(t5, HeadKind::TextToText, Some(3), None).unwrap();
        let T5Head::TextToText(head) = config.init_from(pretrained, &device).unwrap() else {
            panic!("not a text-to-text head")
        };
        let after = head.t5.forward(b.tokens, b.mask.int(), dec, None);
        assert_eq!(after.dims(), [4, 2, VOCAB + 3]);
        let d = max_abs_diff(after.clone().narrow(2, 0, VOCAB), before);
        assert!(d < 1e-5, "tied {tied}: {d}");
        // New label logits have unit scale, not the ±√d_model of an N(0, 1) LM head.
        let labels = after.narrow(2, VOCAB, 3);
        let rms: f32 = labels.powf_scalar(2.0).mean().sqrt().into_scalar::<f32>();
        assert!(
            rms > 0.05 && rms < 3.0,
            "tied {tied}: label logit rms {rms}"
        );
    }
}

#[test]
fn init_from_checks_the_pretrained_shape() {
    let device = plain();
    let config = T5HeadConfig::for_task(tiny(), HeadKind::Pooled, Some(2), None).unwrap();
    let mut wider = tiny();
    wider.vocab_size = VOCAB + 1;
    let other = wider.init(&device);
    let e = config.init_from(other, &device).unwrap_err().to_string();
    assert!(e.contains("vocabulary 111"), "{e}");
    let deeper = tiny().with_num_layers(3).init(&device);
    assert!(config.init_from(deeper, &device).is_err());
}

#[test]
fn config_validation_and_round_trip() {
    let t2t = |c, b| T5HeadConfig::for_task(tiny(), HeadKind::TextToText, c, b);
    assert!(t2t(None, None).unwrap_err().to_string().contains("bins"));
    assert!(t2t(Some(3), Some(bins())).is_err());
    assert!(T5HeadConfig::for_task(tiny(), HeadKind::Pooled, None, Some(bins())).is_err());
    let mut bad = t2t(None, Some(bins())).unwrap();
    bad.objective = Objective::Softmax { classes: 3 };
    assert!(bad.validate().is_err());
    bad.objective = Objective::Regression;
    assert!(bad.validate().is_err());
    let c = t2t(None, Some(bins())).unwrap();
    assert_eq!(c.objective, Objective::Softmax { classes: 4 });
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.contains("\"kind\":\"text_to_text\""), "{json}");
    let back: T5HeadConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    assert_eq!(
        "text-to-text".parse::<HeadKind>().unwrap(),
        HeadKind::TextToText
    );
    assert!("linear".parse::<HeadKind>().is_err());
    let pooled = T5HeadConfig::for_task(tiny(), HeadKind::Probe, None, None).unwrap();
    assert_eq!(pooled.objective, Objective::Regression);
    assert!(pooled.label_ids().is_empty());
}

/// Targets for `config`'s objective on the four rows.
fn targets(config: &T5HeadConfig, device: &Device) -> Targets {
    match config.objective {
        Objective::Regression => Targets::Values(Tensor::from_data(
            TensorData::from([0.5f32, -1.0, 2.0, 0.0]),
            device,
        )),
        o => {
            let n = o.n_out().max(2) as i64;
            let t: Vec<i64> = (0..4).map(|i| (i * 3 + 1) % n).collect();
            Targets::Classes(Tensor::from_data(TensorData::new(t, [4]), device))
        }
    }
}

#[test]
fn one_adam_step_lowers_the_loss_of_every_head() {
    let device = training();
    device.seed(3);
    for (config, _) in configs() {
        let mut head = config.init(&device);
        let b = batch(&ROWS, 7, &device);
        let t = targets(&config, &device);
        let mut optim = AdamConfig::new().init();
        let loss = config.objective.loss(head.forward(&b), &t);
        let before: f32 = loss.clone().into_scalar();
        let grads = GradientsParams::from_grads(loss.backward(), &head);
        head = optim.step(1e-2, head, grads);
        let after: f32 = config.objective.loss(head.forward(&b), &t).into_scalar();
        assert!(
            after < before,
            "{} {:?}: loss {before} → {after}",
            config.kind,
            config.objective
        );
    }
}

#[test]
fn probe_step_changes_only_the_linear_layer() {
    let device = training();
    device.seed(4);
    let config = T5HeadConfig::for_task(tiny(), HeadKind::Probe, Some(5), None).unwrap();
    let T5Head::Probe(mut probe) = config.init(&device) else {
        panic!("not a probe")
    };
    let snapshot = |p: &T5Probe| {
        let enc = &p.encoder;
        (
            enc.shared.weight.val().into_data(),
            enc.encoder.block[0]
                .self_attention
                .attention
                .q
                .weight
                .val()
                .into_data(),
            enc.encoder.final_layer_norm.weight.val().into_data(),
            p.head.weight.val().into_data(),
        )
    };
    let before = snapshot(&probe);
    let b = batch(&ROWS, 7, &device);
    let loss = config
        .objective
        .loss(probe.forward(&b), &targets(&config, &device));
    let grads = GradientsParams::from_grads(loss.backward(), &probe);
    let mut optim = AdamConfig::new().init();
    probe = optim.step(1e-2, probe, grads);
    let after = snapshot(&probe);
    assert_eq!(before.0, after.0, "embedding changed");
    assert_eq!(before.1, after.1, "encoder attention changed");
    assert_eq!(before.2, after.2, "encoder norm changed");
    assert_ne!(before.3, after.3, "the linear head did not train");
}

#[test]
fn ordinal_scores_are_label_probabilities_with_a_continuous_expectation() {
    // The runner turns text-to-text outputs into probabilities with Objective::scores; the
    // metrics then use the expected level Σ p_k·k (strand_data::metrics::expected_index), which
    // is continuous, unlike the argmax level.
    let device = plain();
    device.seed(8);
    let config = T5HeadConfig::for_task(tiny(), HeadKind::TextToText, Some(5), None).unwrap();
    let head = config.init(&device);
    let probs = config
        .objective
        .scores(head.forward(&batch(&ROWS, 7, &device)))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(probs.len(), 4 * 5);
    for row in probs.chunks_exact(5) {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5);
        let expected: f32 = row.iter().enumerate().map(|(k, p)| k as f32 * p).sum();
        assert!(
            expected > 0.0 && expected < 4.0 && expected.fract() != 0.0,
            "{row:?}"
        );
    }
}

#[test]
fn one_hot_inputs_give_the_token_outputs_of_every_head() {
    // Saliency (`strand interpret`) runs the heads on one-hot floats over the tokenizer's ids
    // (not the text-to-text label tokens appended after them).
    let device = plain();
    device.seed(12);
    for (config, _) in configs() {
        let head = config.init(&device);
        let b = batch(&ROWS, 7, &device);
        let want = head.forward(&b);
        let x = crate::ops::lookup::one_hot(b.tokens.clone(), VOCAB, 2);
        let got = head.forward_one_hot(x, b.mask.clone());
        let d = max_abs_diff(want, got);
        assert!(d < 1e-5, "{}: {d}", config.kind);
    }
}

#[test]
fn a_label_vocabulary_reads_its_ids_without_extending_the_vocabulary() {
    let device = plain();
    device.seed(6);
    let ids = vec![VOCAB as u32 - 1, 104, VOCAB as u32 - 3];
    let vocab = LabelVocab {
        ids: ids.clone(),
        names: vec!["0".into(), "1".into(), "2".into()],
    };
    let config = T5HeadConfig::for_task(tiny(), HeadKind::TextToText, Some(3), None)
        .unwrap()
        .using_label_vocab(vocab.clone())
        .unwrap();
    let T5Head::TextToText(head) = config.init(&device) else {
        panic!("not a text-to-text head")
    };
    assert_eq!(head.t5.vocab_size(), VOCAB);
    let b = batch(&ROWS, 8, &device);
    let out = head.forward(&b);
    let dec = Tensor::<2, Int>::zeros([4, 1], &device);
    let full = head
        .t5
        .forward(b.tokens.clone(), b.mask.clone().int(), dec, None);
    let want: Vec<Tensor<2>> = ids
        .iter()
        .map(|&i| full.clone().narrow(2, i as usize, 1).reshape([4, 1]))
        .collect();
    assert!(max_abs_diff(out, Tensor::cat(want, 1)) < 1e-6);
    // Wrong count, id outside the vocabulary, repeated id, wrong head: errors.
    let two = T5HeadConfig::for_task(tiny(), HeadKind::TextToText, Some(2), None).unwrap();
    assert!(two.using_label_vocab(vocab.clone()).is_err());
    let three = T5HeadConfig::for_task(tiny(), HeadKind::TextToText, Some(3), None).unwrap();
    let mut outside = vocab.clone();
    outside.ids[0] = VOCAB as u32;
    let e = three
        .clone()
        .using_label_vocab(outside)
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside"), "{e}");
    let mut repeated = vocab.clone();
    repeated.ids[2] = repeated.ids[0];
    assert!(three.using_label_vocab(repeated).is_err());
    let pooled = T5HeadConfig::for_task(tiny(), HeadKind::Pooled, Some(3), None).unwrap();
    assert!(pooled.using_label_vocab(vocab).is_err());
}
