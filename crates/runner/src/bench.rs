//! `strand bench`: times training steps (forward, backward, optimizer) of a model preset on
//! synthetic tokens, on any device and precision, and prints samples/s, tokens/s, peak memory,
//! the cold start to the first step and, for T5, the model FLOPs utilisation.
//!
//! What is timed: after `--warmup` steps (the first of which is the cold start), `--steps`
//! steps run back to back with no host synchronisation inside the loop; the clock stops after
//! the last step's loss has been read and the device synchronised. The same batch is reused
//! every step (data loading is not part of the measurement). `scripts/bench_torch.py` does the
//! same in PyTorch.

use crate::config::model_preset::{DataFacts, ModelPreset, ModelSpec};
use crate::engine::backend::{self, Precision};
use crate::engine::batch::PadTo;
use crate::run::model::Weights;
use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::time::Instant;
use strand_model::Tokenizer;
use strand_model::classifier::{Objective, SequenceModel, Targets, TokenBatch};
use strand_model::t5::{T5Config, T5Preset};
use strand_model::tokenize::nucleotide::NucleotideTokenizer;
use strand_model::tokenize::{BOS, EOS, FIRST_REGULAR};

/// What one `strand bench` run measured (the `--json` line).
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub tool: &'static str,
    pub model: String,
    pub device: String,
    /// GPU name where known (`nvidia-smi`), else `cpu`.
    pub device_name: String,
    pub precision: String,
    pub batch: usize,
    /// Encoder tokens (CNN: bases per sequence; the CNN also sees BOS and EOS).
    pub seq_len: usize,
    /// T5 decoder tokens (`null` for the CNN).
    pub dec_len: Option<usize>,
    pub params: usize,
    pub warmup: usize,
    pub steps: usize,
    pub step_ms: f64,
    pub samples_per_s: f64,
    /// Tokens the model reads per second: CNN `batch·(seq_len + 2)`, T5
    /// `batch·(seq_len + dec_len)`.
    pub tokens_per_s: f64,
    /// Seconds from the start of the command to the end of the first training step (model
    /// construction, kernel compilation and autotuning included).
    pub first_step_s: f64,
    /// CPU: the process's peak resident memory (VmHWM). CUDA: device memory held by this
    /// process after the timed steps (`nvidia-smi`; burn's memory pools keep what they reserved,
    /// so this is their high-water mark). `null` when unknown.
    pub peak_mem_bytes: Option<u64>,
    /// Model FLOPs per training step (T5 only; forward ×3, matrix products and attention).
    pub flops_per_step: Option<f64>,
    /// Peak FLOP/s the MFU is relative to, and where it came from.
    pub peak_flops: Option<f64>,
    pub peak_flops_source: Option<String>,
    pub mfu: Option<f64>,
    /// Loss of the last timed step (a finite number shows the steps computed something).
    pub final_loss: f32,
}

/// `strand bench`: what to time.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// `cnn-gb`, `t5-tiny`, `t5-small`, `t5-base`.
    #[arg(long)]
    pub model: String,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Encoder length in tokens (CNN: sequence length in bases).
    #[arg(long, default_value_t = 251)]
    pub seq_len: usize,
    /// T5 decoder length in tokens.
    #[arg(long, default_value_t = 128)]
    pub dec_len: usize,
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[arg(long, default_value = "f32")]
    pub precision: String,
    /// T5 vocabulary size.
    #[arg(long, default_value_t = 4096)]
    pub vocab: usize,
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Peak FLOP/s of the device for MFU (detected for known GPUs).
    #[arg(long)]
    pub peak_flops: Option<f64>,
    /// One JSON object on the last line.
    #[arg(long)]
    pub json: bool,
}

