//! One file never ends a run: a failure in any stage that runs in the indexer's own process
//! (chunking, embedding, the file's commit, the update of the derived indexes) fails that file
//! alone, with its reason, and the rest of the folder is indexed. The failures are injected with
//! the engine's failpoints (debug builds), in a test binary of its own because they are set
//! through the environment.

mod common;

use std::path::Path;

use common::{index, open, store_counts, MINILM};
use folio::search::SearchMode;

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

#[test]
fn a_failure_at_any_stage_fails_that_file_alone() {
    std::env::set_var(
        "FOLIO_FAILPOINTS",
        "chunk:poison-chunk,embed:poison-embed,commit:poison-commit,derive:poison-derive",
    );
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let files = [
        ("a-good.txt", "Walruses haul out on sea ice to rest between dives."),
        ("poison-chunk.txt", "Narwhals carry a single spiral tusk."),
        ("poison-embed.txt", "Beluga whales moult their skin each summer."),
        ("poison-commit.txt", "Ringed seals dig lairs in the snow above the ice."),
        ("poison-derive.txt", "Arctic terns migrate from pole to pole every year."),
        ("z-good.txt", "Polar bears hunt seals at breathing holes in the ice."),
    ];
    for (file, text) in files {
        std::fs::write(docs.join(file), text).unwrap();
    }
    let library = open(&tmp.path().join("lib"), MINILM);
    let summary = index(&library, &[&docs]);

    let mut failed: Vec<(&str, &str)> = summary.failed.iter().map(|(p, r)| (name(p), r.as_str())).collect();
    failed.sort();
    let expected = [
        ("poison-chunk.txt", "internal error while splitting its text into passages: failpoint chunk hit"),
        ("poison-commit.txt", "internal error while storing it in the library: failpoint commit hit"),
        ("poison-embed.txt", "internal error while computing its passages' embeddings: failpoint embed hit"),
    ];
    assert_eq!(failed.len(), expected.len(), "{failed:?}");
    for ((file, reason), (want_file, want_reason)) in failed.iter().zip(expected) {
        assert_eq!(*file, want_file);
        assert!(reason.starts_with(want_reason), "{file}: {reason}");
    }
    // A panic while the derived indexes took the file keeps the file (the catalog holds it); the
    // indexes are rebuilt from the catalog, so it is searchable like the others.
    assert_eq!(summary.indexed, 3, "{summary:?}");
    let (catalog, keyword, vectors) = store_counts(&library);
    assert_eq!((catalog, keyword, vectors as u64), (3, 3, 3));
    for (query, file) in [("walruses sea ice", "a-good.txt"), ("arctic terns migrate", "poison-derive.txt")] {
        for mode in [SearchMode::Bm25, SearchMode::Dense] {
            let hits = library.search(query, mode, 1).unwrap();
            assert_eq!(hits.first().map(|h| name(&h.path)), Some(file), "{query} ({mode:?})");
        }
    }
    // The failures are recorded with their reasons, as the file list shows them.
    let folder = &library.folders().unwrap()[0];
    let rows = library.files(folder).unwrap();
    let row = rows.iter().find(|r| name(&r.path) == "poison-embed.txt").unwrap();
    assert!(row.reason.as_deref().is_some_and(|e| e.contains("embeddings")), "{row:?}");
}
