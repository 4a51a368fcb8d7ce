//! The window's commands (ui/IPC.md): argument checks and translation, nothing more.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use folio::settings::Settings;
use folio::store::chats::{Chat, StoredMessage};
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_opener::OpenerExt;

use crate::state::Shell;
use crate::views::{AppState, DownloadEvent, FileView, ModelsView};
use crate::{answering, indexing, library_view};

type Res<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[tauri::command]
pub fn app_state(shell: State<'_, Arc<Shell>>) -> Res<AppState> {
    let slot = shell.model.try_lock();
    let (model_loaded, model_error) = match slot {
        Ok(s) => (s.loaded.clone(), s.error.clone()),
        // Busy answering or loading: the model events say the rest.
        Err(_) => (None, None),
    };
    Ok(AppState { ready: true, model_loaded, model_error, library: library_view(&shell).map_err(err)? })
}

/// A path from the window: it must exist; it is made absolute and canonical.
fn checked_path(path: &str) -> Res<PathBuf> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return Err(format!("{path} is not an absolute path"));
    }
    std::fs::canonicalize(p).map_err(|e| format!("{path}: {e}"))
}

/// A path that must be one of the library's folders (or inside one).
fn library_path(shell: &Shell, path: &str) -> Res<PathBuf> {
    let p = checked_path(path)?;
    let folders = shell.library.folders().map_err(err)?;
    if folders.iter().any(|f| p.starts_with(&f.path)) {
        Ok(p)
    } else {
        Err(format!("{path} is not in a folder of the library"))
    }
}

#[tauri::command]
pub fn add_paths(app: AppHandle, shell: State<'_, Arc<Shell>>, paths: Vec<String>) -> Res<()> {
    if paths.is_empty() {
        return Err("nothing to add".into());
    }
    let checked: Vec<PathBuf> = paths.iter().map(|p| checked_path(p)).collect::<Res<_>>()?;
    for path in checked {
        if path.starts_with(shell.library.dir()) {
            return Err(format!("{} holds Folio's own library and cannot be added", path.display()));
        }
        indexing::enqueue(&shell, path.clone());
        indexing::watch_folder(&shell, &path);
    }
    crate::emit_library(&app);
    Ok(())
}

#[tauri::command]
pub async fn remove_folder(app: AppHandle, shell: State<'_, Arc<Shell>>, path: String) -> Res<()> {
    let shell = shell.inner().clone();
    let folder = library_path(&shell, &path)?;
    if let Some(w) = shell.watcher.lock().unwrap().as_mut() {
        w.unwatch(&folder);
    }
    let library = shell.library.clone();
    tauri::async_runtime::spawn_blocking(move || library.remove_folder(&folder)).await.map_err(err)?.map_err(err)?;
    crate::emit_library(&app);
    Ok(())
}

#[tauri::command]
pub fn reindex_folder(app: AppHandle, shell: State<'_, Arc<Shell>>, path: String) -> Res<()> {
    let folder = library_path(&shell, &path)?;
    indexing::enqueue(&shell, folder);
    crate::emit_library(&app);
    Ok(())
}

#[tauri::command]
pub fn folder_files(shell: State<'_, Arc<Shell>>, path: String) -> Res<Vec<FileView>> {
    let folder = library_path(&shell, &path)?;
    let known = shell.library.folders().map_err(err)?;
    let Some(f) = known.into_iter().find(|f| f.path == folder) else {
        return Err(format!("{path} is not a folder of the library"));
    };
    Ok(shell
        .library
        .files(&f)
        .map_err(err)?
        .into_iter()
        .map(|r| FileView { path: r.path, status: r.status, reason: r.reason, chunks: r.chunks, pages: r.pages })
        .collect())
}

#[tauri::command]
pub fn ask(app: AppHandle, shell: State<'_, Arc<Shell>>, question: String, chat_id: Option<i64>) -> Res<u64> {
    let question = question.trim().to_string();
    if question.is_empty() {
        return Err("the question is empty".into());
    }
    if question.chars().count() > 4000 {
        return Err("the question is longer than 4000 characters".into());
    }
    if let Some(id) = chat_id {
        shell.library.catalog().chat(id).map_err(err)?;
    }
    Ok(answering::ask(&app, &shell, question, chat_id))
}

#[tauri::command]
pub fn stop_answer(shell: State<'_, Arc<Shell>>, request_id: u64) -> Res<()> {
    if let Some(flag) = shell.answers.lock().unwrap().get(&request_id) {
        flag.store(true, Ordering::SeqCst);
    }
    Ok(())
}

#[tauri::command]
pub fn list_chats(shell: State<'_, Arc<Shell>>) -> Res<Vec<Chat>> {
    shell.library.catalog().chats().map_err(err)
}

#[tauri::command]
pub fn chat_messages(shell: State<'_, Arc<Shell>>, chat_id: i64) -> Res<Vec<StoredMessage>> {
    shell.library.catalog().chat(chat_id).map_err(err)?;
    shell.library.catalog().messages(chat_id).map_err(err)
}

#[tauri::command]
pub fn delete_chat(shell: State<'_, Arc<Shell>>, chat_id: i64) -> Res<()> {
    shell.library.catalog().delete_chat(chat_id).map_err(err)
}

