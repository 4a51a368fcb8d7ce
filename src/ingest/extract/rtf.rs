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
    warnings: Vec<String>,
    /// The current group's state, and those of the groups around it.
    state: State,
    stack: Vec<State>,
    /// Set right after `{`: an immediately following `\*` marks an ignorable destination.
    group_start: bool,
    /// `\'hh` bytes waiting to be decoded together (multi-byte code pages need the whole run).
    pending: Vec<u8>,
    pending_encoding: &'static Encoding,
    default_encoding: &'static Encoding,
    fonts: Vec<(i32, &'static Encoding)>,
    current_font: Option<i32>,
    /// Fallback characters still to drop after a `\uN`.
    drop: usize,
}

/// The text of an RTF document and what could not be read of it.
pub fn parse(input: &[u8]) -> (String, Vec<String>) {
    let mut p = Parser {
        input,
        pos: 0,
        out: String::with_capacity(input.len() / 2),
        warnings: Vec::new(),
        state: State { skip: false, uc: 1, encoding: encoding_rs::WINDOWS_1252, in_fonttbl: false },
        stack: Vec::new(),
        group_start: false,
        pending: Vec::new(),
        pending_encoding: encoding_rs::WINDOWS_1252,
        default_encoding: encoding_rs::WINDOWS_1252,
        fonts: Vec::new(),
        current_font: None,
        drop: 0,
    };
    while p.pos < p.input.len() {
        let keep_going = match p.input[p.pos] {
            b'{' => p.open_group(),
            b'}' => p.close_group(),
            b'\\' => {
                p.control_word();
                true
            }
            b'\r' | b'\n' => {
                p.pos += 1;
                p.group_start = false;
                true
            }
            _ => {
                p.plain_run();
                true
            }
        };
        if !keep_going {
            break;
        }
    }
    p.flush();
    (p.out, p.warnings)
}

impl Parser<'_> {
    /// `{`: the new group starts with its parent's state. False when nesting is too deep to go on.
    fn open_group(&mut self) -> bool {
        self.flush();
        if self.stack.len() >= MAX_DEPTH {
            self.warnings.push(format!("groups nested deeper than {MAX_DEPTH} levels; the rest was not read"));
            return false;
        }
        self.stack.push(self.state.clone());
        self.pos += 1;
        self.group_start = true;
        true
    }

    /// `}`: back to the parent's state. False at an unmatched brace (the document has ended).
    fn close_group(&mut self) -> bool {
        self.flush();
        self.group_start = false;
        match self.stack.pop() {
            Some(previous) => self.state = previous,
            None => return false,
        }
        self.pos += 1;
        true
    }

    /// A control word or symbol and what it does to the text or the state.
    fn control_word(&mut self) {
        let (word, param) = self.control();
        let at_group_start = std::mem::take(&mut self.group_start);
        match word.as_str() {
            "*" if at_group_start => self.state.skip = true,
            "'" => self.hex_byte(),
            "u" => {
                if let Some(n) = param {
                    let code = if n < 0 { n + 65536 } else { n } as u32;
                    if !self.state.skip {
                        self.flush();
                        self.out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    self.drop = self.state.uc;
                }
            }
            "uc" => self.state.uc = param.unwrap_or(1).clamp(0, 16) as usize,
            "bin" => {
                // Raw binary data of the given length follows.
                self.pos = self.pos.saturating_add(param.unwrap_or(0).max(0) as usize).min(self.input.len());
            }
            "ansicpg" => {
                if let Some(encoding) = param.and_then(code_page) {
                    self.default_encoding = encoding;
                    self.state.encoding = encoding;
                }
            }
            "fonttbl" => {
                self.state.in_fonttbl = true;
                self.state.skip = true;
            }
            "f" if self.state.in_fonttbl => self.current_font = param,
            "fcharset" if self.state.in_fonttbl => {
                if let (Some(font), Some(encoding)) = (self.current_font, param.and_then(charset_encoding)) {
                    self.fonts.push((font, encoding));
                }
            }
            "f" => {
                self.state.encoding = param
                    .and_then(|f| self.fonts.iter().find(|(n, _)| *n == f).map(|(_, e)| *e))
                    .unwrap_or(self.default_encoding);
            }
            "\\" | "{" | "}" => self.text(&word),
            w if at_group_start && SKIPPED.contains(&w) => self.state.skip = true,
            w => {
                if let Some(text) = symbol(w) {
                    self.text(text);
                }
            }
        }
    }

    /// `\'hh`: one byte in the current code page (or a `\uN`'s fallback, dropped).
    fn hex_byte(&mut self) {
        let hex = self.input.get(self.pos..self.pos + 2).and_then(|h| std::str::from_utf8(h).ok());
        if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            self.pos += 2;
            if self.drop > 0 {
                self.drop -= 1;
            } else if !self.state.skip {
                self.push_byte(byte, self.state.encoding);
            }
        }
    }

    /// A run of plain text up to the next special byte.
    fn plain_run(&mut self) {
        self.group_start = false;
        let end = self.input[self.pos..]
            .iter()
            .position(|c| matches!(c, b'{' | b'}' | b'\\' | b'\r' | b'\n'))
            .map_or(self.input.len(), |n| self.pos + n);
        let run = &self.input[self.pos..end];
        self.pos = end;
        let skip_now = self.drop.min(run.len());
        self.drop -= skip_now;
        if !self.state.skip {
            for &byte in &run[skip_now..] {
                self.push_byte(byte, self.state.encoding);
            }
        }
    }

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

    fn text(&mut self, text: &str) {
        if !self.state.skip {
            self.flush();
            self.out.push_str(text);
        }
    }
}

/// The text a control symbol or word stands for.
fn symbol(word: &str) -> Option<&'static str> {
    Some(match word {
        "par" | "line" | "sect" | "page" | "row" | "\n" | "\r" => "\n",
        "tab" | "cell" => "\t",
        "~" => "\u{a0}",
        "_" => "-",
        "emdash" => "—",
        "endash" => "–",
        "bullet" => "•",
        "lquote" => "‘",
        "rquote" => "’",
        "ldblquote" => "“",
        "rdblquote" => "”",
        _ => return None,
    })
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
