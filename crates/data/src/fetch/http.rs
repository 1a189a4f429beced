//! Streamed, resumable HTTP downloads.
//!
//! A download goes to `<dest>.part` in the destination directory. When that file already holds
//! some bytes (an earlier attempt or run was interrupted) the request carries
//! `Range: bytes=<len>-`: a `206` answer whose `Content-Range` starts at `<len>` is appended, a
//! `200` answer (the server ignores ranges) restarts the file from zero, a `416` answer throws the
//! partial file away and starts over. Transport errors and `5xx`/`408`/`429` answers are retried
//! with exponential backoff, each retry resuming where the file stopped. The SHA-256 of the
//! finished file is computed in one streamed pass; only a file whose size and checksum are right is
//! renamed to `dest`.

use super::Progress;
use crate::{DataError, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use ureq::Agent;
use ureq::http::StatusCode;

/// Network settings of a [`Downloader`] (a plain config struct; `Default` gives the values used
/// by `strand fetch`).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for each read from the socket (headers and body); a stalled transfer fails after it
    /// and is retried.
    pub read_timeout: Duration,
    /// How many times a failed request is retried (so `retries + 1` attempts at most).
    pub retries: u32,
    /// Wait before the first retry; doubled after each, capped at [`HttpConfig::max_backoff`].
    pub backoff: Duration,
    /// Upper bound of the wait between retries.
    pub max_backoff: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            user_agent: format!("strand/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What a finished download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The installed file (`dest`).
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether bytes of an earlier, interrupted attempt were reused through a range request.
    pub resumed: bool,
    /// Number of HTTP requests it took.
    pub requests: u32,
}

/// An HTTP client for downloads; cheap to share by reference.
pub struct Downloader {
    agent: Agent,
    cfg: HttpConfig,
}

/// Why one attempt ended without the whole file.
enum AttemptError {
    /// Worth another attempt (transport error, server error, connection dropped).
    Retry(String),
    /// Not worth retrying (404, 403, a local write error, ...).
    Fatal(DataError),
}

/// The suffix of the partial file next to a download's destination.
pub const PART_SUFFIX: &str = ".part";

/// `<dest>.part`, the file a download of `dest` writes to.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(PART_SUFFIX);
    dest.with_file_name(name)
}

