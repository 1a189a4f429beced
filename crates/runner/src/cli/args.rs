//! Command-line structs (clap). No logic lives here: `main.rs` dispatches each subcommand to its
//! module.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub use crate::bench::BenchArgs;
use crate::config::ExperimentConfig;

#[derive(Debug, Parser)]
#[command(
    name = "strand",
    version,
    about = "Train and evaluate genomic sequence models on public benchmarks, on CPU or GPU."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// One `Command` is parsed per process: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in tasks.
    Tasks(TasksArgs),
    /// The model presets: list them, or show one's layers and parameter counts.
    #[command(subcommand)]
    Models(crate::cli::models::ModelsCommand),
    /// Inspect and convert task data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Download a task or suite into the cache.
    Fetch(FetchArgs),
    /// Train (or fine-tune) a model on a task.
    Train(TrainArgs),
    /// Evaluate a finished run on a split.
    Eval(EvalArgs),
    /// Score new sequences (FASTA, CSV/TSV, BED regions, stdin) or variants (VCF) with a
    /// finished run.
    Predict(PredictArgs),
    /// Write a run or pretraining checkpoint in another framework's format (`--format hf`: a
    /// Hugging Face T5 directory).
    Export(crate::cli::export::ExportArgs),
    /// What a finished run looks at: in-silico mutagenesis or gradient × input per base, as a
    /// TSV and one SVG sequence logo per sequence.
    Interpret(crate::cli::interpret::InterpretArgs),
    /// Print a score table for run directories, next to the published numbers.
    Report(ReportArgs),
    /// Span-corruption pretraining of a T5 model on a FASTA corpus.
    Pretrain(PretrainArgs),
    /// Train or inspect tokenizers.
    #[command(subcommand)]
    Tokenizer(TokenizerCommand),
    /// Run a grid of trainings (tokenizer × model × task × seed), resumable, then report.
    Sweep(SweepArgs),
    /// Time training steps on synthetic tokens.
    Bench(BenchArgs),
    /// Train the CNN on an embedded synthetic promoter task and print the report (no download).
    Quickstart(QuickstartArgs),
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Counts per split and class, lengths, N fraction.
    Stats(DataStatsArgs),
    /// Print the first records of a task.
    Head(DataHeadArgs),
    /// Write a task's splits for other tools: GB layout, FASTA, CSV, TSV or Parquet.
    Export(DataExportArgs),
}

