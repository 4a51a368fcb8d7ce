//! A disk that fills up in the middle of a run. Filling a real disk is not something a test can do
//! to a shared machine, so the test caps the size any file of this process may grow to
//! (RLIMIT_FSIZE): writes past it fail as they would on a full disk (with EFBIG instead of ENOSPC).
//! The run must stop with an error, and the library must reopen with everything indexed before it,
//! ready to finish the job once there is room again.
//!
//! Its own test binary, because the limit holds for the whole process.

mod common;

use common::{index, open, store_counts, MINILM};
use folio::search::SearchMode;

#[cfg(target_os = "linux")]
fn limit_file_size(bytes: Option<u64>) {
    let limit = libc::rlimit { rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY), rlim_max: libc::RLIM_INFINITY };
    // SAFETY: plain libc calls with valid arguments. SIGXFSZ would kill the process at the limit;
    // ignored, the write fails with EFBIG instead.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_stops_the_run_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    std::fs::create_dir(&first).unwrap();
    std::fs::create_dir(&second).unwrap();
    std::fs::write(first.join("a.txt"), "Polar bears hunt seals at breathing holes in the sea ice.").unwrap();
    std::fs::write(first.join("b.txt"), "Ptarmigan turn white in winter and brown in summer.").unwrap();
    for i in 0..40 {
        let text: String =
            (0..120).map(|j| format!("Entry {i}.{j} of the expedition log records wind, ice and light. ")).collect();
        std::fs::write(second.join(format!("log{i:02}.txt")), text).unwrap();
    }
    let lib = tmp.path().join("lib");
    let library = open(&lib, MINILM);
    assert_eq!(index(&library, &[&first]).indexed, 2);
    let before = store_counts(&library);

    limit_file_size(Some(512 << 10));
    let result = library.index(std::slice::from_ref(&second), &|_| {}, &std::sync::atomic::AtomicBool::new(false));
    limit_file_size(None);
    let error = match result {
        Err(e) => e.to_string(),
        Ok(summary) => {
            // A run may also end with the files it could not store reported as failed.
            assert!(!summary.failed.is_empty(), "a run past the file size limit succeeded: {summary:?}");
            summary.failed[0].1.clone()
        }
    };
    println!("the run stopped with: {error}");
    drop(library);

    // Everything indexed before is there, and the interrupted job can be finished.
    let library = open(&lib, MINILM);
    let hits = library.search("polar bears breathing holes", SearchMode::Bm25, 1).unwrap();
    assert_eq!(hits[0].path.file_name().unwrap(), "a.txt");
    let folders = library.folders().unwrap();
    let first_folder = folders.iter().find(|f| f.path.ends_with("first")).unwrap();
    assert_eq!(library.files(first_folder).unwrap().len(), 2);
    let after = index(&library, &[&second]);
    assert!(after.failed.is_empty(), "{after:?}");
    assert_eq!(after.indexed + after.unchanged, 40, "{after:?}");
    let (chunks, keyword, vectors) = store_counts(&library);
    assert!(chunks > before.0 && keyword == chunks && vectors as u64 == chunks, "{:?}", (chunks, keyword, vectors));
}
