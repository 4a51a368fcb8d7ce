//! The engine's error type. Every variant says what failed, on what, and (where it helps) what to do.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("library catalog ({path}): {source}")]
    Catalog {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("keyword index: {0}")]
    Keyword(#[from] tantivy::TantivyError),
    #[error("vector index: {0}")]
    Vectors(String),
    #[error("model {model}: {reason}")]
    Model { model: String, reason: String },
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Messages name no face's means (a flag, a menu): each face adds its own remedy by variant.
    #[error("the library at {dir} is in use by another Folio process (the window or a command); close that first")]
    LibraryLocked { dir: PathBuf },
    /// A library keeps the embedder it was built with; opening it with another would mix vectors
    /// of two models.
    #[error("the library at {dir} was built with the embedder '{stored}', not '{requested}'")]
    EmbedderMismatch { dir: PathBuf, stored: String, requested: String },
    /// A model's files are not where they should be: not fetched, not downloaded, or removed.
    #[error("model {model} is not installed: {path} is missing")]
    ModelMissing { model: String, path: PathBuf },
    #[error("{0}")]
    InvalidInput(String),
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn model(model: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Model { model: model.into(), reason: reason.to_string() }
    }
}

/// The message a panic carried (`catch_unwind`'s payload), for an error that replaces it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Attaches a path to io errors: `fs::read(p).at(p)?`.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
