//! The models Folio knows, shipped in `assets/models.json` (where each comes from, its size and hash), and which of them are installed.

use serde::{Deserialize, Serialize};

use super::models_dir;

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct KnownModel {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
    pub source: String,
    /// Where to download the file from when online; `None`: installed by scripts/fetch-models.
    pub url: Option<String>,
    pub description: String,
    /// Weights in the model (for predicting its speed from a measured one).
    #[serde(default)]
    pub parameters: Option<u64>,
    /// Memory the model needs at a 4096-token context.
    #[serde(default)]
    pub ram_bytes: Option<u64>,
    /// Languages it reads and writes well (ISO 639-1).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Its rung on the ladder of answering models (higher answers better); `None`: never picked
    /// automatically.
    #[serde(default)]
    pub ladder: Option<u32>,
    #[serde(default)]
    pub installed: bool,
}

#[derive(Deserialize)]
struct CatalogFile {
    models: Vec<KnownModel>,
}

pub fn all() -> Vec<KnownModel> {
    let file: CatalogFile =
        serde_json::from_str(include_str!("../../assets/models.json")).expect("the shipped catalog parses");
    let dir = models_dir();
    file.models
        .into_iter()
        .map(|mut m| {
            m.installed =
                if m.kind == "decoder" { super::decoder_file(&m.id).is_file() } else { dir.join(&m.id).is_dir() };
            m
        })
        .collect()
}

/// GGUF files in the model directory that the catalog does not list (imported by the user).
pub fn imported() -> Vec<String> {
    let known: Vec<String> = all().into_iter().map(|m| m.id).collect();
    let mut ids: Vec<String> = std::fs::read_dir(models_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".gguf").map(str::to_string)
        })
        .filter(|id| !known.contains(id))
        .collect();
    ids.sort();
    ids
}

/// Installed decoders: catalog ones and imported ones.
pub fn installed_decoders() -> Vec<String> {
    let mut ids: Vec<String> = all().into_iter().filter(|m| m.kind == "decoder" && m.installed).map(|m| m.id).collect();
    ids.extend(imported());
    ids
}
