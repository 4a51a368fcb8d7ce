//! Hostile input: archive bombs in Office and e-book files, absurd nesting, a 1 GiB file, binary
//! files with text names, broken encodings and PDFs, symbolic-link loops, files that vanish,
//! change or turn unreadable in the middle of a run. Each must end in a reported, bounded failure
//! of that file alone, the rest of the folder indexed, and nothing indexed before lost.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::{index, open, store_counts, write_pdf, E5, MINILM};
use folio::index_events::{IndexEvent, IndexSummary};
use folio::search::SearchMode;

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn reason<'a>(list: &'a [(PathBuf, String)], file: &str) -> &'a str {
    list.iter()
        .find(|(p, _)| name(p) == file)
        .map(|(_, r)| r.as_str())
        .unwrap_or_else(|| panic!("{file} not in {list:?}"))
}

/// A ZIP with the given (name, bytes) entries, deflated.
fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for (entry, content) in entries {
        zip.start_file(*entry, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// A DOCX whose document part inflates a thousandfold to `inflated` bytes of XML.
fn docx_bomb(inflated: usize) -> Vec<u8> {
    let mut xml = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>".to_vec();
    xml.resize(inflated, b'a');
    xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
    zip_bytes(&[("word/document.xml", &xml)])
}

fn epub_bomb() -> Vec<u8> {
    let container = b"<container><rootfiles><rootfile full-path=\"OEBPS/content.opf\"/></rootfiles></container>";
    let opf = b"<package><manifest><item id=\"c1\" href=\"c1.xhtml\" media-type=\"application/xhtml+xml\"/></manifest>\
        <spine><itemref idref=\"c1\"/></spine></package>";
    let mut chapter = b"<html><body><p>".to_vec();
    chapter.resize(64 << 20, b' ');
    zip_bytes(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", container),
        ("OEBPS/content.opf", opf),
        ("OEBPS/c1.xhtml", &chapter),
    ])
}

fn xlsx_bomb() -> Vec<u8> {
    let mut sheet = b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>".to_vec();
    sheet.resize(64 << 20, b'0');
    zip_bytes(&[("xl/workbook.xml", b"<workbook/>"), ("xl/worksheets/sheet1.xml", &sheet)])
}

fn epub_of_many_entries(entries: usize) -> Vec<u8> {
    let names: Vec<String> = (0..entries).map(|i| format!("OEBPS/i{i}.xhtml")).collect();
    let list: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"<p>x</p>"[..])).collect();
    zip_bytes(&list)
}

/// Pseudo-random bytes without NULs in the first kilobytes: binary that a NUL check alone misses.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8 | 1
        })
        .collect()
}