impl Downloader {
    /// A downloader with the given settings. Responses are not content-decoded (no
    /// `Accept-Encoding`), so byte ranges and checksums refer to the file as published.
    pub fn new(cfg: HttpConfig) -> Self {
        let config = Agent::config_builder()
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_recv_response(Some(cfg.read_timeout))
            .timeout_per_read(Some(cfg.read_timeout))
            .http_status_as_error(false)
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .user_agent(cfg.user_agent.as_str())
            .max_redirects(10)
            .build();
        Downloader {
            agent: Agent::new_with_config(config),
            cfg,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &HttpConfig {
        &self.cfg
    }

    /// GETs a small text document (an API listing), with retries. Returns the body and the
    /// `Link` header (pagination), if any. Bodies over 64 MiB are refused.
    pub fn get_text(&self, url: &str) -> Result<(String, Option<String>)> {
        let mut last = String::new();
        for attempt in 0..=self.cfg.retries {
            if attempt > 0 {
                std::thread::sleep(self.backoff(attempt));
            }
            match self.agent.get(url).call() {
                Ok(mut resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        let link = resp
                            .headers()
                            .get("link")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        match resp
                            .body_mut()
                            .with_config()
                            .limit(64 << 20)
                            .read_to_string()
                        {
                            Ok(text) => return Ok((text, link)),
                            Err(e) => last = format!("reading the response: {e}"),
                        }
                    } else if retryable_status(status) {
                        last = format!("HTTP {status}");
                    } else {
                        return Err(DataError::Download {
                            url: url.to_string(),
                            message: format!("HTTP {status}"),
                        });
                    }
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(DataError::Download {
            url: url.to_string(),
            message: format!("{last} (after {} attempts)", self.cfg.retries + 1),
        })
    }

    /// Downloads `url` to `dest` (in an existing directory), resuming `<dest>.part` when it
    /// exists. With `expected_sha256` the file must have that SHA-256, with `expected_size` that
    /// size; otherwise the partial file is deleted and an error returned, and `dest` is not
    /// touched. On success `dest` is replaced atomically (rename within the directory).
    pub fn download(
        &self,
        url: &str,
        dest: &Path,
        expected_sha256: Option<&str>,
        expected_size: Option<u64>,
        progress: &mut dyn Progress,
    ) -> Result<Downloaded> {
        let part = part_path(dest);
        let label = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| url.to_string());
        let mut requests = 0u32;
        let mut resumed = false;
        let mut failures = 0u32;
        let mut last_error = String::new();
        loop {
            if failures > self.cfg.retries {
                let kept = match fs::metadata(&part) {
                    Ok(m) if m.len() > 0 => format!(
                        "; the {} bytes received are kept in {} and the next run resumes there",
                        m.len(),
                        part.display()
                    ),
                    _ => String::new(),
                };
                progress.end();
                return Err(DataError::Download {
                    url: url.to_string(),
                    message: format!("{last_error} (gave up after {failures} attempts{kept})"),
                });
            }
            if failures > 0 {
                let wait = self.backoff(failures);
                progress.note(&format!(
                    "{label}: {last_error}; retrying in {:.1}s",
                    wait.as_secs_f64()
                ));
                std::thread::sleep(wait);
            }
            requests += 1;
            match self.attempt(url, &part, expected_size, &label, &mut resumed, progress) {
                Ok(()) => break,
                Err(AttemptError::Retry(msg)) => {
                    failures += 1;
                    last_error = msg;
                }
                Err(AttemptError::Fatal(e)) => {
                    progress.end();
                    return Err(e);
                }
            }
        }
        progress.end();
        let (sha256, size) = super::verify::sha256_file(&part)?;
        if let Some(want) = expected_size
            && size != want
        {
            remove_quietly(&part);
            return Err(DataError::Download {
                url: url.to_string(),
                message: format!("expected {want} bytes, got {size}; the file was deleted"),
            });
        }
        if let Some(want) = expected_sha256
            && !want.eq_ignore_ascii_case(&sha256)
        {
            remove_quietly(&part);
            return Err(DataError::ChecksumMismatch {
                url: url.to_string(),
                path: dest.to_path_buf(),
                expected: want.to_ascii_lowercase(),
                actual: sha256,
            });
        }
        File::open(&part)
            .and_then(|f| f.sync_all())
            .map_err(|e| DataError::io(&part, e))?;
        fs::rename(&part, dest).map_err(|e| DataError::io(dest, e))?;
        Ok(Downloaded {
            path: dest.to_path_buf(),
            sha256,
            size,
            resumed,
            requests,
        })
    }

    /// One request: appends to (or restarts) `part` until the body ends.
    fn attempt(
        &self,
        url: &str,
        part: &Path,
        expected_size: Option<u64>,
        label: &str,
        resumed: &mut bool,
        progress: &mut dyn Progress,
    ) -> std::result::Result<(), AttemptError> {
        let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if have > 0 && expected_size == Some(have) {
            // An earlier attempt got every byte; the checksum decides whether it is good.
            return Ok(());
        }
        let mut req = self.agent.get(url);
        if have > 0 {
            req = req.header("Range", format!("bytes={have}-"));
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(e) => return Err(AttemptError::Retry(e.to_string())),
        };
        let status = resp.status();
        let fatal = |message: String| {
            AttemptError::Fatal(DataError::Download {
                url: url.to_string(),
                message,
            })
        };
        let append = match status {
            StatusCode::PARTIAL_CONTENT if have > 0 => {
                let range = resp
                    .headers()
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if content_range_start(range) != Some(have) {
                    // A range we did not ask for: start over rather than guess.
                    remove_quietly(part);
                    return Err(AttemptError::Retry(format!(
                        "server answered range {range:?} to a request from byte {have}"
                    )));
                }
                *resumed = true;
                true
            }
            StatusCode::OK => false,
            StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
                // `Content-Range: bytes */TOTAL`: when TOTAL is what we have, the file is whole.
                let total = resp
                    .headers()
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().strip_prefix("bytes */"))
                    .and_then(|t| t.trim().parse::<u64>().ok());
                if total == Some(have) {
                    return Ok(());
                }
                remove_quietly(part);
                return Err(AttemptError::Retry(format!(
                    "server refused to resume at byte {have} (HTTP 416); restarting"
                )));
            }
            s if retryable_status(s) => return Err(AttemptError::Retry(format!("HTTP {s}"))),
            s => return Err(fatal(format!("HTTP {s}"))),
        };
        let offset = if append { have } else { 0 };
        let total = resp
            .body()
            .content_length()
            .map(|n| n + offset)
            .or(expected_size);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .map_err(|e| AttemptError::Fatal(DataError::io(part, e)))?;
        progress.begin(label, total, offset);
        let mut reader = resp.into_body().into_reader();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.flush();
                    return Err(AttemptError::Retry(format!("connection broke: {e}")));
                }
            };
            file.write_all(&buf[..n])
                .map_err(|e| AttemptError::Fatal(DataError::io(part, e)))?;
            progress.advance(n as u64);
        }
        file.flush()
            .map_err(|e| AttemptError::Fatal(DataError::io(part, e)))?;
        Ok(())
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.cfg
            .backoff
            .saturating_mul(factor)
            .min(self.cfg.max_backoff)
    }
}

/// Statuses worth retrying: server errors, timeouts, rate limits.
fn retryable_status(s: StatusCode) -> bool {
    s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT || s == StatusCode::TOO_MANY_REQUESTS
}

/// The first byte of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(header: &str) -> Option<u64> {
    let rest = header.trim().strip_prefix("bytes")?.trim_start();
    let (start, _) = rest.split_once('-')?;
    start.trim().parse().ok()
}

fn remove_quietly(path: &Path) {
    let _ = fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parses_the_start() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes  7-9/*"), Some(7));
        assert_eq!(content_range_start("items 1-2/3"), None);
        assert_eq!(content_range_start(""), None);
    }

    #[test]
    fn part_path_appends_the_suffix() {
        assert_eq!(
            part_path(Path::new("/c/gb/x_v0.zip")),
            PathBuf::from("/c/gb/x_v0.zip.part")
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let d = Downloader::new(HttpConfig {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..HttpConfig::default()
        });
        assert_eq!(d.backoff(1), Duration::from_millis(100));
        assert_eq!(d.backoff(2), Duration::from_millis(200));
        assert_eq!(d.backoff(3), Duration::from_millis(350));
        assert_eq!(d.backoff(40), Duration::from_millis(350));
    }
}