/// Where a task's data lives.
#[derive(Debug, Clone, Args)]
pub struct DataLocation {
    /// Directory holding the suite's files (default: the cache, see `strand fetch`).
    #[arg(long, env = "STRAND_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Reference genome FASTA (plain or bgzip) for interval-based tasks.
    #[arg(long)]
    pub reference: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DataStatsArgs {
    pub task: String,
    #[command(flatten)]
    pub loc: DataLocation,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DataHeadArgs {
    pub task: String,
    #[command(flatten)]
    pub loc: DataLocation,
    /// Number of records.
    #[arg(short = 'n', default_value_t = 5)]
    pub n: usize,
    /// Split to read.
    #[arg(long, default_value = "train")]
    pub split: String,
}

/// `strand data export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormatArg {
    /// Genomic Benchmarks native layout: `<split>/<class>/<id>.txt`.
    Gb,
    /// One FASTA per split, `>ID label=NAME label_index=I`.
    Fasta,
    /// One CSV per split: `id,sequence,label[,label_index]`.
    Csv,
    /// One TSV per split, the CSV's columns.
    Tsv,
    /// One Parquet file per split, the CSV's columns (cargo feature `parquet`, on by default).
    Parquet,
}

#[derive(Debug, Args)]
pub struct DataExportArgs {
    pub task: String,
    #[command(flatten)]
    pub loc: DataLocation,
    /// Output root; the dataset goes to `<to>/<name>/` (one file per split, `card.json`,
    /// `split.json`; gb: `<to>/<name>/<split>/<class>/<id>.txt`).
    #[arg(long)]
    pub to: PathBuf,
    #[arg(long, value_enum, default_value = "gb")]
    pub format: ExportFormatArg,
    /// Folder name under --to (default: the task's name, e.g. `ecoli`).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace a non-empty `<to>/<name>` (written beside it first, swapped in at the end).
    #[arg(long)]
    pub overwrite: bool,
    /// Seed of the splits strand derives (as `train`'s `[split] seed`; train's default is its
    /// training seed, 0 unless given).
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Fraction of the pool (or of train, when the publisher ships a test split) that becomes
    /// the derived validation split; 0 derives none (GB: the publisher's train/test as they are).
    #[arg(long)]
    pub valid_frac: Option<f64>,
    /// Fraction of the pool that becomes the derived test split, for tasks without one.
    #[arg(long)]
    pub test_frac: Option<f64>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// A task (`gb/human_nontata_promoters`) or a suite (`gb`, `guanine`), or `reference/<name>`.
    pub target: String,
    /// Cache directory (default `$STRAND_CACHE` or the user's cache dir).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Base URL to download from instead of the publisher's host (same layout).
    #[arg(long)]
    pub mirror: Option<String>,
    /// Genomic Benchmarks: build from interval files and the reference genome instead of the
    /// archives.
    #[arg(long)]
    pub reference: bool,
    /// A directory that may already hold the data (`<dir>/gb/<name>`, `<dir>/<name>`, ...):
    /// what is found there is used as it is and nothing is downloaded.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `strand train`: the experiment's flags (see [`ExperimentConfig`]) and what only the command
/// line says.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Experiment config (TOML, same fields as the flags); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub exp: ExperimentConfig,
    /// Run several seeds (a count, or a comma-separated list) into `<out>/seed-<n>/`.
    #[arg(long)]
    pub seeds: Option<String>,
    #[command(flatten)]
    pub loc: DataLocation,
    /// Replace an existing finished run directory.
    #[arg(long)]
    pub overwrite: bool,
    /// Continue from the last checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
    /// Skip batches whose loss is not finite instead of stopping.
    #[arg(long)]
    pub skip_nonfinite: bool,
}

/// `--init hf:DIR` for `strand eval` and `strand predict`: score a published Hugging Face T5 as
/// it is (text-to-text through its output vocabulary) instead of a strand run.
#[derive(Debug, Clone, Args)]
pub struct HfInitArgs {
    /// A local snapshot of a Hugging Face T5 model repository (`hf:DIR`), scored as published.
    #[arg(long, value_name = "hf:DIR", conflicts_with = "run")]
    pub init: Option<PathBuf>,
    /// With --init: the task whose labels the model emits (e.g. `guanine/dnase_propensity`).
    #[arg(long, requires = "init")]
    pub task: Option<String>,
    /// With --init: the head (only `text`, the model's own LM head).
    #[arg(long, requires = "init")]
    pub head: Option<String>,
    /// With --init: the output vocabulary naming the label tokens (`hf:DIR`).
    #[arg(long, value_name = "hf:DIR", requires = "init")]
    pub label_vocab: Option<PathBuf>,
}

impl HfInitArgs {
    /// The experiment these flags describe (`None` without --init).
    pub fn experiment(&self, loc: Option<&DataLocation>) -> Option<ExperimentConfig> {
        let init = self.init.clone()?;
        Some(ExperimentConfig {
            task: self.task.clone(),
            init: Some(init),
            head: Some(self.head.clone().unwrap_or_else(|| "text".into())),
            label_vocab: self.label_vocab.clone(),
            data_dir: loc.and_then(|l| l.data_dir.clone()),
            reference: loc.and_then(|l| l.reference.clone()),
            ..ExperimentConfig::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Run directory (with --init: the run directory to create for the published model).
    #[arg(long, required_unless_present = "init")]
    pub run: Option<PathBuf>,
    #[command(flatten)]
    pub hf: HfInitArgs,
    /// With --init: the run directory to write (config, model, scores).
    #[arg(long, requires = "init")]
    pub out: Option<PathBuf>,
    /// With --init: replace an existing run in --out.
    #[arg(long, requires = "init")]
    pub overwrite: bool,
    /// Split to evaluate.
    #[arg(long, default_value = "test")]
    pub split: String,
    #[command(flatten)]
    pub loc: DataLocation,
    #[arg(long)]
    pub device: Option<String>,
    /// Also write per-record predictions (always written for unlabelled splits).
    #[arg(long)]
    pub predictions: bool,
    /// Score as the mean of the outputs on both strands (always, for a run trained with
    /// --rc-average).
    #[arg(long)]
    pub rc_average: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").args(["fasta", "csv", "tsv", "bed", "variants"])))]
pub struct PredictArgs {
    /// A finished run directory (its model.json, model.bpk and config).
    #[arg(long, required_unless_present = "init")]
    pub run: Option<PathBuf>,
    #[command(flatten)]
    pub hf: HfInitArgs,
    /// FASTA file (plain or gzip). Without any input flag, FASTA is read from standard input.
    #[arg(long)]
    pub fasta: Option<PathBuf>,
    /// CSV file with a `sequence` column and an optional `id` column.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// TSV file with a `sequence` column and an optional `id` column.
    #[arg(long)]
    pub tsv: Option<PathBuf>,
    /// BED regions, cut from --reference: --window bases centred on each region (default: the
    /// task's fixed length when it has one), else the region itself.
    #[arg(long, requires = "reference")]
    pub bed: Option<PathBuf>,
    /// VCF of single-nucleotide variants: the reference and alternative windows of --window
    /// bases centred on each, and their score difference.
    #[arg(long, requires = "reference")]
    pub variants: Option<PathBuf>,
    /// Reference genome (FASTA, plain or bgzip) for --bed and --variants.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Window length in bases for --bed and --variants.
    #[arg(long, value_name = "BASES")]
    pub window: Option<usize>,
    /// Output TSV (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// `cpu` or `cuda[:N]` (default: the run's device).
    #[arg(long)]
    pub device: Option<String>,
    /// Mean of the outputs on both strands (each sequence and its reverse complement).
    #[arg(long)]
    pub rc_average: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Json,
    /// One self-contained page: tables, learning curves, ROC/PR or scatter, configs.
    Html,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run directories (searched recursively for `scores.json`).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these metrics (comma-separated, e.g. `mcc,auroc`; a metric keeps its per-sub-task
    /// rows `metric:sub`). Default: every metric of each task.
    #[arg(long, value_delimiter = ',')]
    pub metrics: Option<Vec<String>>,
    /// GUANinE's full catalogue of published test scores (`fullscores.csv`): `--format html`
    /// lists every model's score for each GUANinE task of the report around ours.
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// Pretraining config (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Run directory (default from the config).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the number of steps.
    #[arg(long, conflicts_with = "bases")]
    pub steps: Option<usize>,
    /// Budget in bases of corpus instead of steps (the same for every tokenizer: steps follow
    /// from the bases one example covers).
    #[arg(long)]
    pub bases: Option<u64>,
    #[arg(long)]
    pub device: Option<String>,
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train a tokenizer on a FASTA corpus.
    Train(TokenizerTrainArgs),
    /// Tokenize a sequence and print the tokens.
    Encode(TokenizerEncodeArgs),
}

#[derive(Debug, Args)]
pub struct TokenizerTrainArgs {
    /// Only `bpe` is trained; `nucleotide` and `kmer` need no training.
    #[arg(long, default_value = "bpe")]
    pub kind: String,
    /// Vocabulary size, specials included.
    #[arg(long, default_value_t = 4096)]
    pub vocab: usize,
    /// FASTA or FASTA.gz corpus.
    #[arg(long)]
    pub input: PathBuf,
    /// Output `tokenizer.json`.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Chunk length in bases fed to the trainer (DNA has no spaces).
    #[arg(long, default_value_t = 1000)]
    pub chunk: usize,
    /// Stop reading the corpus after this many bases.
    #[arg(long)]
    pub max_bases: Option<usize>,
}

#[derive(Debug, Args)]
pub struct TokenizerEncodeArgs {
    /// Tokenizer (`nucleotide`, `kmer:K[:STRIDE]`, `bpe:PATH`).
    #[arg(long)]
    pub tokenizer: String,
    /// The sequence.
    pub sequence: String,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[arg(long)]
    pub config: PathBuf,
    /// Root directory of the sweep's runs.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scale the config's compute: multiplies its `budget` (pretraining bases or steps, and
    /// each cell's fine-tuning steps, epochs × epoch_steps, by growing the epochs). Use a new
    /// --out for a new budget: finished runs are skipped whatever their budget.
    #[arg(long)]
    pub budget: Option<f64>,
    #[command(flatten)]
    pub loc: DataLocation,
}

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Run directory (default: a temporary directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
