//! Markdown as readable text: markup removed, headings and paragraphs kept as blocks, code kept.

use std::path::Path;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::{text, tidy, ExtractError, Extraction, Extractor, Page};

pub struct Markdown;

impl Extractor for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["md", "markdown", "mdown", "mkd"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        if text::looks_binary(bytes) {
            return Err(ExtractError::Unreadable("binary content in a Markdown file".into()));
        }
        let source = text::decode(bytes);
        Ok(vec![Page { number: None, text: tidy(&to_text(&source)) }].into())
    }
}

fn to_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for event in Parser::new(source) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("- "),
            Event::Start(Tag::Image { title, .. }) if !title.is_empty() => out.push_str(&title),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_)) => {
                out.push_str("\n\n")
            }
            Event::End(TagEnd::Item | TagEnd::TableRow | TagEnd::TableHead) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push('\t'),
            // Inline and block HTML inside Markdown is markup, not text.
            Event::Html(_) | Event::InlineHtml(_) => {}
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_removed_and_blocks_kept() {
        let text = to_text("# Title\n\nSome *bold* text with `code`.\n\n- one\n- two\n\n<script>x</script>\n");
        assert_eq!(tidy(&text), "Title\n\nSome bold text with code.\n\n- one\n- two");
    }
}
