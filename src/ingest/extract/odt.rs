//! OpenDocument text and presentations (ODT, ODP): `content.xml` streamed. A text document is one
//! page without a number (pagination happens when rendering); in a presentation each `draw:page`
//! is a page, numbered in order, with its speaker notes after its text.

use std::path::Path;

use super::archive::Archive;
use super::xml::{attr, walk, Node, Skip};
use super::{tidy, ExtractError, Extraction, Extractor, Page};

pub struct OpenDocument;

/// Text that is not the document's: deleted changes kept for change tracking, and the copy of
/// the text a sequence field or index would repeat.
const SKIPPED: &[&str] = &["tracked-changes", "table-of-content-source", "alphabetical-index-source"];

impl Extractor for OpenDocument {
    fn name(&self) -> &'static str {
        "opendocument"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["odt", "ott", "odp", "otp"]
    }
    fn extract(&self, path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let format = if matches!(ext.as_str(), "odp" | "otp") { "ODP" } else { "ODT" };
        let mut archive = Archive::open(bytes, format)?;
        let xml = archive.read_text("content.xml")?;
        let mut reader = Content::default();
        let result = walk(&xml, |node| reader.visit(node));
        let mut pages = reader.finish();
        let mut warnings = Vec::new();
        if let Err(stop) = result {
            if pages.iter().all(|p| p.text.is_empty()) {
                return Err(stop.into_error(format, "content.xml"));
            }
            warnings.push(stop.warning("content.xml"));
        }
        pages.retain(|p| !p.text.is_empty());
        if pages.is_empty() {
            return Err(ExtractError::NoText(format!("the {format} document is empty")));
        }
        Ok(Extraction { pages, warnings })
    }
}

#[derive(Default)]
struct Content {
    skip: Skip,
    /// Text of the current page (or of the whole text document).
    out: String,
    /// Finished slides of a presentation.
    slides: Vec<Page>,
    in_slide: bool,
    in_notes: bool,
    /// Inside `text:p` or `text:h`: text elsewhere is only the XML's indentation.
    in_paragraph: usize,
}

impl Content {
    fn visit(&mut self, node: Node<'_>) {
        match node {
            Node::Open { name, tag } => {
                if self.skip.enter(name, SKIPPED) {
                    return;
                }
                match name {
                    "p" | "h" => self.in_paragraph += 1,
                    "s" => {
                        let count = attr(tag, "text:c").and_then(|c| c.parse::<usize>().ok()).unwrap_or(1);
                        self.out.push_str(&" ".repeat(count.clamp(1, 64)));
                    }
                    "tab" => self.out.push('\t'),
                    "line-break" => self.out.push('\n'),
                    "page" => {
                        self.in_slide = true;
                        self.out.clear();
                    }
                    "notes" if self.in_slide => {
                        self.in_notes = true;
                        self.out.push_str("\n\nNotes:\n");
                    }
                    _ => {}
                }
            }
            Node::Close { name } => {
                if self.skip.leave() {
                    return;
                }
                match name {
                    "p" | "h" => {
                        self.in_paragraph = self.in_paragraph.saturating_sub(1);
                        self.out.push_str("\n\n");
                    }
                    "table-cell" => {
                        while self.out.ends_with('\n') {
                            self.out.pop();
                        }
                        self.out.push('\t');
                    }
                    "table-row" => self.out.push('\n'),
                    "notes" => {
                        self.in_notes = false;
                        if self.out.trim_end().ends_with("Notes:") {
                            let keep = self.out.trim_end().len() - "Notes:".len();
                            self.out.truncate(keep);
                        }
                    }
                    "page" if self.in_slide => {
                        self.in_slide = false;
                        let number = self.slides.len() as u32 + 1;
                        self.slides.push(Page { number: Some(number), text: tidy(&std::mem::take(&mut self.out)) });
                    }
                    _ => {}
                }
            }
            Node::Text(t) => {
                if self.skip.active() || self.in_paragraph == 0 {
                    return;
                }
                // ODF collapses white space in paragraphs; explicit spaces are `text:s`.
                for ch in t.chars() {
                    if ch.is_whitespace() {
                        if !self.out.ends_with([' ', '\n']) {
                            self.out.push(' ');
                        }
                    } else {
                        self.out.push(ch);
                    }
                }
            }
        }
    }

    fn finish(self) -> Vec<Page> {
        if self.slides.is_empty() {
            vec![Page { number: None, text: tidy(&self.out) }]
        } else {
            self.slides
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Vec<Page> {
        let mut c = Content::default();
        walk(xml, |n| c.visit(n)).unwrap();
        c.finish()
    }

    #[test]
    fn text_spaces_tables_and_changes() {
        let xml = r#"<office:document-content><office:body><office:text>
            <text:tracked-changes><text:changed-region><text:deletion><text:p>deleted</text:p></text:deletion></text:changed-region></text:tracked-changes>
            <text:h>Title</text:h><text:p>a<text:s text:c="3"/>b<text:tab/>c<text:line-break/>d</text:p>
            <table:table><table:table-row><table:table-cell><text:p>x</text:p></table:table-cell><table:table-cell><text:p>y</text:p></table:table-cell></table:table-row></table:table>
            </office:text></office:body></office:document-content>"#;
        let pages = read(xml);
        assert_eq!(pages, vec![Page { number: None, text: "Title\n\na   b\tc\nd\n\nx\ty".into() }]);
    }

    #[test]
    fn presentation_pages_and_notes() {
        let xml = r#"<office:document-content><office:body><office:presentation>
            <draw:page><draw:frame><draw:text-box><text:p>One</text:p></draw:text-box></draw:frame>
            <presentation:notes><draw:frame><draw:text-box><text:p>say hi</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>
            <draw:page><draw:frame><draw:text-box><text:p>Two</text:p></draw:text-box></draw:frame><presentation:notes/></draw:page>
            </office:presentation></office:body></office:document-content>"#;
        let pages = read(xml);
        assert_eq!(pages[0], Page { number: Some(1), text: "One\n\nNotes:\nsay hi".into() });
        assert_eq!(pages[1], Page { number: Some(2), text: "Two".into() });
    }
}
