//! Watched folders: a file added, changed or deleted is in the index within seconds, and what
//! changed while Folio was closed is picked up by the pass at the next start.

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use folio::watch::FolderWatcher;
use folio::{Library, SearchMode};

/// Re-indexes on every change the watcher reports, until `done` says the wanted state is reached.
fn until(
    library: &Library,
    changes: &mpsc::Receiver<PathBuf>,
    what: &str,
    done: impl Fn(&Library) -> bool,
) -> Duration {
    let started = Instant::now();
    while !done(library) {
        let folder =
            changes.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("no change reported for: {what}"));
        library.index(&[folder], &|_| {}, &AtomicBool::new(false)).unwrap();
    }
    started.elapsed()
}

fn finds(library: &Library, word: &str) -> bool {
    !library.search(word, SearchMode::Bm25, 3).unwrap().is_empty()
}

#[test]
fn changes_in_watched_folders_reach_the_index_within_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = std::fs::canonicalize(tmp.path()).unwrap().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "Zebras graze on the savanna.").unwrap();
    let lib_dir = tmp.path().join("lib");
    let library = open(&lib_dir, MINILM);
    index(&library, &[&docs]);

    let (tx, rx) = mpsc::channel();
    let mut watcher = FolderWatcher::new(lib_dir.clone(), move |folder| {
        let _ = tx.send(folder);
    })
    .unwrap();
    watcher.watch(&docs).unwrap();

    std::fs::write(docs.join("b.txt"), "Narwhals have a long tusk.").unwrap();
    let added = until(&library, &rx, "added file", |l| finds(l, "narwhals"));
    std::fs::write(docs.join("a.txt"), "Giraffes browse acacia trees.").unwrap();
    let changed = until(&library, &rx, "changed file", |l| finds(l, "giraffes") && !finds(l, "zebras"));
    std::fs::remove_file(docs.join("b.txt")).unwrap();
    let deleted = until(&library, &rx, "deleted file", |l| !finds(l, "narwhals"));
    eprintln!("reflected after: added {added:?}, changed {changed:?}, deleted {deleted:?}");
    for d in [added, changed, deleted] {
        assert!(d < Duration::from_secs(20));
    }

    // Closed, changed, opened again: the start-up pass picks the change up.
    drop(watcher);
    drop(library);
    std::fs::write(docs.join("c.txt"), "Okapis live in the rainforest.").unwrap();
    std::fs::remove_file(docs.join("a.txt")).unwrap();
    let library = open(&lib_dir, MINILM);
    let summary = library.refresh(&|_| {}, &AtomicBool::new(false)).unwrap();
    assert_eq!((summary.indexed, summary.removed), (1, 1), "{summary:?}");
    assert!(finds(&library, "okapis") && !finds(&library, "giraffes"));
}
