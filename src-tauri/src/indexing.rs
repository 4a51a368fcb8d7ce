//! Indexing in the background: one worker thread takes folders from a queue (added, re-indexed,
//! changed on disk) and reports progress to the window; watchers feed the queue.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio::index_events::{FileOutcome, IndexEvent};
use tauri::{AppHandle, Emitter, Manager};

use crate::state::{lock, Shell};
use crate::views::{IndexProgress, IndexProgressEvent};

/// Progress events at most this often, so a folder of small files does not flood the window.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

/// Puts a folder in the queue and shows it as queued at once (so the window never calls a folder
/// ready before its first pass).
pub fn enqueue(shell: &Shell, folder: PathBuf) {
    lock(&shell.indexing).entry(folder.clone()).or_default();
    let _ = shell.index_queue.send((folder, shell.library.queue_mark()));
}

/// Takes a removed folder out of the queue's view and stops its run if it is the one indexing:
/// the engine then refuses the queued work (`index_queued`), so it is not indexed back. Returns
/// whether it was queued.
pub fn forget(shell: &Shell, folder: &Path) -> bool {
    let mut queued = lock(&shell.indexing);
    let before = queued.len();
    queued.retain(|path, _| !path.starts_with(folder));
    let was_queued = queued.len() < before;
    drop(queued);
    if let Some((running, cancel)) = lock(&shell.running).as_ref() {
        if running.starts_with(folder) {
            cancel.store(true, Ordering::Relaxed);
        }
    }
    was_queued
}

pub fn start_worker(app: AppHandle, queue: std::sync::mpsc::Receiver<(PathBuf, u64)>) {
    std::thread::Builder::new()
        .name("folio-indexer".into())
        .spawn(move || {
            for (folder, mark) in queue {
                let shell = app.state::<Arc<Shell>>();
                let cancel = Arc::new(AtomicBool::new(false));
                *lock(&shell.running) = Some((folder.clone(), cancel.clone()));
                // A panic in one folder's run ends that run, not the worker: the folders queued
                // after it are still indexed, and none stays "queued" forever.
                let run = || run_one(&app, &shell, &folder, mark, &cancel);
                if let Err(panic) = catch_unwind(AssertUnwindSafe(run)) {
                    crate::notice(
                        &app,
                        format!(
                            "Indexing {} stopped on an internal error ({}); what was indexed is kept, and the folder is read again at its next change or refresh.",
                            folder.display(),
                            folio::error::panic_message(panic.as_ref())
                        ),
                    );
                }
                *lock(&shell.running) = None;
                lock(&shell.indexing).remove(&folder);
                crate::emit_library(&app);
            }
        })
        .expect("indexer thread starts");
}

fn run_one(app: &AppHandle, shell: &Shell, folder: &PathBuf, mark: u64, cancel: &AtomicBool) {
    let started = Instant::now();
    let last_emit = std::sync::Mutex::new(Instant::now() - PROGRESS_EVERY);
    let progress = std::sync::Mutex::new(IndexProgress::default());
    let on_event = |event: IndexEvent| {
        let mut p = lock(&progress);
        match event {
            IndexEvent::Planned { to_read, .. } => p.total += to_read,
            IndexEvent::File { path, outcome, done, .. } => {
                if done > 0 {
                    p.done = done;
                }
                if let FileOutcome::Indexed { chunks, .. } = outcome {
                    p.chunks += chunks;
                }
                p.current = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let elapsed = started.elapsed().as_secs_f64();
                p.eta_seconds =
                    (p.done > 0 && p.total > p.done).then(|| elapsed / p.done as f64 * (p.total - p.done) as f64);
            }
            _ => {}
        }
        let mut last = lock(&last_emit);
        if last.elapsed() >= PROGRESS_EVERY {
            *last = Instant::now();
            // A folder removed meanwhile is not put back in view.
            if let Some(shown) = lock(&shell.indexing).get_mut(folder) {
                *shown = p.clone();
            }
            let _ = app.emit("index-progress", IndexProgressEvent { folder: folder.clone(), progress: p.clone() });
        }
    };
    match shell.library.index_queued(std::slice::from_ref(folder), mark, &on_event, cancel) {
        Ok(Some(summary)) => {
            tracing::info!("indexed {}: {} files, {} passages", folder.display(), summary.indexed, summary.chunks)
        }
        Ok(None) => tracing::info!("{} was removed after it was queued; not indexed", folder.display()),
        Err(e) => crate::notice(app, format!("Indexing {} failed: {e}", folder.display())),
    }
}

/// Watches every folder of the library; changes queue a re-index.
pub fn watch_library(app: &AppHandle) {
    let shell = app.state::<Arc<Shell>>();
    let handle = app.clone();
    let watcher = folio::watch::FolderWatcher::new(shell.library.dir().to_path_buf(), move |folder| {
        let shell = handle.state::<Arc<Shell>>();
        if !lock(&shell.indexing).contains_key(&folder) {
            enqueue(&shell, folder);
            crate::emit_library(&handle);
        }
    });
    match watcher {
        Ok(mut w) => {
            for folder in shell.library.folders().unwrap_or_default() {
                if let Err(e) = w.watch(&folder.path) {
                    tracing::warn!("{e}");
                }
            }
            *lock(&shell.watcher) = Some(w);
        }
        Err(e) => crate::notice(app, format!("Folders will not update by themselves: {e}")),
    }
}

pub fn watch_folder(shell: &Arc<Shell>, folder: &Path) {
    if let Some(w) = lock(&shell.watcher).as_mut() {
        if let Err(e) = w.watch(folder) {
            tracing::warn!("{e}");
        }
    }
}
