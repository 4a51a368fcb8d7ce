//! DOCX (Word 2007+): the body's paragraphs and tables, then footnotes, endnotes and comments.
//! Word documents have no fixed pages (pagination happens when rendering), so the text is one
//! page without a number.

use std::path::Path;

use super::archive::Archive;
use super::xml::{walk, Node, Skip};
use super::{tidy, ExtractError, Extraction, Extractor, Page};

pub struct Docx;

const FORMAT: &str = "DOCX";

/// Subtrees without reader-visible text: deleted revisions, field codes, the fallback copy of
/// content that `mc:AlternateContent` also gives in its `Choice`, paragraph properties (their tab
/// stops are not tabs).
const SKIPPED: &[&str] = &["delText", "instrText", "delInstrText", "Fallback", "pPr"];

impl Extractor for Docx {
    fn name(&self) -> &'static str {
        "docx"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["docx", "docm", "dotx", "dotm"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut archive = Archive::open(bytes, FORMAT)?;
        let main = archive
            .relationships("")?
            .into_iter()
            .find(|r| r.kind.ends_with("/officeDocument"))
            .map(|r| r.target)
            .unwrap_or_else(|| "word/document.xml".into());
        let mut warnings = Vec::new();
        let mut text = String::new();
        let xml = archive.read_text(&main)?;
        if let Err(stop) = walk(&xml, body_visitor(&mut text)) {
            if text.trim().is_empty() {
                return Err(stop.into_error(FORMAT, "the document body"));
            }
            warnings.push(stop.warning("the document body"));
        }
        // Notes and comments, each under a heading so a passage says where it comes from.
        let rels = archive.relationships(&main)?;
        for (kind, heading) in [("/footnotes", "Footnotes"), ("/endnotes", "Endnotes"), ("/comments", "Comments")] {
            let Some(part) = rels.iter().find(|r| r.kind.ends_with(kind)).map(|r| r.target.clone()) else { continue };
            let Some(xml) = archive.read_text_optional(&part)? else { continue };
            let mut notes = String::new();
            if let Err(stop) = walk(&xml, body_visitor(&mut notes)) {
                warnings.push(stop.warning(&part));
            }
            if !notes.trim().is_empty() {
                text.push_str(&format!("\n\n{heading}\n\n{notes}"));
            }
        }
        let text = tidy(&text);
        if text.is_empty() {
            return Err(ExtractError::NoText("the document is empty".into()));
        }
        Ok(Extraction { pages: vec![Page { number: None, text }], warnings })
    }
}

/// Collects WordprocessingML text: runs' `t`, tabs and breaks; a paragraph ends with a blank line,
/// table cells are separated by tabs and rows by line breaks.
fn body_visitor(out: &mut String) -> impl FnMut(Node<'_>) + '_ {
    let mut skip = Skip::default();
    let mut in_text = 0usize;
    let mut in_cell = 0usize;
    move |node| match node {
        Node::Open { name, .. } => {
            if skip.enter(name, SKIPPED) {
                return;
            }
            match name {
                "t" => in_text += 1,
                "tab" if in_text == 0 => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                "noBreakHyphen" => out.push('-'),
                "tc" => in_cell += 1,
                _ => {}
            }
        }
        Node::Close { name } => {
            if skip.leave() {
                return;
            }
            match name {
                "t" => in_text = in_text.saturating_sub(1),
                "p" if in_cell > 0 => out.push('\n'),
                "p" => out.push_str("\n\n"),
                "tc" => {
                    in_cell = in_cell.saturating_sub(1);
                    while out.ends_with('\n') {
                        out.pop();
                    }
                    out.push('\t');
                }
                "tr" => out.push('\n'),
                "tbl" => out.push('\n'),
                _ => {}
            }
        }
        Node::Text(t) => {
            if in_text > 0 && !skip.active() {
                out.push_str(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(xml: &str) -> String {
        let mut out = String::new();
        walk(xml, body_visitor(&mut out)).unwrap();
        tidy(&out)
    }

    #[test]
    fn paragraphs_tables_and_revisions() {
        let xml = r#"<w:document xmlns:w="w"><w:body>
            <w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> world</w:t></w:r></w:p>
            <w:p><w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:r><w:instrText>PAGE</w:instrText><w:t>kept</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>A1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B1</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            </w:body></w:document>"#;
        assert_eq!(body(xml), "Hello\t world\n\nkept\n\nA1\tB1");
    }
}
