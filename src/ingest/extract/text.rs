//! Plain text and source code: encoding detection (byte-order marks, UTF-8, then a statistical
//! guess for legacy code pages such as Windows-1251 or KOI8-R).

use std::path::Path;

use super::{Extraction, tidy, ExtractError, Extractor, Page};

pub struct PlainText;

/// Extensions read as plain text: prose formats and common source code and configuration.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt", "text", "log", "rst", "org", "adoc", "tex", "csv", "tsv", "json", "jsonl", "yaml", "yml",
    "toml", "ini", "cfg", "conf", "xml", "rs", "py", "js", "mjs", "ts", "tsx", "jsx", "c", "h", "cc",
    "cpp", "hpp", "cs", "java", "kt", "go", "rb", "php", "swift", "scala", "sh", "bash", "zsh", "ps1",
    "sql", "r", "lua", "pl", "hs", "ml", "ex", "exs", "erl", "clj", "dart", "vue", "svelte", "css",
    "scss", "less", "proto", "gradle", "cmake", "mk", "bat",
];

/// Well-known text files that carry no extension.
const EXTENSIONLESS_TEXT: &[&str] =
    &["readme", "license", "copying", "makefile", "dockerfile", "changelog", "authors", "notice", "todo"];

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
            return Err(ExtractError::Unreadable("binary content in a text file".into()));
        }
        let text = tidy(&decode(bytes));
        Ok(vec![Page { number: None, text }].into())
    }
}

/// Decodes bytes of unknown encoding to text. A byte-order mark wins; valid UTF-8 is taken as is;
/// anything else goes to chardetng, which recognises legacy Cyrillic and Western code pages.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return text.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// A NUL byte in the first 8 KiB means binary, unless a UTF-16/32 byte-order mark explains it.
pub fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if encoding_rs::Encoding::for_bom(head).is_some() {
        return false;
    }
    head.contains(&0)
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
    }
}
