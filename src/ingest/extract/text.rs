//! Plain text and source code: encoding detection (byte-order marks, UTF-8, then a statistical
//! guess for legacy code pages such as Windows-1251 or KOI8-R).

use std::path::Path;

use super::{tidy, ExtractError, Extraction, Extractor, Page};

pub struct PlainText;

/// Extensions read as plain text: prose and markup, configuration and data, and source code.
/// (CSV and TSV have their own reader, which keeps row context; HTML and Markdown too.)
const TEXT_EXTENSIONS: &[&str] = &[
    // Prose, markup, subtitles, translations.
    "txt",
    "text",
    "log",
    "rst",
    "org",
    "adoc",
    "asciidoc",
    "tex",
    "latex",
    "ltx",
    "sty",
    "cls",
    "bib",
    "srt",
    "vtt",
    "po",
    "pot",
    "nfo",
    "diff",
    "patch",
    // Configuration and data.
    "json",
    "jsonl",
    "ndjson",
    "json5",
    "geojson",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "xml",
    "xsd",
    "xsl",
    "xslt",
    "wsdl",
    "plist",
    "lock",
    "reg",
    "desktop",
    "service",
    "editorconfig",
    "tf",
    "tfvars",
    "hcl",
    "nix",
    "bzl",
    "bazel",
    "cabal",
    "gemspec",
    "csproj",
    "vbproj",
    "sln",
    "vcxproj",
    "props",
    "targets",
    "xaml",
    "graphql",
    "gql",
    "proto",
    "thrift",
    "ipynb",
    // Source code.
    "rs",
    "py",
    "pyi",
    "pyw",
    "pyx",
    "js",
    "mjs",
    "cjs",
    "ts",
    "mts",
    "cts",
    "tsx",
    "jsx",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "c++",
    "hpp",
    "hh",
    "hxx",
    "inl",
    "ipp",
    "m",
    "mm",
    "cs",
    "fs",
    "fsi",
    "fsx",
    "vb",
    "java",
    "kt",
    "kts",
    "groovy",
    "gradle",
    "scala",
    "sc",
    "sbt",
    "clj",
    "cljs",
    "cljc",
    "edn",
    "go",
    "rb",
    "rake",
    "php",
    "swift",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ksh",
    "ps1",
    "psm1",
    "bat",
    "cmd",
    "sql",
    "r",
    "rmd",
    "jl",
    "lua",
    "pl",
    "pm",
    "hs",
    "lhs",
    "ml",
    "mli",
    "elm",
    "ex",
    "exs",
    "erl",
    "hrl",
    "dart",
    "vue",
    "svelte",
    "astro",
    "css",
    "scss",
    "sass",
    "less",
    "styl",
    "cmake",
    "mk",
    "mak",
    "make",
    "zig",
    "nim",
    "v",
    "sv",
    "svh",
    "vhd",
    "vhdl",
    "f",
    "f90",
    "f95",
    "f03",
    "f08",
    "for",
    "asm",
    "s",
    "d",
    "pas",
    "pp",
    "lpr",
    "ada",
    "adb",
    "ads",
    "cob",
    "cbl",
    "lisp",
    "lsp",
    "el",
    "scm",
    "rkt",
    "tcl",
    "awk",
    "sed",
    "vim",
    "gd",
    "glsl",
    "hlsl",
    "wgsl",
    "cu",
    "cuh",
    "sol",
    "move",
    "cairo",
    "purs",
    "ml4",
    "re",
    "rei",
    "elv",
    "raku",
    "p6",
    "coffee",
    "haml",
    "pug",
    "jinja",
    "j2",
    "twig",
    "hbs",
    "mustache",
    "ejs",
    "erb",
    "liquid",
    "tpl",
];

/// Well-known text files that carry no extension.
const EXTENSIONLESS_TEXT: &[&str] = &[
    "readme",
    "license",
    "licence",
    "copying",
    "makefile",
    "gnumakefile",
    "dockerfile",
    "containerfile",
    "changelog",
    "changes",
    "authors",
    "contributors",
    "notice",
    "todo",
    "news",
    "install",
    "gemfile",
    "rakefile",
    "procfile",
    "vagrantfile",
    "jenkinsfile",
    "justfile",
    "brewfile",
    "podfile",
];

pub fn is_extensionless_text_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| EXTENSIONLESS_TEXT.contains(&n.to_ascii_lowercase().as_str()))
}

impl Extractor for PlainText {
    fn name(&self) -> &'static str {
        "text"
    }
    fn extensions(&self) -> &'static [&'static str] {
        TEXT_EXTENSIONS
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        if looks_binary(bytes) {
            return Err(ExtractError::Unreadable(
                "binary content in a text file (NUL bytes or control codes); it is not text, whatever its name".into(),
            ));
        }
        let (text, warnings) = decode_reporting(bytes);
        if let super::quality::Verdict::Garbage(why) = super::quality::assess(&text) {
            return Err(ExtractError::UnreadableText(format!(
                "{why}; the file is binary or in an encoding Folio does not recognise"
            )));
        }
        let text = tidy(&text);
        Ok(Extraction { pages: vec![Page { number: None, text }], warnings })
    }
}

