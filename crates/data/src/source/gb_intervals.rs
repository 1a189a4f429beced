//! Genomic Benchmarks as the repository ships it: interval files cut out of reference genomes.
//!
//! ```text
//! <dataset>/metadata.yaml            version + classes: {<class>: {url, type, extra_processing?}}
//! <dataset>/<split>/<class>.csv.gz   header id,region,start,end,strand (0-based, half-open)
//! ```
//!
//! - Class index = position of the class name in **sorted** order (upstream labels classes in
//!   file-system order, which varies between machines; see `genomic_benchmarks.md` §3).
//! - `strand` `-` means reverse complement; empty or `+` means forward.
//! - Chromosome renaming (`extra_processing`) maps the **FASTA record names** to the names the
//!   CSVs use, per class, as upstream does ([`Renaming`]). Classes that read the same FASTA URL
//!   share the renaming of the one that declares it: this fixes `drosophila_enhancers_stark`,
//!   whose negative class lacks the rule its CSVs need (upstream's result depends on load order).
//! - A region not found after renaming is also tried verbatim (a reference that already uses the
//!   CSV names, e.g. UCSC `chr1`), and `chrMT` falls back to UCSC's `chrM`.
//! - Without a reference the source still opens: [`GbIntervals::intervals`] streams the interval
//!   rows (enough for counts and lengths, `strand data stats`), while
//!   [`Source::records`] explains that sequences need `--reference`.

use super::compressed::{csv_error, open_text};
use crate::card::{LabelKind, TaskCard};
use crate::reference::Reference;
use crate::{DataError, Label, Metric, Record, RecordIter, Result, Source, Split, Suite, seq};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One of upstream's `extra_processing` renamings (`loc2seq.py` `EXTRA_PREPROCESSING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Renaming {
    /// No `extra_processing`: FASTA names are used as they are.
    Identity,
    /// `ENSEMBL_HUMAN_GENOME` / `ENSEMBL_MOUSE_GENOME`: prefix `chr` (`1` → `chr1`, `MT` → `chrMT`).
    ChrPrefix,
    /// `ENSEMBL_DROSOPHILA_GENOME`: `mitochondrion_genome` → `chrM`, others prefixed with `chr`.
    Drosophila,
    /// `ENSEMBL_HUMAN_TRANSCRIPTOME`: strip the version (`ENST00000217185.7` → `ENST00000217185`).
    StripVersion,
}

impl Renaming {
    /// Parses a `metadata.yaml` `extra_processing` value.
    pub fn parse(extra_processing: Option<&str>) -> std::result::Result<Self, String> {
        Ok(match extra_processing {
            None => Renaming::Identity,
            Some("ENSEMBL_HUMAN_GENOME" | "ENSEMBL_MOUSE_GENOME") => Renaming::ChrPrefix,
            Some("ENSEMBL_DROSOPHILA_GENOME") => Renaming::Drosophila,
            Some("ENSEMBL_HUMAN_TRANSCRIPTOME") => Renaming::StripVersion,
            Some(other) => return Err(format!("unknown extra_processing {other:?}")),
        })
    }

