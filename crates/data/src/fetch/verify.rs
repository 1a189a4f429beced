//! Checksums: streaming SHA-256, the manifest embedded in the crate, and the checksums recorded in
//! the cache on first fetch.
//!
//! The expected SHA-256 of a download is, in this order: the embedded manifest
//! (`crates/data/fetch_manifest.toml`, shipped empty because no machine that built strand could
//! reach the publishers), the publisher's own checksum where the protocol gives one (Hugging Face
//! LFS ids), or the value recorded in `<cache>/checksums.json` by the first successful fetch of the
//! same key ("trust on first use"). A key with none of these is recorded after its download.

use crate::{DataError, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// File name of the recorded checksums inside the cache directory.
pub const STORE_FILE: &str = "checksums.json";

const MANIFEST_TEXT: &str = include_str!("../../fetch_manifest.toml");

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 and size of a file, read in 64 KiB blocks.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Whether `s` looks like a SHA-256 in hex.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One known file of the embedded manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Cache key (`gb/<name>_v0.zip`, `guanine/<task>/<path>`, `reference/<name>/<file>`).
    pub key: String,
    pub sha256: String,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    file: Vec<ManifestEntry>,
}

/// Parses a manifest text (the format of `fetch_manifest.toml`).
pub fn parse_manifest(text: &str) -> Result<BTreeMap<String, ManifestEntry>> {
    let parsed: ManifestFile = toml::from_str(text)
        .map_err(|e| DataError::Fetch(format!("fetch manifest does not parse: {e}")))?;
    let mut map = BTreeMap::new();
    for entry in parsed.file {
        if !is_sha256_hex(&entry.sha256) {
            return Err(DataError::Fetch(format!(
                "fetch manifest: {}: {:?} is not a SHA-256",
                entry.key, entry.sha256
            )));
        }
        if map.insert(entry.key.clone(), entry.clone()).is_some() {
            return Err(DataError::Fetch(format!(
                "fetch manifest: key {} appears twice",
                entry.key
            )));
        }
    }
    Ok(map)
}

/// The embedded manifest.
///
/// # Panics
/// If the embedded file does not parse: a build-time bug caught by this module's tests.
pub fn manifest() -> &'static BTreeMap<String, ManifestEntry> {
    static MANIFEST: OnceLock<BTreeMap<String, ManifestEntry>> = OnceLock::new();
    MANIFEST.get_or_init(|| parse_manifest(MANIFEST_TEXT).unwrap_or_else(|e| panic!("{e}")))
}

/// Where an expected checksum comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The embedded manifest.
    Manifest { sha256: String, size: Option<u64> },
    /// The publisher's listing (e.g. the Hugging Face LFS object id).
    Publisher { sha256: String, size: Option<u64> },
    /// Recorded in the cache by an earlier fetch.
    Recorded { sha256: String, size: u64 },
    /// Nothing known: the download is recorded after it succeeds.
    Unknown,
}

impl Expected {
    /// The expected SHA-256, if any.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Expected::Manifest { sha256, .. }
            | Expected::Publisher { sha256, .. }
            | Expected::Recorded { sha256, .. } => Some(sha256),
            Expected::Unknown => None,
        }
    }

    /// The expected size, if any.
    pub fn size(&self) -> Option<u64> {
        match self {
            Expected::Manifest { size, .. } | Expected::Publisher { size, .. } => *size,
            Expected::Recorded { size, .. } => Some(*size),
            Expected::Unknown => None,
        }
    }
}

/// A checksum recorded on first fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub sha256: String,
    pub size: u64,
    /// The URL it was downloaded from the first time (informative).
    pub url: String,
    /// Seconds since the Unix epoch.
    pub recorded_unix: u64,
}

/// `<cache>/checksums.json`: checksums recorded by earlier fetches, keyed like the manifest.
#[derive(Debug)]
pub struct ChecksumStore {
    path: PathBuf,
    entries: BTreeMap<String, Recorded>,
}

