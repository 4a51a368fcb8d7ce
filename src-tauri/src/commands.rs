//! The window's commands (ui/IPC.md): argument checks and translation, nothing more.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use folio::answer::chats::{checked_question, ChatMessage};
use folio::library::external::ExternalOpen;
use folio::settings::Settings;
use folio::store::chats::Chat;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_opener::OpenerExt;

use crate::state::{lock, Shell};
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
    Ok(AppState {
        ready: true,
        model_loaded,
        model_error,
        library: library_view(&shell).map_err(err)?,
        startup_problems: shell.startup_problems.clone(),
    })
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
    // A folder deleted or unmounted on disk cannot be made canonical: named exactly as the library
    // knows it, it is removed all the same.
    let known = shell.library.folders().map_err(err)?.into_iter().map(|f| f.path).find(|p| p == Path::new(&path));
    let folder = match known {
        Some(folder) => folder,
        None => library_path(&shell, &path)?,
    };
    if let Some(w) = lock(&shell.watcher).as_mut() {
        w.unwatch(&folder);
    }
    // Out of the queue, and its run stopped if it is indexing now: a removed folder stays removed.
    let was_queued = indexing::forget(&shell, &folder);
    let library = shell.library.clone();
    let removed = tauri::async_runtime::spawn_blocking(move || library.remove_folder(&folder)).await.map_err(err)?;
    // Queued but never indexed: the catalog did not know it yet, and the queue has forgotten it.
    match removed {
        Ok(_) => {}
        Err(folio::Error::InvalidInput(_)) if was_queued => {}
        Err(e) => return Err(err(e)),
    }
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

/// The password the user typed for a password-protected file: kept in memory by the engine, and
/// the file's folder queued so that the file is read with it.
#[tauri::command]
pub fn unlock_file(app: AppHandle, shell: State<'_, Arc<Shell>>, path: String, password: String) -> Res<()> {
    let folder = shell.library.set_file_password(Path::new(&path), &password).map_err(err)?;
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
        .map(|r| FileView {
            path: r.path,
            status: r.status,
            reason: r.reason,
            chunks: r.chunks,
            pages: r.pages,
            needs_password: r.needs_password,
        })
        .collect())
}

#[tauri::command]
pub fn ask(
    app: AppHandle,
    shell: State<'_, Arc<Shell>>,
    question: String,
    chat_id: Option<i64>,
    within: Option<Vec<String>>,
) -> Res<u64> {
    // Refused here too, so a question the engine will not take never starts a request.
    let question = checked_question(&question).map_err(err)?.to_string();
    if let Some(id) = chat_id {
        shell.library.catalog().chat(id).map_err(err)?;
    }
    // Folders or documents the question is limited to: refused here when they hold nothing.
    let within: Vec<PathBuf> = within.unwrap_or_default().into_iter().map(PathBuf::from).collect();
    if !within.is_empty() {
        shell.library.scope(&within).map_err(err)?;
    }
    Ok(answering::ask(&app, &shell, question, chat_id, within))
}

#[tauri::command]
pub fn stop_answer(shell: State<'_, Arc<Shell>>, request_id: u64) -> Res<()> {
    if let Some(flag) = lock(&shell.answers).get(&request_id) {
        flag.store(true, Ordering::SeqCst);
    }
    Ok(())
}

#[tauri::command]
pub fn list_chats(shell: State<'_, Arc<Shell>>) -> Res<Vec<Chat>> {
    shell.library.catalog().chats().map_err(err)
}

#[tauri::command]
pub fn chat_messages(shell: State<'_, Arc<Shell>>, chat_id: i64) -> Res<Vec<ChatMessage>> {
    shell.library.chat_messages(chat_id).map_err(err)
}

#[tauri::command]
pub fn delete_chat(shell: State<'_, Arc<Shell>>, chat_id: i64) -> Res<()> {
    shell.library.delete_chat(chat_id).map_err(err)
}

#[tauri::command]
pub fn rename_chat(shell: State<'_, Arc<Shell>>, chat_id: i64, title: String) -> Res<()> {
    shell.library.rename_chat(chat_id, &title).map_err(err)
}

/// Asks the user where to save chat `chat_id` as Markdown and writes it there. The save dialog is
/// opened here, not by the window, so the webview holds no right to write files at all. Returns
/// the path written, or `None` when the user cancelled.
#[tauri::command]
pub async fn export_chat(
    app: AppHandle,
    shell: State<'_, Arc<Shell>>,
    chat_id: i64,
    file_name: String,
) -> Res<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let library = shell.library.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let picked = app
            .dialog()
            .file()
            .set_title("Export chat as Markdown")
            .set_file_name(&file_name)
            .add_filter("Markdown", &["md"])
            .blocking_save_file();
        let Some(picked) = picked else { return Ok(None) };
        let path = picked.into_path().map_err(err)?;
        library.export_chat(chat_id, &path).map_err(err)?;
        Ok(Some(path.display().to_string()))
    })
    .await
    .map_err(err)?
}