    /// The name the dataset's CSVs use for the FASTA record named `fasta_name`.
    ///
    /// ```
    /// use strand_data::source::gb_intervals::Renaming;
    /// assert_eq!(Renaming::ChrPrefix.apply("MT"), "chrMT");
    /// assert_eq!(Renaming::Drosophila.apply("mitochondrion_genome"), "chrM");
    /// assert_eq!(Renaming::Drosophila.apply("2L"), "chr2L");
    /// assert_eq!(Renaming::StripVersion.apply("ENST00000217185.7"), "ENST00000217185");
    /// assert_eq!(Renaming::Identity.apply("MtDNA"), "MtDNA");
    /// ```
    pub fn apply(&self, fasta_name: &str) -> String {
        match self {
            Renaming::Identity => fasta_name.to_string(),
            Renaming::ChrPrefix => format!("chr{fasta_name}"),
            Renaming::Drosophila if fasta_name == "mitochondrion_genome" => "chrM".to_string(),
            Renaming::Drosophila => format!("chr{fasta_name}"),
            Renaming::StripVersion => match fasta_name.rsplit_once('.') {
                Some((base, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                    base.to_string()
                }
                _ => fasta_name.to_string(),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
struct Metadata {
    version: serde_yaml::Value,
    classes: BTreeMap<String, ClassMeta>,
}

#[derive(Debug, Deserialize)]
struct ClassMeta {
    url: String,
    #[serde(rename = "type")]
    _kind: Option<String>,
    extra_processing: Option<String>,
}

/// A class of a dataset, as `metadata.yaml` describes it (after the shared-FASTA fix).
#[derive(Debug, Clone, PartialEq)]
pub struct GbClass {
    pub name: String,
    /// The reference FASTA the class is cut from.
    pub url: String,
    pub renaming: Renaming,
}

/// One interval row of a class file.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    /// Class index (sorted class order).
    pub class: u32,
    /// The row's `id` (unique within its class file only).
    pub id: String,
    pub region: String,
    /// 0-based, half-open.
    pub start: u64,
    pub end: u64,
    /// `strand == "-"`.
    pub reverse: bool,
    /// 1-based line number in the CSV (header = line 1).
    pub line: u64,
    pub file: Arc<PathBuf>,
}

/// How `--reference` names the FASTA of each class.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferenceChoice {
    /// One FASTA for every class.
    File(PathBuf),
    /// A directory holding each class's FASTA under the file name of its `metadata.yaml` URL
    /// (as upstream's `fasta/` cache), bgzip as named or decompressed without the `.gz`.
    Dir(PathBuf),
    /// `CLASS=PATH,CLASS=PATH`.
    PerClass(BTreeMap<String, PathBuf>),
}

impl ReferenceChoice {
    /// A directory, an existing file, or else `CLASS=PATH,…`.
    pub fn parse(arg: &Path) -> Result<Self> {
        if arg.is_dir() {
            return Ok(ReferenceChoice::Dir(arg.to_path_buf()));
        }
        let s = arg.to_string_lossy();
        if !arg.exists() && s.contains('=') {
            let mut map = BTreeMap::new();
            for part in s.split(',').filter(|p| !p.is_empty()) {
                let (class, path) = part.split_once('=').ok_or_else(|| {
                    DataError::Invalid(format!(
                        "--reference {s:?}: expected CLASS=PATH,CLASS=PATH (got {part:?})"
                    ))
                })?;
                map.insert(class.to_string(), PathBuf::from(path));
            }
            return Ok(ReferenceChoice::PerClass(map));
        }
        Ok(ReferenceChoice::File(arg.to_path_buf()))
    }
}

/// A class's reference handle and its CSV-name → FASTA-name table.
struct ClassRef {
    reference: Arc<Mutex<Reference>>,
    lookup: Arc<HashMap<String, String>>,
}

/// A Genomic Benchmarks dataset read from its interval files (see the module docs).
pub struct GbIntervals {
    root: PathBuf,
    card: TaskCard,
    classes: Vec<GbClass>,
    splits: Vec<Split>,
    refs: Option<Vec<ClassRef>>,
}

/// Folder name of a split in the Genomic Benchmarks layouts.
pub(crate) fn gb_split_dir(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Valid => "valid",
        Split::Test => "test",
        Split::FewShot => "1per",
    }
}

/// The built-in card `gb/<dataset>` if there is one (its classes must match the data), else a
/// card built from what the data shows.
pub(crate) fn gb_card(
    dataset: &str,
    classes: &[String],
    splits: &[Split],
    version: String,
    origin: &Path,
) -> Result<TaskCard> {
    let name = format!("gb/{dataset}");
    if let Ok(card) = crate::registry::card(&name) {
        if card.labels
            != (LabelKind::Classes {
                names: classes.to_vec(),
            })
        {
            return Err(DataError::BadFile {
                path: origin.to_path_buf(),
                message: format!(
                    "classes {classes:?} do not match the built-in card of {name} ({:?})",
                    card.labels
                ),
            });
        }
        return Ok(card.clone());
    }
    Ok(TaskCard {
        name,
        suite: Suite::GenomicBenchmarks,
        version,
        description: format!("Genomic Benchmarks layout at {}", origin.display()),
        labels: LabelKind::Classes {
            names: classes.to_vec(),
        },
        length: None,
        metrics: vec![Metric::Accuracy, Metric::F1, Metric::Mcc],
        splits: splits.to_vec(),
        eval_split: if splits.contains(&Split::Test) {
            Split::Test
        } else {
            Split::Valid
        },
        published: vec![],
        records: None,
        caveats: vec![],
    })
}

impl GbIntervals {
    /// Opens `<dir>` (`metadata.yaml` + split folders). With `reference`, sequences can be
    /// produced; without, only [`GbIntervals::intervals`] works.
    pub fn open(dir: &Path, reference: Option<&ReferenceChoice>) -> Result<Self> {
        let meta_path = dir.join("metadata.yaml");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                DataError::NotFound {
                    what: "Genomic Benchmarks metadata.yaml",
                    path: meta_path.clone(),
                }
            } else {
                DataError::io(&meta_path, e)
            }
        })?;
        let meta: Metadata = serde_yaml::from_str(&text).map_err(|e| DataError::BadFile {
            path: meta_path.clone(),
            message: e.to_string(),
        })?;
        if meta.classes.len() < 2 {
            return Err(DataError::BadFile {
                path: meta_path,
                message: "a dataset needs at least two classes".into(),
            });
        }
        // BTreeMap: classes in sorted order.
        let mut classes = Vec::new();
        for (name, c) in &meta.classes {
            let renaming =
                Renaming::parse(c.extra_processing.as_deref()).map_err(|m| DataError::BadFile {
                    path: meta_path.clone(),
                    message: format!("class {name}: {m}"),
                })?;
            classes.push(GbClass {
                name: name.clone(),
                url: c.url.clone(),
                renaming,
            });
        }
        share_renaming_per_fasta(&mut classes);

