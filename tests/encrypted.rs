//! Encrypted is not damaged: a PDF encrypted with an empty user password (it only restricts
//! printing or editing) is read without asking; one that needs a password says so. Both RC4 and
//! AES, written by the test with lopdf's own encryption.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use folio::ingest::extract::{extractor_for, ExtractError};
use lopdf::encryption::crypt_filters::{Aes128CryptFilter, CryptFilter};
use lopdf::{Document, EncryptionState, EncryptionVersion, Permissions};

const TEXT: &str = "The reactor coolant pump is inspected every spring.";

fn encrypted(dir: &Path, name: &str, aes: bool, user_password: &str) -> (std::path::PathBuf, Vec<u8>) {
    let plain = dir.join(format!("{name}.plain.pdf"));
    common::write_pdf(&plain, &[TEXT], false);
    let mut doc = Document::load(&plain).unwrap();
    // The file identifier is part of the key.
    let id = lopdf::Object::String(b"folio-test-file-id".to_vec(), lopdf::StringFormat::Hexadecimal);
    doc.trailer.set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    let permissions = Permissions::PRINTABLE;
    let version = if aes {
        let filter: Arc<dyn CryptFilter> = Arc::new(Aes128CryptFilter);
        EncryptionVersion::V4 {
            document: &doc,
            encrypt_metadata: true,
            crypt_filters: BTreeMap::from([(b"StdCF".to_vec(), filter)]),
            stream_filter: b"StdCF".to_vec(),
            string_filter: b"StdCF".to_vec(),
            owner_password: "owner",
            user_password,
            permissions,
        }
    } else {
        EncryptionVersion::V2 { document: &doc, owner_password: "owner", user_password, key_length: 128, permissions }
    };
    let state = EncryptionState::try_from(version).unwrap();
    doc.encrypt(&state).unwrap();
    let path = dir.join(format!("{name}.pdf"));
    doc.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn a_pdf_that_opens_without_a_password_is_read_and_one_that_needs_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for aes in [false, true] {
        let cipher = if aes { "AES" } else { "RC4" };
        let (path, bytes) = encrypted(dir.path(), &format!("{cipher}-open"), aes, "");
        let extraction = extractor_for(&path).unwrap().extract(&path, &bytes);
        let text: String =
            extraction.as_ref().map(|e| e.pages.iter().map(|p| p.text.clone()).collect()).unwrap_or_default();
        assert!(text.contains("coolant pump"), "{cipher}, empty user password: {:?}", extraction.err());

        let (path, bytes) = encrypted(dir.path(), &format!("{cipher}-locked"), aes, "secret");
        match extractor_for(&path).unwrap().extract(&path, &bytes) {
            Err(e @ ExtractError::Encrypted) => {
                assert!(e.to_string().contains("password"), "{e}")
            }
            other => panic!("{cipher} with a user password: {:?}", other.map(|e| e.pages.len())),
        }
    }
}

/// A ZIP with these entries.
fn zip(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    for (name, text) in entries {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut writer, text.as_bytes()).unwrap();
    }
    writer.finish().unwrap();
    out.into_inner()
}

#[test]
fn password_protected_office_files_say_so_instead_of_damaged() {
    // Word 2007+ with a password: an OLE compound file holding an EncryptedPackage stream.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(512, 0);
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    ole.resize(4096, 0);
    for name in ["report.docx", "slides.pptx"] {
        let path = Path::new(name);
        let err = extractor_for(path).unwrap().extract(path, &ole).unwrap_err();
        assert_eq!(err, ExtractError::Encrypted, "{name}: {err}");
    }
    // OpenDocument with a password: its manifest lists the parts' encryption data.
    let manifest = r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1"/></manifest:file-entry></manifest:manifest>"#;
    let odt = zip(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", "\u{1}\u{2}binary"),
    ]);
    let path = Path::new("notes.odt");
    assert_eq!(extractor_for(path).unwrap().extract(path, &odt).unwrap_err(), ExtractError::Encrypted);
}
