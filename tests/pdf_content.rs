//! Pages that are valid (or recoverable) PDF but that the readers under Folio lost, written by
//! hand as some producers and people write them: comments inside a content stream, the `'` and
//! `"` text operators, a stream whose `/Length` misses its `endstream`, list boxes whose options
//! are drawn on the page, and a ToUnicode map with one-byte destinations (TeX's). Each read as
//! blank or lost lines before.

use folio::ingest::extract::{extractor_for, Extraction};
use lopdf::{dictionary, Document, Object, Stream};

/// Writes a one-page PDF in standard Helvetica whose page content is `content`, byte for byte.
fn write_page(path: &std::path::Path, content: &[u8]) -> Document {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(path).unwrap();
    doc
}

fn extract(path: &std::path::Path) -> Extraction {
    let bytes = std::fs::read(path).unwrap();
    extractor_for(path).unwrap().extract(path, &bytes).unwrap()
}

#[test]
fn comments_inside_a_content_stream_do_not_hide_the_rest_of_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("commented.pdf");
    write_page(
        &path,
        b"BT\n   % move to the first line\n   /F1 12 Tf 72 720 Td\n   (Pump inspected) Tj\n   % and the next\n   \
          0 -16 Td (Valve replaced 100% clean) Tj\nET\n",
    );
    let text = &extract(&path).pages[0].text;
    assert!(text.contains("Pump inspected") && text.contains("Valve replaced 100% clean"), "{text}");
}

#[test]
fn quote_operators_show_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quotes.pdf");
    write_page(
        &path,
        b"BT /F1 12 Tf 16 TL 72 720 Td (First line) Tj (Second line) ' 1 0.5 (Third line) \" (do not stop) ' ET",
    );
    let text = &extract(&path).pages[0].text;
    for line in ["First line", "Second line", "Third line", "do not stop"] {
        assert!(text.contains(line), "{line:?} missing from {text:?}");
    }
}

#[test]
fn a_stream_whose_length_is_wrong_is_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("length.pdf");
    let content = b"BT /F1 12 Tf 72 720 Td (Measured at the inlet) Tj ET";
    write_page(&path, content);
    // The same number of digits, so every offset of the file stays right: only the length lies.
    let mut bytes = std::fs::read(&path).unwrap();
    let declared = format!("/Length {}", content.len());
    let at = bytes.windows(declared.len()).position(|w| w == declared.as_bytes()).unwrap();
    let wrong = format!("/Length {}", content.len() + 9);
    bytes.splice(at..at + declared.len(), wrong.bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert!(Document::load_mem(&bytes).is_ok(), "the file still loads, its page content a bare dictionary");

    let extraction = extract(&path);
    assert!(extraction.pages[0].text.contains("Measured at the inlet"), "{:?}", extraction.pages);
    assert!(extraction.warnings.iter().any(|w| w.contains("rebuilt")), "{:?}", extraction.warnings);
}

#[test]
fn the_options_of_a_list_box_are_read_and_those_of_a_combo_box_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.pdf");
    let mut doc = write_page(&path, b"BT /F1 12 Tf 72 720 Td (Choose a pump) Tj ET");
    let page = *doc.get_pages().get(&1).unwrap();
    let options =
        |names: &[&str]| -> Object { names.iter().map(|n| Object::string_literal(*n)).collect::<Vec<_>>().into() };
    let list = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "FT" => "Ch", "T" => Object::string_literal("model"),
        // An option may be a pair: the value exported, then the text shown.
        "Opt" => vec![Object::string_literal("Grundfos CR"), vec![Object::string_literal("w"), Object::string_literal("Wilo Helix")].into()],
    });
    let combo = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "FT" => "Ch", "Ff" => 1 << 17, "T" => Object::string_literal("site"),
        "Opt" => options(&["Hidden option"]), "V" => Object::string_literal("North plant"),
    });
    doc.get_dictionary_mut(page).unwrap().set("Annots", vec![list.into(), combo.into()]);
    doc.save(&path).unwrap();

    let text = &extract(&path).pages[0].text;
    assert!(text.contains("Grundfos CR") && text.contains("Wilo Helix") && text.contains("North plant"), "{text}");
    assert!(!text.contains("Hidden option"), "a combo box draws only its value: {text}");
}

#[test]
fn a_unicode_map_with_one_byte_destinations_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tex.pdf");
    let mut doc = write_page(&path, b"BT /F1 12 Tf 72 720 Td (ABC) Tj 0 -16 Td (Hello) Tj ET");
    // As TeX writes them for its math fonts: a range whose destination is one byte (U+00C5…).
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange\n<00> <FF>\n\
        endcodespacerange\n2 beginbfrange\n<41> <43> <C5>\n<48> <6F> <0048>\nendbfrange\nendcmap\n\
        CMapName currentdict /CMap defineresource pop end end";
    let map = doc.add_object(Stream::new(dictionary! {}, cmap.to_vec()));
    let font = doc.objects.values_mut().find_map(|o| o.as_dict_mut().ok().filter(|d| d.has(b"BaseFont"))).unwrap();
    font.set("ToUnicode", map);
    doc.save(&path).unwrap();

    let text = &extract(&path).pages[0].text;
    assert!(text.contains("ÅÆÇ") && text.contains("Hello"), "{text:?}");
}
