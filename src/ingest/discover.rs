//! Finding the files of a folder the way ripgrep does: hidden files and what `.gitignore`,
//! `.ignore` or `.folioignore` exclude are left out; symbolic links are not followed (so link loops
//! cannot trap the walk); files too large or of unknown formats are reported as skipped.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::extract::extractor_for;

/// A file found under a folder.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// `Some(reason)` when the file will not be read.
    pub skip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    pub max_file_bytes: u64,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions { max_file_bytes: 256 << 20 }
    }
}

/// Custom ignore file a user can put in any folder, with `.gitignore` syntax.
pub const IGNORE_FILE: &str = ".folioignore";

/// Walks `root` (a folder or a single file). Walk errors (unreadable folders) come back as
/// skipped entries, so the user sees them.
pub fn discover(root: &Path, options: &DiscoverOptions) -> Vec<Found> {
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(false)
        .git_global(false)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILE)
        .follow_links(false)
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                if let Some(path) = error_path(&err) {
                    found.push(Found { path, size: 0, mtime_ns: 0, skip: Some(format!("cannot be read: {err}")) });
                }
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.into_path();
        let metadata = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                found.push(Found { path, size: 0, mtime_ns: 0, skip: Some(format!("cannot be read: {e}")) });
                continue;
            }
        };
        let size = metadata.len();
        let mtime_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        let skip = if extractor_for(&path).is_none() {
            Some("unsupported format".to_string())
        } else if size > options.max_file_bytes {
            Some(format!("larger than the {} limit", crate::sizes::human_size(options.max_file_bytes)))
        } else {
            None
        };
        found.push(Found { path, size, mtime_ns, skip });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_hidden_ignored_oversize_and_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "hello").unwrap();
        std::fs::write(root.join(".hidden.txt"), "secret").unwrap();
        std::fs::write(root.join("big.txt"), vec![b'x'; 2048]).unwrap();
        std::fs::write(root.join("tool.exe"), [0u8, 1, 2]).unwrap();
        std::fs::create_dir(root.join("build")).unwrap();
        std::fs::write(root.join("build/out.txt"), "generated").unwrap();
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        let found = discover(root, &DiscoverOptions { max_file_bytes: 1024 });
        let names: Vec<_> =
            found.iter().map(|f| (f.path.file_name().unwrap().to_str().unwrap().to_string(), f.skip.clone())).collect();
        assert_eq!(
            names,
            vec![
                ("a.txt".to_string(), None),
                ("big.txt".to_string(), Some("larger than the 1 KiB limit".to_string())),
                ("tool.exe".to_string(), Some("unsupported format".to_string())),
            ]
        );
    }
}
