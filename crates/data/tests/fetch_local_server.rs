//! `strand fetch` against a local HTTP server on 127.0.0.1 that serves the publishers' paths
//! (Zenodo, Hugging Face, raw GitHub, Ensembl) with small files built here, including servers that
//! drop the connection mid-file, ignore ranges, fail, or serve corrupted bytes, and archives with
//! `..` and absolute entries. The server answers one connection at a time, stops when dropped, and
//! never accepts more than `MAX_CONNECTIONS`.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use strand_data::DataError;
use strand_data::fetch::layout::{self, Marker};
use strand_data::fetch::verify::{STORE_FILE, sha256_hex};
use strand_data::fetch::{FetchOptions, Fetcher, HttpConfig, NoProgress, Progress, Status, Target};
use zip::write::SimpleFileOptions;

const MAX_CONNECTIONS: usize = 200;
const GB_COMMIT: &str = "605d8539830e16c85abe7826990958303ffc5e1c";

/// How a route answers.
#[derive(Clone, Copy)]
enum Behavior {
    /// Honours `Range: bytes=N-` with 206 (416 past the end).
    Normal,
    /// The first request gets the headers of the whole file and `after` bytes, then the
    /// connection is closed; later requests are `Normal`.
    DropFirst { after: usize },
    /// Like `DropFirst`, but the server never honours ranges (always 200 with everything).
    NoRange { drop_first_after: usize },
    /// The first `count` requests get `status` (no body); later ones are `Normal`.
    FailFirst { count: usize, status: u16 },
}

struct Route {
    body: Vec<u8>,
    behavior: Behavior,
    hits: usize,
    link: Option<String>,
}

/// One request the server saw: the path (with query) and the `Range` header.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    range: Option<String>,
}

struct Server {
    base: String,
    addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `routes` (keyed by path, or by path and query for pagination pages).
    fn start(routes: Vec<(String, Vec<u8>, Behavior)>) -> Server {
        Self::start_with_links(
            routes
                .into_iter()
                .map(|(p, b, h)| (p, b, h, None))
                .collect(),
        )
    }

