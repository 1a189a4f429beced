use super::*;
use crate::classifier::{Objective, SequenceModel, Targets, TokenBatch};
use crate::cnn::CnnConfig;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData, Tolerance};
use rand::{Rng, SeedableRng};

fn layers(text: &str) -> Vec<LayerSpec> {
    let table: toml::Table = toml::from_str(text).unwrap();
    table["layers"].clone().try_into().unwrap()
}

/// The Genomic Benchmarks CNN as a layer list (what `models/cnn-gb.toml` holds).
fn cnn_gb_layers() -> Vec<LayerSpec> {
    layers(
        r#"layers = [
  { type = "conv1d", filters = 16, kernel = 8 }, { type = "batch_norm" },
  { type = "activation", function = "relu" }, { type = "max_pool", size = 2 },
  { type = "conv1d", filters = 8, kernel = 8 }, { type = "batch_norm" },
  { type = "max_pool", size = 2 },
  { type = "conv1d", filters = 4, kernel = 8 }, { type = "batch_norm" },
  { type = "max_pool", size = 2 },
  { type = "flatten" }, { type = "dense", units = 512 }, { type = "output" },
]"#,
    )
}

/// A dilated residual tower with global pooling (the `dilated-resnet` shape, small).
fn residual_layers() -> Vec<LayerSpec> {
    residual_layers_with_dropout(0.1)
}

fn residual_layers_with_dropout(rate: f64) -> Vec<LayerSpec> {
    layers(&format!(
        r#"layers = [
  {{ type = "conv1d", filters = 12, kernel = 5, padding = "same" }}, {{ type = "batch_norm" }},
  {{ type = "activation", function = "gelu" }}, {{ type = "max_pool", size = 2 }},
  {{ type = "residual", name = "d2", layers = [
    {{ type = "activation", function = "gelu" }},
    {{ type = "conv1d", filters = 6, kernel = 3, dilation = 2, padding = "same" }},
    {{ type = "batch_norm" }}, {{ type = "activation", function = "gelu" }},
    {{ type = "conv1d", filters = 12, kernel = 1 }}, {{ type = "batch_norm" }},
    {{ type = "dropout", rate = {rate} }},
  ] }},
  {{ type = "layer_norm" }},
  {{ type = "global_avg_pool" }}, {{ type = "dense", units = 16 }}, {{ type = "batch_norm" }},
  {{ type = "activation", function = "softplus" }}, {{ type = "output" }},
]"#
    ))
}

fn tokens(batch: usize, len: usize, seed: u64, dev: &Device) -> Tensor<2, Int> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let ids: Vec<i64> = (0..batch * len)
        .map(|_| rng.random_range(104..109))
        .collect();
    Tensor::from_data(TensorData::new(ids, [batch, len]), dev)
}

/// The GB CNN's modules (already initialised) laid out as the layer list of `cnn_gb_layers`.
fn as_layer_net(cnn: &crate::cnn::Cnn) -> LayerNet {
    let fixed = |op| Layer::Fixed(Fixed { op });
    let mut layers = Vec::new();
    for (i, b) in cnn.blocks.iter().enumerate() {
        layers.push(Layer::Conv(b.conv.clone()));
        layers.push(Layer::BatchNorm(b.norm.clone()));
        if i == 0 {
            layers.push(fixed(FixedOp::Activation(Activation::Relu)));
        }
        layers.push(Layer::MaxPool(b.pool.clone()));
    }
    layers.push(fixed(FixedOp::Flatten));
    layers.push(Layer::Dense(cnn.hidden.clone()));
    layers.push(Layer::Dense(cnn.output.clone()));
    LayerNet {
        embedding: Some(cnn.embedding.clone()),
        layers,
        vocab_size: 109,
        input_len: cnn.input_len,
        n_out: cnn.n_out,
    }
}

