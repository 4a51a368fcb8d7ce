//! The shell's state: the open library, the loaded model, work in flight.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use folio::llm::LocalModel;
use folio::settings::Settings;
use folio::watch::FolderWatcher;
use folio::Library;

use crate::views::IndexProgress;

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
    pub index_queue: std::sync::mpsc::Sender<PathBuf>,
    pub watcher: Mutex<Option<FolderWatcher>>,
    pub answers: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    pub next_request: AtomicU64,
    pub downloads: Mutex<HashMap<String, Arc<AtomicBool>>>,
}