    fn start_with_links(routes: Vec<(String, Vec<u8>, Behavior, Option<String>)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: HashMap<String, Route> = routes
            .into_iter()
            .map(|(path, body, behavior, link)| {
                (
                    path,
                    Route {
                        body,
                        behavior,
                        hits: 0,
                        link,
                    },
                )
            })
            .collect();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut routes = routes;
            for (n, conn) in listener.incoming().enumerate() {
                if stop2.load(Ordering::SeqCst) || n >= MAX_CONNECTIONS {
                    break;
                }
                if let Ok(stream) = conn {
                    handle(stream, &mut routes, &log2);
                }
            }
        });
        Server {
            base: format!("http://{addr}"),
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(mut stream: TcpStream, routes: &mut HashMap<String, Route>, log: &Mutex<Vec<Seen>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut range = None;
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("range")
        {
            range = Some(v.trim().to_string());
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    log.lock().unwrap().push(Seen {
        target: target.clone(),
        range: range.clone(),
    });
    let path = target.split('?').next().unwrap().to_string();
    let route = match routes.get_mut(&target) {
        Some(r) => r,
        None => match routes.get_mut(&path) {
            Some(r) => r,
            None => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                return;
            }
        },
    };
    route.hits += 1;
    let first = route.hits == 1;
    let len = route.body.len();
    let link = route
        .link
        .as_ref()
        .map(|l| format!("Link: {l}\r\n"))
        .unwrap_or_default();
    let (honour_range, drop_after) = match route.behavior {
        Behavior::Normal => (true, None),
        Behavior::DropFirst { after } => (true, first.then_some(after)),
        Behavior::NoRange { drop_first_after } => (false, first.then_some(drop_first_after)),
        Behavior::FailFirst { count, status } => {
            if route.hits <= count {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                return;
            }
            (true, None)
        }
    };
    let start = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")) {
        Some(r) if honour_range => r.trim_end_matches('-').parse::<usize>().ok(),
        _ => None,
    };
    let (head, body) = match start {
        Some(s) if s >= len => {
            let _ = write!(
                stream,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return;
        }
        Some(s) => (
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}\r\n\
                 Content-Length: {}\r\n{link}Connection: close\r\n\r\n",
                len - 1,
                len - s
            ),
            &route.body[s..],
        ),
        None => (
            format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n{link}Connection: close\r\n\r\n"),
            &route.body[..],
        ),
    };
    let _ = stream.write_all(head.as_bytes());
    match drop_after {
        Some(n) => {
            let _ = stream.write_all(&body[..n.min(body.len())]);
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Both);
        }
        None => {
            let _ = stream.write_all(body);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A small Genomic Benchmarks archive; `top` adds the `<name>/` folder the real ones have. The
/// filler makes it large enough for a mid-file drop to matter.
fn gb_zip(name: &str, top: bool) -> Vec<u8> {
    let prefix = if top {
        format!("{name}/")
    } else {
        String::new()
    };
    let filler: Vec<u8> = (0..40_000u32)
        .map(|i| b"ACGT"[(i * 7 % 4) as usize])
        .collect();
    let names = [
        format!("{prefix}train/positive/0.txt"),
        format!("{prefix}train/negative/0.txt"),
        format!("{prefix}test/positive/1.txt"),
        format!("{prefix}test/negative/1.txt"),
    ];
    let entries: Vec<(&str, &[u8])> = vec![
        (names[0].as_str(), b"ACGTACGT"),
        (names[1].as_str(), &filler),
        (names[2].as_str(), b"TTTT"),
        (names[3].as_str(), b"GGGG"),
    ];
    zip_bytes(&entries)
}

fn gb_path(name: &str) -> String {
    format!("/records/16605299/files/{name}_v0.zip")
}

fn options(cache: &Path, server: &Server, retries: u32) -> FetchOptions {
    let mut o = FetchOptions::new(cache).with_mirror(&server.base).unwrap();
    o.http = fast_http(retries);
    o
}

fn fast_http(retries: u32) -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        retries,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..HttpConfig::default()
    }
}

fn fetch(
    opts: FetchOptions,
    target: &str,
) -> strand_data::Result<Vec<strand_data::fetch::Fetched>> {
    let mut progress = NoProgress;
    let mut f = Fetcher::new(opts, &mut progress)?;
    f.fetch(&Target::parse(target)?, false)
}

/// Every file under `dir` (relative paths), sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

const NAME: &str = "human_nontata_promoters";

fn assert_gb_installed(cache: &Path, zip: &[u8]) {
    let dir = layout::gb_dataset_dir(cache, NAME);
    assert_eq!(
        fs::read(dir.join("train/positive/0.txt")).unwrap(),
        b"ACGTACGT"
    );
    assert_eq!(fs::read(dir.join("test/negative/1.txt")).unwrap(), b"GGGG");
    let marker = Marker::read(&dir).unwrap();
    assert_eq!(marker.target, format!("gb/{NAME}"));
    assert_eq!(marker.files[0].sha256, sha256_hex(zip));
    // Downloads and staging are cleaned up.
    let partial = layout::partial_dir(cache, layout::GB_DIR);
    assert!(tree(&partial).is_empty(), "left over: {:?}", tree(&partial));
}

// ---------------------------------------------------------------------------------------------
// Genomic Benchmarks.

#[test]
fn gb_archive_installs_native_layout_then_later_fetches_stay_offline() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, true);
    let server = Server::start(vec![(gb_path(NAME), zip.clone(), Behavior::Normal)]);
    let got = fetch(options(cache.path(), &server, 2), &format!("gb/{NAME}")).unwrap();
    assert_eq!(got[0].status, Status::Installed);
    assert_gb_installed(cache.path(), &zip);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].target.ends_with("_v0.zip?download=1"), "{seen:?}");
    // The checksum was recorded on first fetch.
    let store = fs::read_to_string(cache.path().join(STORE_FILE)).unwrap();
    assert!(store.contains(&sha256_hex(&zip)), "{store}");

    // Offline: the server is gone, the second fetch finds everything in place.
    let opts = options(cache.path(), &server, 0);
    drop(server);
    let again = fetch(opts, &format!("gb/{NAME}")).unwrap();
    assert_eq!(again[0].status, Status::AlreadyPresent);
}