#[test]
fn the_gb_cnn_as_a_layer_list_is_the_gb_cnn_same_weights_same_numbers() {
    // Weights are shared, not re-drawn: the device's seeded RNG is shared by tests running in
    // parallel, so "same seed" cannot be asserted here (the binary's runs reproduce: README).
    let dev = Device::flex().autodiff();
    let x = tokens(6, 83, 1, &dev);
    let batch = TokenBatch {
        mask: x.clone().greater_equal_elem(0),
        tokens: x,
    };
    let objective = Objective::for_classes(Some(3));
    let t = Targets::Classes(Tensor::from_data(
        TensorData::new(vec![0i64, 1, 2, 0, 1, 2], [6]),
        &dev,
    ));
    let cnn = CnnConfig::new(109, 83, 3).init(&dev);
    // Parameters are initialised lazily: materialise them before sharing them.
    let _ = cnn.forward(&batch);
    let net = as_layer_net(&cnn);
    let cfg = LayerNetConfig::new(
        109,
        83,
        3,
        InputSpec::Embedding { dim: 100 },
        cnn_gb_layers(),
    )
    .unwrap();
    assert_eq!(
        cfg.init(&dev).num_params(),
        net.num_params(),
        "same structure"
    );
    let step = |before: Tensor<2>, grads| (before.into_data(), grads);
    let (cnn_before, cnn_grads) = {
        let out = cnn.forward(&batch);
        let g = GradientsParams::from_grads(objective.loss(out.clone(), &t).backward(), &cnn);
        step(out, g)
    };
    let (net_before, net_grads) = {
        let out = net.forward(&batch);
        let g = GradientsParams::from_grads(objective.loss(out.clone(), &t).backward(), &net);
        step(out, g)
    };
    assert_eq!(net_before, cnn_before, "same outputs");
    let cnn = AdamConfig::new().init().step(1e-3, cnn, cnn_grads);
    let net = AdamConfig::new().init().step(1e-3, net, net_grads);
    assert_eq!(
        net.forward(&batch).into_data(),
        cnn.forward(&batch).into_data(),
        "same outputs after one Adam step"
    );
}

#[test]
fn parameter_counts_are_what_burn_builds() {
    let dev = Device::flex();
    // The GB CNN: 67,089 trainable parameters for V 7, 253 tokens (genomic_benchmarks.md §4.3).
    let cfg = LayerNetConfig::new(
        7,
        253,
        1,
        InputSpec::Embedding { dim: 100 },
        cnn_gb_layers(),
    )
    .unwrap();
    assert_eq!(cfg.num_params(), 67_089);
    // burn also counts batch-norm running means and variances: 2 × (16 + 8 + 4).
    assert_eq!(cfg.init(&dev).num_params(), 67_089 + 2 * 28);
    let cfg = LayerNetConfig::new(109, 64, 3, InputSpec::OneHot, residual_layers()).unwrap();
    // Running statistics: batch norms of 12, 6, 12 and 16 features.
    assert_eq!(
        cfg.init(&dev).num_params(),
        cfg.num_params() + 2 * (12 + 6 + 12 + 16)
    );
}

#[test]
fn forward_shapes_over_lengths_and_inputs() {
    let dev = Device::flex();
    for len in [40usize, 64, 301] {
        for n_out in [1usize, 4] {
            let cfg =
                LayerNetConfig::new(109, len, n_out, InputSpec::OneHot, residual_layers()).unwrap();
            let m = cfg.init(&dev).valid();
            assert_eq!(m.forward_tokens(tokens(3, len, 2, &dev)).dims(), [3, n_out]);
        }
    }
    // A first layer that is not a convolution takes the unfolded path.
    let l = layers(
        r#"layers = [{ type = "layer_norm" }, { type = "conv1d", filters = 4, kernel = 3 },
                    { type = "global_max_pool" }, { type = "output" }]"#,
    );
    let cfg = LayerNetConfig::new(109, 30, 2, InputSpec::Embedding { dim: 8 }, l).unwrap();
    assert_eq!(
        cfg.init(&dev).forward_tokens(tokens(2, 30, 3, &dev)).dims(),
        [2, 2]
    );
}

#[test]
fn one_hot_input_is_the_bases_and_one_hot_forward_matches_tokens() {
    let dev = Device::flex();
    let t = one_hot_table(109, &dev)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(
        &t[104 * 4..108 * 4],
        &[
            1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.
        ]
    );
    assert_eq!(&t[108 * 4..109 * 4], &[0.25; 4]);
    assert!(t[..104 * 4].iter().all(|v| *v == 0.0), "specials are zeros");
    for input in [InputSpec::OneHot, InputSpec::Embedding { dim: 5 }] {
        let cfg = LayerNetConfig::new(109, 64, 3, input, residual_layers()).unwrap();
        let m = cfg.init(&dev).valid();
        let x = tokens(4, 64, 4, &dev);
        let want = m.forward_tokens(x.clone());
        let got = m.forward_one_hot(crate::ops::lookup::one_hot(x, 109, 2));
        got.into_data()
            .assert_approx_eq::<f32>(&want.into_data(), Tolerance::rel_abs(1e-4, 1e-5));
    }
}

