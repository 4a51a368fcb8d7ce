//! Indexing in the background: one worker thread takes folders from a queue (added, re-indexed,
//! changed on disk) and reports progress to the window; watchers feed the queue.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio::progress::{FileOutcome, IndexEvent};
use tauri::{AppHandle, Emitter, Manager};

use crate::state::{lock, Shell};
use crate::views::{IndexProgress, IndexProgressEvent};

/// Progress events at most this often, so a folder of small files does not flood the window.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

/// Puts a folder in the queue and shows it as queued at once (so the window never calls a folder
/// ready before its first pass).
pub fn enqueue(shell: &Shell, folder: PathBuf) {
    lock(&shell.indexing).entry(folder.clone()).or_default();
    let _ = shell.index_queue.send(folder);
}

pub fn start_worker(app: AppHandle, queue: std::sync::mpsc::Receiver<PathBuf>) {
    std::thread::Builder::new()
        .name("folio-indexer".into())
        .spawn(move || {
            for folder in queue {
                let shell = app.state::<Arc<Shell>>();
                // A panic in one folder's run ends that run, not the worker: the folders queued
                // after it are still indexed, and none stays "queued" forever.
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run_one(&app, &shell, &folder))) {
                    crate::notice(
                        &app,
                        format!(
                            "Indexing {} stopped on an internal error ({}); what was indexed is kept, and the folder is read again at its next change or refresh.",
                            folder.display(),
                            folio::error::panic_message(panic.as_ref())
                        ),
                    );
                }
                lock(&shell.indexing).remove(&folder);
                crate::emit_library(&app);
            }
        })
        .expect("indexer thread starts");
}

fn run_one(app: &AppHandle, shell: &Shell, folder: &PathBuf) {
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
            lock(&shell.indexing).insert(folder.clone(), p.clone());
            let _ = app.emit("index-progress", IndexProgressEvent { folder: folder.clone(), progress: p.clone() });
        }
    };
    match shell.library.index(std::slice::from_ref(folder), &on_event, &AtomicBool::new(false)) {
        Ok(summary) => {
            tracing::info!("indexed {}: {} files, {} passages", folder.display(), summary.indexed, summary.chunks)
        }
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