        let mut splits = Vec::new();
        for split in [Split::Train, Split::Valid, Split::Test] {
            if dir.join(gb_split_dir(split)).is_dir() {
                splits.push(split);
            }
        }
        let dataset = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
        let version = match &meta.version {
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        };
        let card = gb_card(&dataset, &names, &splits, version, &meta_path)?;
        // Genomic Benchmarks always ships train and test (and never a validation split).
        for split in [Split::Train, Split::Test].iter().chain(&card.splits) {
            let folder = dir.join(gb_split_dir(*split));
            if !folder.is_dir() {
                return Err(DataError::BadFile {
                    path: dir.to_path_buf(),
                    message: format!(
                        "task folder is missing split {split} (expected {}/<class>.csv.gz)",
                        folder.display()
                    ),
                });
            }
        }
        for split in &splits {
            for c in &classes {
                let f = class_file(dir, *split, &c.name);
                if !f.is_file() {
                    return Err(DataError::NotFound {
                        what: "class interval file",
                        path: f,
                    });
                }
            }
        }
        let refs = reference
            .map(|choice| open_references(&classes, choice))
            .transpose()?;
        Ok(GbIntervals {
            root: dir.to_path_buf(),
            card,
            classes,
            splits,
            refs,
        })
    }

    /// The classes, in index order.
    pub fn classes(&self) -> &[GbClass] {
        &self.classes
    }

    /// Whether sequences can be produced (a reference was given).
    pub fn has_reference(&self) -> bool {
        self.refs.is_some()
    }

    /// The interval rows of `split`, class by class in index order, lazily. An empty class file
    /// is an error (never a silently smaller dataset).
    pub fn intervals(
        &self,
        split: Split,
    ) -> Result<impl Iterator<Item = Result<IntervalRow>> + Send + 'static> {
        DataError::require_split(&self.card.name, split, &self.splits)?;
        let files: Vec<(String, PathBuf)> = self
            .classes
            .iter()
            .map(|c| (c.name.clone(), class_file(&self.root, split, &c.name)))
            .collect();
        Ok(IntervalRows {
            files,
            split,
            next_class: 0,
            current: None,
            done: false,
        })
    }
}

fn class_file(root: &Path, split: Split, class: &str) -> PathBuf {
    root.join(gb_split_dir(split))
        .join(format!("{class}.csv.gz"))
}

/// Classes cut from the same FASTA URL share the renaming of the one that declares one.
fn share_renaming_per_fasta(classes: &mut [GbClass]) {
    let declared: HashMap<String, Renaming> = classes
        .iter()
        .filter(|c| c.renaming != Renaming::Identity)
        .map(|c| (c.url.clone(), c.renaming))
        .collect();
    for c in classes.iter_mut() {
        if c.renaming == Renaming::Identity
            && let Some(r) = declared.get(&c.url)
        {
            tracing::debug!(
                "class {}: using the renaming {r:?} of its FASTA's other class",
                c.name
            );
            c.renaming = *r;
        }
    }
}

