//! Getting models in: importing a GGUF the user has, and downloading one over HTTP (from a real
//! server on loopback that honours range requests and can cut a transfer short), resumed and
//! checked against its sha256.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use folio::models::install::{download, import, sha256_file};

/// Serves `body` at any path; the first `cut_first` requests are cut after half the bytes.
fn serve(body: Vec<u8>, cut_first: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/model.gguf", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut from = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(range) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    from = range.trim().trim_end_matches('-').parse().unwrap();
                }
            }
            let n = count.fetch_add(1, Ordering::SeqCst);
            let rest = &body[from..];
            let status = if from > 0 { "206 Partial Content" } else { "200 OK" };
            let header = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", rest.len());
            stream.write_all(header.as_bytes()).unwrap();
            let send = if n < cut_first { &rest[..rest.len() / 2] } else { rest };
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

#[test]
fn an_interrupted_download_resumes_and_is_hash_checked() {
    let dir = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let source = dir.path().join("source.bin");
    std::fs::write(&source, &body).unwrap();
    let sha = sha256_file(&source).unwrap();
    let (url, requests) = serve(body.clone(), 1);
    let target = dir.path().join("models/model.gguf");
    let cancel = AtomicBool::new(false);

    let first = download(&url, &target, Some(&sha), &cancel, &mut |_| {});
    assert!(first.is_err(), "a cut transfer must not count as done");
    let part = target.with_extension("part");
    let partial = std::fs::metadata(&part).unwrap().len();
    assert!(partial > 0 && partial < body.len() as u64);

    let mut last = 0;
    download(&url, &target, Some(&sha), &cancel, &mut |p| last = p.done).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), body);
    assert_eq!(last, body.len() as u64);
    assert_eq!(requests.load(Ordering::SeqCst), 2);
    assert!(!part.exists());

    // A wrong hash: the file is rejected and removed.
    let (url, _) = serve(body, 0);
    let other = dir.path().join("models/other.gguf");
    let err = download(&url, &other, Some(&"0".repeat(64)), &cancel, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("damaged"), "{err}");
    assert!(!other.exists() && !other.with_extension("part").exists());
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
    assert!(folio::models::catalog::imported().contains(&id));

    let bad = dir.path().join("notes.gguf");
    std::fs::write(&bad, b"not a model").unwrap();
    let err = import(&bad).unwrap_err().to_string();
    assert!(err.contains("notes.gguf"), "{err}");
    assert!(!models.join("notes.gguf").exists());
}
