//! RTF: a single pass over control words and groups. Text in `\'hh` escapes is decoded in the code
//! page of its font's charset (or the document's `\ansicpg`), `\uN` gives Unicode directly;
//! destinations that hold no reader-visible text (font and colour tables, pictures, embedded
//! objects, field instructions, metadata) are skipped. One page without a number.

use std::path::Path;

use encoding_rs::Encoding;

use super::{tidy, ExtractError, Extraction, Extractor, Page};

pub struct Rtf;

/// Deepest group nesting accepted; real documents nest a few dozen levels.
const MAX_DEPTH: usize = 1024;

/// Destinations whose content is not text a reader sees.
const SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "objdata",
    "fldinst",
    "generator",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "xmlnstbl",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "mmathPr",
    "pgdsctbl",
    "bkmkstart",
    "bkmkend",
    "filetbl",
    "header",
    "footer",
    "headerl",
    "headerr",
    "headerf",
    "footerl",
    "footerr",
    "footerf",
    "pntext",
    "pntxta",
    "pntxtb",
    "nonshppict",
    "shpinst",
    "userprops",
    "docvar",
    "xe",
    "tc",
    "template",
    "passwordhash",
];

impl Extractor for Rtf {
    fn name(&self) -> &'static str {
        "rtf"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["rtf"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
        if !bytes[start..].starts_with(b"{\\rtf") {
            return Err(ExtractError::Malformed {
                format: "RTF".into(),
                detail: "it does not start with {\\rtf; the file is damaged or not RTF".into(),
            });
        }
        let (text, warnings) = parse(&bytes[start..]);
        let text = tidy(&text);
        if text.is_empty() {
            return Err(ExtractError::NoText("the RTF document has no text".into()));
        }
        Ok(Extraction { pages: vec![Page { number: None, text }], warnings })
    }
}

#[derive(Clone)]
struct State {
    skip: bool,
    /// Characters to drop after a `\uN` (its ANSI fallback).
    uc: usize,
    encoding: &'static Encoding,
    /// Collecting the font table: font number → charset.
    in_fonttbl: bool,
}

struct Parser<'b> {
    input: &'b [u8],
    pos: usize,
    out: String,
    /// `\'hh` bytes waiting to be decoded together (multi-byte code pages need the whole run).
    pending: Vec<u8>,
    pending_encoding: &'static Encoding,
    default_encoding: &'static Encoding,
    fonts: Vec<(i32, &'static Encoding)>,
    current_font: Option<i32>,
    /// Fallback characters still to drop after a `\uN`.
    drop: usize,
}

pub fn parse(input: &[u8]) -> (String, Vec<String>) {
    let mut p = Parser {
        input,
        pos: 0,
        out: String::with_capacity(input.len() / 2),
        pending: Vec::new(),
        pending_encoding: encoding_rs::WINDOWS_1252,
        default_encoding: encoding_rs::WINDOWS_1252,
        fonts: Vec::new(),
        current_font: None,
        drop: 0,
    };
    let mut warnings = Vec::new();
    let mut stack: Vec<State> = Vec::new();
    let mut state = State { skip: false, uc: 1, encoding: encoding_rs::WINDOWS_1252, in_fonttbl: false };
    // Set right after `{`: an immediately following `\*` marks an ignorable destination.
    let mut group_start = false;
    while p.pos < p.input.len() {
        let b = p.input[p.pos];
        match b {
            b'{' => {
                p.flush();
                if stack.len() >= MAX_DEPTH {
                    warnings.push(format!("groups nested deeper than {MAX_DEPTH} levels; the rest was not read"));
                    break;
                }
                stack.push(state.clone());
                p.pos += 1;
                group_start = true;
                continue;
            }
            b'}' => {
                p.flush();
                match stack.pop() {
                    Some(previous) => state = previous,
                    None => break,
                }
                p.pos += 1;
            }
            b'\\' => {
                let (word, param) = p.control();
                let at_group_start = std::mem::take(&mut group_start);
                match word.as_str() {
                    "*" if at_group_start => state.skip = true,
                    "'" => {
                        let hex = p.input.get(p.pos..p.pos + 2).and_then(|h| std::str::from_utf8(h).ok());
                        if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                            p.pos += 2;
                            if p.drop > 0 {
                                p.drop -= 1;
                            } else if !state.skip {
                                p.push_byte(byte, state.encoding);
                            }
                        }
                    }
                    "u" => {
                        if let Some(n) = param {
                            let code = if n < 0 { n + 65536 } else { n } as u32;
                            if !state.skip {
                                p.flush();
                                p.out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            }
                            p.drop = state.uc;
                        }
                    }
                    "uc" => state.uc = param.unwrap_or(1).clamp(0, 16) as usize,
                    "bin" => {
                        // Raw binary data of the given length follows.
                        p.pos = p.pos.saturating_add(param.unwrap_or(0).max(0) as usize).min(p.input.len());
                    }
                    "ansicpg" => {
                        if let Some(encoding) = param.and_then(code_page) {
                            p.default_encoding = encoding;
                            state.encoding = encoding;
                        }
                    }
                    "fonttbl" => {
                        state.in_fonttbl = true;
                        state.skip = true;
                    }
                    "f" if state.in_fonttbl => p.current_font = param,
                    "fcharset" if state.in_fonttbl => {
                        if let (Some(font), Some(encoding)) = (p.current_font, param.and_then(charset_encoding)) {
                            p.fonts.push((font, encoding));
                        }
                    }
                    "f" => {
                        state.encoding = param
                            .and_then(|f| p.fonts.iter().find(|(n, _)| *n == f).map(|(_, e)| *e))
                            .unwrap_or(p.default_encoding);
                    }
                    "par" | "line" | "sect" | "page" | "row" | "\n" | "\r" => p.text(&state, "\n"),
                    "tab" | "cell" => p.text(&state, "\t"),
                    "~" => p.text(&state, "\u{a0}"),
                    "_" => p.text(&state, "-"),
                    "emdash" => p.text(&state, "—"),
                    "endash" => p.text(&state, "–"),
                    "bullet" => p.text(&state, "•"),
                    "lquote" => p.text(&state, "‘"),
                    "rquote" => p.text(&state, "’"),
                    "ldblquote" => p.text(&state, "“"),
                    "rdblquote" => p.text(&state, "”"),
                    "\\" | "{" | "}" => {
                        let s = word.clone();
                        p.text(&state, &s);
                    }
                    w if at_group_start && SKIPPED.contains(&w) => state.skip = true,
                    _ => {}
                }
                continue;
            }
            b'\r' | b'\n' => p.pos += 1,
            _ => {
                // A run of plain text up to the next special byte.
                let end = p.input[p.pos..]
                    .iter()
                    .position(|c| matches!(c, b'{' | b'}' | b'\\' | b'\r' | b'\n'))
                    .map_or(p.input.len(), |n| p.pos + n);
                let run = &p.input[p.pos..end];
                p.pos = end;
                let skip_now = p.drop.min(run.len());
                p.drop -= skip_now;
                if !state.skip {
                    for &byte in &run[skip_now..] {
                        p.push_byte(byte, state.encoding);
                    }
                }
            }
        }
        group_start = false;
    }
    p.flush();
    (p.out, warnings)
}

