//! ToUnicode maps repaired before pdf-extract reads them. Its CMap parser panics on a `bfrange`
//! whose destination is not two or four bytes (TeX's math fonts write one-byte destinations such
//! as `<C5> <D6> <C5>`; ligatures in a range are six), and that panic loses the whole page: a
//! Russian manual made by Sphinx and LaTeX (Ubuntu's packaging guide) lost 3 of its 57 pages so.
//! A one-byte destination is read as the UTF-16 code unit it names (as poppler reads it), and a
//! range with a longer destination is written out as the list of destinations it stands for
//! (each one more in its last byte), which the parser reads whatever their length.

use pdf_extract::{Document, Object, ObjectId};

/// Most codes a range can cover (a one-byte code space); a longer "range" is left as it is.
const MAX_RANGE: u32 = 256;

/// Repairs the ToUnicode maps of the document's fonts; returns how many changed.
pub fn repair_unicode_maps(doc: &mut Document) -> usize {
    let mut ids: Vec<ObjectId> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter_map(|d| d.get(b"ToUnicode").and_then(Object::as_reference).ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut changed = 0;
    for id in ids {
        let Ok(Object::Stream(stream)) = doc.get_object(id) else { continue };
        let Some(repaired) = stream.decompressed_content().ok().and_then(|bytes| repaired(&bytes)) else { continue };
        if let Ok(Object::Stream(stream)) = doc.get_object_mut(id) {
            stream.set_plain_content(repaired);
            changed += 1;
        }
    }
    changed
}

/// The CMap with its `bfchar` and `bfrange` sections repaired, or `None` when they need nothing.
fn repaired(cmap: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(cmap).ok()?;
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    let mut rest = text;
    loop {
        let next = ["beginbfrange", "beginbfchar"].iter().filter_map(|k| rest.find(k).map(|at| (at, *k))).min();
        let Some((at, keyword)) = next else { break };
        let body_start = at + keyword.len();
        let end_keyword = if keyword == "beginbfrange" { "endbfrange" } else { "endbfchar" };
        let Some(body_len) = rest[body_start..].find(end_keyword) else { break };
        let body = &rest[body_start..body_start + body_len];
        out.push_str(&rest[..body_start]);
        match repaired_section(body, keyword == "beginbfrange") {
            Some(fixed) => {
                out.push_str(&fixed);
                changed = true;
            }
            None => out.push_str(body),
        }
        rest = &rest[body_start + body_len..];
    }
    out.push_str(rest);
    changed.then(|| out.into_bytes())
}

enum Token<'a> {
    Hex(&'a str),
    /// An array of destinations, as written.
    Array(&'a str),
}

/// A section's entries rewritten one a line when one of them needs it; `None` when none does (or
/// the section is not made of hex strings and arrays, which is left to the parser).
fn repaired_section(body: &str, ranges: bool) -> Option<String> {
    let tokens = tokens(body)?;
    let arity = if ranges { 3 } else { 2 };
    if tokens.len() % arity != 0 {
        return None;
    }
    let mut out = String::from("\n");
    let mut changed = false;
    for entry in tokens.chunks(arity) {
        let written: Vec<String> = match entry {
            [Token::Hex(code), Token::Hex(to)] => {
                let to = widened(to);
                changed |= to.is_some();
                vec![hex(code), to.unwrap_or_else(|| hex(entry_hex(&entry[1])))]
            }
            [Token::Hex(low), Token::Hex(high), Token::Hex(to)] => {
                let destination = match (widened(to), to.len() / 2) {
                    (Some(wide), _) => Some(wide),
                    (None, 2 | 4) => None,
                    (None, _) => spelled_out_range(low, high, to),
                };
                changed |= destination.is_some();
                vec![hex(low), hex(high), destination.unwrap_or_else(|| hex(to))]
            }
            [Token::Hex(low), Token::Hex(high), Token::Array(array)] => vec![hex(low), hex(high), array.to_string()],
            _ => return None,
        };
        out.push_str(&written.join(" "));
        out.push('\n');
    }
    changed.then_some(out)
}

fn entry_hex<'a>(token: &Token<'a>) -> &'a str {
    match token {
        Token::Hex(h) | Token::Array(h) => h,
    }
}

fn hex(digits: &str) -> String {
    format!("<{digits}>")
}

/// A one-byte destination as the two-byte code unit it names.
fn widened(digits: &str) -> Option<String> {
    (digits.len() == 2).then(|| format!("<00{digits}>"))
}

/// `<low> <high> <to>` as the array of destinations it stands for: `to`, then `to` with its last
/// byte one more for each further code.
fn spelled_out_range(low: &str, high: &str, to: &str) -> Option<String> {
    let (low, high) = (u32::from_str_radix(low, 16).ok()?, u32::from_str_radix(high, 16).ok()?);
    if high < low || high - low >= MAX_RANGE || to.len() < 2 || !to.len().is_multiple_of(2) {
        return None;
    }
    let (head, last) = to.split_at(to.len() - 2);
    let last = u32::from_str_radix(last, 16).ok()?;
    let items: Vec<String> = (0..=high - low).map(|i| format!("<{head}{:02X}>", (last + i) & 0xFF)).collect();
    Some(format!("[{}]", items.join(" ")))
}

/// The hex strings and arrays of a section, whitespace inside hex strings dropped; `None` when it
/// holds anything else.
fn tokens(body: &str) -> Option<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let (token, after) = match rest.as_bytes()[0] {
            b'<' => {
                let end = rest.find('>')?;
                let digits = &rest[1..end];
                if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                (Token::Hex(digits), &rest[end + 1..])
            }
            b'[' => {
                let end = rest.find(']')?;
                (Token::Array(&rest[..=end]), &rest[end + 1..])
            }
            _ => return None,
        };
        tokens.push(token);
        rest = after.trim_start();
    }
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_destinations_are_written_as_the_parser_reads_them() {
        let cmap =
            "begincmap\n2 beginbfrange\n<21> <26> <0021>\n<C5> <C6> <C5>\n<1B> <1C> <006600660069>\nendbfrange\n\
                    1 beginbfchar\n<41> <D8>\nendbfchar\nendcmap";
        let fixed = String::from_utf8(repaired(cmap.as_bytes()).unwrap()).unwrap();
        assert!(fixed.contains("<21> <26> <0021>\n<C5> <C6> <00C5>\n"), "{fixed}");
        assert!(fixed.contains("<1B> <1C> [<006600660069> <00660066006A>]"), "{fixed}");
        assert!(fixed.contains("beginbfchar\n<41> <00D8>\nendbfchar"), "{fixed}");
        assert!(fixed.starts_with("begincmap\n2 beginbfrange") && fixed.ends_with("endcmap"), "{fixed}");
        // The parser pdf-extract uses reads the repaired map, and panicked on the original.
        let parsed = std::panic::catch_unwind(|| adobe_cmap_parser::get_unicode_map(fixed.as_bytes()));
        assert!(parsed.is_ok_and(|m| m.is_ok()));
        assert!(std::panic::catch_unwind(|| adobe_cmap_parser::get_unicode_map(cmap.as_bytes())).is_err());
    }

    #[test]
    fn maps_that_need_nothing_are_left_alone() {
        let good = "1 beginbfrange\n<21> <26> <0021>\nendbfrange\n1 beginbfchar\n<41> <0041>\nendbfchar";
        assert!(repaired(good.as_bytes()).is_none());
        assert!(repaired(b"1 beginbfchar\n<41> (odd)\nendbfchar").is_none());
    }
}
