//! Reading ZIP containers (DOCX, PPTX, XLSX, ODF, EPUB) without trusting them.
//!
//! A few kilobytes of ZIP can claim — or actually hold — gigabytes once inflated, or millions of
//! entries. Every read goes through one budget per file: the bytes actually produced (not the
//! sizes the headers declare, which can lie) are counted, entries that inflate far more than real
//! documents do are refused, and so are archives with absurd entry counts. Each refusal names the
//! limit, so the user learns why the file was left out.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use super::ExtractError;

/// Bytes one file may inflate to in total. Real documents stay far below: a 300-page DOCX holds
/// a few MiB of XML, a large spreadsheet some tens.
pub const MAX_TOTAL_BYTES: u64 = 200 << 20;
/// Entries one archive may have. EPUBs with many images reach a few thousand.
pub const MAX_ENTRIES: u64 = 20_000;
/// Inflation ratio beyond which a large entry is taken for a bomb. Real XML inflates 5–30×, very
/// repetitive spreadsheet XML up to about 100×; a bomb made of zeros inflates about 1000×.
pub const MAX_RATIO: u64 = 200;
/// Entries smaller than this are not ratio-checked: tiny files can compress extremely well.
const RATIO_FLOOR: u64 = 1 << 20;

pub struct Archive<'a> {
    zip: ::zip::ZipArchive<Cursor<&'a [u8]>>,
    names: Vec<String>,
    format: &'static str,
    /// Bytes that may still be inflated.
    budget: u64,
}

impl<'a> Archive<'a> {
    pub fn open(bytes: &'a [u8], format: &'static str) -> Result<Self, ExtractError> {
        if is_encrypted_office(bytes) {
            return Err(ExtractError::Encrypted);
        }
        if let Some(entries) = declared_entries(bytes) {
            if entries > MAX_ENTRIES {
                return Err(ExtractError::Refused(format!(
                    "the {format} file is a ZIP archive of {entries} entries, more than the {MAX_ENTRIES} \
                     a document has; it looks like an archive bomb"
                )));
            }
        }
        let zip = ::zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ExtractError::Malformed {
            format: format.into(),
            detail: format!("not a readable ZIP container ({e}); the file may be truncated or not a {format} file"),
        })?;
        let names = zip.file_names().filter_map(|n| n.ok().map(Cow::into_owned)).collect();
        let mut archive = Archive { zip, names, format, budget: MAX_TOTAL_BYTES };
        // OpenDocument keeps a password-protected file's parts encrypted inside an ordinary ZIP;
        // its manifest says so.
        if let Some(manifest) = archive.read_optional("META-INF/manifest.xml")? {
            if String::from_utf8_lossy(&manifest).contains("encryption-data") {
                return Err(ExtractError::Encrypted);
            }
        }
        Ok(archive)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The stored name matching `name`, exactly or (as some writers vary case) ignoring case.
    pub fn find(&self, name: &str) -> Option<&str> {
        let name = name.trim_start_matches('/');
        self.names
            .iter()
            .find(|n| *n == name)
            .or_else(|| self.names.iter().find(|n| n.eq_ignore_ascii_case(name)))
            .map(String::as_str)
    }

