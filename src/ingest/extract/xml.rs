//! Streaming XML for the document formats (OOXML, ODF, OPF): one pass, no tree, no recursion.
//!
//! quick-xml does not expand entities other than the five predefined ones and character
//! references, so "billion laughs" DTDs expand to nothing; nesting is capped so that a part made
//! of millions of open tags fails with a reason instead of growing a stack without bound.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::ExtractError;

/// Deepest element nesting accepted. Real documents nest a few dozen levels (tables in tables).
pub const MAX_DEPTH: usize = 4096;

/// What the walker reports, in document order. Empty elements give `Open` then `Close`.
pub enum Node<'x> {
    /// An element starts; `name` is its local name (without namespace prefix).
    Open {
        name: &'x str,
        tag: &'x BytesStart<'x>,
    },
    Close {
        name: &'x str,
    },
    Text(&'x str),
}

/// Why a walk stopped early. What was visited before stays valid: callers keep it and warn.
#[derive(Debug)]
pub enum Stop {
    /// The XML is malformed from some point on.
    Damaged(String),
    /// A safety limit was hit.
    Refused(String),
}

impl Stop {
    /// The walk's failure as a file's failure, for callers that cannot use partial text.
    pub fn into_error(self, format: &str, part: &str) -> ExtractError {
        match self {
            Stop::Damaged(detail) => {
                ExtractError::Malformed { format: format.into(), detail: format!("{part}: {detail}") }
            }
            Stop::Refused(why) => ExtractError::Refused(format!("{part} in the {format} file: {why}")),
        }
    }

    /// A warning for callers that keep what they read before the damage.
    pub fn warning(&self, part: &str) -> String {
        match self {
            Stop::Damaged(detail) => format!("{part} is damaged ({detail}); the text after the damage was not read"),
            Stop::Refused(why) => format!("{part}: {why}; the rest was not read"),
        }
    }
}

pub fn walk(xml: &str, mut visit: impl FnMut(Node<'_>)) -> Result<(), Stop> {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    let mut depth = 0usize;
    loop {
        let event =
            reader.read_event().map_err(|e| Stop::Damaged(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(tag) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Stop::Refused(format!("elements nested deeper than {MAX_DEPTH} levels")));
                }
                let name = tag.local_name();
                visit(Node::Open { name: name.as_ref(), tag: &tag });
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                visit(Node::Close { name: tag.local_name().as_ref() });
            }
            Event::Text(text) => visit(Node::Text(&text.xml10_content())),
            Event::CData(data) => visit(Node::Text(&data.into_inner())),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match reference.as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        "nbsp" => Some('\u{a0}'),
                        // Entities a DTD would define are not expanded (no entity bombs).
                        _ => None,
                    },
                    Err(_) => None,
                };
                if let Some(c) = resolved {
                    visit(Node::Text(c.encode_utf8(&mut [0u8; 4])));
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Tracks whether the walk is inside a subtree whose text must be left out (deleted revisions,
/// field codes, fallback copies of content): `enter`/`leave` on every open and close.
#[derive(Default)]
pub struct Skip {
    depth: usize,
}

impl Skip {
    /// Call on every `Open`; returns whether the element is skipped.
    pub fn enter(&mut self, name: &str, skipped: &[&str]) -> bool {
        if self.depth > 0 || skipped.contains(&name) {
            self.depth += 1;
        }
        self.depth > 0
    }

    /// Call on every `Close`; returns whether the element was skipped.
    pub fn leave(&mut self) -> bool {
        let was = self.depth > 0;
        self.depth = self.depth.saturating_sub(1);
        was
    }

    pub fn active(&self) -> bool {
        self.depth > 0
    }
}

/// An attribute's unescaped value by its qualified name as written (`r:id`, `full-path`).
pub fn attr(tag: &BytesStart<'_>, name: &str) -> Option<String> {
    tag.attributes().with_checks(false).flatten().find(|a| a.key.as_ref() == name).map(|a| {
        a.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).unwrap_or_else(|_| a.value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(xml: &str) -> (String, Result<(), Stop>) {
        let mut out = String::new();
        let r = walk(xml, |n| {
            if let Node::Text(t) = n {
                out.push_str(t)
            }
        });
        (out, r)
    }

    #[test]
    fn text_entities_and_cdata() {
        let (t, r) = texts("<a x='1'>one &amp; &#x442;<b/>two<![CDATA[<3>]]>&custom;</a>");
        assert!(r.is_ok());
        assert_eq!(t, "one & тtwo<3>");
    }

    #[test]
    fn entity_bombs_do_not_expand() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;&b;</l>"#;
        let (t, r) = texts(xml);
        assert!(r.is_ok());
        assert_eq!(t, "");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let xml = "<a>".repeat(MAX_DEPTH + 10);
        assert!(matches!(texts(&xml).1, Err(Stop::Refused(_))));
    }

    #[test]
    fn damage_keeps_what_came_before() {
        let (t, r) = texts("<a>kept</a><<<");
        assert_eq!(t, "kept");
        assert!(matches!(r, Err(Stop::Damaged(_))));
    }
}
