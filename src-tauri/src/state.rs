//! The shell's state: the open library, the loaded model, work in flight.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard};

use folio::llm::LocalModel;
use folio::settings::Settings;
use folio::watch::FolderWatcher;
use folio::Library;

use crate::views::IndexProgress;

/// Locks shared state even after a thread panicked while holding it: every guarded value here is
/// replaced whole or is a plain map, so what a panic left is consistent, and a poisoned lock must
/// not turn one failure into a window that fails at every later click.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The answering model, once loaded (or why it is not).
#[derive(Default)]
pub struct ModelSlot {
    pub model: Option<LocalModel>,
    pub loaded: Option<String>,
    pub error: Option<String>,
}

pub struct Shell {
    pub library: Arc<Library>,
    pub settings: Mutex<Settings>,
    pub model: Arc<Mutex<ModelSlot>>,
    /// Folders queued or being indexed, with their progress.
    pub indexing: Arc<Mutex<HashMap<PathBuf, IndexProgress>>>,
    /// Folders to index, each with the library's mark of when it was queued (`queue_mark`).
    pub index_queue: std::sync::mpsc::Sender<(PathBuf, u64)>,
    /// The folder being indexed now and the flag that stops its run (removing it sets the flag).
    pub running: Mutex<Option<(PathBuf, Arc<AtomicBool>)>>,
    pub watcher: Mutex<Option<FolderWatcher>>,
    pub answers: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    pub next_request: AtomicU64,
    pub downloads: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// What went wrong while starting (a damaged settings file), for the window to show once it
    /// asks for the app's state: events sent before it listens would be lost.
    pub startup_problems: Vec<String>,
}