/// Times the training steps `args` asks for.
pub fn bench(args: &BenchArgs) -> Result<BenchReport> {
    let t0 = Instant::now();
    let precision = Precision::parse(&args.precision)?;
    if [
        args.batch,
        args.steps,
        args.warmup,
        args.seq_len,
        args.dec_len,
        args.vocab,
    ]
    .contains(&0)
    {
        bail!("--batch, --steps, --warmup, --seq-len, --dec-len and --vocab must be at least 1");
    }
    let workload = Workload::from_args(args)?;
    // bf16 is the device's float type, set before any tensor exists on it.
    let device = backend::train_device(&args.device, precision)?;
    let timing = time_workload(args, &workload, &device, t0)?;
    Ok(report(args, &workload, timing))
}

/// The model to time, fully sized.
#[derive(Debug, Clone)]
enum Workload {
    /// A CNN preset (cnn-gb, a layer list), sized for `--seq-len` bases and two classes.
    Cnn(ModelSpec),
    T5(T5Config),
}

impl Workload {
    fn from_args(args: &BenchArgs) -> Result<Self> {
        if let Some(preset) = T5PresetFile::load(&args.model)? {
            return Ok(Workload::T5(preset.t5.config(args.vocab)));
        }
        let preset = ModelPreset::load(&args.model)?;
        let facts = DataFacts {
            vocab_size: NucleotideTokenizer.vocab_size(),
            max_train_tokens: args.seq_len,
            variable_length: false,
        };
        match preset.build(facts, Objective::BinaryLogit)? {
            spec @ (ModelSpec::Cnn { .. } | ModelSpec::Layers { .. }) => Ok(Workload::Cnn(spec)),
            ModelSpec::T5 { .. } => unreachable!("T5 presets are loaded above"),
        }
    }
}

/// The embedded T5 presets (`models/t5-*.toml`).
const T5_PRESETS: &[(&str, &str)] = &[
    ("t5-tiny", include_str!("../../../models/t5-tiny.toml")),
    ("t5-small", include_str!("../../../models/t5-small.toml")),
    ("t5-base", include_str!("../../../models/t5-base.toml")),
];

/// A T5 model preset file: `kind = "t5"`, `name`, and the `[t5]` table.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct T5PresetFile {
    #[allow(dead_code)] // checked by `load`
    kind: String,
    #[allow(dead_code)]
    name: String,
    t5: T5Preset,
}

impl T5PresetFile {
    /// The T5 preset named `name_or_path` (embedded name, or a `.toml` path whose `kind` is
    /// `t5`); `None` for anything else.
    fn load(name_or_path: &str) -> Result<Option<Self>> {
        let text = match T5_PRESETS.iter().find(|(n, _)| *n == name_or_path) {
            Some((_, text)) => text.to_string(),
            None => {
                let path = std::path::Path::new(name_or_path);
                if !path.is_file() {
                    return Ok(None);
                }
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading model preset {}", path.display()))?;
                let kind: toml::Table = toml::from_str(&text)
                    .with_context(|| format!("model preset {} is not valid", path.display()))?;
                if kind.get("kind").and_then(|k| k.as_str()) != Some("t5") {
                    return Ok(None);
                }
                text
            }
        };
        let preset: Self = toml::from_str(&text)
            .with_context(|| format!("T5 model preset {name_or_path} is not valid"))?;
        Ok(Some(preset))
    }
}

/// Timings of one run.
#[derive(Debug, Clone, Copy)]
struct Timing {
    first_step_s: f64,
    step_s: f64,
    final_loss: f32,
    params: usize,
    peak_mem_bytes: Option<u64>,
}

