//! A library survives being killed at any moment: it opens, holds no half-indexed or duplicated
//! file, repairs its derived indexes, and the next run finishes the job.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use folio::SearchMode;

/// Files indexed so far, read straight from the catalog while another process writes it.
fn indexed_files(library: &Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(library.join("catalog.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT COUNT(*) FROM files WHERE status = 'indexed'", [], |r| r.get(0)).unwrap_or(0)
}

/// Every file's chunk count matches its chunks; no chunk belongs to a missing file.
fn assert_consistent(library: &Path) {
    let conn = rusqlite::Connection::open(library.join("catalog.db")).unwrap();
    let mismatched: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM files f WHERE f.chunk_count != (SELECT COUNT(*) FROM chunks c WHERE c.file_id = f.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(mismatched, 0, "files whose chunks are half there");
    let orphans: i64 = conn
        .query_row("SELECT COUNT(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0, "chunks without their file");
    let duplicated: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT file_id, ord FROM chunks GROUP BY file_id, ord HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicated, 0, "duplicated chunks");
}

#[test]
fn sigkill_during_indexing_is_repaired_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    const FILES: usize = 80;
    for i in 0..FILES {
        // Distinct words per file so each can be found alone; a few paragraphs so files take a
        // moment each.
        let body: String = (0..12)
            .map(|p| {
                format!(
                    "Report {i} section {p}: the quarterly figures of unit{i}x show steady growth in region {p}.\n\n"
                )
            })
            .collect();
        std::fs::write(docs.join(format!("report-{i:03}.txt")), body).unwrap();
    }
    let lib = tmp.path().join("lib");
    let mut killed_at = Vec::new();
    // Kill it twice at different moments, then let a third run finish.
    for wait_for in [3, 25] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
            .args(["--library", lib.to_str().unwrap(), "--json", "index", "--embedder", MINILM, docs.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while indexed_files(&lib) < wait_for && started.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        killed_at.push(indexed_files(&lib));
        assert_consistent(&lib);
    }
    assert!(killed_at[1] < FILES as i64, "the run finished before it could be killed: {killed_at:?}");

    // Opening repairs the derived indexes from the catalog.
    let library = open(&lib, MINILM);
    let (catalog, keyword, vectors) = store_counts(&library);
    assert!(catalog > 0);
    assert_eq!((keyword, vectors as u64), (catalog, catalog), "derived indexes not caught up");

    // The next run reads only what is missing and ends with every file indexed once.
    let summary = index(&library, &[&docs]);
    assert_eq!(summary.indexed + summary.unchanged, FILES, "{summary:?}");
    assert!(summary.unchanged as i64 >= killed_at[1], "{summary:?} after {killed_at:?}");
    assert_consistent(&lib);
    let (catalog, keyword, vectors) = store_counts(&library);
    assert_eq!((keyword, vectors as u64), (catalog, catalog));
    for i in [0, FILES / 2, FILES - 1] {
        let hits = library.search(&format!("unit{i}x"), SearchMode::Bm25, 20).unwrap();
        let files: std::collections::HashSet<_> = hits.iter().map(|h| h.path.clone()).collect();
        assert_eq!(files.len(), 1, "unit{i}x found in {files:?}");
    }
}

#[test]
fn damaged_derived_indexes_are_rebuilt_from_the_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    for i in 0..5 {
        std::fs::write(docs.join(format!("{i}.txt")), format!("Note {i} mentions the word marker{i} once.")).unwrap();
    }
    let lib = tmp.path().join("lib");
    {
        let library = open(&lib, MINILM);
        index(&library, &[&docs]);
    }
    // Garbage over the vector graph's state and the keyword index's metadata.
    std::fs::write(lib.join("vectors/current.json"), b"{ not json").unwrap();
    std::fs::write(lib.join("keyword/meta.json"), b"garbage").unwrap();
    let library = open(&lib, MINILM);
    assert_eq!(store_counts(&library), (5, 5, 5));
    assert_eq!(library.search("marker3", SearchMode::Bm25, 1).unwrap()[0].path.file_name().unwrap(), "3.txt");
    let hits = library.search("which note mentions marker4?", SearchMode::Dense, 5).unwrap();
    assert_eq!(hits.len(), 5);
}
