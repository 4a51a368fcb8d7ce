//! Office, e-book, mail and text formats, written by the tests themselves (with the docx-rs,
//! rust_xlsxwriter and epub-builder writers where crates.io has one, by hand as ZIP and XML where it
//! has none), read through the extractor seam and, at the end, indexed and searched end to end.

mod common;
mod formats_samples;

use std::path::Path;

use common::{index, open, write_pdf, MINILM};
use folio::ingest::extract::{extractor_for, Extraction, Page};
use folio::search::SearchMode;
use formats_samples::*;

fn extract(path: &Path) -> Extraction {
    let bytes = std::fs::read(path).unwrap();
    let extractor = extractor_for(path).unwrap_or_else(|| panic!("no extractor for {}", path.display()));
    extractor.extract(path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn page_texts(extraction: &Extraction) -> Vec<(Option<u32>, &str)> {
    extraction.pages.iter().map(|p| (p.number, p.text.as_str())).collect()
}

#[test]
fn docx_body_tables_and_notes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("boiling.docx");
    write_docx(&path);
    let ex = extract(&path);
    assert_eq!(ex.pages.len(), 1);
    assert_eq!(ex.pages[0].number, None);
    let text = &ex.pages[0].text;
    for expected in [
        "Boiling points",
        "Water boils at 100 degrees Celsius.",
        "Вода кипит при ста градусах.",
        "Liquid\tBoiling point",
        "Ethanol\t78.37",
        "Footnotes",
        "Measured at sea level.",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text:?}");
    }
}

#[test]
fn xlsx_sheets_are_pages_with_row_context() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sales.xlsx");
    write_xlsx(&path);
    let ex = extract(&path);
    assert_eq!(
        page_texts(&ex),
        vec![
            (
                Some(1),
                "Sheet: Sales\nRow 1: A=Quarterly sales\nRow 2 (header): Region; Amount; Closed\n\
                 Row 3: Region=North; Amount=1250; Closed=2024-03-05\nRow 4: Region=South; Amount=980.5; Closed=2024-03-12"
            ),
            (Some(2), "Sheet: Notes\nRow 1: A=Figures exclude the refrigerated warehouse in Murmansk\nRow 1048576: XFD=far corner"),
        ]
    );
}

#[test]
fn epub_chapters_are_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("book.epub");
    write_epub(&path);
    let ex = extract(&path);
    let chapters: Vec<&Page> = ex
        .pages
        .iter()
        .filter(|p| p.text.contains("harbour") || p.text.contains("lighthouse") || p.text.contains("маяка"))
        .collect();
    assert_eq!(chapters.len(), 3, "{:?}", page_texts(&ex));
    let numbers: Vec<u32> = chapters.iter().map(|p| p.number.unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "chapters out of order: {numbers:?}");
    assert!(chapters[2].text.contains("Смотритель маяка записывает каждый корабль."));
    assert!(!ex.pages.iter().any(|p| p.text.contains("color")), "style text leaked");
}

#[test]
fn pptx_slides_in_presentation_order_with_notes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("review.pptx");
    write_pptx(&path);
    let ex = extract(&path);
    assert_eq!(
        page_texts(&ex),
        vec![
            (Some(1), "Quarterly review\n\nRevenue grew in every region"),
            (Some(2), "Next steps\n\nOpen the Tromsø office\n\nNotes:\nMention the lease signed in May"),
        ]
    );
}

#[test]
fn opendocument_text_and_spreadsheet() {
    let tmp = tempfile::tempdir().unwrap();
    let odt = tmp.path().join("glaciers.odt");
    write_odt(&odt);
    assert_eq!(
        page_texts(&extract(&odt)),
        vec![(None, "Glaciers\n\nGlaciers move  slowly downhill.\n\nIce ages recur.")]
    );
    let ods = tmp.path().join("stock.ods");
    write_ods(&ods);
    assert_eq!(
        page_texts(&extract(&ods)),
        vec![
            (Some(1), "Sheet: Stock\nRow 1 (header): Item; Count\nRow 2: Item=Anchors; Count=12"),
            (Some(3), "Sheet: Crew\nRow 1: A=Captain Nemo"),
        ]
    );
}