/// Times training steps of `workload` on `device` (with autodiff); `t0` is the start of the
/// command (for the cold start).
fn time_workload(
    a: &BenchArgs,
    workload: &Workload,
    device: &Device,
    t0: Instant,
) -> Result<Timing> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    match workload {
        Workload::Cnn(spec) => {
            let model = crate::run::model::build(spec, Weights::Init { pretrained: None }, device)?;
            let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
            let tokens = cnn_tokens(a.batch, a.seq_len, &mut rng, device);
            let batch = TokenBatch {
                mask: tokens.clone().greater_equal_elem(0),
                tokens,
            };
            let labels: Vec<i64> = (0..a.batch).map(|_| rng.random_range(0..2)).collect();
            let targets = Targets::Classes(Tensor::from_data(
                TensorData::new(labels, [a.batch]),
                device,
            ));
            let objective = Objective::BinaryLogit;
            time_training(model, a, device, t0, |model| {
                let loss = objective.loss(model.forward(&batch), &targets);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                (optim.step(1e-3, model, grads), loss)
            })
        }
        Workload::T5(config) => {
            let model = config.init(device);
            let mut optim = AdamWConfig::new().init();
            let ids = random_ids(a.batch, a.seq_len, config.vocab_size, &mut rng, device);
            let mask = Tensor::<2, Int>::ones([a.batch, a.seq_len], device);
            let labels = random_ids(a.batch, a.dec_len, config.vocab_size, &mut rng, device);
            time_training(model, a, device, t0, |model| {
                let out = model.forward_labels(ids.clone(), mask.clone(), labels.clone());
                let grads = GradientsParams::from_grads(out.loss.backward(), &model);
                (optim.step(1e-4, model, grads), out.loss)
            })
        }
    }
}

/// Runs the warm-up and timed steps of `step` (one training step: returns the updated model and
/// the step's loss).
fn time_training<M, F>(
    mut model: M,
    a: &BenchArgs,
    device: &Device,
    t0: Instant,
    mut step: F,
) -> Result<Timing>
where
    M: Module,
    F: FnMut(M) -> (M, Tensor<1>),
{
    let params = model.num_params();
    let sync = || device.sync().map_err(|e| anyhow!("device error: {e:?}"));

    // Cold start: construction (already done), first step, loss on the host.
    let (m, loss) = step(model);
    model = m;
    // The loss as an `f32` whatever the device's float type (bf16 included).
    check_finite(loss.into_scalar::<f32>(), "first")?;
    sync()?;
    let first_step_s = t0.elapsed().as_secs_f64();

    for _ in 1..a.warmup {
        model = step(model).0;
    }
    sync()?;

    let start = Instant::now();
    let mut last = None;
    for _ in 0..a.steps {
        let (m, loss) = step(model);
        model = m;
        last = Some(loss);
    }
    let final_loss = last.expect("steps ≥ 1").into_scalar::<f32>();
    sync()?;
    let step_s = start.elapsed().as_secs_f64() / a.steps as f64;
    check_finite(final_loss, "last")?;
    drop(model);

    Ok(Timing {
        first_step_s,
        step_s,
        final_loss,
        params,
        peak_mem_bytes: peak_memory(&a.device),
    })
}

fn check_finite(loss: f32, which: &str) -> Result<()> {
    if !loss.is_finite() {
        bail!("the {which} benchmark step produced a non-finite loss ({loss})");
    }
    Ok(())
}

/// CNN input: BOS, `len` random bases, EOS.
///
/// # Shapes
/// - output: `[batch, len + 2]`
fn cnn_tokens(batch: usize, len: usize, rng: &mut impl Rng, device: &Device) -> Tensor<2, Int> {
    let mut ids = Vec::with_capacity(batch * (len + 2));
    for _ in 0..batch {
        ids.push(BOS as i64);
        ids.extend((0..len).map(|_| rng.random_range(FIRST_REGULAR..FIRST_REGULAR + 4) as i64));
        ids.push(EOS as i64);
    }
    Tensor::from_data(TensorData::new(ids, [batch, len + 2]), device)
}

/// Random regular token ids (no specials).
///
/// # Shapes
/// - output: `[batch, len]`
fn random_ids(
    batch: usize,
    len: usize,
    vocab: usize,
    rng: &mut impl Rng,
    device: &Device,
) -> Tensor<2, Int> {
    let lo = (FIRST_REGULAR as i64).min(vocab as i64 - 1);
    let ids: Vec<i64> = (0..batch * len)
        .map(|_| rng.random_range(lo..vocab as i64))
        .collect();
    Tensor::from_data(TensorData::new(ids, [batch, len]), device)
}

