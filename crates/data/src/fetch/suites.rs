//! The suites `strand fetch` knows: Genomic Benchmarks (the Zenodo archives the official package
//! uses, or the interval files plus their reference genomes) and GUANinE (the Hugging Face dataset
//! repositories), plus reference genomes by name ([`super::genomes`]).

use super::archive::{extract_zip, safe_relative_path};
use super::genomes;
use super::layout::{self, Marker, MarkerFile};
use super::verify::{ChecksumStore, Expected};
use super::{Downloader, FetchOptions, Progress, mirrored};
use crate::{DataError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The nine Genomic Benchmarks datasets (all `version: 0`).
pub const GB_DATASETS: [&str; 9] = [
    "demo_coding_vs_intergenomic_seqs",
    "demo_human_or_worm",
    "drosophila_enhancers_stark",
    "dummy_mouse_enhancers_ensembl",
    "human_enhancers_cohn",
    "human_enhancers_ensembl",
    "human_ensembl_regulatory",
    "human_nontata_promoters",
    "human_ocr_ensembl",
];

/// The Zenodo record holding the `<name>_v0.zip` archives (genomic-benchmarks ≥ 1.0.0).
pub const GB_ZENODO_RECORD: &str = "https://zenodo.org/records/16605299";

/// The genomic_benchmarks commit whose `datasets/` the interval files are taken from.
pub const GB_COMMIT: &str = "605d8539830e16c85abe7826990958303ffc5e1c";

/// The GUANinE v1.0 tasks (what `strand fetch guanine` downloads).
pub const GUANINE_TASKS: [&str; 6] = [
    "dnase_propensity",
    "ccre_propensity",
    "cons30",
    "cons100",
    "gpra_c",
    "gpra_d",
];

/// GUANinE tasks that can be fetched by name but are not part of v1.0.
pub const GUANINE_EXTRA_TASKS: [&str; 1] = ["clinvar_snv"];

const HF_BASE: &str = "https://huggingface.co";

/// At most this many pages of a Hugging Face tree listing are followed.
const MAX_LISTING_PAGES: usize = 100;

/// URL of the Zenodo archive of a Genomic Benchmarks dataset.
pub fn gb_archive_url(name: &str) -> String {
    format!("{GB_ZENODO_RECORD}/files/{name}_v0.zip?download=1")
}

/// URL of a file of the genomic_benchmarks repository's `datasets/<name>/` at [`GB_COMMIT`].
pub fn gb_interval_url(name: &str, file: &str) -> String {
    format!(
        "https://raw.githubusercontent.com/ML-Bioinfo-CEITEC/genomic_benchmarks/{GB_COMMIT}/\
         datasets/{name}/{file}"
    )
}

/// URL of the recursive file listing of a GUANinE task.
pub fn guanine_listing_url(task: &str) -> String {
    format!("{HF_BASE}/api/datasets/guanine/{task}/tree/main?recursive=true")
}

/// URL serving the content (Git LFS resolved) of one file of a GUANinE task.
pub fn guanine_file_url(task: &str, path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(percent_encode).collect();
    format!(
        "{HF_BASE}/datasets/guanine/{task}/resolve/main/{}",
        encoded.join("/")
    )
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One Genomic Benchmarks dataset (`gb/<name>`).
    Gb(String),
    /// Every Genomic Benchmarks dataset (`gb`).
    GbAll,
    /// One GUANinE task (`guanine/<task>`).
    Guanine(String),
    /// The six GUANinE v1.0 tasks (`guanine`).
    GuanineAll,
    /// A reference genome (`reference/<name>`).
    Reference(String),
}

impl Target {
    /// Parses `gb`, `gb/<name>` (or `genomic_benchmarks/...`), `guanine`, `guanine/<task>`,
    /// `reference/<name>`; unknown names are errors that list the known ones.
    pub fn parse(s: &str) -> Result<Target> {
        let (suite, name) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let unknown = |what: &str, known: &[&str]| {
            DataError::UnknownTask(format!("unknown {what} {s:?}; known: {}", known.join(", ")))
        };
        match (suite, name) {
            ("gb" | "genomic_benchmarks", None) => Ok(Target::GbAll),
            ("gb" | "genomic_benchmarks", Some(n)) => {
                if GB_DATASETS.contains(&n) {
                    Ok(Target::Gb(n.to_string()))
                } else {
                    Err(unknown("Genomic Benchmarks dataset", &GB_DATASETS))
                }
            }
            ("guanine", None) => Ok(Target::GuanineAll),
            ("guanine", Some(n)) => {
                if GUANINE_TASKS.contains(&n) || GUANINE_EXTRA_TASKS.contains(&n) {
                    Ok(Target::Guanine(n.to_string()))
                } else {
                    let known: Vec<&str> = GUANINE_TASKS
                        .iter()
                        .chain(GUANINE_EXTRA_TASKS.iter())
                        .copied()
                        .collect();
                    Err(unknown("GUANinE task", &known))
                }
            }
            ("reference", Some(n)) => Ok(Target::Reference(genomes::genome(n)?.name.to_string())),
            _ => Err(DataError::UnknownTask(format!(
                "cannot fetch {s:?}: expected gb, gb/<dataset>, guanine, guanine/<task> or \
                 reference/<genome> (genomes: {})",
                genomes::GENOMES
                    .iter()
                    .map(|g| g.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Whether a fetched item was downloaded now or found in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Downloaded and installed by this call.
    Installed,
    /// Already complete in the cache (or under the data dir); no network was used.
    AlreadyPresent,
}

/// One item a fetch made available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// `gb/<name>`, `gb_intervals/<name>`, `guanine/<task>`, `reference/<name>`.
    pub target: String,
    /// Where it is (a directory; for references the directory holding `<name>.fa.gz`).
    pub path: PathBuf,
    pub status: Status,
}

/// Downloads targets into the cache. Holds the HTTP client and the recorded checksums.
pub struct Fetcher<'p> {
    opts: FetchOptions,
    http: Downloader,
    store: ChecksumStore,
    progress: &'p mut dyn Progress,
    /// Checksums of downloads with no manifest or recorded entry: recorded in `checksums.json`
    /// only once what they belong to is installed ([`Fetcher::commit`]), so that a download
    /// that fails to install (an error page, a bad archive) does not pin a wrong checksum.
    pending: std::collections::HashMap<String, MarkerFile>,
    /// The cache is written by one process at a time.
    _lock: crate::lock::DirLock,
}

impl<'p> Fetcher<'p> {
    /// A fetcher for `opts`, reporting to `progress`. Reads `<cache>/checksums.json` (no network).
    pub fn new(opts: FetchOptions, progress: &'p mut dyn Progress) -> Result<Self> {
        fs::create_dir_all(&opts.cache_dir).map_err(|e| DataError::io(&opts.cache_dir, e))?;
        let _lock = crate::lock::DirLock::acquire(&opts.cache_dir)?;
        let store = ChecksumStore::open(&opts.cache_dir)?;
        Ok(Fetcher {
            http: Downloader::new(opts.http.clone()),
            opts,
            store,
            progress,
            pending: Default::default(),
            _lock,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// Fetches `target`: Genomic Benchmarks from the archives, or with `from_reference` from the
    /// interval files plus the reference genomes their metadata names.
    pub fn fetch(&mut self, target: &Target, from_reference: bool) -> Result<Vec<Fetched>> {
        match target {
            Target::Gb(name) if from_reference => self.fetch_gb_from_reference(name),
            Target::Gb(name) => Ok(vec![self.fetch_gb_archive(name)?]),
            Target::GbAll => {
                let mut out = Vec::new();
                for name in GB_DATASETS {
                    if from_reference {
                        out.extend(self.fetch_gb_from_reference(name)?);
                    } else {
                        out.push(self.fetch_gb_archive(name)?);
                    }
                }
                Ok(out)
            }
            Target::Guanine(task) => Ok(vec![self.fetch_guanine(task)?]),
            Target::GuanineAll => GUANINE_TASKS
                .iter()
                .map(|t| self.fetch_guanine(t))
                .collect(),
            Target::Reference(name) => Ok(vec![self.fetch_genome(name)?]),
        }
    }

    pub(super) fn progress(&mut self) -> &mut dyn Progress {
        &mut *self.progress
    }

    pub(super) fn url(&self, publisher_url: &str) -> String {
        mirrored(publisher_url, self.opts.mirror.as_deref())
    }

    /// A directory of the data dir that already holds `suite/name` (tried as
    /// `<data-dir>/<suite>/<name>`, `<data-dir>/<alias>/<name>` and `<data-dir>/<name>`) and
    /// passes `looks_complete`.
    pub(super) fn in_data_dir(
        &self,
        suites: &[&str],
        name: &str,
        looks_complete: impl Fn(&Path) -> bool,
    ) -> Option<PathBuf> {
        let root = self.opts.data_dir.as_ref()?;
        suites
            .iter()
            .map(|s| root.join(s).join(name))
            .chain(std::iter::once(root.join(name)))
            .find(|d| layout::is_complete(d) || looks_complete(d))
    }

    /// Downloads `url` (already mirrored) to `dest`, checked against the manifest, the
    /// publisher's checksum or the recorded one, and records the checksum of a new key. A file
    /// already at `dest` (an earlier run got it but stopped before installing) is reused when it
    /// matches what is expected.
    pub(super) fn download_verified(
        &mut self,
        key: &str,
        url: &str,
        dest: &Path,
        publisher_sha: Option<&str>,
        publisher_size: Option<u64>,
    ) -> Result<MarkerFile> {
        let expected = self
            .store
            .expected(key, publisher_sha.map(|s| (s, publisher_size)));
        let want_size = expected.size().or(publisher_size);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
        }
        if dest.is_file() {
            let (sha, size) = super::verify::sha256_file(dest)?;
            let ok = expected
                .sha256()
                .is_none_or(|w| w.eq_ignore_ascii_case(&sha))
                && want_size.is_none_or(|w| w == size);
            if ok {
                self.progress.note(&format!("{key}: already downloaded"));
                return self.recorded(key, url, sha, size, &expected);
            }
            fs::remove_file(dest).map_err(|e| DataError::io(dest, e))?;
        }
        let got =
            self.http
                .download(url, dest, expected.sha256(), want_size, &mut *self.progress)?;
        if got.resumed {
            self.progress
                .note(&format!("{key}: resumed an interrupted download"));
        }
        self.recorded(key, url, got.sha256, got.size, &expected)
    }

    fn recorded(
        &mut self,
        key: &str,
        url: &str,
        sha256: String,
        size: u64,
        expected: &Expected,
    ) -> Result<MarkerFile> {
        let file = MarkerFile {
            key: key.to_string(),
            url: url.to_string(),
            sha256,
            size,
        };
        if !matches!(
            expected,
            Expected::Manifest { .. } | Expected::Recorded { .. }
        ) {
            self.pending.insert(key.to_string(), file.clone());
        }
        Ok(file)
    }

    /// Records the new checksums among `files` once what they belong to is installed.
    pub(super) fn commit(&mut self, files: &[MarkerFile]) -> Result<()> {
        for f in files {
            if let Some(p) = self.pending.remove(&f.key) {
                self.store.record(&p.key, &p.sha256, p.size, &p.url)?;
            }
        }
        Ok(())
    }

    /// Genomic Benchmarks dataset `name` from its Zenodo archive into `<cache>/gb/<name>`.
    pub fn fetch_gb_archive(&mut self, name: &str) -> Result<Fetched> {
        let target = format!("gb/{name}");
        let cache = self.opts.cache_dir.clone();
        let dest = layout::gb_dataset_dir(&cache, name);
        if layout::is_complete(&dest) {
            return Ok(present(target, dest));
        }
        if let Some(dir) = self.in_data_dir(&["gb", "genomic_benchmarks"], name, |d| {
            has_class_dirs(&d.join("train")) && has_class_dirs(&d.join("test"))
        }) {
            return Ok(present(target, dir));
        }
        layout::check_free(&dest)?;
        let partial = layout::partial_dir(&cache, layout::GB_DIR);
        let zip_path = partial.join(format!("{name}_v0.zip"));
        let key = format!("gb/{name}_v0.zip");
        let url = self.url(&gb_archive_url(name));
        let file = self.download_verified(&key, &url, &zip_path, None, None)?;
        self.progress.note(&format!("{key}: extracting"));
        let extracted = extract_zip(&zip_path, &partial).and_then(|tmp| {
            let root = gb_archive_root(tmp.path(), name, &zip_path)?;
            Ok((tmp, root))
        });
        let (tmp, root) = match extracted {
            Ok(x) => x,
            Err(e) => {
                // A refused or malformed archive is not kept: the next run downloads it anew.
                let _ = fs::remove_file(&zip_path);
                return Err(e);
            }
        };
        layout::write_marker(&root, &Marker::new(&target, vec![file.clone()]))?;
        if root == tmp.path() {
            let kept = tmp.keep();
            if let Err(e) = layout::install_dir(&kept, &dest) {
                let _ = fs::remove_dir_all(&kept);
                return Err(e);
            }
        } else {
            layout::install_dir(&root, &dest)?;
            drop(tmp);
        }
        self.commit(&[file])?;
        fs::remove_file(&zip_path).map_err(|e| DataError::io(&zip_path, e))?;
        Ok(installed(target, dest))
    }

    /// Genomic Benchmarks dataset `name` as interval files (`<cache>/gb_intervals/<name>`) plus
    /// every reference genome its `metadata.yaml` names.
    pub fn fetch_gb_from_reference(&mut self, name: &str) -> Result<Vec<Fetched>> {
        let intervals = self.fetch_gb_intervals(name)?;
        let meta = GbMetadata::read(&intervals.path.join("metadata.yaml"))?;
        let mut out = vec![intervals];
        let mut seen = Vec::new();
        for class in meta.classes.values() {
            let genome = genomes::genome_for_url(&class.url).ok_or_else(|| {
                DataError::Fetch(format!(
                    "gb/{name}: no known reference genome for {}",
                    class.url
                ))
            })?;
            if !seen.contains(&genome.name) {
                seen.push(genome.name);
                out.push(self.fetch_genome(genome.name)?);
            }
        }
        Ok(out)
    }

    /// The interval files of Genomic Benchmarks dataset `name` (`metadata.yaml`,
    /// `{train,test}/<class>.csv.gz`) from the genomic_benchmarks repository at [`GB_COMMIT`].
    pub fn fetch_gb_intervals(&mut self, name: &str) -> Result<Fetched> {
        let target = format!("gb_intervals/{name}");
        let cache = self.opts.cache_dir.clone();
        let dest = layout::gb_intervals_dir(&cache, name);
        if layout::is_complete(&dest) {
            return Ok(present(target, dest));
        }
        if let Some(dir) = self.in_data_dir(&["gb", "genomic_benchmarks"], name, |d| {
            d.join("metadata.yaml").is_file() && d.join("train").is_dir()
        }) {
            return Ok(present(target, dir));
        }
        layout::check_free(&dest)?;
        let staging = layout::partial_dir(&cache, layout::GB_INTERVALS_DIR).join(name);
        fs::create_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
        let mut files = Vec::new();
        let meta_path = staging.join("metadata.yaml");
        let url = self.url(&gb_interval_url(name, "metadata.yaml"));
        let key = format!("gb_intervals/{name}/metadata.yaml");
        files.push(self.download_verified(&key, &url, &meta_path, None, None)?);
        let meta = GbMetadata::read(&meta_path)?;
        for split in ["train", "test"] {
            for class in meta.classes.keys() {
                let rel = format!("{split}/{class}.csv.gz");
                safe_relative_path(&rel).map_err(|reason| DataError::BadFile {
                    path: meta_path.clone(),
                    message: format!("class name {class:?} is not a safe file name: {reason}"),
                })?;
                let url = self.url(&gb_interval_url(name, &rel));
                let key = format!("gb_intervals/{name}/{rel}");
                files.push(self.download_verified(&key, &url, &staging.join(&rel), None, None)?);
            }
        }
        layout::write_marker(&staging, &Marker::new(&target, files.clone()))?;
        layout::install_dir(&staging, &dest)?;
        self.commit(&files)?;
        Ok(installed(target, dest))
    }

    /// GUANinE task `task` from its Hugging Face dataset repository into
    /// `<cache>/guanine/<task>`, keeping the repository's layout. LFS files are checked against
    /// the SHA-256 the listing gives.
    pub fn fetch_guanine(&mut self, task: &str) -> Result<Fetched> {
        let target = format!("guanine/{task}");
        let cache = self.opts.cache_dir.clone();
        let dest = layout::guanine_task_dir(&cache, task);
        if layout::is_complete(&dest) {
            return Ok(present(target, dest));
        }
        if let Some(dir) = self.in_data_dir(&["guanine"], task, |d| {
            ["train", "dev", "test", "bed"]
                .iter()
                .any(|s| d.join(s).is_dir())
        }) {
            return Ok(present(target, dir));
        }
        layout::check_free(&dest)?;
        let entries = self.guanine_listing(task)?;
        let staging = layout::partial_dir(&cache, layout::GUANINE_DIR).join(task);
        fs::create_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
        let mut files = Vec::new();
        for entry in &entries {
            let dest_file = staging.join(&entry.rel);
            let url = self.url(&guanine_file_url(task, &entry.path));
            let key = format!("guanine/{task}/{}", entry.path);
            let sha = entry.lfs.as_ref().map(|l| l.oid.as_str());
            let size = entry.lfs.as_ref().map(|l| l.size).or(entry.size);
            files.push(self.download_verified(&key, &url, &dest_file, sha, size)?);
        }
        layout::write_marker(&staging, &Marker::new(&target, files.clone()))?;
        layout::install_dir(&staging, &dest)?;
        self.commit(&files)?;
        Ok(installed(target, dest))
    }

    /// Every file of a GUANinE task's repository, following pagination.
    fn guanine_listing(&mut self, task: &str) -> Result<Vec<HfFile>> {
        let mut url = self.url(&guanine_listing_url(task));
        let mut files = Vec::new();
        for _ in 0..MAX_LISTING_PAGES {
            self.progress
                .note(&format!("guanine/{task}: listing files ({url})"));
            let (text, link) = self.http.get_text(&url)?;
            let page: Vec<HfEntry> =
                serde_json::from_str(&text).map_err(|e| DataError::Download {
                    url: url.clone(),
                    message: format!("the file listing is not the expected JSON: {e}"),
                })?;
            for e in page.into_iter().filter(|e| e.kind == "file") {
                let rel = safe_relative_path(&e.path).map_err(|reason| DataError::Download {
                    url: url.clone(),
                    message: format!("listing names an unsafe path {:?}: {reason}", e.path),
                })?;
                if rel.starts_with(layout::COMPLETE_MARKER) {
                    continue;
                }
                files.push(HfFile {
                    rel,
                    path: e.path,
                    size: e.size,
                    lfs: e.lfs,
                });
            }
            match link.as_deref().and_then(next_link) {
                Some(next) => url = self.url(&next),
                None => {
                    if files.is_empty() {
                        return Err(DataError::Download {
                            url,
                            message: "the repository lists no files".into(),
                        });
                    }
                    return Ok(files);
                }
            }
        }
        Err(DataError::Download {
            url,
            message: format!("more than {MAX_LISTING_PAGES} pages of file listing"),
        })
    }
}

fn present(target: String, path: PathBuf) -> Fetched {
    Fetched {
        target,
        path,
        status: Status::AlreadyPresent,
    }
}

fn installed(target: String, path: PathBuf) -> Fetched {
    Fetched {
        target,
        path,
        status: Status::Installed,
    }
}

/// Whether `dir` holds at least one sub-directory (a class directory).
fn has_class_dirs(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|e| e.path().is_dir()))
        .unwrap_or(false)
}

/// The dataset root inside an extracted Genomic Benchmarks archive: `<name>/` (what the official
/// package's archives hold; it unpacks them into the parent of the dataset directory), the
/// extraction directory itself when `train/` and `test/` sit at the top, or the only top-level
/// folder whatever its name.
fn gb_archive_root(extracted: &Path, name: &str, archive: &Path) -> Result<PathBuf> {
    // `<name>/`, then the top level, then a single top-level folder of another name.
    let mut candidates = vec![extracted.join(name), extracted.to_path_buf()];
    let top_dirs: Vec<PathBuf> = fs::read_dir(extracted)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    if let [only] = top_dirs.as_slice() {
        candidates.push(only.clone());
    }
    for root in candidates {
        let (train, test) = (root.join("train"), root.join("test"));
        if train.is_dir() || test.is_dir() {
            if !has_class_dirs(&train) || !has_class_dirs(&test) {
                return Err(DataError::BadFile {
                    path: archive.to_path_buf(),
                    message: format!(
                        "expected class directories under both train/ and test/ in {}",
                        root.strip_prefix(extracted).unwrap_or(&root).display()
                    ),
                });
            }
            return Ok(root);
        }
    }
    let top: Vec<String> = fs::read_dir(extracted)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    Err(DataError::BadFile {
        path: archive.to_path_buf(),
        message: format!(
            "expected {name}/train and {name}/test (or train/ and test/) in the archive; its top \
             level holds: {}",
            top.join(", ")
        ),
    })
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

/// One entry of a Hugging Face tree listing (unknown fields ignored: this is a third-party API).
#[derive(Debug, Deserialize)]
struct HfEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    size: Option<u64>,
    lfs: Option<HfLfs>,
}

/// The LFS part of a listing entry: `oid` is the SHA-256 of the content.
#[derive(Debug, Clone, Deserialize)]
struct HfLfs {
    oid: String,
    size: u64,
}

struct HfFile {
    rel: PathBuf,
    path: String,
    size: Option<u64>,
    lfs: Option<HfLfs>,
}

/// The part of a Genomic Benchmarks `metadata.yaml` fetch needs.
#[derive(Debug, Deserialize)]
pub struct GbMetadata {
    pub version: u32,
    pub classes: BTreeMap<String, GbClass>,
}

/// One class of a Genomic Benchmarks `metadata.yaml`.
#[derive(Debug, Deserialize)]
pub struct GbClass {
    pub url: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub extra_processing: Option<String>,
}

impl GbMetadata {
    /// Reads and checks a `metadata.yaml` (version 0, at least two classes).
    pub fn read(path: &Path) -> Result<GbMetadata> {
        let text = fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let meta: GbMetadata = serde_yaml::from_str(&text).map_err(|e| DataError::BadFile {
            path: path.to_path_buf(),
            message: format!("not a Genomic Benchmarks metadata file: {e}"),
        })?;
        if meta.version != 0 || meta.classes.len() < 2 {
            return Err(DataError::BadFile {
                path: path.to_path_buf(),
                message: format!(
                    "expected version 0 and at least two classes, got version {} with {} classes",
                    meta.version,
                    meta.classes.len()
                ),
            });
        }
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("gb").unwrap(), Target::GbAll);
        assert_eq!(
            Target::parse("genomic_benchmarks/human_nontata_promoters").unwrap(),
            Target::Gb("human_nontata_promoters".into())
        );
        assert_eq!(Target::parse("guanine").unwrap(), Target::GuanineAll);
        assert_eq!(
            Target::parse("guanine/cons30").unwrap(),
            Target::Guanine("cons30".into())
        );
        assert_eq!(
            Target::parse("reference/hg38").unwrap(),
            Target::Reference("hg38".into())
        );
        let e = Target::parse("gb/nope").unwrap_err().to_string();
        assert!(e.contains("human_ocr_ensembl"), "{e}");
        assert!(Target::parse("guanine/x").is_err());
        assert!(Target::parse("cnnprom/ecoli").is_err());
        assert!(Target::parse("reference/hg99").is_err());
    }

    #[test]
    fn urls_match_the_publishers() {
        assert_eq!(
            gb_archive_url("human_nontata_promoters"),
            "https://zenodo.org/records/16605299/files/human_nontata_promoters_v0.zip?download=1"
        );
        assert_eq!(
            guanine_listing_url("cons30"),
            "https://huggingface.co/api/datasets/guanine/cons30/tree/main?recursive=true"
        );
        assert_eq!(
            guanine_file_url("cons30", "bed/1per/a b.bed"),
            "https://huggingface.co/datasets/guanine/cons30/resolve/main/bed/1per/a%20b.bed"
        );
    }

    #[test]
    fn archive_root_is_found_in_each_layout() {
        let make = |prefix: &str| {
            let d = tempfile::tempdir().unwrap();
            for split in ["train", "test"] {
                fs::create_dir_all(d.path().join(prefix).join(split).join("positive")).unwrap();
            }
            d
        };
        let z = Path::new("x.zip");
        for prefix in ["ds", "", "ds_v0"] {
            let d = make(prefix);
            let root = gb_archive_root(d.path(), "ds", z).unwrap();
            assert_eq!(root, d.path().join(prefix), "{prefix:?}");
        }
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("ds/train/positive")).unwrap();
        let e = gb_archive_root(d.path(), "ds", z).unwrap_err().to_string();
        assert!(e.contains("train/ and test/"), "{e}");
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("a")).unwrap();
        fs::create_dir_all(d.path().join("b")).unwrap();
        let e = gb_archive_root(d.path(), "ds", z).unwrap_err().to_string();
        assert!(e.contains("top level holds"), "{e}");
    }

    #[test]
    fn link_header_pagination() {
        let h = "<https://huggingface.co/api/x?cursor=abc>; rel=\"next\"";
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://huggingface.co/api/x?cursor=abc")
        );
        assert_eq!(next_link("<https://h/p>; rel=\"prev\""), None);
    }

    #[test]
    fn metadata_of_the_shared_copy_parses() {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/genomic_benchmarks");
        if !root.is_dir() {
            crate::source::testutil::skip(format_args!(
                "SKIP metadata_of_the_shared_copy_parses: {} absent",
                root.display()
            ));
            return;
        }
        for name in GB_DATASETS {
            let meta = GbMetadata::read(&root.join(name).join("metadata.yaml")).unwrap();
            for class in meta.classes.values() {
                assert!(
                    genomes::genome_for_url(&class.url).is_some(),
                    "{name}: no genome for {}",
                    class.url
                );
            }
        }
    }
}
