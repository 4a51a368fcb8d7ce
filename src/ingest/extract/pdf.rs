//! PDF: pdf-extract, one page at a time, so every chunk knows its page and one bad page (an error
//! or a panic inside pdf-extract) costs that page only, not the whole file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use pdf_extract::{Document, PlainTextOutput};

use super::{panic_message, tidy, ExtractError, Extraction, Extractor, Page};

pub struct Pdf;

impl Extractor for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["pdf"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let malformed = |detail: String| ExtractError::Malformed { format: "PDF".into(), detail };
        let mut doc = Document::load_mem(bytes).map_err(|e| malformed(e.to_string()))?;
        if doc.is_encrypted() && doc.decrypt("").is_err() {
            return Err(ExtractError::Encrypted);
        }
        let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
        if numbers.is_empty() {
            return Err(malformed("the document has no pages".into()));
        }
        let mut pages = Vec::with_capacity(numbers.len());
        let mut failed = Vec::new();
        for number in &numbers {
            match catch_unwind(AssertUnwindSafe(|| page_text(&doc, *number))) {
                Ok(Ok(text)) => pages.push(Page { number: Some(*number), text: tidy(&join_hyphenated(&text)) }),
                Ok(Err(e)) => failed.push(format!("{number} ({e})")),
                Err(panic) => failed.push(format!("{number} (pdf-extract panicked: {})", panic_message(panic.as_ref()))),
            }
        }
        if pages.is_empty() {
            return Err(malformed(format!("no page could be read; pages {}", failed.join(", "))));
        }
        if pages.iter().all(|p| p.text.trim().is_empty()) {
            return Err(ExtractError::NoText(
                "the PDF has no text layer; its pages are probably scanned images and need OCR".into(),
            ));
        }
        let mut warnings = Vec::new();
        if !failed.is_empty() {
            warnings.push(format!("{} of {} pages could not be read: {}", failed.len(), numbers.len(), failed.join(", ")));
        }
        Ok(Extraction { pages, warnings })
    }
}

fn page_text(doc: &Document, number: u32) -> Result<String, pdf_extract::OutputError> {
    let mut text = String::new();
    pdf_extract::output_doc_page(doc, &mut PlainTextOutput::new(&mut text), number)?;
    Ok(text)
}

/// Rejoins words that the layout hyphenated across a line break ("infor-\nmation").
fn join_hyphenated(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        if c == '-' && prev.is_some_and(|p| p.is_lowercase()) && chars.peek() == Some(&'\n') {
            let mut look = chars.clone();
            look.next();
            if look.peek().is_some_and(|n| n.is_lowercase()) {
                chars.next();
                prev = Some('-');
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenation_across_lines_is_joined() {
        assert_eq!(join_hyphenated("infor-\nmation and well-\nKnown"), "information and well-\nKnown");
    }
}