/// Model FLOPs of one training step of T5 (forward + backward = 3 × forward), counting matrix
/// products only (projections, attention scores and mixing, feed-forward, LM head); the
/// embedding lookups, norms, softmax and element-wise work are left out, as usual for MFU.
pub fn t5_train_flops(c: &T5Config, batch: usize, enc: usize, dec: usize) -> f64 {
    let (d, inner, ff, v) = (
        c.d_model as f64,
        c.inner_dim() as f64,
        c.d_ff as f64,
        c.vocab_size as f64,
    );
    let (s, t) = (enc as f64, dec as f64);
    let ff_mats = match c.feed_forward_proj {
        strand_model::t5::FeedForwardProj::GatedGelu => 3.0,
        strand_model::t5::FeedForwardProj::Relu => 2.0,
    };
    // 2 FLOPs per multiply-add.
    let enc_layer = 2.0 * (4.0 * s * d * inner + 2.0 * s * s * inner + ff_mats * s * d * ff);
    let dec_layer = 2.0
        * (4.0 * t * d * inner // self-attention projections
            + 2.0 * t * t * inner // self-attention scores and mixing
            + 2.0 * t * d * inner + 2.0 * s * d * inner // cross-attention q, o and k, v
            + 2.0 * t * s * inner // cross-attention scores and mixing
            + ff_mats * t * d * ff);
    let head = 2.0 * t * d * v;
    let forward = c.num_layers as f64 * enc_layer + c.num_decoder_layers as f64 * dec_layer + head;
    3.0 * forward * batch as f64
}

/// Dense (no sparsity) peak FLOP/s of known GPUs for a precision: bf16 tensor cores, and for
/// f32 the TF32 tensor-core rate (the most an f32 matrix product can reach on these chips).
/// NVIDIA datasheet figures: H100 SXM 989.4 (bf16) / 494.7 (tf32) TFLOP/s, H100 PCIe 756 /
/// 378, H100 NVL 835 / 418, H200 989.4 / 494.7.
pub fn known_peak_flops(gpu_name: &str, precision: Precision) -> Option<f64> {
    let n = gpu_name.to_ascii_uppercase();
    let (bf16, tf32) = if n.contains("H200") {
        (989.4e12, 494.7e12)
    } else if n.contains("H100") && n.contains("PCIE") {
        (756.0e12, 378.0e12)
    } else if n.contains("H100") && n.contains("NVL") {
        (835.0e12, 417.5e12)
    } else if n.contains("H100") {
        (989.4e12, 494.7e12)
    } else {
        return None;
    };
    Some(match precision {
        Precision::Bf16 => bf16,
        Precision::F32 => tf32,
    })
}

/// Name of the first GPU (`nvidia-smi`), if any.
fn gpu_name() -> Option<String> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    s.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

/// See [`BenchReport::peak_mem_bytes`].
fn peak_memory(device: &str) -> Option<u64> {
    if device == "cpu" {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        return parse_vm_hwm(&status);
    }
    let out = std::process::Command::new("nvidia-smi")
        .args([
            "--query-compute-apps=pid,used_memory",
            "--format=csv,noheader,nounits",
        ])
        .output()
        .ok()?;
    let pid = std::process::id().to_string();
    String::from_utf8(out.stdout).ok()?.lines().find_map(|l| {
        let (p, mib) = l.split_once(',')?;
        (p.trim() == pid).then(|| mib.trim().parse::<u64>().ok().map(|m| m << 20))?
    })
}