#[test]
fn gb_archive_without_a_top_folder_is_accepted() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, false);
    let server = Server::start(vec![(gb_path(NAME), zip.clone(), Behavior::Normal)]);
    fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap();
    assert_gb_installed(cache.path(), &zip);
}

/// Records what a fetch reports.
#[derive(Default)]
struct Recorder {
    begins: Vec<(Option<u64>, u64)>,
    bytes: u64,
    notes: Vec<String>,
}

impl Progress for Recorder {
    fn begin(&mut self, _label: &str, total: Option<u64>, offset: u64) {
        self.begins.push((total, offset));
    }
    fn advance(&mut self, bytes: u64) {
        self.bytes += bytes;
    }
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_string());
    }
}

#[test]
fn dropped_connection_is_resumed_with_a_range_request() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, true);
    let half = zip.len() / 2;
    let server = Server::start(vec![(
        gb_path(NAME),
        zip.clone(),
        Behavior::DropFirst { after: half },
    )]);
    let mut progress = Recorder::default();
    {
        let mut f = Fetcher::new(options(cache.path(), &server, 3), &mut progress).unwrap();
        f.fetch(&Target::parse(&format!("gb/{NAME}")).unwrap(), false)
            .unwrap();
    }
    assert_gb_installed(cache.path(), &zip);
    // The progress saw both transfers: the second starts at `half` of the same total, and the
    // bytes reported add up to the file.
    let total = Some(zip.len() as u64);
    assert_eq!(progress.begins, [(total, 0), (total, half as u64)]);
    assert_eq!(progress.bytes, zip.len() as u64);
    assert!(
        progress.notes.iter().any(|n| n.contains("retrying")),
        "{:?}",
        progress.notes
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].range, None);
    assert_eq!(
        seen[1].range.as_deref(),
        Some(format!("bytes={half}-").as_str())
    );
}

#[test]
fn interrupted_run_is_resumed_by_the_next_run() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, true);
    let third = zip.len() / 3;
    let server = Server::start(vec![(
        gb_path(NAME),
        zip.clone(),
        Behavior::DropFirst { after: third },
    )]);
    // No retries: the first run fails and keeps its partial file, installs nothing.
    let e = fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap_err();
    assert!(matches!(e, DataError::Download { .. }), "{e}");
    assert!(!layout::gb_dataset_dir(cache.path(), NAME).exists());
    let part =
        layout::partial_dir(cache.path(), layout::GB_DIR).join(format!("{NAME}_v0.zip.part"));
    assert_eq!(fs::metadata(&part).unwrap().len() as usize, third);
    // The next run asks for the rest only.
    fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap();
    assert_gb_installed(cache.path(), &zip);
    assert_eq!(
        server.seen()[1].range.as_deref(),
        Some(format!("bytes={third}-").as_str())
    );
}

#[test]
fn server_ignoring_ranges_restarts_from_zero() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, true);
    let server = Server::start(vec![(
        gb_path(NAME),
        zip.clone(),
        Behavior::NoRange {
            drop_first_after: zip.len() / 2,
        },
    )]);
    fetch(options(cache.path(), &server, 3), &format!("gb/{NAME}")).unwrap();
    // The restart did not append the whole file to the first half.
    assert_gb_installed(cache.path(), &zip);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].range.is_some(),
        "the client should have asked for a range"
    );
}