#[tauri::command]
pub fn rename_chat(shell: State<'_, Arc<Shell>>, chat_id: i64, title: String) -> Res<()> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err("a chat title has 1 to 200 characters".into());
    }
    shell.library.catalog().rename_chat(chat_id, title).map_err(err)
}

#[tauri::command]
pub fn export_chat(shell: State<'_, Arc<Shell>>, chat_id: i64) -> Res<String> {
    let chat = shell.library.catalog().chat(chat_id).map_err(err)?;
    let messages = shell.library.catalog().messages(chat_id).map_err(err)?;
    Ok(crate::export::chat_markdown(&chat, &messages))
}

#[tauri::command]
pub fn open_source(app: AppHandle, shell: State<'_, Arc<Shell>>, path: String, page: Option<u32>) -> Res<()> {
    let file = library_path(&shell, &path)?;
    if !file.is_file() {
        return Err(format!("{path} is not a file"));
    }
    // PDF viewers that honour it open at the page; the others open the file.
    let is_pdf = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    match page.filter(|_| is_pdf) {
        Some(page) => {
            let url = format!("file://{}#page={page}", file.display());
            app.opener().open_url(url, None::<&str>).map_err(err)
        }
        None => app.opener().open_path(file.to_string_lossy(), None::<&str>).map_err(err),
    }
}

#[tauri::command]
pub fn models(shell: State<'_, Arc<Shell>>) -> Res<ModelsView> {
    Ok(ModelsView {
        models_dir: folio::models::models_dir(),
        active_model: shell.settings.lock().unwrap().model.clone(),
        catalog: folio::models::catalog::catalog(),
        imported: folio::models::catalog::imported(),
    })
}

/// After a model arrives: make it the active one if there is none yet.
fn adopt_if_none(app: &AppHandle, shell: &Shell, id: &str) {
    let mut settings = shell.settings.lock().unwrap();
    if settings.model.is_none() {
        settings.model = Some(id.to_string());
        let _ = settings.save();
        drop(settings);
        answering::load_model(app);
    }
}

#[tauri::command]
pub async fn import_model(app: AppHandle, shell: State<'_, Arc<Shell>>, path: String) -> Res<String> {
    let file = checked_path(&path)?;
    let id = tauri::async_runtime::spawn_blocking(move || folio::models::install::import(&file))
        .await
        .map_err(err)?
        .map_err(err)?;
    adopt_if_none(&app, &shell, &id);
    Ok(id)
}

#[tauri::command]
pub fn download_model(app: AppHandle, shell: State<'_, Arc<Shell>>, id: String) -> Res<()> {
    let entry = folio::models::catalog::catalog()
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| format!("no model '{id}' in the catalog"))?;
    let Some(url) = entry.url.clone() else {
        return Err(format!("{} is installed with scripts/fetch-models, not downloaded by the app", entry.name));
    };
    let cancel = Arc::new(AtomicBool::new(false));
    if shell.downloads.lock().unwrap().insert(id.clone(), cancel.clone()).is_some() {
        return Err(format!("{} is already downloading", entry.name));
    }
    let (handle, shell) = (app.clone(), shell.inner().clone());
    std::thread::spawn(move || {
        let target = folio::models::models_dir().join(format!("{id}.gguf"));
        let send = |done: u64, total: u64, finished: bool, error: Option<String>| {
            let _ = handle.emit(
                "model-download",
                DownloadEvent { id: id.clone(), done_bytes: done, total_bytes: total, finished, error },
            );
        };
        let mut last = std::time::Instant::now();
        let result = folio::models::install::download(&url, &target, entry.sha256.as_deref(), &cancel, &mut |p| {
            if last.elapsed().as_millis() >= 200 {
                last = std::time::Instant::now();
                send(p.done, p.total.or(entry.size_bytes).unwrap_or(0), false, None);
            }
        })
        .and_then(|path| folio::models::install::validate_gguf(&path).map(|_| path));
        shell.downloads.lock().unwrap().remove(&id);
        match result {
            Ok(path) => {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                send(size, size, true, None);
                adopt_if_none(&handle, &shell, &id);
            }
            Err(e) => send(0, 0, true, Some(e.to_string())),
        }
    });
    Ok(())
}

#[tauri::command]
pub fn get_settings(shell: State<'_, Arc<Shell>>) -> Res<Settings> {
    Ok(shell.settings.lock().unwrap().clone())
}

#[tauri::command]
pub fn set_settings(app: AppHandle, shell: State<'_, Arc<Shell>>, settings: Settings) -> Res<()> {
    settings.validate().map_err(err)?;
    if let Some(model) = &settings.model {
        folio::llm::resolve_model(model).map_err(err)?;
    }
    let previous = shell.settings.lock().unwrap().clone();
    // The library's location is not something the window may move.
    let settings = Settings { library_dir: previous.library_dir.clone(), ..settings };
    settings.save().map_err(err)?;
    let reload =
        settings.model != previous.model || settings.device != previous.device || settings.context != previous.context;
    *shell.settings.lock().unwrap() = settings;
    if reload {
        answering::load_model(&app);
    }
    Ok(())
}