/// Decodes bytes of unknown encoding to text. A byte-order mark wins; valid UTF-8 is taken as is;
/// anything else goes to chardetng, which recognises legacy Cyrillic and Western code pages.
pub fn decode(bytes: &[u8]) -> String {
    decode_reporting(bytes).0
}

/// [`decode`], with a note when bytes had to be replaced. UTF-8 with a few broken sequences (a
/// file cut mid-character, one stray Latin-1 byte) stays UTF-8 with those bytes replaced, instead
/// of the whole file being guessed as a legacy code page and turned to mojibake.
pub fn decode_reporting(bytes: &[u8]) -> (String, Vec<String>) {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), Vec::new());
    }
    let census = utf8_census(bytes);
    if census.invalid == 0 {
        return (String::from_utf8_lossy(bytes).into_owned(), Vec::new());
    }
    // Only a character cut off at the end, or a stray byte here and there in plenty of UTF-8.
    let cut_only = census.invalid == 1 && census.cut_at_end;
    if cut_only || census.multibyte >= census.invalid * 20 || (census.invalid <= 3 && bytes.len() > 4096) {
        let note = format!("{} invalid UTF-8 sequence(s) replaced with U+FFFD", census.invalid);
        return (String::from_utf8_lossy(bytes).into_owned(), vec![note]);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = encoding.decode(bytes);
    (text.into_owned(), Vec::new())
}

struct Utf8Census {
    /// Valid characters of more than one byte.
    multibyte: usize,
    /// Invalid sequences.
    invalid: usize,
    /// The last of them is a character cut off by the end of the data.
    cut_at_end: bool,
}

fn utf8_census(mut bytes: &[u8]) -> Utf8Census {
    let mut census = Utf8Census { multibyte: 0, invalid: 0, cut_at_end: false };
    let non_ascii = |b: &[u8]| std::str::from_utf8(b).map_or(0, |s| s.chars().filter(|c| !c.is_ascii()).count());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                census.multibyte += non_ascii(bytes);
                return census;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                census.multibyte += non_ascii(&bytes[..valid]);
                census.invalid += 1;
                let Some(skip) = e.error_len() else {
                    census.cut_at_end = true;
                    return census;
                };
                bytes = &bytes[valid + skip..];
            }
        }
    }
}

/// Binary, not text: a NUL byte, or many control codes, in samples from the start, the middle
/// and the end (a binary file can begin with a text header), unless a UTF-16/32 byte-order mark
/// explains the NULs.
pub fn looks_binary(bytes: &[u8]) -> bool {
    if encoding_rs::Encoding::for_bom(bytes).is_some() {
        return false;
    }
    let len = bytes.len();
    let samples =
        [&bytes[..len.min(8192)], &bytes[len / 2..(len / 2 + 4096).min(len)], &bytes[len.saturating_sub(4096)..]];
    samples.iter().any(|sample| {
        let controls =
            sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)).count();
        sample.contains(&0) || controls * 10 > sample.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_utf8_and_cp1251() {
        assert_eq!(decode(b"\xef\xbb\xbfhello"), "hello");
        assert_eq!(decode(b"\xff\xfeh\0i\0"), "hi");
        assert_eq!(decode("привет".as_bytes()), "привет");
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode("Съешь же ещё этих мягких французских булок");
        assert_eq!(decode(&cp1251), "Съешь же ещё этих мягких французских булок");
    }

    #[test]
    fn binary_detection() {
        assert!(looks_binary(b"abc\0def"));
        assert!(!looks_binary(b"\xff\xfeh\0i\0"));
        assert!(!looks_binary(b"plain"));
        // A text header in front of binary data.
        let mut data = b"#!/bin/sh\necho installer\n".repeat(400);
        data.extend((0..20_000u32).map(|i| (i * 7919 % 251) as u8 | 1));
        assert!(looks_binary(&data));
    }

    #[test]
    fn mostly_utf8_stays_utf8() {
        let mut bytes = "Привет, мир! ".repeat(100).into_bytes();
        bytes.push(0xff);
        bytes.extend("ещё".as_bytes());
        let (text, warnings) = decode_reporting(&bytes);
        assert!(text.starts_with("Привет") && text.ends_with("\u{fffd}ещё"));
        assert_eq!(warnings.len(), 1);
        let cut = &"ёж".as_bytes()[..3];
        assert_eq!(decode_reporting(cut).0, "ё\u{fffd}");
    }
}
