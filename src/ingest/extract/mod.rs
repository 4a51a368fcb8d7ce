//! Text extraction: one extractor per format behind one seam.
//!
//! An extractor turns a file's bytes into pages of plain text. Formats without pages (text, HTML)
//! give one page without a number. Extractors run inside the isolated worker (see `worker.rs`), so
//! one that panics, hangs or eats memory fails its file only.

mod html;
mod markdown;
mod pdf;
pub mod text;

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A page of extracted text. `number` is 1-based where the format has pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub number: Option<u32>,
    pub text: String,
}

/// Why a file could not be read. The message is shown to the user as the file's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Unreadable(String),
    #[error("damaged or unsupported {format} file: {detail}")]
    Malformed { format: String, detail: String },
    #[error("encrypted; Folio cannot read password-protected files")]
    Encrypted,
    #[error("no text found ({0})")]
    NoText(String),
}

/// What an extractor gives back: the pages, and notes on what it could not read (shown to the user).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    pub pages: Vec<Page>,
    pub warnings: Vec<String>,
}

impl From<Vec<Page>> for Extraction {
    fn from(pages: Vec<Page>) -> Self {
        Extraction { pages, warnings: Vec::new() }
    }
}

/// One format's extractor.
pub trait Extractor: Sync {
    /// Stable short name, stored with each file ("pdf", "text", ...).
    fn name(&self) -> &'static str;
    /// Lower-case file extensions (without the dot) this extractor reads.
    fn extensions(&self) -> &'static [&'static str];
    fn extract(&self, path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError>;
}

static EXTRACTORS: &[&dyn Extractor] = &[&pdf::Pdf, &html::Html, &markdown::Markdown, &text::PlainText];

/// Bumped whenever an extractor reads files differently, so failed files get another try.
pub const EXTRACTOR_VERSION: i64 = 1;

/// The extractor for a path, by extension; text-like files without an extension are plain text.
pub fn extractor_for(path: &Path) -> Option<&'static dyn Extractor> {
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    match ext {
        Some(ext) => EXTRACTORS.iter().copied().find(|x| x.extensions().contains(&ext.as_str())),
        None if text::is_extensionless_text_name(path) => Some(&text::PlainText),
        None => None,
    }
}

pub fn extractor_by_name(name: &str) -> Option<&'static dyn Extractor> {
    EXTRACTORS.iter().copied().find(|x| x.name() == name)
}

/// Normalises what every extractor produces: line endings, trailing spaces, runs of blank lines,
/// control characters that are not whitespace. Keeps the text's meaning and layout.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n') {
        let line = line.trim_end_matches([' ', '\t', '\r', '\u{a0}']);
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
            out.push('\n');
            continue;
        }
        blank_run = 0;
        for c in line.chars() {
            match c {
                '\t' => out.push(c),
                '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{feff}' => {}
                _ => out.push(c),
            }
        }
        out.push('\n');
    }
    out.trim_matches('\n').to_string()
}

/// The message a panic carried, for a file's failure reason.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_blank_lines_and_controls() {
        assert_eq!(tidy("a  \r\n\r\n\r\n\nb\u{1}c\u{feff}\n"), "a\n\nbc");
    }

    #[test]
    fn extractor_chosen_by_extension() {
        assert_eq!(extractor_for(Path::new("a/B.PDF")).unwrap().name(), "pdf");
        assert_eq!(extractor_for(Path::new("x.md")).unwrap().name(), "markdown");
        assert_eq!(extractor_for(Path::new("x.htm")).unwrap().name(), "html");
        assert_eq!(extractor_for(Path::new("x.rs")).unwrap().name(), "text");
        assert_eq!(extractor_for(Path::new("README")).unwrap().name(), "text");
        assert!(extractor_for(Path::new("x.exe")).is_none());
    }
}
