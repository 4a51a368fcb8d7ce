//! Watching folders: file system events become (debounced) re-index requests for the folder
//! they happened in. The re-index itself is incremental, so a burst of changes costs one pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::{Error, Result};

/// Quiet time after the last event before a folder is re-indexed.
const SETTLE: Duration = Duration::from_millis(800);

pub struct FolderWatcher {
    watcher: RecommendedWatcher,
    folders: Arc<Mutex<Vec<PathBuf>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl FolderWatcher {
    /// Calls `on_change(folder)` (from a background thread) when something under a watched folder
    /// changed and then stayed quiet for a moment. Paths under `ignore` (the library itself) do
    /// not count.
    pub fn new(ignore: PathBuf, on_change: impl Fn(PathBuf) + Send + 'static) -> Result<Self> {
        let folders: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
        let pending: Arc<Mutex<HashMap<PathBuf, Instant>>> = Arc::default();
        let (f, p) = (folders.clone(), pending.clone());
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            let folders = f.lock().unwrap();
            for path in &event.paths {
                if path.starts_with(&ignore) {
                    continue;
                }
                let Some(folder) = folders.iter().filter(|d| path.starts_with(d)).max_by_key(|d| d.as_os_str().len())
                else {
                    continue;
                };
                // Hidden files inside the folder are not indexed, so their changes do not count.
                if path.strip_prefix(folder).is_ok_and(is_hidden) {
                    continue;
                }
                p.lock().unwrap().insert(folder.clone(), Instant::now());
            }
        })
        .map_err(|e| Error::InvalidInput(format!("cannot watch folders: {e}")))?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop_flag = stop.clone();
        std::thread::Builder::new()
            .name("folio-watch".into())
            .spawn(move || {
                while !stop_flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    let ready: Vec<PathBuf> = {
                        let mut pending = pending.lock().unwrap();
                        let ready: Vec<PathBuf> =
                            pending.iter().filter(|(_, t)| t.elapsed() >= SETTLE).map(|(p, _)| p.clone()).collect();
                        for p in &ready {
                            pending.remove(p);
                        }
                        ready
                    };
                    for folder in ready {
                        on_change(folder);
                    }
                }
            })
            .map_err(|e| Error::io("watch thread", e))?;
        Ok(FolderWatcher { watcher, folders, stop })
    }

    pub fn watch(&mut self, folder: &Path) -> Result<()> {
        let mode = if folder.is_dir() { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        self.watcher
            .watch(folder, mode)
            .map_err(|e| Error::InvalidInput(format!("cannot watch {}: {e}", folder.display())))?;
        let mut folders = self.folders.lock().unwrap();
        if !folders.iter().any(|f| f == folder) {
            folders.push(folder.to_path_buf());
        }
        Ok(())
    }

    /// Whether `folder`'s changes are picked up: false when it was never watched or the system
    /// refused (too many watches, a file system without events).
    pub fn is_watching(&self, folder: &Path) -> bool {
        self.folders.lock().unwrap().iter().any(|f| f == folder)
    }

    pub fn unwatch(&mut self, folder: &Path) {
        let _ = self.watcher.unwatch(folder);
        self.folders.lock().unwrap().retain(|f| f != folder);
    }
}

impl Drop for FolderWatcher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn is_hidden(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
}
