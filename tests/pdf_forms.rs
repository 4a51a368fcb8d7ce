//! Values typed into a PDF form are read with the page: pdftotext shows them, and in a filled-in
//! form they are what the user looks for. The form is written by the test (lopdf).

mod common;

use folio::ingest::extract::extractor_for;
use lopdf::{dictionary, Document, Object, StringFormat};

#[test]
fn form_field_values_are_read_with_their_page() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.pdf");
    common::write_pdf(&path, &["Inspection report"], false);
    let mut doc = Document::load(&path).unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    // A text field with a Latin value, and one whose value sits on its parent, in UTF-16.
    let inspector = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "FT" => "Tx", "T" => Object::string_literal("inspector"),
        "V" => Object::string_literal("Jane Doe"), "Rect" => vec![0.into(), 0.into(), 100.into(), 20.into()],
    });
    let mut utf16 = vec![0xFE, 0xFF];
    utf16.extend("Насос исправен".encode_utf16().flat_map(u16::to_be_bytes));
    let parent = doc.add_object(dictionary! { "FT" => "Tx", "V" => Object::String(utf16, StringFormat::Hexadecimal) });
    let verdict = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "Parent" => parent, "Rect" => vec![0.into(), 30.into(), 100.into(), 50.into()],
    });
    let checkbox =
        doc.add_object(dictionary! { "Type" => "Annot", "Subtype" => "Widget", "FT" => "Btn", "V" => "Yes" });
    doc.get_dictionary_mut(page).unwrap().set("Annots", vec![inspector.into(), verdict.into(), checkbox.into()]);
    doc.save(&path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let extraction = extractor_for(&path).unwrap().extract(&path, &bytes).unwrap();
    let text = &extraction.pages[0].text;
    assert!(
        text.contains("Inspection report") && text.contains("Jane Doe") && text.contains("Насос исправен"),
        "{text}"
    );
    assert!(!text.contains("Yes"), "a checkbox state is no text: {text}");
}