    /// An entry's bytes, or `None` if the archive has no such entry.
    pub fn read_optional(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let Some(stored) = self.find(name).map(str::to_string) else { return Ok(None) };
        let format = self.format;
        let damaged = |e: &dyn std::fmt::Display| ExtractError::Malformed {
            format: format.into(),
            detail: format!("cannot unpack {stored}: {e}"),
        };
        let mut entry = match self.zip.by_name(&stored) {
            Ok(entry) => entry,
            Err(::zip::result::ZipError::UnsupportedArchive(why))
                if why == ::zip::result::ZipError::PASSWORD_REQUIRED =>
            {
                return Err(ExtractError::Encrypted)
            }
            Err(e) => return Err(damaged(&e)),
        };
        if entry.encrypted() {
            return Err(ExtractError::Encrypted);
        }
        let compressed = entry.compressed_size().max(1);
        let mut out = Vec::with_capacity(entry.size().min(self.budget).min(64 << 20) as usize);
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = entry.read(&mut buf).map_err(|e| damaged(&e))?;
            if n == 0 {
                break;
            }
            let produced = out.len() as u64 + n as u64;
            if produced > self.budget {
                return Err(ExtractError::Refused(format!(
                    "the {format} file inflates to more than {} MiB; it looks like an archive bomb",
                    MAX_TOTAL_BYTES >> 20
                )));
            }
            if produced > RATIO_FLOOR && produced / compressed > MAX_RATIO {
                return Err(ExtractError::Refused(format!(
                    "{stored} inside the {format} file inflates more than {MAX_RATIO}-fold, which no \
                     document does; it looks like an archive bomb"
                )));
            }
            out.extend_from_slice(&buf[..n]);
        }
        self.budget -= out.len() as u64;
        Ok(Some(out))
    }

    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, ExtractError> {
        self.read_optional(name)?.ok_or_else(|| ExtractError::Malformed {
            format: self.format.into(),
            detail: format!("{name} is missing; the file is damaged or not a {} file", self.format),
        })
    }

    /// An XML or text entry as a string (UTF-8, or UTF-16 with a byte-order mark).
    pub fn read_text(&mut self, name: &str) -> Result<String, ExtractError> {
        Ok(decode_xml(&self.read(name)?))
    }

    pub fn read_text_optional(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        Ok(self.read_optional(name)?.map(|b| decode_xml(&b)))
    }

    /// Inflates every entry (and throws the bytes away) under the same limits: for handing the
    /// archive to a reader that has no limits of its own.
    pub fn check_all(&mut self) -> Result<(), ExtractError> {
        for name in self.names.clone() {
            if !name.ends_with('/') {
                self.read_optional(&name)?;
            }
        }
        Ok(())
    }
}

/// One OOXML relationship (`_rels/*.rels`): which part an id or a type points to.
pub struct Relationship {
    pub id: String,
    pub kind: String,
    /// The target as an archive entry name, resolved against the source part.
    pub target: String,
}

impl Archive<'_> {
    /// The relationships of `part` ("" for the package itself); none if it has no rels part.
    pub fn relationships(&mut self, part: &str) -> Result<Vec<Relationship>, ExtractError> {
        let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
        let rels_name = if dir.is_empty() { format!("_rels/{file}.rels") } else { format!("{dir}/_rels/{file}.rels") };
        let Some(xml) = self.read_text_optional(&rels_name)? else { return Ok(Vec::new()) };
        let mut rels = Vec::new();
        // A damaged rels part gives the relationships read before the damage.
        let _ = super::xml::walk(&xml, |node| {
            if let super::xml::Node::Open { name: "Relationship", tag } = node {
                let external = super::xml::attr(tag, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("external"));
                if let (Some(id), Some(kind), Some(target), false) = (
                    super::xml::attr(tag, "Id"),
                    super::xml::attr(tag, "Type"),
                    super::xml::attr(tag, "Target"),
                    external,
                ) {
                    let base = if part.is_empty() { "_" } else { part };
                    rels.push(Relationship { id, kind, target: resolve(base, &target) });
                }
            }
        });
        Ok(rels)
    }
}

/// Text of an XML part: a byte-order mark decides, otherwise UTF-8 (what OOXML, ODF and EPUB use).
pub fn decode_xml(bytes: &[u8]) -> String {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom_len..]).0.into_owned();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// The entry count the end-of-central-directory record declares (ZIP64 included), read before
/// the ZIP reader builds its table, so that an archive of millions of entries is refused cheaply.
fn declared_entries(bytes: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let at = tail_start + bytes[tail_start..].windows(4).rposition(|w| w == EOCD)?;
    let eocd = bytes.get(at..at + 22)?;
    let entries = u16::from_le_bytes([eocd[10], eocd[11]]) as u64;
    if entries != 0xffff {
        return Some(entries);
    }
    // ZIP64: a locator just before the record points at the ZIP64 record with the real count.
    let locator = bytes.get(at.checked_sub(20)?..at)?;
    if &locator[..4] != b"PK\x06\x07" {
        return None;
    }
    let offset = u64::from_le_bytes(locator[8..16].try_into().ok()?) as usize;
    let record = bytes.get(offset..offset.checked_add(40)?)?;
    if &record[..4] != b"PK\x06\x06" {
        return None;
    }
    Some(u64::from_le_bytes(record[32..40].try_into().ok()?))
}