#[test]
fn server_errors_are_retried_and_missing_files_are_not() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, true);
    let server = Server::start(vec![(
        gb_path(NAME),
        zip.clone(),
        Behavior::FailFirst {
            count: 2,
            status: 503,
        },
    )]);
    fetch(options(cache.path(), &server, 3), &format!("gb/{NAME}")).unwrap();
    assert_gb_installed(cache.path(), &zip);
    assert_eq!(server.seen().len(), 3);

    // A 404 fails at once, names the URL and installs nothing.
    let other = "human_enhancers_cohn";
    let e = fetch(options(cache.path(), &server, 3), &format!("gb/{other}")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("404") && msg.contains(&format!("{other}_v0.zip")),
        "{msg}"
    );
    assert_eq!(server.seen().len(), 4, "a 404 must not be retried");
    assert!(!layout::gb_dataset_dir(cache.path(), other).exists());
}

#[test]
fn corrupted_archive_fails_the_recorded_checksum_and_installs_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let zip = gb_zip(NAME, true);
    {
        let server = Server::start(vec![(gb_path(NAME), zip.clone(), Behavior::Normal)]);
        fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap();
    }
    // The dataset is lost; the publisher (or a bad mirror) now serves other bytes.
    fs::remove_dir_all(layout::gb_dataset_dir(cache.path(), NAME)).unwrap();
    let mut corrupted = zip.clone();
    let mid = corrupted.len() / 2;
    corrupted[mid] ^= 0xff;
    let server = Server::start(vec![(gb_path(NAME), corrupted.clone(), Behavior::Normal)]);
    let e = fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap_err();
    match &e {
        DataError::ChecksumMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &sha256_hex(&zip));
            assert_eq!(actual, &sha256_hex(&corrupted));
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    assert!(e.to_string().contains("nothing was installed"));
    assert!(!layout::gb_dataset_dir(cache.path(), NAME).exists());
    let partial = layout::partial_dir(cache.path(), layout::GB_DIR);
    assert!(tree(&partial).is_empty(), "left over: {:?}", tree(&partial));
}

#[test]
fn a_download_that_fails_to_install_records_no_checksum() {
    let cache = tempfile::tempdir().unwrap();
    // A mirror answers with an error page (200 OK, HTML): the "archive" cannot be extracted.
    let page = b"<html><body>rate limited</body></html>".to_vec();
    {
        let server = Server::start(vec![(gb_path(NAME), page, Behavior::Normal)]);
        let e = fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap_err();
        assert!(!matches!(e, DataError::ChecksumMismatch { .. }), "{e}");
        assert!(!layout::gb_dataset_dir(cache.path(), NAME).exists());
    }
    let store = fs::read_to_string(cache.path().join(STORE_FILE)).unwrap_or_default();
    assert!(
        !store.contains(NAME),
        "a failed install pinned a checksum: {store}"
    );
    // The real archive, served later, installs.
    let zip = gb_zip(NAME, true);
    let server = Server::start(vec![(gb_path(NAME), zip.clone(), Behavior::Normal)]);
    fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap();
    assert_gb_installed(cache.path(), &zip);
    let store = fs::read_to_string(cache.path().join(STORE_FILE)).unwrap();
    assert!(store.contains(&sha256_hex(&zip)), "{store}");
}

#[test]
fn zip_slip_and_absolute_entries_are_refused() {
    for (evil, escaped) in [
        ("../../evil.txt", "evil.txt"),
        ("/tmp/strand-abs-entry.txt", ""),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let zip = zip_bytes(&[
            (&format!("{NAME}/train/positive/0.txt"), b"ACGT"),
            (evil, b"gotcha"),
            (&format!("{NAME}/test/positive/0.txt"), b"ACGT"),
        ]);
        let server = Server::start(vec![(gb_path(NAME), zip, Behavior::Normal)]);
        let e = fetch(options(cache.path(), &server, 0), &format!("gb/{NAME}")).unwrap_err();
        assert!(
            matches!(&e, DataError::UnsafeArchive { entry, .. } if entry == evil),
            "{evil}: {e}"
        );
        assert!(!layout::gb_dataset_dir(cache.path(), NAME).exists());
        // Nothing was written anywhere: the cache holds only the lock file of the process that
        // wrote it (the refused download is deleted and its checksum not recorded), and nothing
        // escaped.
        let files = tree(cache.path());
        assert_eq!(files, [strand_data::lock::LOCK_FILE], "{evil}");
        if !escaped.is_empty() {
            assert!(!cache.path().join(escaped).exists());
            assert!(!cache.path().parent().unwrap().join(escaped).exists());
        } else {
            assert!(!Path::new(evil).exists());
        }
    }
}

