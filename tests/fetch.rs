//! End-to-end tests of `strand fetch` against a local HTTP server on 127.0.0.1 serving the
//! Hugging Face paths of a GUANinE task (the library's own tests cover every failure mode; these
//! check the command line, its exit codes and its offline second run).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Serves fixed bodies by path (query ignored), one connection at a time, at most 50.
struct Server {
    base: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(routes: Vec<(String, Vec<u8>)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (req2, stop2) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming().take(50) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = conn else { continue };
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                for _ in 0..100 {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                req2.fetch_add(1, Ordering::SeqCst);
                let target = line.split_whitespace().nth(1).unwrap_or("/");
                let path = target.split('?').next().unwrap();
                match routes.iter().find(|(p, _)| p == path) {
                    Some((_, body)) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(body);
                    }
                    None => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                    }
                }
            }
        });
        Server {
            base: format!("http://{addr}"),
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn gpra_routes(csv: &[u8], lfs_sha: &str) -> Vec<(String, Vec<u8>)> {
    let listing = serde_json::json!([
        {"type": "directory", "oid": "d", "size": 0, "path": "1per"},
        {"type": "file", "oid": "f", "size": csv.len(), "path": "1per/1per.csv",
         "lfs": {"oid": lfs_sha, "size": csv.len(), "pointerSize": 130}},
    ]);
    vec![
        (
            "/api/datasets/guanine/gpra_c/tree/main".to_string(),
            serde_json::to_vec(&listing).unwrap(),
        ),
        (
            "/datasets/guanine/gpra_c/resolve/main/1per/1per.csv".to_string(),
            csv.to_vec(),
        ),
    ]
}

fn fetch(cache: &Path, mirror: &str, target: &str) -> std::process::Output {
    common::run(&[
        "fetch",
        target,
        "--cache",
        cache.to_str().unwrap(),
        "--mirror",
        mirror,
    ])
}

#[test]
fn fetch_guanine_task_then_rerun_offline() {
    let cache = tempfile::tempdir().unwrap();
    let csv = b"seq,y\nACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT,7\n";
    let server = Server::start(gpra_routes(csv, &sha256_hex(csv)));
    let out = fetch(cache.path(), &server.base, "guanine/gpra_c");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("installed") && stdout.contains("guanine/gpra_c"),
        "{stdout}"
    );
    let installed = cache.path().join("guanine/gpra_c/1per/1per.csv");
    assert_eq!(std::fs::read(&installed).unwrap(), csv);
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);

    // Second run: the server is gone, nothing is downloaded, exit 0.
    let mirror = server.base.clone();
    drop(server);
    let out = fetch(cache.path(), &mirror, "guanine/gpra_c");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("present"));
}

#[test]
fn fetch_with_a_bad_checksum_fails_and_installs_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let csv = b"seq,y\nACGT,1\n";
    let server = Server::start(gpra_routes(csv, &sha256_hex(b"other bytes")));
    let out = fetch(cache.path(), &server.base, "guanine/gpra_c");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!cache.path().join("guanine/gpra_c").exists());
}

#[test]
fn fetch_rejects_unknown_targets_and_misplaced_flags() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let out = common::run(&["fetch", "gb/no_such_dataset", "--cache", c]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("human_nontata_promoters"));
    let out = common::run(&["fetch", "guanine/cons30", "--reference", "--cache", c]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reference"));
    let out = common::run(&["fetch", "gb", "--mirror", "ftp://x", "--cache", c]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mirror"));
}