#[tauri::command]
pub fn open_source(app: AppHandle, shell: State<'_, Arc<Shell>>, path: String, page: Option<u32>) -> Res<()> {
    let file = library_path(&shell, &path)?;
    if !file.is_file() {
        return Err(format!("{path} is not a file"));
    }
    // Documents only, a PDF at its page (the engine says which and builds the URL).
    match folio::library::external::external_open(&file, page).map_err(err)? {
        ExternalOpen::Url(url) => app.opener().open_url(url, None::<&str>).map_err(err),
        ExternalOpen::Path(path) => app.opener().open_path(path.to_string_lossy(), None::<&str>).map_err(err),
    }
}

#[tauri::command]
pub fn models(shell: State<'_, Arc<Shell>>) -> Res<ModelsView> {
    Ok(ModelsView {
        models_dir: folio::models::models_dir(),
        active_model: lock(&shell.settings).model.clone(),
        catalog: folio::models::known::all(),
        imported: folio::models::known::imported(),
    })
}

/// After a model arrives: make it the active one if there is none yet.
fn adopt_if_none(app: &AppHandle, shell: &Shell, id: &str) {
    let mut settings = lock(&shell.settings);
    if settings.model.is_none() {
        settings.model = Some(id.to_string());
        settings.model_reason = Some("The first model you installed.".to_string());
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
    let entry = folio::models::known::all()
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| format!("no model '{id}' in the catalog"))?;
    let Some(url) = entry.url.clone() else {
        return Err(format!("{} is installed with scripts/fetch-models, not downloaded by the app", entry.name));
    };
    let cancel = Arc::new(AtomicBool::new(false));
    if lock(&shell.downloads).insert(id.clone(), cancel.clone()).is_some() {
        return Err(format!("{} is already downloading", entry.name));
    }
    let (handle, shell) = (app.clone(), shell.inner().clone());
    std::thread::spawn(move || {
        // Leaves the list of downloads however the thread ends, a panic included: a model must
        // never stay "already downloading".
        let listed = Downloading { shell: shell.clone(), id: id.clone() };
        let target = folio::models::decoder_file(&id);
        let send = |done: u64, total: u64, finished: bool, error: Option<String>| {
            let _ = handle.emit(
                "model-download",
                DownloadEvent { id: id.clone(), done_bytes: done, total_bytes: total, finished, error },
            );
        };
        let mut last = std::time::Instant::now();
        let expected = folio::models::install::Expected { sha256: entry.sha256.as_deref(), size: entry.size_bytes };
        let result = folio::models::install::download(&url, &target, expected, &cancel, &mut |p| {
            if last.elapsed().as_millis() >= 200 {
                last = std::time::Instant::now();
                send(p.done, p.total.or(entry.size_bytes).unwrap_or(0), false, None);
            }
        })
        .and_then(|path| folio::models::install::validate_gguf(&path).map(|_| path));
        // Off the list before the window hears it finished, so "download again" is never refused.
        drop(listed);
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

/// Stops a download; its part is kept, and downloading again resumes it.
#[tauri::command]
pub fn cancel_download(shell: State<'_, Arc<Shell>>, id: String) -> Res<()> {
    match lock(&shell.downloads).get(&id) {
        Some(cancel) => {
            cancel.store(true, Ordering::Relaxed);
            Ok(())
        }
        None => Err(format!("{id} is not downloading")),
    }
}

/// A download in the shell's list for as long as it lives.
struct Downloading {
    shell: Arc<Shell>,
    id: String,
}

impl Drop for Downloading {
    fn drop(&mut self) {
        lock(&self.shell.downloads).remove(&self.id);
    }
}

#[tauri::command]
pub fn get_settings(shell: State<'_, Arc<Shell>>) -> Res<Settings> {
    Ok(lock(&shell.settings).clone())
}

#[tauri::command]
pub fn set_settings(app: AppHandle, shell: State<'_, Arc<Shell>>, settings: Settings) -> Res<()> {
    settings.validate().map_err(err)?;
    let previous = lock(&shell.settings).clone();
    // The window names installed models by id; a path, or an id that climbs out of the model
    // directory (`../x`), is refused. (A path the user wrote in the settings file themselves is
    // theirs: it is kept while the window changes other settings.)
    if let Some(model) = settings.model.as_ref().filter(|m| previous.model.as_ref() != Some(*m)) {
        folio::models::installed_model_file(model).map_err(err)?;
    }
    // The library's location and its encoder are not the window's to change (they live in the
    // settings file); the reason for the model is
    // the engine's (first start) until the user picks another.
    let model_reason = if settings.model == previous.model {
        previous.model_reason.clone()
    } else {
        Some("Chosen by you in Settings.".to_string())
    };
    let settings =
        Settings { library_dir: previous.library_dir.clone(), encoder: previous.encoder, model_reason, ..settings };
    settings.save().map_err(err)?;
    let reload =
        settings.model != previous.model || settings.device != previous.device || settings.context != previous.context;
    *lock(&shell.settings) = settings;
    if reload {
        answering::load_model(&app);
    }
    Ok(())
}