/// `VmHWM` of `/proc/self/status`, in bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn report(a: &BenchArgs, w: &Workload, t: Timing) -> BenchReport {
    let precision = Precision::parse(&a.precision).unwrap_or(Precision::F32);
    let (tokens_per_sample, dec_len, flops) = match w {
        Workload::Cnn(spec) => match spec.input_format().pad_to {
            PadTo::Fixed(n) => (n, None, None),
            PadTo::Longest { max } => (max, None, None),
        },
        Workload::T5(c) => (
            a.seq_len + a.dec_len,
            Some(a.dec_len),
            Some(t5_train_flops(c, a.batch, a.seq_len, a.dec_len)),
        ),
    };
    let on_gpu = a.device != "cpu";
    let name = if on_gpu { gpu_name() } else { None };
    let (peak, source) = match (a.peak_flops, &name) {
        (Some(p), _) => (Some(p), Some("--peak-flops".to_string())),
        (None, Some(n)) => match known_peak_flops(n, precision) {
            Some(p) => (Some(p), Some(format!("datasheet, dense, {n}"))),
            None => (None, None),
        },
        _ => (None, None),
    };
    let mfu = match (flops, peak) {
        (Some(f), Some(p)) => Some(f / t.step_s / p),
        _ => None,
    };
    BenchReport {
        tool: "strand",
        model: a.model.clone(),
        device: a.device.clone(),
        device_name: name.unwrap_or_else(|| if on_gpu { "unknown GPU" } else { "cpu" }.into()),
        precision: a.precision.clone(),
        batch: a.batch,
        seq_len: a.seq_len,
        dec_len,
        params: t.params,
        warmup: a.warmup,
        steps: a.steps,
        step_ms: t.step_s * 1e3,
        samples_per_s: a.batch as f64 / t.step_s,
        tokens_per_s: (a.batch * tokens_per_sample) as f64 / t.step_s,
        first_step_s: t.first_step_s,
        peak_mem_bytes: t.peak_mem_bytes,
        flops_per_step: flops,
        peak_flops: peak,
        peak_flops_source: source,
        mfu,
        final_loss: t.final_loss,
    }
}