/// A PDF whose cross-reference table points nowhere, as a truncated download or a careless
/// editor leaves it.
fn broken_xref_pdf(path: &Path, text: &str) {
    write_pdf(path, &[text], false);
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(9).rposition(|w| w == b"startxref").unwrap();
    bytes.truncate(at);
    bytes.extend_from_slice(b"startxref\n123456789\n%%EOF\n");
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_folder_of_hostile_files_fails_file_by_file() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    // Good files, which must be indexed whatever their neighbours are.
    std::fs::write(docs.join("good.txt"), "Reindeer graze on lichen in winter.").unwrap();
    write_pdf(&docs.join("good.pdf"), &["Icebreakers keep the shipping lane open."], false);
    std::fs::write(
        docs.join("latin1.txt"),
        b"Gr\xf6\xdfe Caf\xe9 na\xefve \xe0 la fran\xe7aise, d\xe9j\xe0 vu. ".repeat(20),
    )
    .unwrap();
    // Cut in the middle of a two-byte character, as a truncated copy leaves it.
    std::fs::write(docs.join("cut.txt"), &"Полярная ночь длится долго".as_bytes()[..48]).unwrap();
    broken_xref_pdf(&docs.join("damaged.pdf"), "Auroras are brightest near the equinoxes.");
    // The tokenizer of the multilingual embedder splits "˜" into overlapping tokens, which once
    // crashed the whole run (gnuplot's manual has it).
    std::fs::write(docs.join("tilde.txt"), "Use ˜a to overprint a tilde on a; ¨o and ´e work alike. ".repeat(30))
        .unwrap();
    // Hostile files.
    std::fs::write(docs.join("bomb.docx"), docx_bomb(64 << 20)).unwrap();
    std::fs::write(docs.join("bomb.epub"), epub_bomb()).unwrap();
    std::fs::write(docs.join("bomb.xlsx"), xlsx_bomb()).unwrap();
    std::fs::write(docs.join("many.epub"), epub_of_many_entries(25_000)).unwrap();
    let deep = "<w:document><w:body>".to_string() + &"<w:tbl><w:tr><w:tc>".repeat(40_000);
    std::fs::write(docs.join("deep.docx"), zip_bytes(&[("word/document.xml", deep.as_bytes())])).unwrap();
    std::fs::write(docs.join("deep.html"), "<div>".repeat(500_000) + "deep inside" + &"</div>".repeat(500_000))
        .unwrap();
    std::fs::write(docs.join("deep.rtf"), "{\\rtf1 ".to_string() + &"{".repeat(200_000) + "x").unwrap();
    std::fs::write(docs.join("binary.txt"), noise(64 << 10)).unwrap();
    std::fs::write(docs.join("nul.md"), b"# Title\n\0\0\0binary").unwrap();
    std::fs::write(docs.join("fake.docx"), b"PK\x03\x04 not really a zip").unwrap();
    std::fs::write(docs.join("fake.pdf"), b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nnothing else").unwrap();
    let huge = std::fs::File::create(docs.join("huge.txt")).unwrap();
    huge.set_len(1 << 30).unwrap(); // 1 GiB, sparse: costs no disk
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(".", docs.join("loop")).unwrap();
        std::os::unix::fs::symlink(docs.join("b.txt"), docs.join("a.txt")).unwrap();
        std::os::unix::fs::symlink(docs.join("a.txt"), docs.join("b.txt")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/target.pdf", docs.join("dangling.pdf")).unwrap();
    }

    let library = open(&tmp.path().join("lib"), E5);
    let started = Instant::now();
    let summary = index(&library, &[&docs]);
    let elapsed = started.elapsed();
    println!("{elapsed:?} {summary:#?}");
    let folder = &library.folders().unwrap()[0];
    let files = library.files(folder).unwrap();
    let mut indexed: Vec<&str> = files
        .iter()
        .filter(|f| f.status == folio::store::catalog::FileStatus::Indexed)
        .map(|f| name(&f.path))
        .collect();
    indexed.sort();
    assert_eq!(
        indexed,
        ["cut.txt", "damaged.pdf", "deep.html", "good.pdf", "good.txt", "latin1.txt", "tilde.txt"],
        "{summary:#?}"
    );
    let failed = &summary.failed;
    for bomb in ["bomb.docx", "bomb.epub", "bomb.xlsx"] {
        assert!(reason(failed, bomb).contains("archive bomb"), "{bomb}: {}", reason(failed, bomb));
    }
    assert!(reason(failed, "many.epub").contains("25000 entries"), "{}", reason(failed, "many.epub"));
    assert!(reason(failed, "deep.docx").contains("nested deeper"), "{}", reason(failed, "deep.docx"));
    assert!(reason(failed, "binary.txt").contains("binary"), "{}", reason(failed, "binary.txt"));
    assert!(reason(failed, "nul.md").contains("binary"), "{}", reason(failed, "nul.md"));
    assert!(reason(failed, "fake.docx").contains("DOCX"), "{}", reason(failed, "fake.docx"));
    assert!(reason(failed, "fake.pdf").contains("PDF"), "{}", reason(failed, "fake.pdf"));
    assert!(reason(&summary.skipped, "huge.txt").contains("larger than"), "{summary:?}");
    // RTF nested past its limit is read up to there (here: nothing).
    assert!(reason(failed, "deep.rtf").contains("no text"), "{}", reason(failed, "deep.rtf"));
    assert_eq!(name(&library.search("deep inside", SearchMode::Bm25, 1).unwrap()[0].path), "deep.html");
    // Links are not followed: loops cannot trap the walk, and the targets are not indexed twice.
    assert!(!summary.failed.iter().chain(&summary.skipped).any(|(p, _)| matches!(name(p), "a.txt" | "b.txt" | "loop")));
    assert!(elapsed < Duration::from_secs(300), "took {elapsed:?}");

    // Damage that could be repaired or decoded is reported with the file, which stays indexed.
    let note =
        |file: &str| files.iter().find(|f| name(&f.path) == file).and_then(|f| f.reason.clone()).unwrap_or_default();
    assert!(note("damaged.pdf").contains("rebuilt"), "{}", note("damaged.pdf"));
    assert!(note("cut.txt").contains("invalid UTF-8"), "{}", note("cut.txt"));
    let hits = library.search("auroras equinoxes", SearchMode::Bm25, 1).unwrap();
    assert_eq!(name(&hits[0].path), "damaged.pdf");
    let hits = library.search("café naïve française", SearchMode::Bm25, 1).unwrap();
    assert_eq!(name(&hits[0].path), "latin1.txt");
}

/// Runs an indexing with a hook called once the folder is planned (files found, not yet read).
fn index_with_hook(library: &folio::Library, docs: &Path, hook: impl Fn() + Sync) -> IndexSummary {
    let planned = |event: IndexEvent| {
        if let IndexEvent::Planned { .. } = event {
            hook();
        }
    };
    library.index(&[docs.to_path_buf()], &planned, &AtomicBool::new(false)).expect("indexing runs")
}

#[test]
fn files_that_vanish_change_or_become_unreadable_mid_run() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("stays.txt"), "Walruses haul out on the ice floes.").unwrap();
    std::fs::write(docs.join("vanishes.txt"), "This file is deleted after it was found.").unwrap();
    std::fs::write(docs.join("changes.txt"), "The first version mentions narwhals.").unwrap();
    std::fs::write(docs.join("unreadable.txt"), "This file turns into something that cannot be read.").unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    let summary = index_with_hook(&library, &docs, || {
        std::fs::remove_file(docs.join("vanishes.txt")).unwrap();
        std::fs::write(docs.join("changes.txt"), "The second version mentions belugas instead, at greater length.")
            .unwrap();
        // Tests run as root, where permissions do not stop reading: a directory in the file's
        // place fails the read just as EACCES would.
        std::fs::remove_file(docs.join("unreadable.txt")).unwrap();
        std::fs::create_dir(docs.join("unreadable.txt")).unwrap();
    });
    assert_eq!(summary.indexed, 2, "{summary:?}");
    assert!(reason(&summary.failed, "vanishes.txt").contains("cannot read it"), "{summary:?}");
    assert!(reason(&summary.failed, "unreadable.txt").contains("cannot read it"), "{summary:?}");
    // What was read is the new content; its size and time on record are the old ones, so the
    // next run looks at the file again.
    assert_eq!(name(&library.search("belugas", SearchMode::Bm25, 1).unwrap()[0].path), "changes.txt");
    let again = index(&library, &[&docs]);
    assert_eq!(again.failed.len(), 0, "{again:?}");
    assert_eq!(again.removed, 2, "{again:?}");
    assert!(library.search("narwhals", SearchMode::Bm25, 5).unwrap().is_empty());

    #[cfg(unix)]
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        let locked = docs.join("locked.txt");
        std::fs::write(&locked, "Nobody may read this.").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let third = index(&library, &[&docs]);
        let why =
            third.failed.iter().chain(&third.skipped).find(|(p, _)| name(p) == "locked.txt").map(|(_, r)| r.clone());
        assert!(why.is_some_and(|r| r.contains("ermission")), "{third:?}");
    }
}

