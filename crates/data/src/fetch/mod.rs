//! `strand fetch`: downloads the published suites into the cache, verified and installed
//! atomically, offline-first.
//!
//! - [`http`]: streamed GET to `<dest>.part`, resumed with HTTP ranges, retried with backoff.
//! - [`verify`]: SHA-256, the embedded manifest and the checksums recorded on first fetch.
//! - [`archive`]: zip extraction that refuses absolute paths, `..` and symlinks.
//! - [`layout`]: where everything lives in the cache; completion markers; atomic installs.
//! - [`suites`]: Genomic Benchmarks (Zenodo archives or interval files) and GUANinE (Hugging Face).
//! - [`genomes`]: reference genomes by name, stored as bgzip FASTA with `.fai` and `.gzi`.
//!
//! Entry point: [`Fetcher::fetch`] with a [`Target`] parsed from the command line.

pub mod archive;
pub mod genomes;
pub mod http;
pub mod layout;
pub mod suites;
pub mod verify;

pub use http::{Downloaded, Downloader, HttpConfig};
pub use suites::{Fetched, Fetcher, Status, Target};

use crate::{DataError, Result};
use std::path::PathBuf;

/// Receives the progress of downloads so that a front end can draw it (the data crate draws
/// nothing). All methods have empty defaults.
pub trait Progress {
    /// A transfer starts, or restarts, with `offset` bytes already on disk and `total` bytes in
    /// all when the server says so.
    fn begin(&mut self, _label: &str, _total: Option<u64>, _offset: u64) {}
    /// `bytes` more bytes arrived.
    fn advance(&mut self, _bytes: u64) {}
    /// The current transfer is over (successfully or not).
    fn end(&mut self) {}
    /// A message for the user: a retry, a resume, a skipped file, a conversion step.
    fn note(&mut self, _message: &str) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Settings of a fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Cache directory to fill (`--cache`, default [`crate::cache::default_cache_dir`]).
    pub cache_dir: PathBuf,
    /// A directory that may already hold the data (`--data-dir`), checked before the cache; data
    /// found there is used as it is and nothing is downloaded.
    pub data_dir: Option<PathBuf>,
    /// Base URL replacing the scheme and host of every publisher URL (`--mirror`), paths kept.
    pub mirror: Option<String>,
    /// Network settings.
    pub http: HttpConfig,
}

impl FetchOptions {
    /// Options for `cache_dir`, no data dir, no mirror, default network settings.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        FetchOptions {
            cache_dir: cache_dir.into(),
            data_dir: None,
            mirror: None,
            http: HttpConfig::default(),
        }
    }

    /// Sets the mirror after checking that it is an `http://` or `https://` URL.
    pub fn with_mirror(mut self, mirror: &str) -> Result<Self> {
        check_mirror(mirror)?;
        self.mirror = Some(mirror.to_string());
        Ok(self)
    }
}

fn check_mirror(mirror: &str) -> Result<()> {
    let rest = mirror
        .strip_prefix("http://")
        .or_else(|| mirror.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && !mirror.contains(['?', '#']) =>
        {
            Ok(())
        }
        _ => Err(DataError::Invalid(format!(
            "--mirror {mirror:?}: expected a base URL such as http://host:port or \
             https://host/prefix (no query)"
        ))),
    }
}

/// `url` with its scheme and host replaced by `mirror` (path and query kept), or `url` itself
/// without a mirror.
///
/// ```
/// use strand_data::fetch::mirrored;
/// let u = "https://zenodo.org/records/16605299/files/x_v0.zip?download=1";
/// assert_eq!(
///     mirrored(u, Some("http://127.0.0.1:8080/m/")),
///     "http://127.0.0.1:8080/m/records/16605299/files/x_v0.zip?download=1"
/// );
/// assert_eq!(mirrored(u, None), u);
/// ```
pub fn mirrored(url: &str, mirror: Option<&str>) -> String {
    let Some(base) = mirror else {
        return url.to_string();
    };
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = url[after_scheme..]
        .find(['/', '?'])
        .map(|i| after_scheme + i)
        .unwrap_or(url.len());
    let rest = &url[path_start..];
    let base = base.trim_end_matches('/');
    if rest.starts_with('/') || rest.is_empty() {
        format!("{base}{rest}")
    } else {
        format!("{base}/{rest}")
    }
}

/// Publishers' `ftp://` and `http://` URLs (Ensembl in Genomic Benchmarks' metadata) as `https://`,
/// which the same hosts serve and the HTTP client speaks.
///
/// ```
/// use strand_data::fetch::https_url;
/// assert_eq!(https_url("ftp://ftp.ensembl.org/pub/x.fa.gz"), "https://ftp.ensembl.org/pub/x.fa.gz");
/// assert_eq!(https_url("http://a/b"), "https://a/b");
/// assert_eq!(https_url("https://a/b"), "https://a/b");
/// ```
pub fn https_url(url: &str) -> String {
    for scheme in ["ftp://", "http://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            return format!("https://{rest}");
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_must_be_an_http_base() {
        assert!(check_mirror("http://127.0.0.1:9").is_ok());
        assert!(check_mirror("https://m.example/prefix").is_ok());
        for bad in [
            "ftp://x",
            "127.0.0.1:9",
            "http://",
            "http:///x",
            "http://h/?q=1",
        ] {
            assert!(check_mirror(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn mirrored_keeps_paths_and_queries() {
        assert_eq!(
            mirrored("https://h.org/a/b?c=d", Some("http://m:1")),
            "http://m:1/a/b?c=d"
        );
        assert_eq!(mirrored("https://h.org?x", Some("http://m")), "http://m/?x");
        assert_eq!(mirrored("https://h.org", Some("http://m/")), "http://m");
    }
}