pub fn print_human(r: &BenchReport) {
    let dec = r.dec_len.map(|d| format!(" → {d}")).unwrap_or_default();
    println!(
        "{} on {} ({}), {}, batch {} × {}{} tokens, {} params",
        r.model, r.device, r.device_name, r.precision, r.batch, r.seq_len, dec, r.params
    );
    println!(
        "  {:.2} ms/step over {} steps after {} warm-up: {:.1} samples/s, {:.0} tokens/s",
        r.step_ms, r.steps, r.warmup, r.samples_per_s, r.tokens_per_s
    );
    let mem = r
        .peak_mem_bytes
        .map(|b| format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64))
        .unwrap_or_else(|| "n/a".into());
    println!(
        "  first step done {:.2} s after start; peak memory {mem}; final loss {:.4}",
        r.first_step_s, r.final_loss
    );
    if let Some(f) = r.flops_per_step {
        match (r.mfu, r.peak_flops) {
            (Some(m), Some(p)) => println!(
                "  {:.2} TFLOP/step, {:.1} TFLOP/s: MFU {:.1}% of {:.1} TFLOP/s ({})",
                f / 1e12,
                f / (r.step_ms / 1e3) / 1e12,
                m * 100.0,
                p / 1e12,
                r.peak_flops_source.as_deref().unwrap_or("")
            ),
            _ => println!(
                "  {:.2} TFLOP/step, {:.2} TFLOP/s (no peak known: pass --peak-flops for MFU)",
                f / 1e12,
                f / (r.step_ms / 1e3) / 1e12
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(model: &str, batch: usize, seq_len: usize) -> BenchArgs {
        BenchArgs {
            model: model.into(),
            batch,
            seq_len,
            dec_len: 8,
            device: "cpu".into(),
            precision: "f32".into(),
            vocab: 300,
            warmup: 1,
            steps: 2,
            peak_flops: Some(1e12),
            json: true,
        }
    }

    fn measure(a: &BenchArgs) -> BenchReport {
        let w = Workload::from_args(a).unwrap();
        let device = backend::train_device("cpu", Precision::F32).unwrap();
        let t = time_workload(a, &w, &device, Instant::now()).unwrap();
        report(a, &w, t)
    }

    #[test]
    fn cnn_and_t5_benchmarks_run_on_the_cpu_and_report_consistent_rates() {
        let r = measure(&args("cnn-gb", 4, 60));
        assert_eq!(
            r.params,
            strand_model::cnn::CnnConfig::new(109, 62, 1)
                .init(&backend::cpu())
                .num_params()
        );
        assert!(r.samples_per_s > 0.0 && r.final_loss.is_finite());
        assert!((r.tokens_per_s / r.samples_per_s - 62.0).abs() < 1e-6);
        assert!((r.step_ms / 1e3 * r.samples_per_s - 4.0).abs() < 1e-6);
        assert!(r.first_step_s > 0.0 && r.peak_mem_bytes.is_some() && r.mfu.is_none());

        let r = measure(&args("t5-tiny", 2, 16));
        assert_eq!(r.dec_len, Some(8));
        assert!((r.tokens_per_s / r.samples_per_s - 24.0).abs() < 1e-6);
        let flops = r.flops_per_step.unwrap();
        assert!((r.mfu.unwrap() - flops / (r.step_ms / 1e3) / 1e12).abs() < 1e-9);
        assert!(r.final_loss.is_finite());
    }

    #[test]
    fn unknown_models_and_zero_sizes_are_errors() {
        assert!(Workload::from_args(&args("cnn-nope", 4, 60)).is_err());
        // A zero length panicked inside burn before it was checked.
        for a in [args("t5-tiny", 2, 0), args("cnn-gb", 0, 60)] {
            let e = bench(&a).unwrap_err().to_string();
            assert!(e.contains("must be at least 1"), "{e}");
        }
    }

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let s = "Name:\tstrand\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(s), Some(1234 * 1024));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn t5_flops_match_a_hand_count() {
        // One encoder and one decoder layer, d 2, inner 2 (1 head × 2), d_ff 4, gated, vocab 3,
        // S 5, T 3, batch 1:
        // enc = 2·(4·5·2·2 + 2·25·2 + 3·5·2·4) = 2·(80 + 100 + 120) = 600
        // dec = 2·(4·3·2·2 + 2·9·2 + 2·3·2·2 + 2·5·2·2 + 2·3·5·2 + 3·3·2·4)
        //     = 2·(48 + 36 + 24 + 40 + 60 + 72) = 560
        // head = 2·3·2·3 = 36; training = 3·(600 + 560 + 36) = 3588
        let c = T5Config::new(3)
            .with_d_model(2)
            .with_d_kv(2)
            .with_num_heads(1)
            .with_d_ff(4)
            .with_num_layers(1)
            .with_num_decoder_layers(1);
        assert_eq!(t5_train_flops(&c, 1, 5, 3), 3588.0);
        assert_eq!(t5_train_flops(&c, 4, 5, 3), 4.0 * 3588.0);
    }

    #[test]
    fn embedded_t5_presets_parse_and_t5_small_has_the_issue_shape() {
        for (name, _) in T5_PRESETS {
            assert!(T5PresetFile::load(name).unwrap().is_some(), "{name}");
        }
        let c = T5PresetFile::load("t5-small")
            .unwrap()
            .unwrap()
            .t5
            .config(4096);
        assert_eq!((c.d_model, c.num_heads, c.d_kv, c.d_ff), (512, 6, 64, 1024));
        assert_eq!((c.num_layers, c.num_decoder_layers), (8, 8));
        assert!(T5PresetFile::load("cnn-gb").unwrap().is_none());
    }

    #[test]
    fn known_gpus_have_peaks_and_others_none() {
        let h100 = known_peak_flops("NVIDIA H100 80GB HBM3", Precision::Bf16).unwrap();
        assert_eq!(h100, 989.4e12);
        assert_eq!(
            known_peak_flops("NVIDIA H100 PCIe", Precision::F32),
            Some(378.0e12)
        );
        assert!(known_peak_flops("NVIDIA GeForce RTX 3090", Precision::Bf16).is_none());
    }
}