#[test]
fn nothing_indexed_is_lost_when_files_turn_hostile() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let docx = zip_bytes(&[("word/document.xml", b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>Seals sleep in the water.</w:t></w:r></w:p></w:body></w:document>")]);
    std::fs::write(docs.join("seals.docx"), docx).unwrap();
    write_pdf(&docs.join("puffins.pdf"), &["Puffins nest in burrows on cliffs."], false);
    std::fs::write(docs.join("terns.txt"), "Arctic terns migrate from pole to pole.").unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    assert_eq!(index(&library, &[&docs]).indexed, 3);
    let before = store_counts(&library);

    // The same files, now a bomb, a damaged PDF and binary garbage.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(docs.join("seals.docx"), docx_bomb(64 << 20)).unwrap();
    std::fs::write(docs.join("puffins.pdf"), b"%PDF-1.4\ngarbage").unwrap();
    std::fs::write(docs.join("terns.txt"), noise(10_000)).unwrap();
    let summary = index(&library, &[&docs]);
    assert_eq!((summary.indexed, summary.failed.len()), (0, 3), "{summary:?}");
    let folder = &library.folders().unwrap()[0];
    for file in library.files(folder).unwrap() {
        let why = file.reason.unwrap_or_default();
        assert!(why.contains("previously indexed version stays searchable"), "{}: {why}", name(&file.path));
    }
    assert_eq!(store_counts(&library), before);
    for (query, file) in
        [("seals sleep water", "seals.docx"), ("puffins burrows", "puffins.pdf"), ("terns migrate", "terns.txt")]
    {
        assert_eq!(name(&library.search(query, SearchMode::Bm25, 1).unwrap()[0].path), file);
    }
}

#[test]
fn a_pdf_page_pdf_extract_cannot_read_is_read_by_the_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("poison.pdf");
    write_pdf(&path, &["Readable by the second reader.", "Another page of plain words."], true);
    let bytes = std::fs::read(&path).unwrap();
    let extractor = folio::ingest::extract::extractor_for(&path).unwrap();
    match extractor.extract(&path, &bytes) {
        Ok(ex) => {
            assert!(ex.pages[0].text.contains("Readable by the second reader"), "{ex:?}");
            assert!(ex.warnings.iter().any(|w| w.contains("fallback reader")), "{ex:?}");
        }
        // lopdf cannot read that font either: then the failure still names pdf-extract's panic.
        Err(e) => assert!(e.to_string().contains("panicked"), "{e}"),
    }
}

#[test]
fn japanese_text_longer_than_a_slice_is_indexed_with_the_rest() {
    // Once the whole run ended here: a page over 64 KiB is cut into slices, and the cut fell inside
    // a three-byte character ("byte index … is not a char boundary; it is inside 'て'").
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let japanese: String = (0..650)
        .map(|i| format!("第{i}段落。富士山は日本で最も高い山で、標高は三千七百七十六メートルです。"))
        .collect();
    assert!(japanese.len() > 64 * 1024);
    std::fs::write(docs.join("fuji.txt"), &japanese).unwrap();
    std::fs::write(
        docs.join("manual.html"),
        "<html><body><h1>使い方</h1><p>このマニュアルではインストールの手順を説明します。</p></body></html>",
    )
    .unwrap();
    std::fs::write(docs.join("english.txt"), "Mount Fuji is the highest mountain in Japan.").unwrap();
    let library = open(&tmp.path().join("lib"), E5);
    let summary = index(&library, &[&docs]);
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!(summary.indexed, 3);
    let hits = library.search("マニュアルではインストールの手順", SearchMode::Dense, 1).unwrap();
    assert_eq!(hits.first().map(|h| name(&h.path)), Some("manual.html"));
}
