//! The binary Office formats people still keep: Word 97–2003 (.doc), PowerPoint 97–2003 (.ppt)
//! and Outlook messages (.msg). The tests write real OLE compound files with the streams those
//! programs write, then read them through the extractors and through a library in worker
//! processes.

mod common;
mod formats_samples;

use std::path::Path;

use folio::ingest::extract::extractor_for;
use formats_samples::ole::{compound, outlook_message, powerpoint_97, word_97};

fn text_of(name: &str, bytes: &[u8]) -> Vec<(Option<u32>, String)> {
    let path = Path::new(name);
    let extraction = extractor_for(path).expect("an extractor").extract(path, bytes).unwrap();
    extraction.pages.into_iter().map(|p| (p.number, p.text)).collect()
}

#[test]
fn word_97_text_is_read_from_its_pieces() {
    let pages = text_of("report.doc", &word_97("The pump is primed.\r", "Насос проверяют весной."));
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].1, "The pump is primed.\nНасос проверяют весной.");
}

#[test]
fn powerpoint_97_gives_a_page_per_slide() {
    let pages = text_of("deck.ppt", &powerpoint_97());
    assert_eq!(pages[0], (Some(1), "Quarterly results\nRevenue grew in Kazan".to_string()));
    assert_eq!(pages[1], (Some(2), "Pump maintenance schedule".to_string()));
}

#[test]
fn an_outlook_message_gives_headers_body_and_attachment_names() {
    let pages = text_of("mail.msg", &outlook_message());
    let text = &pages[0].1;
    for part in [
        "From: Анна Петрова",
        "To: Maintenance team",
        "Subject: Pump inspection",
        "inspected every spring",
        "Регламент",
        "Attachments: schedule.xlsx",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
}

#[test]
fn damaged_or_foreign_compound_files_fail_with_a_reason() {
    for name in ["a.doc", "a.ppt", "a.msg"] {
        let path = Path::new(name);
        let extractor = extractor_for(path).unwrap();
        // Not a compound file, a truncated one, and a compound file of another program.
        let truncated = &word_97("x", "y")[..700];
        let foreign = compound(&[("/Workbook", vec![1, 2, 3])]);
        for bytes in [&b"plain text"[..], truncated, &foreign] {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| extractor.extract(path, bytes)));
            match result {
                Ok(Err(e)) => assert!(!e.to_string().is_empty()),
                Ok(Ok(e)) => panic!("{name}: read {:?} from a file that is not one", e.pages),
                Err(_) => panic!("{name}: panicked"),
            }
        }
    }
}

#[test]
fn the_binary_formats_index_in_a_library() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("report.doc"), word_97("The reactor coolant pump is primed before start-up.\r", ""))
        .unwrap();
    std::fs::write(docs.join("deck.ppt"), powerpoint_97()).unwrap();
    std::fs::write(docs.join("mail.msg"), outlook_message()).unwrap();
    let library = common::open(&tmp.path().join("lib"), common::MINILM);
    let summary = common::index(&library, &[&docs]);
    assert_eq!(summary.indexed, 3, "{summary:?}");
    let hits = library.search("coolant pump primed", folio::SearchMode::Hybrid, 3).unwrap();
    assert!(hits[0].path.ends_with("report.doc"), "{hits:?}");
}
