//! Folio's own CPU decoder for llama-family GGUF models.

mod attention;
pub mod config;
pub mod model;
mod ops;

pub use model::{KvSnapshot, NativeModel};
