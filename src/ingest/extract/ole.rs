//! Microsoft's binary formats from before 2007, all OLE compound files: Word 97–2003 documents
//! (`.doc`), PowerPoint 97–2003 presentations (`.ppt`) and Outlook messages (`.msg`). The `cfb`
//! crate reads the container; the streams inside are decoded here, every offset and length checked
//! against the bytes there are (a damaged file is an error, never a read past the end).

use std::io::{Cursor, Read};
use std::path::Path;

use cfb::CompoundFile;

use super::html::html_to_text;
use super::{tidy, ExtractError, Extraction, Extractor, Page};

/// No stream of a document is read beyond this.
const MAX_STREAM_BYTES: u64 = 256 << 20;

type Container<'a> = CompoundFile<Cursor<&'a [u8]>>;

fn malformed(format: &str, detail: impl Into<String>) -> ExtractError {
    ExtractError::Malformed { format: format.into(), detail: detail.into() }
}

fn open<'a>(bytes: &'a [u8], format: &str) -> Result<Container<'a>, ExtractError> {
    CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| malformed(format, format!("not a readable OLE compound file ({e}); it may be truncated")))
}

/// A stream's bytes, or `None` when the file has no such stream.
fn stream(container: &mut Container, path: &str, format: &str) -> Result<Option<Vec<u8>>, ExtractError> {
    if !container.is_stream(path) {
        return Ok(None);
    }
    let mut out = Vec::new();
    let reader = container.open_stream(path).map_err(|e| malformed(format, format!("cannot read {path}: {e}")))?;
    reader
        .take(MAX_STREAM_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| malformed(format, format!("cannot read {path}: {e}")))?;
    Ok(Some(out))
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units).trim_end_matches('\0').to_string()
}

fn cp1252(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn one_page(text: &str, what: &str) -> Result<Extraction, ExtractError> {
    let text = tidy(text);
    if text.trim().is_empty() {
        return Err(ExtractError::NoText(format!("the {what} holds no text")));
    }
    Ok(vec![Page { number: None, text }].into())
}

// ---- Word 97–2003 ----

pub struct Doc;

impl Extractor for Doc {
    fn name(&self) -> &'static str {
        "doc"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["doc"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut container = open(bytes, "Word")?;
        let word = stream(&mut container, "/WordDocument", "Word")?
            .ok_or_else(|| malformed("Word", "it has no WordDocument stream (not a Word 97–2003 document)"))?;
        let fib = Fib::read(&word)?;
        if fib.encrypted {
            return Err(ExtractError::Encrypted);
        }
        let table_name = if fib.table_one { "/1Table" } else { "/0Table" };
        let table = stream(&mut container, table_name, "Word")?
            .ok_or_else(|| malformed("Word", format!("its {} stream is missing", &table_name[1..])))?;
        let clx = table
            .get(fib.fc_clx..fib.fc_clx.saturating_add(fib.lcb_clx))
            .ok_or_else(|| malformed("Word", "its piece table lies outside the table stream"))?;
        let text = pieces_text(clx, &word, fib.ccp_text)?;
        one_page(&clean_word_text(&text), "document")
    }
}

/// What the File Information Block says about where the text is.
struct Fib {
    encrypted: bool,
    /// The table stream is `1Table` (else `0Table`).
    table_one: bool,
    /// Characters of the main document (headers, notes and the rest follow it).
    ccp_text: usize,
    fc_clx: usize,
    lcb_clx: usize,
}

impl Fib {
    fn read(word: &[u8]) -> Result<Fib, ExtractError> {
        let bad = |what: &str| malformed("Word", format!("its file information block is damaged ({what})"));
        if u16_at(word, 0) != Some(0xA5EC) {
            return Err(malformed("Word", "it is not a Word 97–2003 document (its signature is missing)"));
        }
        let flags = u16_at(word, 0x0A).ok_or_else(|| bad("flags"))?;
        // FibBase (32 bytes), then counted arrays: 16-bit words, 32-bit longs, offset/length pairs.
        let csw = u16_at(word, 32).ok_or_else(|| bad("csw"))? as usize;
        let longs = 34 + csw * 2;
        let cslw = u16_at(word, longs).ok_or_else(|| bad("cslw"))? as usize;
        let ccp_text = u32_at(word, longs + 2 + 12).ok_or_else(|| bad("ccpText"))? as usize;
        let pairs = longs + 2 + cslw * 4;
        let count = u16_at(word, pairs).ok_or_else(|| bad("cbRgFcLcb"))? as usize;
        if count < 34 {
            return Err(bad("too few offsets"));
        }
        // fcClx/lcbClx: the 34th offset/length pair.
        let clx = pairs + 2 + 33 * 8;
        Ok(Fib {
            encrypted: flags & 0x0100 != 0,
            table_one: flags & 0x0200 != 0,
            ccp_text,
            fc_clx: u32_at(word, clx).ok_or_else(|| bad("fcClx"))? as usize,
            lcb_clx: u32_at(word, clx + 4).ok_or_else(|| bad("lcbClx"))? as usize,
        })
    }
}

/// The main document's text, piece by piece, from the piece table (`Clx`): each piece is a run of
/// characters stored either as UTF-16 or, "compressed", as one byte each in Windows-1252.
fn pieces_text(clx: &[u8], word: &[u8], ccp_text: usize) -> Result<String, ExtractError> {
    let bad = |what: &str| malformed("Word", format!("its piece table is damaged ({what})"));
    let mut at = 0;
    // Property runs (Prc) come first; the piece table (Pcdt) follows.
    while clx.get(at) == Some(&0x01) {
        let size = u16_at(clx, at + 1).ok_or_else(|| bad("property run"))? as usize;
        at += 3 + size;
    }
    if clx.get(at) != Some(&0x02) {
        return Err(bad("no piece table"));
    }
    let lcb = u32_at(clx, at + 1).ok_or_else(|| bad("length"))? as usize;
    let plc = clx.get(at + 5..(at + 5).saturating_add(lcb)).ok_or_else(|| bad("length"))?;
    if plc.len() < 16 || (plc.len() - 4) % 12 != 0 {
        return Err(bad("size"));
    }
    let pieces = (plc.len() - 4) / 12;
    let mut text = String::new();
    let mut left = ccp_text;
    for k in 0..pieces {
        let (start, end) = (u32_at(plc, k * 4).unwrap_or(0), u32_at(plc, k * 4 + 4).unwrap_or(0));
        let chars = (end.saturating_sub(start) as usize).min(left);
        let fc = u32_at(plc, (pieces + 1) * 4 + k * 8 + 2).ok_or_else(|| bad("piece"))?;
        if fc & 0x4000_0000 != 0 {
            let from = ((fc & 0x3FFF_FFFF) / 2) as usize;
            let bytes = word.get(from..from.saturating_add(chars)).ok_or_else(|| bad("a piece lies outside"))?;
            text.push_str(&cp1252(bytes));
        } else {
            let from = fc as usize;
            let bytes = word.get(from..from.saturating_add(chars * 2)).ok_or_else(|| bad("a piece lies outside"))?;
            text.push_str(&utf16(bytes));
        }
        left -= chars;
        if left == 0 {
            break;
        }
    }
    Ok(text)
}

/// Word's control characters as text: paragraph and line breaks, table cells as tabs, page
/// breaks; a field keeps its result and loses its instruction (`HYPERLINK "…"`, `PAGE`).
fn clean_word_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    // Per open field: whether its instruction part is over (its result is shown).
    let mut fields: Vec<bool> = Vec::new();
    for c in raw.chars() {
        match c {
            '\u{13}' => fields.push(false),
            '\u{14}' => {
                if let Some(last) = fields.last_mut() {
                    *last = true;
                }
            }
            '\u{15}' => {
                fields.pop();
            }
            _ if fields.iter().any(|shown| !shown) => {}
            '\r' | '\u{0B}' => out.push('\n'),
            '\u{0C}' => out.push_str("\n\n"),
            '\u{07}' => out.push('\t'),
            '\u{1E}' => out.push('-'),
            '\u{1F}' | '\u{01}' | '\u{08}' => {}
            c => out.push(c),
        }
    }
    out
}