impl Parser<'_> {
    /// Reads a control word or symbol after the backslash at `pos`: (name, numeric parameter).
    fn control(&mut self) -> (String, Option<i32>) {
        self.pos += 1;
        let Some(&first) = self.input.get(self.pos) else { return (String::new(), None) };
        if !first.is_ascii_alphabetic() {
            self.pos += 1;
            return ((first as char).to_string(), None);
        }
        let start = self.pos;
        while self.input.get(self.pos).is_some_and(|c| c.is_ascii_alphabetic()) && self.pos - start < 32 {
            self.pos += 1;
        }
        let word = String::from_utf8_lossy(&self.input[start..self.pos]).into_owned();
        let number_start = self.pos;
        if self.input.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        while self.input.get(self.pos).is_some_and(u8::is_ascii_digit) && self.pos - number_start < 11 {
            self.pos += 1;
        }
        let param = std::str::from_utf8(&self.input[number_start..self.pos]).ok().and_then(|n| n.parse::<i64>().ok());
        let param = param.map(|n| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
        // One space after a control word is its delimiter, not text.
        if self.input.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        (word, param)
    }

    fn push_byte(&mut self, byte: u8, encoding: &'static Encoding) {
        if !std::ptr::eq(encoding, self.pending_encoding) {
            self.flush();
            self.pending_encoding = encoding;
        }
        self.pending.push(byte);
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let (text, _) = self.pending_encoding.decode_without_bom_handling(&self.pending);
            self.out.push_str(&text);
            self.pending.clear();
        }
    }

    fn text(&mut self, state: &State, text: &str) {
        if !state.skip {
            self.flush();
            self.out.push_str(text);
        }
    }
}

/// Windows code page number → encoding.
fn code_page(cp: i32) -> Option<&'static Encoding> {
    let label = match cp {
        437 | 850 | 1252 => "windows-1252",
        866 => "ibm866",
        874 => "windows-874",
        932 => "shift_jis",
        936 => "gbk",
        949 => "euc-kr",
        950 => "big5",
        1250..=1258 => return Encoding::for_label(format!("windows-{cp}").as_bytes()),
        10000 => "macintosh",
        20866 => "koi8-r",
        65001 => "utf-8",
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

/// RTF font charset → encoding.
fn charset_encoding(charset: i32) -> Option<&'static Encoding> {
    code_page(match charset {
        0 | 1 => 1252,
        77 => 10000,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_code_pages_unicode_and_skipped_groups() {
        let rtf = br"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss\fcharset0 Arial;}{\f1\fcharset204 Times;}}
{\colortbl;\red0\green0\blue0;}{\*\generator Writer;}{\info{\title Secret}}
\f0 Hello \b world\b0 !\par
\f1 \'cf\'f0\'e8\'e2\'e5\'f2\par
\uc1\u1087?\u1086?\u1082?\u1072? done\tab x{\*\unknown junk}{\pict 0123abcd}\par}";
        let (text, warnings) = parse(rtf);
        assert!(warnings.is_empty());
        assert_eq!(tidy(&text), "Hello world!\nПривет\nпока done\tx");
    }

    #[test]
    fn deep_nesting_stops_with_a_warning() {
        let rtf = format!("{{\\rtf1 a{}", "{".repeat(MAX_DEPTH * 2));
        let (text, warnings) = parse(rtf.as_bytes());
        assert_eq!(text, "a");
        assert_eq!(warnings.len(), 1);
    }
}