fn open_references(classes: &[GbClass], choice: &ReferenceChoice) -> Result<Vec<ClassRef>> {
    let mut by_path: HashMap<PathBuf, Arc<Mutex<Reference>>> = HashMap::new();
    let mut lookups: HashMap<(PathBuf, Renaming), Arc<HashMap<String, String>>> = HashMap::new();
    let mut out = Vec::new();
    for c in classes {
        let path = match choice {
            ReferenceChoice::File(p) => p.clone(),
            ReferenceChoice::PerClass(map) => map.get(&c.name).cloned().ok_or_else(|| {
                DataError::Invalid(format!(
                    "--reference names no FASTA for class {:?} (classes: {})",
                    c.name,
                    classes
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
            ReferenceChoice::Dir(dir) => {
                let base = c.url.rsplit('/').next().unwrap_or(&c.url);
                let as_named = dir.join(base);
                let unzipped = base.strip_suffix(".gz").map(|b| dir.join(b));
                match unzipped {
                    Some(u) if !as_named.is_file() && u.is_file() => u,
                    _ if as_named.is_file() => as_named,
                    _ => {
                        return Err(DataError::NotFound {
                            what: "reference FASTA of class (bgzip as named, or decompressed)",
                            path: as_named,
                        });
                    }
                }
            }
        };
        let reference = match by_path.get(&path) {
            Some(r) => Arc::clone(r),
            None => {
                let r = Arc::new(Mutex::new(Reference::open(&path)?));
                by_path.insert(path.clone(), Arc::clone(&r));
                r
            }
        };
        let lookup = lookups
            .entry((path.clone(), c.renaming))
            .or_insert_with(|| {
                let guard = reference.lock().expect("reference lock");
                Arc::new(
                    guard
                        .names()
                        .map(|n| (c.renaming.apply(&n), n))
                        .collect::<HashMap<_, _>>(),
                )
            })
            .clone();
        out.push(ClassRef { reference, lookup });
    }
    Ok(out)
}

struct OpenClass {
    class: u32,
    file: Arc<PathBuf>,
    reader: csv::Reader<Box<dyn std::io::BufRead + Send>>,
    cols: [usize; 4],
    strand_col: Option<usize>,
    row: csv::StringRecord,
    line: u64,
    rows: u64,
}

/// Streams the rows of each class file in turn.
struct IntervalRows {
    files: Vec<(String, PathBuf)>,
    split: Split,
    next_class: usize,
    current: Option<OpenClass>,
    done: bool,
}

impl IntervalRows {
    fn open_class(&mut self, i: usize) -> Result<OpenClass> {
        let path = &self.files[i].1;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(open_text(path)?);
        let header = reader.headers().map_err(|e| csv_error(path, 0, e))?.clone();
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let mut cols = [0; 4];
        for (k, name) in ["id", "region", "start", "end"].iter().enumerate() {
            cols[k] = col(name).ok_or_else(|| DataError::BadFile {
                path: path.clone(),
                message: format!(
                    "header has no {name:?} column (expected id,region,start,end,strand; got {:?})",
                    header.iter().collect::<Vec<_>>()
                ),
            })?;
        }
        Ok(OpenClass {
            class: i as u32,
            file: Arc::new(path.clone()),
            reader,
            cols,
            strand_col: col("strand"),
            row: csv::StringRecord::new(),
            line: 1,
            rows: 0,
        })
    }

    fn step(&mut self) -> Option<Result<IntervalRow>> {
        loop {
            if self.current.is_none() {
                if self.next_class >= self.files.len() {
                    return None;
                }
                let i = self.next_class;
                self.next_class += 1;
                match self.open_class(i) {
                    Ok(c) => self.current = Some(c),
                    Err(e) => return Some(Err(e)),
                }
            }
            let c = self.current.as_mut().expect("set above");
            match c.reader.read_record(&mut c.row) {
                Ok(true) => {
                    c.line += 1;
                    c.rows += 1;
                    return Some(parse_row(c));
                }
                Ok(false) => {
                    let c = self.current.take().expect("set above");
                    if c.rows == 0 {
                        let class = &self.files[c.class as usize].0;
                        return Some(Err(DataError::BadFile {
                            path: c.file.to_path_buf(),
                            message: format!(
                                "class {class:?} has no records in split {}",
                                self.split
                            ),
                        }));
                    }
                }
                Err(e) => return Some(Err(csv_error(&c.file, c.line, e))),
            }
        }
    }
}

impl Iterator for IntervalRows {
    type Item = Result<IntervalRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if matches!(item, Some(Err(_)) | None) {
            self.done = true;
        }
        item
    }
}

fn parse_row(c: &OpenClass) -> Result<IntervalRow> {
    let bad = |message: String| DataError::BadRecord {
        path: c.file.to_path_buf(),
        record: format!("line {}", c.line),
        message,
    };
    let field = |k: usize| c.row.get(c.cols[k]).unwrap_or("").trim();
    let id = field(0);
    if id.is_empty() {
        return Err(bad("empty id".into()));
    }
    let region = field(1);
    if region.is_empty() {
        return Err(bad(format!("id {id}: empty region")));
    }
    let num = |k: usize, what: &str| {
        field(k)
            .parse::<u64>()
            .map_err(|e| bad(format!("id {id}: {what} {:?}: {e}", field(k))))
    };
    let start = num(2, "start")?;
    let end = num(3, "end")?;
    if end <= start {
        return Err(bad(format!("id {id}: empty interval [{start}, {end})")));
    }
    let strand = c.strand_col.and_then(|k| c.row.get(k)).unwrap_or("").trim();
    let reverse = match strand {
        "" | "+" => false,
        "-" => true,
        other => {
            return Err(bad(format!(
                "id {id}: strand {other:?} (expected +, - or empty)"
            )));
        }
    };
    Ok(IntervalRow {
        class: c.class,
        id: id.to_string(),
        region: region.to_string(),
        start,
        end,
        reverse,
        line: c.line,
        file: Arc::clone(&c.file),
    })
}

/// Turns interval rows into records by cutting them from the class references.
struct CutRecords {
    rows: IntervalRows,
    refs: Vec<(Reference, Arc<HashMap<String, String>>)>,
    class_names: Vec<String>,
    split: Split,
    done: bool,
}

impl CutRecords {
    fn cut(&mut self, row: IntervalRow) -> Result<Record> {
        let (reference, lookup) = &mut self.refs[row.class as usize];
        let bad = |message: String| DataError::BadInterval {
            path: row.file.to_path_buf(),
            record: format!("line {} (id {})", row.line, row.id),
            message,
        };
        let name = match lookup.get(&row.region) {
            Some(n) => n.clone(),
            None if reference.length(&row.region).is_some() => row.region.clone(),
            None if row.region == "chrMT" && reference.length("chrM").is_some() => "chrM".into(),
            None => {
                return Err(bad(format!(
                    "region {:?} is not in the reference {} (after this class's chromosome \
                     renaming; e.g. {})",
                    row.region,
                    reference.path().display(),
                    lookup
                        .keys()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let bases = reference
            .fetch(&name, row.start, row.end)
            .map_err(|e| bad(format!("{}:{}-{}: {e}", row.region, row.start, row.end)))?;
        let seq = if row.reverse {
            seq::reverse_complement(&bases)
        } else {
            bases
        };
        Ok(Record {
            id: format!("{}/{}", self.class_names[row.class as usize], row.id),
            seq,
            label: Label::Class(row.class),
            split: self.split,
        })
    }
}

impl Iterator for CutRecords {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.rows.next()? {
            Ok(row) => self.cut(row),
            Err(e) => Err(e),
        };
        self.done = item.is_err();
        Some(item)
    }
}

impl Source for GbIntervals {
    fn card(&self) -> &TaskCard {
        &self.card
    }

    fn splits(&self) -> Vec<Split> {
        self.splits.clone()
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        let Some(refs) = &self.refs else {
            return Err(DataError::Invalid(format!(
                "{}: this dataset is stored as intervals ({}); its sequences need a reference \
                 genome: pass --reference FASTA (one file, a directory named like upstream's \
                 fasta cache, or CLASS=PATH,...)",
                self.card.name,
                self.root.display()
            )));
        };
        DataError::require_split(&self.card.name, split, &self.splits)?;
        let mut handles = Vec::with_capacity(refs.len());
        for r in refs {
            let h = r.reference.lock().expect("reference lock").reopen()?;
            handles.push((h, Arc::clone(&r.lookup)));
        }
        let files = self
            .classes
            .iter()
            .map(|c| (c.name.clone(), class_file(&self.root, split, &c.name)))
            .collect();
        Ok(Box::new(CutRecords {
            rows: IntervalRows {
                files,
                split,
                next_class: 0,
                current: None,
                done: false,
            },
            refs: handles,
            class_names: self.classes.iter().map(|c| c.name.clone()).collect(),
            split,
            done: false,
        }))
    }
}

#[cfg(test)]
#[path = "gb_intervals_tests.rs"]
mod tests;
