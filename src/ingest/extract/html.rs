//! HTML as readable text: the visible text of the body and the title, without scripts, styles or
//! other non-text elements; block elements become line breaks.

use std::path::Path;

use scraper::{node::Node, Html as Document};

use super::{Extraction, text, tidy, ExtractError, Extractor, Page};

pub struct Html;

impl Extractor for Html {
    fn name(&self) -> &'static str {
        "html"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["html", "htm", "xhtml"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        if text::looks_binary(bytes) {
            return Err(ExtractError::Unreadable("binary content in an HTML file".into()));
        }
        Ok(vec![Page { number: None, text: tidy(&html_to_text(&text::decode(bytes))) }].into())
    }
}

/// Elements whose content is never shown as text.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head"];
/// Elements that start a new line of text.
const BLOCKS: &[&str] = &[
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "h1", "h2", "h3", "h4",
    "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure",
    "figcaption", "form", "fieldset", "address", "hr", "title", "caption", "details", "summary",
];

pub fn html_to_text(source: &str) -> String {
    let document = Document::parse_document(source);
    let mut out = String::with_capacity(source.len() / 2);
    if let Some(title) = document.select(&scraper::Selector::parse("head > title").unwrap()).next() {
        let title: String = title.text().collect();
        if !title.trim().is_empty() {
            out.push_str(title.trim());
            out.push_str("\n\n");
        }
    }
    // An explicit stack instead of recursion: deeply nested documents cannot overflow it.
    enum Step<'a> {
        Enter(ego_tree::NodeRef<'a, Node>),
        Leave(&'a str),
    }
    let mut stack = vec![Step::Enter(document.tree.root())];
    let mut in_pre = 0usize;
    while let Some(step) = stack.pop() {
        match step {
            Step::Leave(name) => {
                if name == "pre" {
                    in_pre -= 1;
                }
                if BLOCKS.contains(&name) {
                    out.push_str(if matches!(name, "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "pre") {
                        "\n\n"
                    } else {
                        "\n"
                    });
                } else if matches!(name, "td" | "th") {
                    out.push('\t');
                }
            }
            Step::Enter(node) => match node.value() {
                Node::Text(text) => push_text(&mut out, &text.text, in_pre > 0),
                Node::Element(element) => {
                    let name = element.name();
                    if SKIPPED.contains(&name) {
                        continue;
                    }
                    if name == "br" {
                        out.push('\n');
                        continue;
                    }
                    if name == "img" {
                        if let Some(alt) = element.attr("alt").filter(|a| !a.trim().is_empty()) {
                            push_text(&mut out, alt, false);
                        }
                        continue;
                    }
                    if name == "pre" {
                        in_pre += 1;
                    }
                    if BLOCKS.contains(&name) && !out.ends_with('\n') && !out.is_empty() {
                        out.push('\n');
                    }
                    stack.push(Step::Leave(name));
                    let children: Vec<_> = node.children().collect();
                    stack.extend(children.into_iter().rev().map(Step::Enter));
                }
                Node::Document | Node::Fragment => {
                    let children: Vec<_> = node.children().collect();
                    stack.extend(children.into_iter().rev().map(Step::Enter));
                }
                _ => {}
            },
        }
    }
    out
}

/// Appends text the way a browser shows it: runs of whitespace collapse outside `<pre>`.
fn push_text(out: &mut String, text: &str, preformatted: bool) {
    if preformatted {
        out.push_str(text);
        return;
    }
    let mut words = text.split_whitespace().peekable();
    if words.peek().is_none() {
        if !text.is_empty() && !out.ends_with([' ', '\n', '\t']) && !out.is_empty() {
            out.push(' ');
        }
        return;
    }
    if text.starts_with(char::is_whitespace) && !out.ends_with([' ', '\n', '\t']) && !out.is_empty() {
        out.push(' ');
    }
    let mut first = true;
    for word in words {
        if !first {
            out.push(' ');
        }
        out.push_str(word);
        first = false;
    }
    if text.ends_with(char::is_whitespace) {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_text_without_scripts() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body><script>alert(1)</script>\
            <h1>Head</h1><p>One <b>two</b>\n   three</p><ul><li>a</li><li>b</li></ul><pre>x  y\n z</pre></body></html>";
        assert_eq!(tidy(&html_to_text(html)), "T\n\nHead\n\nOne two three\n\na\nb\n\nx  y\n z");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
        assert!(html_to_text(&html).contains("deep"));
    }
}
