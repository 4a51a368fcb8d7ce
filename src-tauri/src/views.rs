//! What the window sees: the JSON shapes of ui/IPC.md.

use std::path::PathBuf;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, Default)]
pub struct IndexProgress {
    pub done: usize,
    pub total: usize,
    pub chunks: usize,
    pub eta_seconds: Option<f64>,
    pub current: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FolderView {
    pub path: PathBuf,
    pub files_indexed: usize,
    pub files_failed: usize,
    pub files_skipped: usize,
    pub chunks: i64,
    pub indexing: Option<IndexProgress>,
    pub watched: bool,
    /// Why the folder cannot be read now (missing, unreadable, suddenly empty); its index is kept.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub path: PathBuf,
    pub status: folio::store::catalog::FileStatus,
    pub reason: Option<String>,
    pub chunks: i64,
    pub pages: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LibraryView {
    pub folders: Vec<FolderView>,
    pub embedder: String,
    pub chunks: u64,
    pub files: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppState {
    pub ready: bool,
    pub model_loaded: Option<String>,
    pub model_error: Option<String>,
    pub library: LibraryView,
    /// Problems found while starting (a damaged settings file kept aside), shown once.
    pub startup_problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelsView {
    pub models_dir: PathBuf,
    pub active_model: Option<String>,
    pub catalog: Vec<folio::models::catalog::CatalogModel>,
    pub imported: Vec<String>,
}

/// One event of a streamed answer.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AnswerEvent {
    Query {
        #[serde(rename = "requestId")]
        request_id: u64,
        query: String,
    },
    Sources {
        #[serde(rename = "requestId")]
        request_id: u64,
        sources: Vec<folio::answer::Source>,
    },
    Token {
        #[serde(rename = "requestId")]
        request_id: u64,
        text: String,
    },
    Done {
        #[serde(rename = "requestId")]
        request_id: u64,
        answer: Box<folio::answer::Answer>,
    },
    Error {
        #[serde(rename = "requestId")]
        request_id: u64,
        message: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct DownloadEvent {
    pub id: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub finished: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelStateEvent {
    pub loaded: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexProgressEvent {
    pub folder: PathBuf,
    pub progress: IndexProgress,
}