/// Resolves `target` (as written in a relationship or manifest, percent-encoded, possibly
/// relative with `..`) against the folder of the part `base`, giving an archive entry name.
pub fn resolve(base: &str, target: &str) -> String {
    let target = percent_decode(target.split('#').next().unwrap_or(""));
    let mut parts: Vec<&str> = if let Some(absolute) = target.strip_prefix('/') {
        return normalize(absolute.split('/').collect());
    } else {
        base.rsplit_once('/').map(|(dir, _)| dir.split('/').collect()).unwrap_or_default()
    };
    parts.extend(target.split('/'));
    normalize(parts)
}

fn normalize(parts: Vec<&str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A password-protected Word, Excel or PowerPoint file (2007 and later): not a ZIP but an OLE
/// compound file holding an `EncryptedPackage` stream (its name is stored in UTF-16).
fn is_encrypted_office(bytes: &[u8]) -> bool {
    const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let name: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.starts_with(&OLE) && bytes.windows(name.len()).any(|w| w == name)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = ::zip::ZipWriter::new(&mut out);
        let options = ::zip::write::SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn reads_entries_and_resolves_paths() {
        let bytes = zip_of(&[("word/document.xml", b"<x/>"), ("Word/Other.xml", b"y")]);
        let mut a = Archive::open(&bytes, "DOCX").unwrap();
        assert_eq!(a.read_text("word/document.xml").unwrap(), "<x/>");
        assert_eq!(a.read_text("word/other.xml").unwrap(), "y");
        assert!(a.read_optional("nope").unwrap().is_none());
        assert_eq!(resolve("ppt/slides/slide1.xml", "../notesSlides/n%201.xml"), "ppt/notesSlides/n 1.xml");
        assert_eq!(resolve("OEBPS/content.opf", "text/ch1.xhtml#frag"), "OEBPS/text/ch1.xhtml");
        assert_eq!(resolve("word/document.xml", "/word/media/a.png"), "word/media/a.png");
    }

    #[test]
    fn bombs_are_refused() {
        let zeros = vec![0u8; 8 << 20];
        let bytes = zip_of(&[("word/document.xml", &zeros)]);
        let mut a = Archive::open(&bytes, "DOCX").unwrap();
        let err = a.read("word/document.xml").unwrap_err();
        assert!(matches!(err, ExtractError::Refused(ref m) if m.contains("archive bomb")), "{err}");
    }

    #[test]
    fn the_total_budget_holds_across_entries() {
        // Each entry inflates modestly (pseudo-random text), but together they exceed the budget.
        let mut state = 1u32;
        let text: Vec<u8> = (0..(1 << 20))
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                b'a' + (state >> 16) as u8 % 26
            })
            .collect();
        let entries: Vec<(String, &[u8])> = (0..5).map(|i| (format!("part{i}.xml"), &text[..])).collect();
        let list: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let bytes = zip_of(&list);
        let mut a = Archive::open(&bytes, "EPUB").unwrap();
        a.budget = 3 << 20;
        let err = a.check_all().unwrap_err();
        assert!(matches!(err, ExtractError::Refused(ref m) if m.contains("inflates to more than")), "{err}");
    }

    #[test]
    fn entry_counts_are_checked_before_reading() {
        let names: Vec<String> = (0..(MAX_ENTRIES as usize + 1)).map(|i| format!("{i}")).collect();
        let list: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = zip_of(&list);
        assert_eq!(declared_entries(&bytes), Some(MAX_ENTRIES + 1));
        assert!(matches!(Archive::open(&bytes, "EPUB"), Err(ExtractError::Refused(_))));
    }

    #[test]
    fn not_a_zip_is_malformed() {
        assert!(matches!(Archive::open(b"hello", "EPUB"), Err(ExtractError::Malformed { .. })));
    }
}
