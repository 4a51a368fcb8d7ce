//! Folders that vanish, go empty or come back, and libraries written by an older schema: the
//! index is the user's work and survives all of them. Real libraries, real worker processes.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::{index, open, MINILM};
use folio::SearchMode;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

fn refresh(library: &folio::Library) -> folio::index_events::IndexSummary {
    library.refresh(&|_| {}, &AtomicBool::new(false)).expect("a refresh runs whatever its folders")
}

fn folder_state(library: &folio::Library, path: &Path) -> (usize, Option<String>) {
    let status = library.status().unwrap();
    let f = status.folders.iter().find(|f| f.path == path).expect("the folder is still in the library");
    (f.files_indexed, f.unavailable.clone())
}

#[test]
fn a_folder_that_vanishes_or_goes_empty_keeps_its_index_until_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (here, usb) = (tmp.path().join("here"), tmp.path().join("usb"));
    write(&here, "bees.txt", "Honey bees dance to tell each other where the flowers are.");
    write(&usb, "pumps.txt", "The centrifugal pump is primed before it is started.");
    write(&usb, "valves.txt", "A gate valve is either fully open or fully closed.");
    let library = open(&tmp.path().join("lib"), MINILM);
    index(&library, &[&here, &usb]);
    let usb = std::fs::canonicalize(&usb).unwrap();
    assert_eq!(folder_state(&library, &usb), (2, None));

    // The drive is unplugged: its folder is gone. The run goes on for the other folder.
    let unplugged = tmp.path().join("usb-away");
    std::fs::rename(&usb, &unplugged).unwrap();
    write(&here, "ants.txt", "Ant colonies farm aphids for their honeydew.");
    let summary = refresh(&library);
    assert_eq!(summary.indexed, 1, "the other folder's new file is indexed: {summary:?}");
    assert_eq!(summary.removed, 0, "nothing of the missing folder is deleted");
    assert_eq!(summary.unavailable.len(), 1);
    let (files, unavailable) = folder_state(&library, &usb);
    assert_eq!(files, 2);
    assert!(unavailable.unwrap().contains("cannot be found"));
    let hits = library.search("how is the pump primed", SearchMode::Hybrid, 3).unwrap();
    assert!(hits.iter().any(|h| h.path.ends_with("pumps.txt")), "its passages are still found: {hits:?}");

    // Mounted again, but empty (the mount point of a drive that is not mounted yet).
    std::fs::create_dir(&usb).unwrap();
    let summary = refresh(&library);
    assert_eq!(summary.removed, 0);
    let (files, unavailable) = folder_state(&library, &usb);
    assert_eq!(files, 2);
    assert!(unavailable.unwrap().contains("is empty now"));

    // Back with its files: available again, nothing to re-read.
    std::fs::remove_dir(&usb).unwrap();
    std::fs::rename(&unplugged, &usb).unwrap();
    let summary = refresh(&library);
    assert_eq!((summary.indexed, summary.removed, summary.unavailable.len()), (0, 0, 0), "{summary:?}");
    assert_eq!(folder_state(&library, &usb), (2, None));

    // A folder the user empties and then removes is gone for good; a path never added is an error.
    library.remove_folder(&usb).unwrap();
    assert!(library.status().unwrap().folders.iter().all(|f| f.path != usb));
    assert!(library.index(&[tmp.path().join("never")], &|_| {}, &AtomicBool::new(false)).is_err());
}

#[test]
fn a_library_written_by_the_previous_schema_opens_migrated_with_a_copy_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    std::fs::create_dir_all(&dir).unwrap();
    let docs = tmp.path().join("docs");
    write(&docs, "bees.txt", "Honey bees dance to tell each other where the flowers are.");
    // What the previous Folio wrote: schema 1, one folder, one chat.
    let old = folio::store::migrations::create_at_version(&dir.join("catalog.db"), 1).unwrap();
    let docs_text = std::fs::canonicalize(&docs).unwrap().display().to_string();
    old.execute("INSERT INTO folders (path, added_at) VALUES (?1, 1)", [&docs_text]).unwrap();
    old.execute("INSERT INTO chats (title, created_at, updated_at) VALUES ('Bees', 1, 1)", []).unwrap();
    drop(old);

    let library = open(&dir, MINILM);
    assert!(dir.join("catalog.db.v1.bak").is_file(), "the library as it was is kept");
    let folders = library.folders().unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0].unavailable, None);
    assert_eq!(library.catalog().chats().unwrap().len(), 1, "the chat survives");
    // And it works as a library of today: its folder indexes.
    let summary = refresh(&library);
    assert_eq!(summary.indexed, 1);
}

#[test]
fn a_folder_removed_after_it_was_queued_is_not_indexed_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write(&a, "bees.txt", "Honey bees dance to tell each other where the flowers are.");
    write(&b, "pumps.txt", "The centrifugal pump is primed before it is started.");
    let library = open(&tmp.path().join("lib"), MINILM);
    index(&library, &[&a, &b]);
    let b = std::fs::canonicalize(&b).unwrap();

    // The window queues a re-index of B (a change on disk), then the user removes B before the
    // worker gets to it.
    let queued = library.queue_mark();
    library.remove_folder(&b).unwrap();
    let run = library.index_queued(std::slice::from_ref(&b), queued, &|_| {}, &AtomicBool::new(false)).unwrap();
    assert!(run.is_none(), "the queued work is refused");
    assert!(library.folders().unwrap().iter().all(|f| f.path != b), "B stays removed");

    // Queued work for other folders still runs, and B added again afterwards is indexed.
    let a = std::fs::canonicalize(&a).unwrap();
    assert!(library.index_queued(&[a, b.clone()], queued, &|_| {}, &AtomicBool::new(false)).unwrap().is_some());
    assert!(library.folders().unwrap().iter().all(|f| f.path != b));
    let again = library.queue_mark();
    let summary = library.index_queued(std::slice::from_ref(&b), again, &|_| {}, &AtomicBool::new(false)).unwrap();
    assert_eq!(summary.unwrap().indexed, 1);

    // Removed while never indexed (queued, not yet in the catalog): the queued work is refused too.
    let c = tmp.path().join("c");
    write(&c, "valves.txt", "A gate valve is either fully open or fully closed.");
    let queued = library.queue_mark();
    assert!(library.remove_folder(&c).is_err(), "the catalog does not know it yet");
    assert!(library.index_queued(&[c], queued, &|_| {}, &AtomicBool::new(false)).unwrap().is_none());
}
