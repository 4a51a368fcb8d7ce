//! Page content streams rewritten in memory where pdf-extract (and lopdf's parser under it) would
//! lose text that is valid PDF:
//! - Comments. lopdf's content parser stops at a comment that follows other tokens on its line
//!   (`BT\n   % a note\n   /F1 12 Tf`), silently, and the page reads as blank (pypdf's test file
//!   `Sample_Td-matrix.pdf`, written by hand). Comments are taken out first.
//! - The `'` and `"` text operators (move to the next line and show a string; the same after
//!   setting word and character spacing), which some producers write and pdf-extract ignores
//!   (pypdf's `toy.pdf`). Each is spelled out as the operators it stands for: `T*` `Tj`, and `Tw`
//!   `Tc` `T*` `Tj`.

use lopdf::content::{Content, Operation};
use pdf_extract::{Document, Object, ObjectId};

/// Rewrites the page content streams that hold comments or use `'` or `"`; returns how many changed.
pub fn rewrite_page_contents(doc: &mut Document) -> usize {
    let mut ids: Vec<ObjectId> = doc.get_pages().into_values().flat_map(|page| doc.get_page_contents(page)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut changed = 0;
    for id in ids {
        let Some(rewritten) = rewritten(doc, id) else { continue };
        if let Ok(Object::Stream(stream)) = doc.get_object_mut(id) {
            stream.set_plain_content(rewritten);
            changed += 1;
        }
    }
    changed
}

/// The stream `id` without comments and with its quote operators spelled out, or `None` when it
/// has neither (or cannot be read: pdf-extract then meets it as it is).
fn rewritten(doc: &Document, id: ObjectId) -> Option<Vec<u8>> {
    let Ok(Object::Stream(stream)) = doc.get_object(id) else { return None };
    let bytes = stream.decompressed_content().ok()?;
    let uncommented = without_comments(&bytes);
    let bytes = uncommented.as_deref().unwrap_or(&bytes);
    if may_use_quote_operators(bytes) {
        let content = Content::decode(bytes).ok()?;
        if content.operations.iter().any(|op| op.operator == "'" || op.operator == "\"") {
            return Content { operations: spelled_out(content.operations) }.encode().ok();
        }
    }
    uncommented
}

/// `bytes` with its comments taken out (a `%` outside strings and inline image data, to the end
/// of its line), or `None` when it has none.
fn without_comments(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.contains(&b'%') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut found = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => {
                let end = string_end(bytes, i);
                out.extend_from_slice(&bytes[i..end]);
                i = end;
            }
            b'%' => {
                found = true;
                while i < bytes.len() && !matches!(bytes[i], b'\r' | b'\n') {
                    i += 1;
                }
            }
            b'I' if bytes.get(i + 1) == Some(&b'D') && is_operator_at(bytes, i, 2) => {
                // An inline image: its data is binary up to `EI`, and may hold anything.
                let end = inline_image_end(bytes, i + 2);
                out.extend_from_slice(&bytes[i..end]);
                i = end;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    found.then_some(out)
}

/// Where the literal string opening at `start` ends (after its closing parenthesis): strings nest
/// balanced parentheses and escape others with a backslash.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Whether the `len` bytes at `at` form a token of their own (delimited by whitespace or the ends).
fn is_operator_at(bytes: &[u8], at: usize, len: usize) -> bool {
    let before = at.checked_sub(1).map(|j| bytes[j]);
    before.is_none_or(|c| c.is_ascii_whitespace()) && bytes.get(at + len).is_none_or(u8::is_ascii_whitespace)
}

/// Where an inline image's data that starts at `from` ends: after its `EI` operator.
fn inline_image_end(bytes: &[u8], from: usize) -> usize {
    (from..bytes.len().saturating_sub(1))
        .find(|&i| bytes[i] == b'E' && bytes[i + 1] == b'I' && is_operator_at(bytes, i, 2))
        .map_or(bytes.len(), |i| i + 2)
}

/// Whether `'` or `"` stands alone somewhere, as an operator does (after a delimiter, before
/// whitespace or the end); an apostrophe inside a string ("(don't) Tj") does not. Most streams
/// are ruled out by this without being parsed.
fn may_use_quote_operators(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().any(|(i, &b)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 1);
        matches!(b, b'\'' | b'"')
            && before.is_some_and(|c| c.is_ascii_whitespace() || c == b')' || c == b'>')
            && after.is_none_or(u8::is_ascii_whitespace)
    })
}

fn spelled_out(operations: Vec<Operation>) -> Vec<Operation> {
    let mut out = Vec::with_capacity(operations.len() + 8);
    for op in operations {
        match (op.operator.as_str(), op.operands.as_slice()) {
            ("'", [text]) => {
                out.push(Operation::new("T*", vec![]));
                out.push(Operation::new("Tj", vec![text.clone()]));
            }
            ("\"", [word_spacing, char_spacing, text]) => {
                out.push(Operation::new("Tw", vec![word_spacing.clone()]));
                out.push(Operation::new("Tc", vec![char_spacing.clone()]));
                out.push(Operation::new("T*", vec![]));
                out.push(Operation::new("Tj", vec![text.clone()]));
            }
            _ => out.push(op),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_taken_out_but_not_from_strings_or_images() {
        let content = b"BT\n   % a note\n   /F1 12 Tf (100% sure) Tj % and another\nBI /W 1 ID \x25\x28 EI\nET";
        let clean = without_comments(content).unwrap();
        assert_eq!(clean, b"BT\n   \n   /F1 12 Tf (100% sure) Tj \nBI /W 1 ID \x25\x28 EI\nET");
        // What lopdf stopped at before, it now reads whole.
        let page = b"BT\n   % a note\n   /F1 12 Tf (Hello) Tj\nET";
        assert_eq!(Content::decode(page).unwrap().operations.len(), 1);
        assert_eq!(Content::decode(&without_comments(page).unwrap()).unwrap().operations.len(), 4);
        assert_eq!(without_comments(b"BT (50%) Tj ET"), None);
        // Nested and escaped parentheses keep the string whole.
        assert_eq!(without_comments(b"(a (b) \\) %c) Tj"), None);
    }

    #[test]
    fn quote_operators_become_the_operators_they_stand_for() {
        let content = b"BT /F1 12 Tf 14 TL (First) Tj (Single quote) ' 2 1 (Double quote) \" (don't) Tj ET";
        assert!(may_use_quote_operators(content));
        assert!(!may_use_quote_operators(b"BT (don't) Tj (\"quoted\") Tj ET"));
        let operations = spelled_out(Content::decode(content).unwrap().operations);
        let names: Vec<&str> = operations.iter().map(|o| o.operator.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "TL", "Tj", "T*", "Tj", "Tw", "Tc", "T*", "Tj", "Tj", "ET"]);
        let shown: Vec<String> = operations
            .iter()
            .filter(|o| o.operator == "Tj")
            .map(|o| String::from_utf8_lossy(o.operands[0].as_str().unwrap()).into_owned())
            .collect();
        assert_eq!(shown, ["First", "Single quote", "Double quote", "don't"]);
    }
}
