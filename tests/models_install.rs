//! Getting models in: importing a GGUF the user has, and downloading one over HTTP (from a real
//! server on loopback that honours range requests and can cut a transfer short), resumed and
//! checked against its sha256.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use folio::models::install::{download, import, sha256_file, Expected};

/// How the test server behaves.
#[derive(Clone, Default)]
struct Server {
    /// The file's versions: request n is served version `min(n, len - 1)`, each with its ETag.
    versions: Vec<(Vec<u8>, String)>,
    /// The first requests are cut after half their bytes.
    cut_first: usize,
    /// A resumed response starts this many bytes off where it was asked (a broken server).
    skew: usize,
}

/// Serves `server`'s file at any path over HTTP/1.1 on loopback: honours `Range` (206 with
/// `Content-Range`, 416 past the end) and `If-Range` (a full 200 when the ETag differs).
fn serve(server: Server) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/model.gguf", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut from, mut if_range) = (0usize, None::<String>);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(range) = lower.strip_prefix("range: bytes=") {
                    from = range.trim().trim_end_matches('-').parse().unwrap();
                }
                if lower.starts_with("if-range:") {
                    if_range = Some(line["if-range:".len()..].trim().to_string());
                }
            }
            let n = count.fetch_add(1, Ordering::SeqCst);
            let (body, etag) = &server.versions[n.min(server.versions.len() - 1)];
            if if_range.is_some_and(|v| &v != etag) {
                from = 0;
            }
            let head = if from >= body.len() && from > 0 {
                format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", body.len())
            } else if from > 0 {
                let start = from + server.skew;
                format!(
                    "HTTP/1.1 206 Partial Content\r\nETag: {etag}\r\nContent-Range: bytes {start}-{}/{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len() - 1,
                    body.len(),
                    body.len() - from
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            stream.write_all(head.as_bytes()).unwrap();
            let rest = &body[from.min(body.len())..];
            let send = if n < server.cut_first { &rest[..rest.len() / 2] } else { rest };
            let _ = stream.write_all(send);
            let _ = stream.flush();
            // End the response here (the reader's clone of the socket would keep it open), then
            // wait for the client to hang up.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let _ = reader.read(&mut [0u8; 1]);
        }
    });
    (url, requests)
}

fn body(seed: u32) -> Vec<u8> {
    (0..300_000u32).flat_map(|i| (i ^ seed).to_le_bytes()).collect()
}

fn sha(dir: &std::path::Path, bytes: &[u8]) -> String {
    let file = dir.join("for-hash.bin");
    std::fs::write(&file, bytes).unwrap();
    sha256_file(&file).unwrap()
}

#[test]
fn an_interrupted_download_resumes_and_is_hash_checked() {
    let dir = tempfile::tempdir().unwrap();
    let body = body(0);
    let sha = sha(dir.path(), &body);
    let (url, requests) = serve(Server { versions: vec![(body.clone(), "\"v1\"".into())], cut_first: 1, skew: 0 });
    let target = dir.path().join("models/model.gguf");
    let cancel = AtomicBool::new(false);
    let expected = Expected { sha256: Some(&sha), size: Some(body.len() as u64) };

    let first = download(&url, &target, expected, &cancel, &mut |_| {});
    assert!(first.is_err(), "a cut transfer must not count as done");
    let part = target.with_extension("part");
    let partial = std::fs::metadata(&part).unwrap().len();
    assert!(partial > 0 && partial < body.len() as u64);

    let mut last = 0;
    download(&url, &target, expected, &cancel, &mut |p| last = p.done).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), body);
    assert_eq!(last, body.len() as u64);
    assert_eq!(requests.load(Ordering::SeqCst), 2);
    assert!(!part.exists());

    // A wrong hash: the file is rejected and removed.
    let (url, _) = serve(Server { versions: vec![(body, "\"v1\"".into())], ..Server::default() });
    let other = dir.path().join("models/other.gguf");
    let wrong = "0".repeat(64);
    let err = download(&url, &other, Expected { sha256: Some(&wrong), size: None }, &cancel, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged"), "{err}");
    assert!(!other.exists() && !other.with_extension("part").exists());
}

#[test]
fn a_file_that_changed_on_the_server_starts_over_instead_of_being_spliced() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (body(0), body(0xABCD));
    // The first attempt gets half of v1; by the second the server holds v2.
    let (url, _) =
        serve(Server { versions: vec![(old, "\"v1\"".into()), (new.clone(), "\"v2\"".into())], cut_first: 1, skew: 0 });
    let target = dir.path().join("model.gguf");
    let cancel = AtomicBool::new(false);
    assert!(download(&url, &target, Expected::default(), &cancel, &mut |_| {}).is_err());
    download(&url, &target, Expected::default(), &cancel, &mut |_| {}).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), new, "v2 whole, not half of v1 and half of v2");
    // No hash was pinned: the one of this first verified download is recorded beside the file.
    let recorded = std::fs::read_to_string(dir.path().join("model.gguf.sha256")).unwrap();
    assert_eq!(recorded.trim(), sha(dir.path(), &new));
}

#[test]
fn a_whole_part_is_verified_not_fetched_again_and_a_bad_server_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let body = body(7);
    let sha = sha(dir.path(), &body);
    let cancel = AtomicBool::new(false);

    // Every byte is in the part already: the server answers 416, the part is checked and kept.
    let (url, requests) = serve(Server { versions: vec![(body.clone(), "\"v1\"".into())], ..Server::default() });
    let target = dir.path().join("whole.gguf");
    std::fs::write(target.with_extension("part"), &body).unwrap();
    download(&url, &target, Expected { sha256: Some(&sha), size: None }, &cancel, &mut |_| {}).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), body);
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // A server that resumes at another offset than asked: refused, the part deleted.
    let (url, _) = serve(Server { versions: vec![(body.clone(), "\"v1\"".into())], cut_first: 0, skew: 10 });
    let skewed = dir.path().join("skewed.gguf");
    std::fs::write(skewed.with_extension("part"), &body[..1000]).unwrap();
    let err = download(&url, &skewed, Expected::default(), &cancel, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("wrong place"), "{err}");
    assert!(!skewed.with_extension("part").exists());

    // Larger than the catalog says: refused before it fills the disk.
    let (url, _) = serve(Server { versions: vec![(body, "\"v1\"".into())], ..Server::default() });
    let big = dir.path().join("big.gguf");
    let err = download(&url, &big, Expected { sha256: None, size: Some(1000) }, &cancel, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than"), "{err}");
    assert!(!big.exists());
}

#[test]
fn importing_checks_the_file_and_copies_it_into_the_model_dir() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::env::set_var("FOLIO_MODELS", &models);
    let picked = dir.path().join("My Tiny Model.gguf");
    common::tiny_gguf::write(&picked, &common::tiny_gguf::TinySpec::default());
    let id = import(&picked).unwrap();
    assert_eq!(id, "my-tiny-model");
    assert!(models.join("my-tiny-model.gguf").is_file());
    assert!(folio::models::known::imported().contains(&id));

    let bad = dir.path().join("notes.gguf");
    std::fs::write(&bad, b"not a model").unwrap();
    let err = import(&bad).unwrap_err().to_string();
    assert!(err.contains("notes.gguf"), "{err}");
    assert!(!models.join("notes.gguf").exists());
}