#[test]
fn data_dir_copy_is_used_without_any_network() {
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    for split in ["train", "test"] {
        let d = data
            .path()
            .join("gb")
            .join(NAME)
            .join(split)
            .join("positive");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("0.txt"), "ACGT").unwrap();
    }
    // A mirror nobody listens on: any request would fail.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut opts = FetchOptions::new(cache.path())
        .with_mirror(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    opts.http = fast_http(0);
    opts.data_dir = Some(data.path().to_path_buf());
    let got = fetch(opts, &format!("gb/{NAME}")).unwrap();
    assert_eq!(got[0].status, Status::AlreadyPresent);
    assert_eq!(got[0].path, data.path().join("gb").join(NAME));
}

// ---------------------------------------------------------------------------------------------
// GUANinE.

const TASK: &str = "cons30";

fn hf_file_path(path: &str) -> String {
    format!("/datasets/guanine/{TASK}/resolve/main/{path}")
}

fn listing_entry(path: &str, body: &[u8], lfs: bool, oid: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "type": "file",
        "oid": "0123456789abcdef0123456789abcdef01234567",
        "size": body.len(),
        "path": path,
    });
    if lfs {
        let sha = oid.map(str::to_string).unwrap_or_else(|| sha256_hex(body));
        v["lfs"] = serde_json::json!({"oid": sha, "size": body.len(), "pointerSize": 131});
    }
    v
}

#[test]
fn guanine_task_keeps_the_hf_layout_and_follows_pagination() {
    let cache = tempfile::tempdir().unwrap();
    let csv = b"seq,y\nACGTACGT,3\nTTTTAAAA,0\n".to_vec();
    let bed = b"#chr\tstart\tend\tcenter\ty\nchr1\t100\t612\t356\t3\n".to_vec();
    let readme = b"# cons30\n".to_vec();
    let api = format!("/api/datasets/guanine/{TASK}/tree/main");
    let page2 = format!("{api}?recursive=true&cursor=p2");
    let page1_body = serde_json::to_vec(&serde_json::json!([
        {"type": "directory", "oid": "x", "size": 0, "path": "train"},
        listing_entry("README.md", &readme, false, None),
        listing_entry("train/train.csv", &csv, true, None),
    ]))
    .unwrap();
    let page2_body = serde_json::to_vec(&serde_json::json!([listing_entry(
        "bed/train/train.bed",
        &bed,
        true,
        None
    ),]))
    .unwrap();
    // The next-page link names the publisher's host: the fetcher must send it to the mirror too.
    let link = format!("<https://huggingface.co{page2}>; rel=\"next\"");
    let server = Server::start_with_links(vec![
        (api.clone(), page1_body, Behavior::Normal, Some(link)),
        (page2.clone(), page2_body, Behavior::Normal, None),
        (
            hf_file_path("README.md"),
            readme.clone(),
            Behavior::Normal,
            None,
        ),
        (
            hf_file_path("train/train.csv"),
            csv.clone(),
            Behavior::DropFirst { after: 7 },
            None,
        ),
        (
            hf_file_path("bed/train/train.bed"),
            bed.clone(),
            Behavior::Normal,
            None,
        ),
    ]);
    let got = fetch(
        options(cache.path(), &server, 2),
        &format!("guanine/{TASK}"),
    )
    .unwrap();
    assert_eq!(got[0].status, Status::Installed);
    let dir = layout::guanine_task_dir(cache.path(), TASK);
    assert_eq!(fs::read(dir.join("train/train.csv")).unwrap(), csv);
    assert_eq!(fs::read(dir.join("bed/train/train.bed")).unwrap(), bed);
    assert_eq!(fs::read(dir.join("README.md")).unwrap(), readme);
    assert!(layout::is_complete(&dir));
    let targets: Vec<String> = server.seen().iter().map(|s| s.target.clone()).collect();
    assert!(
        targets[0].ends_with("tree/main?recursive=true"),
        "{targets:?}"
    );
    assert!(targets.contains(&page2), "{targets:?}");
    let resumed = server
        .seen()
        .iter()
        .any(|s| s.target.ends_with("train.csv") && s.range.as_deref() == Some("bytes=7-"));
    assert!(resumed, "{:?}", server.seen());
    assert!(tree(&layout::partial_dir(cache.path(), layout::GUANINE_DIR)).is_empty());
}