impl ChecksumStore {
    /// Reads the store of `cache_dir` (empty when the file does not exist yet).
    pub fn open(cache_dir: &Path) -> Result<Self> {
        let path = cache_dir.join(STORE_FILE);
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| DataError::BadFile {
                path: path.clone(),
                message: format!(
                    "recorded checksums do not parse ({e}); fix or delete the file to record anew"
                ),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(DataError::io(&path, e)),
        };
        Ok(ChecksumStore { path, entries })
    }

    /// The recorded checksum of `key`.
    pub fn get(&self, key: &str) -> Option<&Recorded> {
        self.entries.get(key)
    }

    /// Records `key` (replacing an older value) and rewrites the file atomically.
    pub fn record(&mut self, key: &str, sha256: &str, size: u64, url: &str) -> Result<()> {
        let recorded_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.entries.insert(
            key.to_string(),
            Recorded {
                sha256: sha256.to_ascii_lowercase(),
                size,
                url: url.to_string(),
                recorded_unix,
            },
        );
        let text = serde_json::to_string_pretty(&self.entries)
            .map_err(|e| DataError::Fetch(format!("cannot serialise checksums: {e}")))?;
        write_atomic(&self.path, text.as_bytes())
    }

    /// The expected checksum of `key`: manifest, then `publisher`, then recorded.
    pub fn expected(&self, key: &str, publisher: Option<(&str, Option<u64>)>) -> Expected {
        if let Some(m) = manifest().get(key) {
            return Expected::Manifest {
                sha256: m.sha256.to_ascii_lowercase(),
                size: m.size,
            };
        }
        if let Some((sha, size)) = publisher.filter(|(s, _)| is_sha256_hex(s)) {
            return Expected::Publisher {
                sha256: sha.to_ascii_lowercase(),
                size,
            };
        }
        match self.get(key) {
            Some(r) => Expected::Recorded {
                sha256: r.sha256.clone(),
                size: r.size,
            },
            None => Expected::Unknown,
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader sees the old or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| DataError::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| DataError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| DataError::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_parses() {
        // Shipped empty (see the file's comment); it must still parse.
        let m = manifest();
        for (k, e) in m {
            assert_eq!(k, &e.key);
        }
    }

    #[test]
    fn manifest_rejects_bad_hashes_duplicates_and_unknown_fields() {
        let good = "[[file]]\nkey = \"a\"\nsha256 = \"".to_string() + &"0".repeat(64) + "\"\n";
        assert_eq!(parse_manifest(&good).unwrap().len(), 1);
        let twice = good.clone() + &good;
        assert!(
            parse_manifest(&twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let short = "[[file]]\nkey = \"a\"\nsha256 = \"abc\"\n";
        assert!(
            parse_manifest(short)
                .unwrap_err()
                .to_string()
                .contains("SHA-256")
        );
        let extra = good + "md5 = \"x\"\n";
        assert!(parse_manifest(&extra).is_err());
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), (sha256_hex(b"abc"), 3));
    }

    #[test]
    fn store_records_and_reloads_and_orders_sources() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = ChecksumStore::open(dir.path()).unwrap();
        assert_eq!(s.expected("k", None), Expected::Unknown);
        let h = sha256_hex(b"x");
        s.record("k", &h, 1, "http://h/k").unwrap();
        let s = ChecksumStore::open(dir.path()).unwrap();
        assert_eq!(
            s.expected("k", None),
            Expected::Recorded {
                sha256: h.clone(),
                size: 1
            }
        );
        // The publisher's checksum wins over a recorded one; a malformed one is ignored.
        let p = sha256_hex(b"y");
        assert_eq!(
            s.expected("k", Some((&p, Some(1)))).sha256(),
            Some(p.as_str())
        );
        assert_eq!(
            s.expected("k", Some(("nothex", None))).sha256(),
            Some(h.as_str())
        );
    }

    #[test]
    fn corrupt_store_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STORE_FILE), "{not json").unwrap();
        let e = ChecksumStore::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains(STORE_FILE) && e.contains("do not parse"), "{e}");
    }
}