#[test]
fn one_adam_step_lowers_the_loss() {
    let dev = Device::flex().autodiff();
    dev.seed(3);
    let cfg = LayerNetConfig::new(
        109,
        64,
        1,
        InputSpec::OneHot,
        residual_layers_with_dropout(0.0),
    )
    .unwrap();
    let mut m = cfg.init(&dev);
    let mut optim = AdamConfig::new().init();
    let x = tokens(8, 64, 5, &dev);
    let batch = TokenBatch {
        mask: x.clone().greater_equal_elem(0),
        tokens: x,
    };
    let t = Targets::Classes(Tensor::from_data(
        TensorData::new(vec![0i64, 1, 0, 1, 1, 0, 1, 0], [8]),
        &dev,
    ));
    let o = Objective::BinaryLogit;
    // Training-mode loss (batch statistics); no dropout, so the loss is a function of weights.
    let loss = |m: &LayerNet| o.loss(m.forward(&batch), &t);
    let before: f32 = loss(&m).into_scalar();
    for _ in 0..3 {
        let grads = GradientsParams::from_grads(loss(&m).backward(), &m);
        m = optim.step(1e-2, m, grads);
    }
    let after: f32 = loss(&m).into_scalar();
    assert!(after < before, "loss {before} → {after}");
}

#[test]
fn malformed_lists_name_the_layer_and_the_shapes() {
    let err = |text: &str, len: usize| {
        LayerNetConfig::new(109, len, 1, InputSpec::OneHot, layers(text))
            .unwrap_err()
            .to_string()
    };
    let e = err(
        r#"layers = [{ type = "conv1d", filters = 4, kernel = 3 }, { type = "dense", units = 8 },
                    { type = "output" }]"#,
        20,
    );
    assert!(
        e.contains("layer 2 (dense)") && e.contains("[4 channels × 18]"),
        "{e}"
    );
    let e = err(
        r#"layers = [{ type = "conv1d", filters = 4, kernel = 30 }, { type = "flatten" },
                    { type = "output" }]"#,
        20,
    );
    assert!(
        e.contains("layer 1 (conv1d)") && e.contains("longer than"),
        "{e}"
    );
    let e = err(
        r#"layers = [{ type = "conv1d", filters = 4, kernel = 3 },
                    { type = "residual", name = "bad", layers = [{ type = "conv1d", filters = 5, kernel = 1 }] },
                    { type = "flatten" }, { type = "output" }]"#,
        20,
    );
    assert!(
        e.contains("layer 2 (residual \"bad\")") && e.contains("[5 channels × 18]"),
        "{e}"
    );
    let e = err(
        r#"layers = [{ type = "conv1d", filters = 4, kernel = 3 }, { type = "flatten" }]"#,
        20,
    );
    assert!(
        e.contains("layer 2 (flatten)") && e.contains("output"),
        "{e}"
    );
    let e = err(
        r#"layers = [{ type = "global_max_pool" }, { type = "max_pool", size = 2 },
                    { type = "output" }]"#,
        20,
    );
    assert!(
        e.contains("layer 2 (max_pool)") && e.contains("[4 features]"),
        "{e}"
    );
    let e = err(
        r#"layers = [{ type = "conv1d", filters = 4, kernel = 3, stride = 2, padding = "same" },
                    { type = "flatten" }, { type = "output" }]"#,
        20,
    );
    assert!(
        e.contains("layer 1 (conv1d)") && e.contains("stride 1"),
        "{e}"
    );
    // Unknown keys are refused by serde, naming the key.
    let bad: Result<Vec<LayerSpec>, _> =
        toml::from_str::<toml::Table>(r#"layers = [{ type = "conv1d", filters = 4, kernal = 3 }]"#)
            .unwrap()["layers"]
            .clone()
            .try_into();
    assert!(bad.unwrap_err().to_string().contains("kernal"));
}

#[test]
fn config_round_trips_through_json() {
    let cfg = LayerNetConfig::new(109, 64, 3, InputSpec::OneHot, residual_layers()).unwrap();
    let s = serde_json::to_string(&cfg).unwrap();
    assert_eq!(serde_json::from_str::<LayerNetConfig>(&s).unwrap(), cfg);
}
