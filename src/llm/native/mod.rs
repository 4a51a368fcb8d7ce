//! Folio's own CPU decoder for llama-family GGUF models.

pub mod config;
pub mod model;
mod ops;

pub use model::NativeModel;