// ---- PowerPoint 97–2003 ----

pub struct Ppt;

impl Extractor for Ppt {
    fn name(&self) -> &'static str {
        "ppt"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["ppt", "pps"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut container = open(bytes, "PowerPoint")?;
        let document = stream(&mut container, "/PowerPoint Document", "PowerPoint")?
            .ok_or_else(|| malformed("PowerPoint", "it has no PowerPoint Document stream"))?;
        let mut slides = SlideTexts::default();
        walk_records(&document, 0, &mut slides);
        let pages: Vec<Page> = slides
            .pages
            .into_iter()
            .enumerate()
            .map(|(i, text)| Page { number: Some(i as u32 + 1), text: tidy(&text) })
            .filter(|p| !p.text.trim().is_empty())
            .collect();
        if pages.is_empty() {
            return Err(ExtractError::NoText("the presentation holds no text".into()));
        }
        Ok(pages.into())
    }
}

/// Record types of the PowerPoint binary format that carry or delimit slide text.
const SLIDE_LIST_WITH_TEXT: u16 = 0x0FF0;
const SLIDE_PERSIST_ATOM: u16 = 0x03F3;
const SLIDE_CONTAINER: u16 = 0x03EE;
const TEXT_CHARS_ATOM: u16 = 0x0FA0;
const TEXT_BYTES_ATOM: u16 = 0x0FA8;

/// Text gathered per slide: the outline text of the slide list (one slide per persist atom),
/// then the text boxes of each slide's drawing, in slide order.
#[derive(Default)]
struct SlideTexts {
    pages: Vec<String>,
    /// Inside the slide list: the page its text goes to.
    listed: Option<usize>,
    /// Slide containers seen so far (their drawings' text goes to that page).
    drawn: usize,
    in_drawing: Option<usize>,
}

