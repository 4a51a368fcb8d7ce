//! What the window sees: the JSON shapes of ui/IPC.md. Their TypeScript twins in
//! `ui/src/bindings.ts` are generated from these types and the engine's they hold; a test fails
//! when the file is out of date (`FOLIO_WRITE_BINDINGS=1 cargo test -p folio-desktop bindings`
//! writes it).

use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, Default, TS)]
pub struct IndexProgress {
    pub done: usize,
    pub total: usize,
    pub chunks: usize,
    pub eta_seconds: Option<f64>,
    pub current: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FolderView {
    pub path: PathBuf,
    pub files_indexed: usize,
    pub files_failed: usize,
    pub files_skipped: usize,
    pub chunks: i64,
    pub indexing: Option<IndexProgress>,
    /// Changes on disk are picked up by themselves (false where the system refused to watch it).
    pub watched: bool,
    /// Why the folder cannot be read now (missing, unreadable, suddenly empty); its index is kept.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileView {
    pub path: PathBuf,
    pub status: folio::store::catalog::FileStatus,
    pub reason: Option<String>,
    pub chunks: i64,
    pub pages: Option<i64>,
    /// Failed because it is password-protected: the window offers to type its password.
    pub needs_password: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LibraryView {
    pub folders: Vec<FolderView>,
    pub embedder: String,
    pub chunks: u64,
    pub files: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppState {
    pub ready: bool,
    pub model_loaded: Option<String>,
    pub model_error: Option<String>,
    pub library: LibraryView,
    /// Problems found while starting (a damaged settings file kept aside), shown once.
    pub startup_problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelsView {
    pub models_dir: PathBuf,
    pub active_model: Option<String>,
    pub catalog: Vec<folio::models::known::KnownModel>,
    pub imported: Vec<String>,
}

/// One event of a streamed answer.
#[derive(Debug, Clone, Serialize, TS)]
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

#[derive(Debug, Clone, Serialize, TS)]
pub struct DownloadEvent {
    pub id: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub finished: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelStateEvent {
    pub loaded: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct IndexProgressEvent {
    pub folder: PathBuf,
    pub progress: IndexProgress,
}

/// `ui/src/bindings.ts`: every type the window receives, declared from the Rust types, 64-bit
/// integers as numbers (no id or count here comes near 2^53).
#[cfg(test)]
fn typescript_bindings() -> String {
    use folio::answer::chats::ChatMessage;
    use folio::answer::{Answer, Citation, Language, MessageDetails, Source};
    use folio::store::chats::{Chat, Role};
    let config = ts_rs::Config::new().with_large_int("number");
    let declarations = [
        folio::store::catalog::FileStatus::decl(&config),
        IndexProgress::decl(&config),
        FolderView::decl(&config),
        FileView::decl(&config),
        LibraryView::decl(&config),
        Source::decl(&config),
        Citation::decl(&config),
        Language::decl(&config),
        Answer::decl(&config),
        MessageDetails::decl(&config),
        Chat::decl(&config),
        Role::decl(&config),
        ChatMessage::decl(&config),
        folio::models::known::KnownModel::decl(&config),
        ModelsView::decl(&config),
        folio::embed::EncoderPath::decl(&config),
        folio::settings::Settings::decl(&config),
        AppState::decl(&config),
        IndexProgressEvent::decl(&config),
        AnswerEvent::decl(&config),
        DownloadEvent::decl(&config),
        ModelStateEvent::decl(&config),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by `FOLIO_WRITE_BINDINGS=1 cargo test -p folio-desktop bindings`\n\
         // (src-tauri/src/views.rs); do not edit. A test fails when this file is out of date.\n",
    );
    for declaration in declarations {
        out.push_str("\nexport ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_match_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
        let generated = super::typescript_bindings();
        if std::env::var_os("FOLIO_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/bindings.ts is out of date with the Rust types: run \
             FOLIO_WRITE_BINDINGS=1 cargo test -p folio-desktop bindings, and fix what tsc finds"
        );
    }
}