#[test]
fn guanine_file_not_matching_its_lfs_sha_installs_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let csv = b"seq,y\nACGT,1\n".to_vec();
    let wrong = sha256_hex(b"something else");
    let api = format!("/api/datasets/guanine/{TASK}/tree/main");
    let listing = serde_json::to_vec(&serde_json::json!([listing_entry(
        "train/train.csv",
        &csv,
        true,
        Some(&wrong)
    )]))
    .unwrap();
    let server = Server::start(vec![
        (api, listing, Behavior::Normal),
        (
            hf_file_path("train/train.csv"),
            csv.clone(),
            Behavior::Normal,
        ),
    ]);
    let e = fetch(
        options(cache.path(), &server, 0),
        &format!("guanine/{TASK}"),
    )
    .unwrap_err();
    assert!(
        matches!(&e, DataError::ChecksumMismatch { expected, .. } if expected == &wrong),
        "{e}"
    );
    assert!(!layout::guanine_task_dir(cache.path(), TASK).exists());
    let staged = tree(&layout::partial_dir(cache.path(), layout::GUANINE_DIR));
    assert!(staged.is_empty(), "{staged:?}");
}

#[test]
fn guanine_listing_with_an_escaping_path_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let api = format!("/api/datasets/guanine/{TASK}/tree/main");
    let listing = serde_json::to_vec(&serde_json::json!([listing_entry(
        "../../x.csv",
        b"a",
        false,
        None
    )]))
    .unwrap();
    let server = Server::start(vec![(api, listing, Behavior::Normal)]);
    let e = fetch(
        options(cache.path(), &server, 0),
        &format!("guanine/{TASK}"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("unsafe path"), "{e}");
    assert_eq!(server.seen().len(), 1, "no file may be requested");
}

// ---------------------------------------------------------------------------------------------
// Reference genomes and Genomic Benchmarks from intervals.

const WORM_PATH: &str = "/pub/release-104/fasta/caenorhabditis_elegans/dna/\
                         Caenorhabditis_elegans.WBcel235.dna.toplevel.fa.gz";

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn worm_fasta() -> Vec<u8> {
    let mut text = String::new();
    for (name, len) in [("I", 1000usize), ("II", 130), ("MtDNA", 61)] {
        text.push_str(&format!(">{name} dna:chromosome\n"));
        let seq: Vec<u8> = (0..len)
            .map(|i| b"ACGT"[(i * 3 + name.len()) % 4])
            .collect();
        for line in seq.chunks(60) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
    }
    gz(text.as_bytes())
}

fn assert_genome_installed(cache: &Path, name: &str) -> PathBuf {
    let dir = layout::reference_dir(cache, name);
    assert!(layout::is_complete(&dir));
    let fa = layout::reference_fasta(cache, name);
    for suffix in ["", ".fai", ".gzi"] {
        let p = PathBuf::from(format!("{}{suffix}", fa.display()));
        assert!(p.is_file(), "{} missing", p.display());
    }
    let fai = fs::read_to_string(format!("{}.fai", fa.display())).unwrap();
    assert!(fai.starts_with("I\t1000\t"), "{fai}");
    assert!(fai.contains("MtDNA\t61\t"), "{fai}");
    fa
}