impl SlideTexts {
    fn push(&mut self, text: &str) {
        let Some(page) = self.in_drawing.or(self.listed) else { return };
        while self.pages.len() <= page {
            self.pages.push(String::new());
        }
        self.pages[page].push_str(text.trim_end_matches('\0'));
        self.pages[page].push('\n');
    }
}

/// Walks the records of `data` (an 8-byte header: version and instance, type, length), depth
/// bounded, lengths checked.
fn walk_records(data: &[u8], depth: usize, slides: &mut SlideTexts) {
    if depth > 32 {
        return;
    }
    let mut at = 0;
    while let (Some(ver_inst), Some(kind), Some(len)) = (u16_at(data, at), u16_at(data, at + 2), u32_at(data, at + 4)) {
        let body_start = at + 8;
        let Some(body) = data.get(body_start..body_start.saturating_add(len as usize)) else { break };
        let container = ver_inst & 0x000F == 0x000F;
        match kind {
            SLIDE_LIST_WITH_TEXT if ver_inst >> 4 == 0 => {
                slides.listed = None;
                walk_records(body, depth + 1, slides);
                slides.listed = None;
            }
            SLIDE_PERSIST_ATOM => slides.listed = Some(slides.listed.map_or(0, |p| p + 1)),
            SLIDE_CONTAINER => {
                slides.in_drawing = Some(slides.drawn);
                slides.drawn += 1;
                walk_records(body, depth + 1, slides);
                slides.in_drawing = None;
            }
            TEXT_CHARS_ATOM => slides.push(&utf16(body)),
            TEXT_BYTES_ATOM => slides.push(&cp1252(body)),
            _ if container => walk_records(body, depth + 1, slides),
            _ => {}
        }
        at = body_start + body.len();
    }
}

// ---- Outlook messages ----

pub struct Msg;

impl Extractor for Msg {
    fn name(&self) -> &'static str {
        "msg"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["msg"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut container = open(bytes, "Outlook message")?;
        let mut out = String::new();
        for (label, property) in [("From", "0C1A"), ("To", "0E04"), ("Cc", "0E03"), ("Subject", "0037")] {
            if let Some(value) = property_text(&mut container, "", property)?.filter(|v| !v.trim().is_empty()) {
                out.push_str(&format!("{label}: {value}\n"));
            }
        }
        out.push('\n');
        match property_text(&mut container, "", "1000")? {
            Some(body) if !body.trim().is_empty() => out.push_str(&body),
            _ => {
                // No plain-text body: the HTML one (stored as bytes).
                if let Some(html) = stream(&mut container, "/__substg1.0_10130102", "Outlook message")? {
                    out.push_str(&html_to_text(&String::from_utf8_lossy(&html)));
                }
            }
        }
        let attachments: Vec<String> = container
            .walk()
            .filter(|e| !e.is_stream() && e.name().starts_with("__attach_version1.0_"))
            .map(|e| e.path().to_string_lossy().into_owned())
            .collect();
        let mut names = Vec::new();
        for storage in attachments {
            for property in ["3707", "3704"] {
                if let Some(name) = property_text(&mut container, &storage, property)?.filter(|n| !n.is_empty()) {
                    names.push(name);
                    break;
                }
            }
        }
        if !names.is_empty() {
            out.push_str(&format!("\n\nAttachments: {}\n", names.join(", ")));
        }
        one_page(&out, "message")
    }
}

/// A string property of a message (or of an attachment storage): Unicode (`001F`) or 8-bit
/// (`001E`) stream.
fn property_text(container: &mut Container, storage: &str, property: &str) -> Result<Option<String>, ExtractError> {
    if let Some(bytes) = stream(container, &format!("{storage}/__substg1.0_{property}001F"), "Outlook message")? {
        return Ok(Some(utf16(&bytes)));
    }
    Ok(stream(container, &format!("{storage}/__substg1.0_{property}001E"), "Outlook message")?
        .map(|bytes| cp1252(&bytes).trim_end_matches('\0').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_fields_keep_their_result_and_lose_their_instruction() {
        let raw = "See \u{13} HYPERLINK \"http://x\" \u{14}the site\u{15}.\rA\u{07}B\u{07}\u{0C}Page two";
        assert_eq!(clean_word_text(raw), "See the site.\nA\tB\t\n\nPage two");
        // Nested fields and an unterminated one never panic.
        assert_eq!(clean_word_text("a\u{13}X\u{13}Y\u{14}y\u{15}\u{14}x\u{15}b\u{13}Z"), "axb");
    }

    #[test]
    fn damaged_piece_tables_are_errors() {
        assert!(pieces_text(&[0x02, 0xFF, 0xFF, 0xFF, 0x7F], b"", 10).is_err());
        assert!(pieces_text(&[0x01, 0xFF, 0xFF], b"", 10).is_err());
        assert!(Fib::read(&[0xEC, 0xA5]).is_err());
    }

    #[test]
    fn ppt_records_that_lie_about_their_length_stop_the_walk() {
        let mut slides = SlideTexts::default();
        walk_records(&[0x0F, 0x00, 0xF0, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3], 0, &mut slides);
        assert!(slides.pages.is_empty());
    }
}
