//! Shared fixtures of the engine's integration tests: libraries over real models, documents the
//! tests write themselves (PDFs with known text on known pages among them).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use folio::index_events::IndexSummary;
use folio::ingest::worker::{Isolation, WorkerCommand};
use folio::{Library, LibraryOptions};
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};

pub const MINILM: &str = "all-minilm-l6-v2";
pub const E5: &str = "multilingual-e5-small";

/// Options for a test library: real models, extraction in real worker processes (the `folio`
/// binary Cargo built for this test run).
pub fn options(embedder: &str) -> LibraryOptions {
    let models = folio::models::models_dir();
    assert!(
        models.join(embedder).join("model.safetensors").is_file(),
        "model {embedder} is not in {}; run scripts/fetch-models first (the README's test command does)",
        models.display()
    );
    LibraryOptions {
        embedder: Some(embedder.to_string()),
        isolation: Isolation::Process(WorkerCommand::program(env!("CARGO_BIN_EXE_folio"))),
        ..LibraryOptions::default()
    }
}

pub fn open(dir: &Path, embedder: &str) -> Library {
    Library::open(dir, options(embedder)).expect("library opens")
}

pub fn index(library: &Library, paths: &[&Path]) -> IndexSummary {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    library.index(&paths, &|_| {}, &AtomicBool::new(false)).expect("indexing runs")
}

/// Writes a PDF with one page per string, in Helvetica, lines broken at '\n'. With
/// `broken_unicode_map`, the font carries a ToUnicode entry pdf-extract cannot handle (it panics).
pub fn write_pdf(path: &Path, pages: &[&str], broken_unicode_map: bool) {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut font = dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    };
    if broken_unicode_map {
        font.set("ToUnicode", Object::Name(b"NoSuchMap".to_vec()));
    }
    let font_id = doc.add_object(font);
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for text in pages {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("TL", vec![16.into()]),
            Operation::new("Td", vec![72.into(), 720.into()]),
        ];
        for line in text.lines() {
            operations.push(Operation::new("Tj", vec![Object::string_literal(line)]));
            operations.push(Operation::new("T*", vec![]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.save(path).unwrap();
}

/// Chunk counts the three stores hold: catalog, keyword index, live vectors.
pub fn store_counts(library: &Library) -> (u64, u64, usize) {
    let status = library.status().unwrap();
    (status.catalog.chunks, status.keyword_docs, status.vector_points)
}
pub mod tiny_gguf;
