//! HTML as readable text: the visible text of the body and the title, without scripts, styles or
//! other non-text elements; block elements become line breaks.

use std::path::Path;

use scraper::{node::Node, Html as Document};

use super::{text, tidy, ExtractError, Extraction, Extractor, Page};

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
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "address",
    "hr",
    "title",
    "caption",
    "details",
    "summary",
];

/// Nesting beyond which the HTML parser is not used: its tree building slows down with the depth
/// of open elements (a page of half a million nested `<div>`s takes minutes). Real pages nest a
/// few dozen levels.
const MAX_PARSED_DEPTH: usize = 1000;

pub fn html_to_text(source: &str) -> String {
    if nesting_depth(source) > MAX_PARSED_DEPTH {
        return strip_tags(source);
    }
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
                if matches!(name, "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "pre") {
                    out.push_str("\n\n");
                } else if BLOCKS.contains(&name) && !out.ends_with('\n') {
                    // Nested blocks (a list in a div) end on one line break, not one each.
                    out.push('\n');
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

/// The deepest nesting of elements, estimated in one pass over the tags (void elements and
/// self-closing tags do not nest).
fn nesting_depth(source: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p", "li",
    ];
    let bytes = source.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let end = bytes[start..].iter().position(|b| !b.is_ascii_alphanumeric()).map_or(bytes.len(), |n| start + n);
        if end == start {
            continue;
        }
        let name = source[start..end].to_ascii_lowercase();
        let tag_end = bytes[end..].iter().position(|&b| b == b'>').map_or(bytes.len(), |n| end + n);
        if closing {
            depth = depth.saturating_sub(1);
        } else if !VOID.contains(&name.as_str()) && bytes.get(tag_end.wrapping_sub(1)) != Some(&b'/') {
            depth += 1;
            deepest = deepest.max(depth);
        }
        i = tag_end.min(bytes.len());
    }
    deepest
}

/// Text of HTML too deeply nested to parse: tags removed, script and style contents dropped,
/// entities for the common characters decoded, block tags turned into line breaks. Linear time.
fn strip_tags(source: &str) -> String {
    let mut out = String::with_capacity(source.len() / 2);
    let mut rest = source;
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &decode_entities(&rest[..open]), false);
        rest = &rest[open..];
        let (inner, close) = match rest.find('>') {
            Some(n) => (&rest[1..n], n + 1),
            None => (&rest[1..], rest.len()),
        };
        let closing = inner.starts_with('/');
        let name = inner.trim_start_matches('/').split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
        let name = name.to_ascii_lowercase();
        rest = &rest[close..];
        if matches!(name.as_str(), "script" | "style") && !closing {
            let end_tag = format!("</{name}");
            rest = rest
                .as_bytes()
                .windows(end_tag.len())
                .position(|w| w.eq_ignore_ascii_case(end_tag.as_bytes()))
                .map_or("", |n| &rest[n..]);
        } else if (BLOCKS.contains(&name.as_str()) || name == "br") && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    push_text(&mut out, &decode_entities(rest), false);
    out
}

fn decode_entities(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return text.into();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .into()
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
        assert_eq!(tidy(&html_to_text(html)), "T\n\nHead\n\nOne two three\n\na\nb\nx  y\n z");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
        assert!(html_to_text(&html).contains("deep"));
    }

    #[test]
    fn very_deep_nesting_is_read_without_the_parser_in_linear_time() {
        let html = "<html><head><style>p{}</style><script>if (a < b) x()</script></head><body>".to_string()
            + &"<div><span>".repeat(400_000)
            + "deep &amp; inside<br>next line"
            + &"</span></div>".repeat(400_000);
        let started = std::time::Instant::now();
        let text = tidy(&html_to_text(&html));
        assert_eq!(text, "deep & inside\nnext line");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(nesting_depth("<ul><li>a<li>b</ul><p>x<br/><img src=a>"), 1);
        assert_eq!(strip_tags("a<b>é</b><é"), "aé");
    }
}
