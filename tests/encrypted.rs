//! Encrypted is not damaged: a PDF encrypted with an empty user password (it only restricts
//! printing or editing) is read without asking; one that needs a password says so, and is read
//! with a password given (a password file on the command line, one file's password in the
//! window). Both RC4 and AES, written by the test with lopdf's own encryption.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use common::{index, open, MINILM};
use folio::ingest::extract::{extractor_for, with_passwords, ExtractError};
use folio::store::catalog::FileStatus;
use folio::SearchMode;
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
        let pdf = extractor_for(&path).unwrap();
        match pdf.extract(&path, &bytes) {
            Err(e @ ExtractError::PasswordRequired { tried: 0 }) => {
                assert!(e.to_string().contains("password-protected"), "{e}")
            }
            other => panic!("{cipher} with a user password: {:?}", other.map(|e| e.pages.len())),
        }
        // The owner password is not one that reads it (the key is derived from the user password).
        let wrong = with_passwords(&["wrong".into(), "Secret".into(), "owner".into()], || pdf.extract(&path, &bytes));
        assert_eq!(wrong.unwrap_err(), ExtractError::PasswordRequired { tried: 3 }, "{cipher}");
        // The user password opens it, wherever it is in the list.
        let read = with_passwords(&["wrong".into(), "secret".into()], || pdf.extract(&path, &bytes));
        let text: String = read.unwrap().pages.iter().map(|p| p.text.clone()).collect();
        assert!(text.contains("coolant pump"), "{cipher}: {text}");
        // Offered to one extraction only.
        assert!(matches!(pdf.extract(&path, &bytes), Err(ExtractError::PasswordRequired { tried: 0 })));
    }
}

#[test]
fn a_locked_pdf_waits_for_its_password_and_a_wrong_one_is_not_tried_again() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let (locked, _) = encrypted(&docs, "pumps", true, "secret");
    std::fs::remove_file(docs.join("pumps.plain.pdf")).unwrap();
    common::write_pdf(&docs.join("open.pdf"), &["The valve manual is public."], false);
    let library = open(&tmp.path().join("lib"), MINILM);
    let row = |library: &folio::Library| library.catalog().file_by_path(&locked).unwrap().unwrap();

    let first = index(&library, &[&docs]);
    assert_eq!((first.indexed, first.failed.len()), (1, 1), "{first:?}");
    let r = row(&library);
    assert!(r.status == FileStatus::Failed && r.needs_password, "{r:?}");
    assert!(r.reason.as_deref().unwrap().contains("needs its password"), "{r:?}");
    // Without a password to try, a locked file is not read again on every run.
    assert_eq!(index(&library, &[&docs]).unchanged, 2);

    // Only a library file that needs a password takes one.
    assert!(library.set_file_password(&docs.join("open.pdf"), "x").is_err());
    assert!(library.set_file_password(&docs.join("nowhere.pdf"), "x").is_err());
    assert!(library.set_file_password(&locked, "").is_err());

    // A wrong password: the file says so, and the password is forgotten.
    assert_eq!(library.set_file_password(&locked, "Secret").unwrap(), docs);
    let wrong = index(&library, &[&docs]);
    assert_eq!((wrong.indexed, wrong.unchanged), (0, 1), "{wrong:?}");
    assert!(row(&library).reason.unwrap().contains("does not open it"));
    assert_eq!(index(&library, &[&docs]).unchanged, 2, "the wrong password was tried once");

    library.set_file_password(&locked, "secret").unwrap();
    let right = index(&library, &[&docs]);
    assert_eq!(right.indexed, 1, "{right:?}");
    let r = row(&library);
    assert!(r.status == FileStatus::Indexed && !r.needs_password, "{r:?}");
    let hits = library.search("reactor coolant pump inspection", SearchMode::Hybrid, 3).unwrap();
    assert_eq!(hits[0].path, locked);
}

#[test]
fn the_command_line_reads_passwords_from_a_file_never_from_its_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let (locked, _) = encrypted(&docs, "pumps", false, "s3cret words");
    std::fs::remove_file(docs.join("pumps.plain.pdf")).unwrap();
    let passwords = tmp.path().join("passwords.txt");
    std::fs::write(&passwords, "first guess\r\ns3cret words\n").unwrap();
    let lib = tmp.path().join("lib");
    let folio = |args: &[&str]| {
        let mut all = vec!["--library", lib.to_str().unwrap(), "--json"];
        all.extend_from_slice(args);
        std::process::Command::new(env!("CARGO_BIN_EXE_folio")).args(all).output().unwrap()
    };

    let without = folio(&["index", "--embedder", MINILM, docs.to_str().unwrap()]);
    assert!(without.status.success(), "{}", String::from_utf8_lossy(&without.stderr));
    let with = folio(&["refresh", "--password-file", passwords.to_str().unwrap()]);
    assert!(with.status.success(), "{}", String::from_utf8_lossy(&with.stderr));
    let library = open(&tmp.path().join("lib"), MINILM);
    let r = library.catalog().file_by_path(&locked).unwrap().unwrap();
    assert!(r.status == FileStatus::Indexed && r.chunks > 0, "{r:?}");
    drop(library);

    // `folio extract` takes the same file; a missing password file is an error, not "no passwords".
    let extract = folio(&["extract", locked.to_str().unwrap(), "--password-file", passwords.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&extract.stdout).contains("coolant pump"));
    let missing = folio(&["refresh", "--password-file", tmp.path().join("nope").to_str().unwrap()]);
    assert!(!missing.status.success());
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