#[test]
fn reference_genome_is_stored_as_indexed_bgzip() {
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(vec![(
        WORM_PATH.to_string(),
        worm_fasta(),
        Behavior::Normal,
    )]);
    let got = fetch(options(cache.path(), &server, 0), "reference/WBcel235").unwrap();
    assert_eq!(got[0].status, Status::Installed);
    let fa = assert_genome_installed(cache.path(), "WBcel235");
    // BGZF: a gzip member with the BC extra field.
    let head = fs::read(&fa).unwrap();
    assert_eq!(&head[..4], &[31, 139, 8, 4]);
    assert!(tree(&layout::partial_dir(cache.path(), layout::REFERENCE_DIR)).is_empty());
}

#[test]
fn gb_from_reference_fetches_intervals_and_their_genome() {
    let cache = tempfile::tempdir().unwrap();
    let name = "demo_human_or_worm";
    let meta = "classes:\n  human:\n    type: fa.gz\n    url: http://ftp.ensembl.org/pub/release-104/fasta/caenorhabditis_elegans/dna/Caenorhabditis_elegans.WBcel235.dna.toplevel.fa.gz\n  worm:\n    type: fa.gz\n    url: ftp://ftp.ensembl.org/pub/release-104/fasta/caenorhabditis_elegans/dna/Caenorhabditis_elegans.WBcel235.dna.toplevel.fa.gz\nversion: 0\n";
    let base = format!("/ML-Bioinfo-CEITEC/genomic_benchmarks/{GB_COMMIT}/datasets/{name}");
    let csv = gz(b"id,region,start,end,strand\n0,I,10,20,+\n");
    let mut routes = vec![
        (
            format!("{base}/metadata.yaml"),
            meta.as_bytes().to_vec(),
            Behavior::Normal,
        ),
        (WORM_PATH.to_string(), worm_fasta(), Behavior::Normal),
    ];
    for split in ["train", "test"] {
        for class in ["human", "worm"] {
            routes.push((
                format!("{base}/{split}/{class}.csv.gz"),
                csv.clone(),
                Behavior::Normal,
            ));
        }
    }
    let server = Server::start(routes);
    let mut progress = NoProgress;
    let mut f = Fetcher::new(options(cache.path(), &server, 0), &mut progress).unwrap();
    let got = f
        .fetch(&Target::parse(&format!("gb/{name}")).unwrap(), true)
        .unwrap();
    let targets: Vec<&str> = got.iter().map(|g| g.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            format!("gb_intervals/{name}").as_str(),
            "reference/WBcel235"
        ]
    );
    let dir = layout::gb_intervals_dir(cache.path(), name);
    assert_eq!(
        tree(&dir),
        [
            ".complete",
            "metadata.yaml",
            "test/human.csv.gz",
            "test/worm.csv.gz",
            "train/human.csv.gz",
            "train/worm.csv.gz"
        ]
    );
    assert_genome_installed(cache.path(), "WBcel235");
    // Each class maps to the fetched genome, as the interval source takes it.
    let refs =
        strand_data::fetch::genomes::class_references(cache.path(), &dir.join("metadata.yaml"))
            .unwrap();
    let fa = layout::reference_fasta(cache.path(), "WBcel235");
    assert_eq!(refs.get("human"), Some(&fa));
    assert_eq!(refs.get("worm"), Some(&fa));
    // The interval source builds the sequences from the fetched genome: row `0,I,10,20,+`.
    use strand_data::Source;
    use strand_data::source::gb_intervals::{GbIntervals, ReferenceChoice};
    let source = GbIntervals::open(&dir, Some(&ReferenceChoice::PerClass(refs))).unwrap();
    let records: Vec<_> = source
        .records(strand_data::Split::Train)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 2);
    let chr_i: Vec<u8> = (0..1000usize).map(|i| b"ACGT"[(i * 3 + 1) % 4]).collect();
    assert_eq!(records[0].seq, &chr_i[10..20]);
    // The genome was downloaded once although two classes name it.
    let n = server
        .seen()
        .iter()
        .filter(|s| s.target == WORM_PATH)
        .count();
    assert_eq!(n, 1);
}
