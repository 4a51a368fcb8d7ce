//! Scanned PDFs: a page that is only an image. With Tesseract and a page renderer installed (the
//! README's test command installs them), its text is recognised and found on its page; without
//! them, the file's status says that it needs OCR and what to install. The scan is made here: a
//! text PDF rendered to pixels by poppler's `pdftoppm`, wrapped as the only content of a new PDF.

mod common;

use std::path::Path;
use std::process::Command;

use common::{index, open, write_pdf, MINILM};
use folio::search::SearchMode;
use lopdf::{dictionary, Document, Object, Stream};

/// The binary PGM (P5) `pdftoppm -gray` writes: width, height and 8-bit pixels.
fn read_pgm(bytes: &[u8]) -> (i64, i64, Vec<u8>) {
    // Header: "P5", width, height, maximum value, each separated by whitespace, then one
    // whitespace byte before the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..at]).unwrap().to_string());
    }
    assert_eq!(fields[0], "P5", "not a binary PGM");
    assert_eq!(fields[3], "255", "not 8-bit");
    let (width, height): (i64, i64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = bytes[at + 1..].to_vec();
    assert_eq!(pixels.len() as i64, width * height);
    (width, height, pixels)
}

/// A one-page PDF whose page is a grey image of `text_pdf`'s first page at `dpi`, with no text
/// layer, as a scanner makes it.
fn write_scanned_pdf(path: &Path, text_pdf: &Path, dpi: u32) {
    // Rendered beside the text PDF, outside the folder that gets indexed.
    let stem = text_pdf.with_file_name("render");
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-singlefile", "-f", "1", "-l", "1"])
        .arg(text_pdf)
        .arg(&stem)
        .status()
        .expect("pdftoppm runs (poppler-utils; the README's test command installs it)");
    assert!(status.success());
    let pgm = text_pdf.with_file_name("render.pgm");
    let (width, height, pixels) = read_pgm(&std::fs::read(&pgm).unwrap());
    std::fs::remove_file(&pgm).unwrap();

    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut image = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => width,
            "Height" => height,
            "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 8,
        },
        pixels,
    );
    image.compress().unwrap();
    let image_id = doc.add_object(image);
    let content = b"q 612 0 0 792 0 0 cm /Im1 Do Q".to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.save(path).unwrap();
}

/// Whether the worker will run OCR: Tesseract is installed and not switched off with
/// `FOLIO_OCR=off` (which is how the other branch of the test is run on a machine that has it).
fn ocr_available() -> bool {
    let off = std::env::var("FOLIO_OCR").is_ok_and(|v| matches!(v.as_str(), "0" | "off" | "no" | "false"));
    !off && Command::new("tesseract").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn a_scanned_page_is_read_by_ocr_or_reported_as_needing_it() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let original = tmp.path().join("original.pdf");
    write_pdf(&original, &["Lighthouses guide the fishing boats\nhome along the rocky coast at night."], false);
    write_scanned_pdf(&docs.join("scan.pdf"), &original, 200);
    write_pdf(&docs.join("typed.pdf"), &["Puffins nest in burrows on the cliffs."], false);

    let library = open(&tmp.path().join("lib"), MINILM);
    let summary = index(&library, &[&docs]);
    let folder = &library.folders().unwrap()[0];
    let scan = library.files(folder).unwrap().into_iter().find(|f| f.path.ends_with("scan.pdf")).unwrap();
    let reason = scan.reason.clone().unwrap_or_default();

    if ocr_available() {
        // Recognised, indexed with its page, and the status says how it was read.
        assert_eq!(summary.indexed, 2, "{summary:?}");
        assert!(reason.contains("read by OCR"), "{reason}");
        let hits = library.search("lighthouses rocky coast", SearchMode::Bm25, 1).unwrap();
        assert!(hits[0].path.ends_with("scan.pdf"), "{hits:?}");
        assert_eq!(hits[0].page, Some(1));
        assert!(hits[0].text.to_lowercase().contains("fishing boats"), "{}", hits[0].text);
    } else {
        // Not indexed as empty text: the status says why, and what would read it.
        assert_eq!(summary.indexed, 1, "{summary:?}");
        assert!(reason.contains("needs OCR") && reason.contains("tesseract"), "{reason}");
    }
    // The typed PDF beside it is read as usual.
    let hits = library.search("puffins burrows", SearchMode::Bm25, 1).unwrap();
    assert!(hits[0].path.ends_with("typed.pdf"), "{hits:?}");
}
