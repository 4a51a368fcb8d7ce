//! Text extraction: one extractor per format behind one seam.
//!
//! An extractor turns a file's bytes into pages of plain text. Formats without pages (text, HTML,
//! DOCX) give one page without a number; PDF pages, PPTX slides, EPUB chapters and spreadsheet
//! sheets are numbered from 1. Extractors run inside the isolated worker (see `worker.rs`), so one
//! that panics, hangs or eats memory fails its file only; on top of that, each bounds its own work
//! (archive sizes, XML depth, the time limit the worker passes in) so that hostile input fails with
//! a reason that says what happened rather than with a killed worker.

mod archive;
mod docx;
mod eml;
mod epub;
pub mod html;
mod markdown;
mod ocr;
mod odt;
mod ole;
mod pdf;
mod pdf_cmap;
mod pdf_content;
mod pdf_repair;
mod pptx;
pub mod quality;
mod rtf;
mod spreadsheet;
pub mod text;
mod xml;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    /// Encrypted in a way Folio cannot decrypt (Office, OpenDocument, e-book DRM).
    #[error("encrypted; Folio cannot read password-protected files of this kind")]
    Encrypted,
    /// A PDF that opens only with a password, and none of the `tried` passwords given opened it.
    #[error("{}", password_message(*tried))]
    PasswordRequired { tried: usize },
    #[error("no text found ({0})")]
    NoText(String),
    /// Pages are images without a text layer; the message says what would read them.
    #[error("needs OCR: {0}")]
    NeedsOcr(String),
    /// Text is there but decodes to nonsense (fonts without a Unicode map, a wrong code page).
    #[error("unreadable text: {0}")]
    UnreadableText(String),
    /// The file exceeds a safety limit (an archive bomb, absurd nesting); says which.
    #[error("refused: {0}")]
    Refused(String),
}

fn password_message(tried: usize) -> String {
    match tried {
        0 => "password-protected: Folio needs its password to read it".into(),
        1 => "password-protected: the password given does not open it".into(),
        n => format!("password-protected: none of the {n} passwords given opens it"),
    }
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

static EXTRACTORS: &[&dyn Extractor] = &[
    &pdf::Pdf,
    &docx::Docx,
    &pptx::Pptx,
    &spreadsheet::Workbook,
    &spreadsheet::Csv,
    &odt::OpenDocument,
    &epub::Epub,
    &rtf::Rtf,
    &eml::Email,
    &ole::Doc,
    &ole::Ppt,
    &ole::Msg,
    &html::Html,
    &markdown::Markdown,
    &text::PlainText,
];

/// Bumped whenever an extractor reads files differently, so failed files get another try.
/// 2: Office, e-book, RTF and e-mail formats; PDF fallback reader, repair, OCR and garbage checks.
/// 3: Word 97–2003, PowerPoint 97–2003 and Outlook messages; password-protected Office files;
/// PDF form values.
/// 4: PDFs that need a password say so (and are read with one given), where 3 called them encrypted.
pub const EXTRACTOR_VERSION: i64 = 4;

/// When the extraction under way must be finished: the worker sets it from the time limit its
/// parent enforces, so that slow extractors (OCR, very long PDFs) stop in time and keep what they
/// have instead of being killed with nothing. One extraction runs at a time per worker process.
static DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);

thread_local! {
    /// Passwords offered to the extraction running on this thread (see `with_passwords`).
    static PASSWORDS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `read` with `passwords` offered to a password-protected file it opens. Scoped to the
/// calling thread and cleared afterwards, panic or not, so no other file's extraction sees them
/// (they are not part of `Extractor::extract` because one format in a dozen uses them).
pub fn with_passwords<T>(passwords: &[String], read: impl FnOnce() -> T) -> T {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            PASSWORDS.with(|p| p.borrow_mut().clear());
        }
    }
    PASSWORDS.with(|p| *p.borrow_mut() = passwords.to_vec());
    let _clear = Clear;
    read()
}

/// The passwords offered to the extraction under way on this thread.
fn offered_passwords() -> Vec<String> {
    PASSWORDS.with(|p| p.borrow().clone())
}

/// Starts the clock for one extraction (`None`: no limit, as in-process extraction has).
pub fn set_time_limit(limit: Option<Duration>) {
    // A share of the limit stays in reserve for finishing up and sending the reply.
    let usable = limit.map(|l| l.saturating_sub((l / 6).max(Duration::from_millis(300))));
    *DEADLINE.lock().unwrap_or_else(|p| p.into_inner()) = usable.map(|u| Instant::now() + u);
}

/// Time an extractor may still spend, if there is a limit.
pub fn time_left() -> Option<Duration> {
    DEADLINE.lock().unwrap_or_else(|p| p.into_inner()).map(|d| d.saturating_duration_since(Instant::now()))
}

/// Whether an extractor should stop optional or incremental work now and keep what it has.
pub fn out_of_time() -> bool {
    time_left().is_some_and(|left| left.is_zero())
}

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

pub use crate::error::panic_message;

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
        for (file, name) in [
            ("a.docx", "docx"),
            ("a.pptx", "pptx"),
            ("a.xlsx", "spreadsheet"),
            ("a.ods", "spreadsheet"),
            ("a.csv", "csv"),
            ("a.odt", "opendocument"),
            ("a.epub", "epub"),
            ("a.rtf", "rtf"),
            ("a.eml", "email"),
            ("a.yaml", "text"),
            ("Cargo.lock", "text"),
            ("a.f90", "text"),
        ] {
            assert_eq!(extractor_for(Path::new(file)).map(|x| x.name()), Some(name), "{file}");
        }
    }

    #[test]
    fn every_extension_has_one_extractor() {
        let mut seen = std::collections::HashSet::new();
        for x in EXTRACTORS {
            for ext in x.extensions() {
                assert!(seen.insert(*ext), "{ext} is claimed twice");
                assert_eq!(*ext, ext.to_ascii_lowercase());
            }
        }
        assert!(seen.len() > 120, "{} extensions", seen.len());
    }
}
