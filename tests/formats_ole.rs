//! The binary Office formats people still keep: Word 97–2003 (.doc), PowerPoint 97–2003 (.ppt)
//! and Outlook messages (.msg). The tests write real OLE compound files with the streams those
//! programs write, then read them through the extractors and through a library in worker
//! processes.

mod common;

use std::io::{Cursor, Write};
use std::path::Path;

use folio::ingest::extract::extractor_for;

fn compound(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for (path, bytes) in streams {
        let parent = Path::new(path).parent().unwrap();
        if parent != Path::new("/") && !file.exists(parent) {
            file.create_storage_all(parent).unwrap();
        }
        file.create_stream(path).unwrap().write_all(bytes).unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A Word 97 document: its File Information Block, the text in the WordDocument stream as two
/// pieces (one 8-bit "compressed", one UTF-16), and the piece table in the 1Table stream.
fn word_97(first: &str, second: &str) -> Vec<u8> {
    let (text_at, second_at) = (0x800usize, 0xA00usize);
    let mut word = vec![0u8; second_at + second.encode_utf16().count() * 2];
    put_u16(&mut word, 0, 0xA5EC); // wIdent
    put_u16(&mut word, 2, 0x00C1); // nFib: Word 97
    put_u16(&mut word, 0x0A, 0x0200); // fWhichTblStm: 1Table
    put_u16(&mut word, 32, 14); // csw
    put_u16(&mut word, 62, 22); // cslw
    let chars = first.len() + second.encode_utf16().count();
    put_u32(&mut word, 64 + 12, chars as u32); // ccpText
    put_u16(&mut word, 152, 93); // cbRgFcLcb
    word[text_at..text_at + first.len()].copy_from_slice(first.as_bytes());
    let wide = utf16(second);
    word[second_at..second_at + wide.len()].copy_from_slice(&wide);
    // Clx: a Pcdt with two pieces.
    let mut plc = Vec::new();
    for cp in [0, first.len(), chars] {
        plc.extend((cp as u32).to_le_bytes());
    }
    for fc in [((text_at * 2) as u32) | 0x4000_0000, second_at as u32] {
        plc.extend([0u8, 0]);
        plc.extend(fc.to_le_bytes());
        plc.extend([0u8, 0]);
    }
    let mut clx = vec![0x02];
    clx.extend((plc.len() as u32).to_le_bytes());
    clx.extend(plc);
    let fc_clx = 16usize;
    let mut table = vec![0u8; fc_clx];
    table.extend(&clx);
    put_u32(&mut word, 0x1A2, fc_clx as u32);
    put_u32(&mut word, 0x1A6, clx.len() as u32);
    compound(&[("/WordDocument", word), ("/1Table", table)])
}

fn record(kind: u16, ver_inst: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(ver_inst.to_le_bytes());
    out.extend(kind.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// A PowerPoint 97 presentation: a document container whose slide list holds two slides' outline
/// text (one UTF-16, one 8-bit), and a slide whose drawing holds a text box.
fn powerpoint_97() -> Vec<u8> {
    let persist = record(0x03F3, 0, &[0u8; 20]);
    let mut list = Vec::new();
    list.extend(&persist);
    list.extend(record(0x0FA0, 0, &utf16("Quarterly results")));
    list.extend(&persist);
    list.extend(record(0x0FA8, 0, b"Pump maintenance schedule"));
    let mut document = record(0x0FF0, 0x000F, &list);
    let textbox = record(0xF00D, 0x000F, &record(0x0FA0, 0, &utf16("Revenue grew in Kazan")));
    document.extend(record(0x03EE, 0x000F, &textbox));
    let stream = record(0x03E8, 0x000F, &document);
    compound(&[("/PowerPoint Document", stream)])
}

fn outlook_message() -> Vec<u8> {
    compound(&[
        ("/__substg1.0_0037001F", utf16("Pump inspection")),
        ("/__substg1.0_0C1A001F", utf16("Анна Петрова")),
        ("/__substg1.0_0E04001F", utf16("Maintenance team")),
        ("/__substg1.0_1000001F", utf16("The coolant pump is inspected every spring.\r\nРегламент в приложении.")),
        ("/__attach_version1.0_#00000000/__substg1.0_3707001F", utf16("schedule.xlsx")),
    ])
}

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