#[test]
fn rtf_mail_csv_and_code() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let rtf = extract(&write("letter.rtf", RTF.as_bytes()));
    assert_eq!(rtf.pages[0].text, "Привет from RTF.\nSecond bold line— done.");
    let mail = extract(&write("ice.eml", EML.as_bytes()));
    let text = &mail.pages[0].text;
    assert!(text.starts_with("From: Harbour Master <master@port.example>\nTo: crew@port.example\n"), "{text}");
    assert!(
        text.contains("Subject: Ice report") && text.contains("The inner basin is frozen; moor at pier 4."),
        "{text}"
    );
    assert_eq!(text.matches("inner basin").count(), 1, "alternative bodies both indexed: {text}");
    let csv = extract(&write("crew.csv", "name;role\nNemo;captain\nNed Land;harpooner\n".as_bytes()));
    assert_eq!(
        csv.pages[0].text,
        "Row 1 (header): name; role\nRow 2: name=Nemo; role=captain\nRow 3: name=Ned Land; role=harpooner"
    );
    for (name, content) in [
        ("deploy.yaml", "replicas: 3\nimage: harbour/api\n"),
        ("main.go", "package main\n// Moor the ship\nfunc main() {}\n"),
        ("solver.f90", "program solver\n! Iterate until converged\nend program solver\n"),
        ("Dockerfile", "FROM debian:bookworm\nRUN apt-get update\n"),
        ("query.sql", "SELECT name FROM ships WHERE frozen;\n"),
    ] {
        let ex = extract(&write(name, content.as_bytes()));
        assert_eq!(ex.pages[0].text, content.trim_end(), "{name}");
    }
}

/// All formats in one folder, indexed by the real pipeline: every file indexed, and a search hit
/// points at the right page (sheet, slide, chapter).
#[test]
fn every_format_is_indexed_and_found_on_its_page() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write_docx(&docs.join("boiling.docx"));
    write_xlsx(&docs.join("sales.xlsx"));
    write_epub(&docs.join("book.epub"));
    write_pptx(&docs.join("review.pptx"));
    write_odt(&docs.join("glaciers.odt"));
    write_ods(&docs.join("stock.ods"));
    std::fs::write(docs.join("letter.rtf"), RTF).unwrap();
    std::fs::write(docs.join("ice.eml"), EML).unwrap();
    std::fs::write(docs.join("crew.csv"), "name;role\nNemo;captain\n").unwrap();
    std::fs::write(docs.join("page.html"), "<html><body><p>Kelp forests shelter sea otters.</p></body></html>")
        .unwrap();
    write_pdf(&docs.join("tides.pdf"), &["Tides follow the moon.", "Spring tides are the strongest."], false);

    let library = open(&tmp.path().join("lib"), MINILM);
    let summary = index(&library, &[&docs]);
    assert!(summary.failed.is_empty() && summary.skipped.is_empty(), "{summary:?}");
    assert_eq!(summary.indexed, 11);

    let first = |query: &str| {
        let hit = library.search(query, SearchMode::Bm25, 1).unwrap().into_iter().next().expect(query);
        (hit.path.file_name().unwrap().to_str().unwrap().to_string(), hit.page)
    };
    assert_eq!(first("refrigerated warehouse Murmansk"), ("sales.xlsx".into(), Some(2)));
    assert_eq!(first("lease signed in May"), ("review.pptx".into(), Some(2)));
    assert_eq!(
        first("lighthouse keeper logs"),
        ("book.epub".into(), Some(first_chapter_with(&docs.join("book.epub"), "lighthouse")))
    );
    assert_eq!(first("spring tides strongest"), ("tides.pdf".into(), Some(2)));
    assert_eq!(first("ethanol boiling"), ("boiling.docx".into(), None));
    assert_eq!(first("inner basin frozen pier"), ("ice.eml".into(), None));
    assert_eq!(first("glaciers downhill"), ("glaciers.odt".into(), None));
    assert_eq!(first("anchors"), ("stock.ods".into(), Some(1)));
    assert_eq!(first("role captain"), ("crew.csv".into(), None));
    assert_eq!(first("kelp otters"), ("page.html".into(), None));
}

fn first_chapter_with(path: &Path, word: &str) -> u32 {
    extract(path).pages.iter().find(|p| p.text.contains(word)).and_then(|p| p.number).unwrap()
}
