//! Storage: the catalog (source of truth) and the two indexes derived from it.

pub mod analyzer;
pub mod catalog;
pub mod chats;
pub mod keyword;
pub mod migrations;
pub mod vector;

use std::io::Write;
use std::path::Path;

use crate::error::{IoContext, Result};

pub use analyzer::terms as keyword_terms;

/// Replaces `path` with `bytes` so that a reader sees either the old or the new content, also
/// after a crash: write a temporary file, sync it, rename it over the target.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).at(&tmp)?;
    file.write_all(bytes).at(&tmp)?;
    file.sync_all().at(&tmp)?;
    std::fs::rename(&tmp, path).at(path)?;
    if let Some(parent) = path.parent() {
        if let Ok(dir) = std::fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// Bytes used by the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
