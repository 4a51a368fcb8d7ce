//! Which models exist and where they live on disk.
//!
//! The model directory is `$FOLIO_MODELS`, else the platform data dir (`~/.local/share/folio/models`
//! on Linux). `scripts/fetch-models` fills it; a user can also drop a GGUF or a BERT folder there.
//! Loading code only sees standard formats (GGUF files, Hugging Face BERT folders), never where a
//! file came from.

pub mod install;
pub mod known;
pub mod ladder;
pub mod startup;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The directory that holds the models.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FOLIO_MODELS").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    data_dir().join("models")
}

/// Folio's own folder in the platform data dir.
pub fn data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("folio")
}

/// Where decoder `id` lives (or would, once installed): `<models dir>/<id>.gguf`.
pub fn decoder_file(id: &str) -> PathBuf {
    models_dir().join(format!("{id}.gguf"))
}

/// The file of installed decoder `id`, for a face that names models by id: an id is letters,
/// digits, dots and dashes (what `install::id_from_path` makes), so it cannot climb out of the
/// model directory, and the file must be there.
pub fn installed_model_file(id: &str) -> Result<PathBuf> {
    // Without a separator, no id names a file outside the directory.
    let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !valid {
        return Err(Error::InvalidInput(format!("'{id}' is not a model id (letters, digits, dots and dashes)")));
    }
    let path = decoder_file(id);
    if !path.is_file() {
        return Err(Error::ModelMissing { model: id.to_string(), path });
    }
    Ok(path)
}

/// A sentence embedder the engine knows how to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderSpec {
    pub id: &'static str,
    /// e5 models were trained with role prefixes; others take the text as is.
    pub query_prefix: &'static str,
    pub passage_prefix: &'static str,
    /// Longest input the model accepts, in tokens, special tokens included.
    pub max_tokens: usize,
    /// The input length the model was trained for; chunks are sized to stay inside it.
    pub trained_tokens: usize,
}

pub const ALL_MINILM_L6_V2: EmbedderSpec =
    EmbedderSpec { id: "all-minilm-l6-v2", query_prefix: "", passage_prefix: "", max_tokens: 512, trained_tokens: 256 };

pub const MULTILINGUAL_E5_SMALL: EmbedderSpec = EmbedderSpec {
    id: "multilingual-e5-small",
    query_prefix: "query: ",
    passage_prefix: "passage: ",
    max_tokens: 512,
    trained_tokens: 512,
};

pub const EMBEDDERS: &[EmbedderSpec] = &[MULTILINGUAL_E5_SMALL, ALL_MINILM_L6_V2];

/// The embedder a new library uses unless told otherwise: it reads Russian as well as English
/// (see the retrieval figures in the README).
pub const DEFAULT_EMBEDDER: &str = MULTILINGUAL_E5_SMALL.id;

pub fn embedder_spec(id: &str) -> Result<&'static EmbedderSpec> {
    EMBEDDERS.iter().find(|s| s.id == id).ok_or_else(|| {
        let known: Vec<_> = EMBEDDERS.iter().map(|s| s.id).collect();
        Error::InvalidInput(format!("unknown embedder '{id}'; known: {}", known.join(", ")))
    })
}

/// The folder of an embedder, checked for the files a BERT model needs.
pub fn embedder_dir(models: &Path, id: &str) -> Result<PathBuf> {
    let dir = models.join(id);
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        if !dir.join(file).is_file() {
            return Err(Error::ModelMissing { model: id.to_string(), path: dir.join(file) });
        }
    }
    Ok(dir)
}
