//! Indexing folders and searching them, end to end on real models and real files.

mod common;

use std::path::Path;

use common::*;
use folio::SearchMode;

fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

#[test]
fn pdf_pages_survive_into_search_results() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write_pdf(
        &docs.join("manual.pdf"),
        &[
            "Chapter one is about installing the garden irrigation pump.",
            "The pressure valve of the pump must be cleaned every spring\nwith warm water and a soft brush.",
            "Warranty terms: the manufacturer replaces broken parts for two years.",
        ],
        false,
    );
    std::fs::write(docs.join("notes.md"), "# Notes\n\nThe cat sleeps on the **red** sofa all afternoon.\n").unwrap();
    std::fs::write(
        docs.join("page.html"),
        "<html><head><script>var hidden='zebra';</script></head><body><p>Volcanoes erupt molten lava.</p></body></html>",
    )
    .unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    let summary = index(&library, &[&docs]);
    assert_eq!(summary.indexed, 3, "{summary:?}");
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);

    let hits = library.search("how often should the pressure valve be cleaned", SearchMode::Hybrid, 3).unwrap();
    assert_eq!(file_name(&hits[0].path), "manual.pdf");
    assert_eq!(hits[0].page, Some(2), "{hits:?}");
    assert!(hits[0].text.contains("pressure valve"));

    let hits = library.search("warranty for broken parts", SearchMode::Bm25, 1).unwrap();
    assert_eq!(hits[0].page, Some(3));
    let hits = library.search("where does the cat sleep", SearchMode::Dense, 1).unwrap();
    assert_eq!(file_name(&hits[0].path), "notes.md");
    assert_eq!(hits[0].page, None);
    // Script content is not text.
    assert!(library.search("zebra", SearchMode::Bm25, 5).unwrap().is_empty());
}

#[test]
fn changes_and_deletions_reach_all_three_stores() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "Penguins live in Antarctica and eat krill.").unwrap();
    std::fs::write(docs.join("b.txt"), "The Eiffel tower is made of wrought iron.").unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    assert_eq!(index(&library, &[&docs]).indexed, 2);

    // Unchanged files are not read again.
    let again = index(&library, &[&docs]);
    assert_eq!((again.indexed, again.unchanged), (0, 2));

    std::fs::write(docs.join("a.txt"), "Kangaroos live in Australia and eat grass.").unwrap();
    std::fs::remove_file(docs.join("b.txt")).unwrap();
    std::fs::write(docs.join("c.txt"), "Saturn has rings of ice and rock.").unwrap();
    let summary = index(&library, &[&docs]);
    assert_eq!((summary.indexed, summary.removed, summary.unchanged), (2, 1, 0), "{summary:?}");

    assert!(library.search("krill", SearchMode::Bm25, 5).unwrap().is_empty());
    assert!(library.search("Eiffel", SearchMode::Bm25, 5).unwrap().is_empty());
    assert_eq!(file_name(&library.search("kangaroos", SearchMode::Bm25, 1).unwrap()[0].path), "a.txt");
    let dense = library.search("iron tower in Paris", SearchMode::Dense, 5).unwrap();
    assert!(dense.iter().all(|h| file_name(&h.path) != "b.txt"), "deleted file still found: {dense:?}");
    let (catalog, keyword, vectors) = store_counts(&library);
    assert_eq!((catalog, keyword, vectors as u64), (2, 2, 2));

    // A touched file with the same content is recognised by its hash.
    let content = std::fs::read(docs.join("c.txt")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(docs.join("c.txt"), content).unwrap();
    let touched = index(&library, &[&docs]);
    assert_eq!((touched.indexed, touched.unchanged), (0, 2), "{touched:?}");

    // Removing the folder empties everything.
    library.remove_folder(&docs).unwrap();
    assert_eq!(store_counts(&library), (0, 0, 0));
}

/// A long Markdown file of distinct paragraphs, the `edited` one with a sentence more.
fn long_notes(edited: Option<usize>) -> String {
    const THINGS: &[&str] = &["lighthouse", "orchard", "glacier", "tram", "violin", "harbour", "meadow", "kiln"];
    const DEEDS: &[&str] =
        &["was repaired", "was painted", "was measured", "was sold", "was moved", "was photographed"];
    (0..80)
        .map(|i| {
            let mut paragraph: String = (0..6)
                .map(|j| {
                    let (thing, deed) = (THINGS[(i * 7 + j) % THINGS.len()], DEEDS[(i + j * 5) % DEEDS.len()]);
                    format!(
                        "In year {} of the record, the {thing} number {} {deed} by crew {}. ",
                        1800 + i,
                        i * 10 + j,
                        j + 1
                    )
                })
                .collect();
            if edited == Some(i) {
                paragraph.push_str("A xylophone was found in the attic that winter. ");
            }
            format!("## Entry {i}\n\n{paragraph}\n\n")
        })
        .collect()
}

#[test]
fn an_edited_file_re_embeds_only_its_changed_passages() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let notes = docs.join("notes.md");
    std::fs::write(&notes, long_notes(None)).unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    let first = index(&library, &[&docs]);
    assert!(first.chunks >= 20 && first.reused == 0, "{first:?}");

    std::fs::write(&notes, long_notes(Some(40))).unwrap();
    let edited = index(&library, &[&docs]);
    assert_eq!(edited.indexed, 1, "{edited:?}");
    let embedded = edited.chunks - edited.reused;
    assert!((1..=4).contains(&embedded), "{embedded} of {} passages embedded again", edited.chunks);

    // The new sentence is found, and every stored vector, kept or new, is its own text's.
    let hit = &library.search("xylophone in the attic", SearchMode::Dense, 1).unwrap()[0];
    assert!(hit.text.contains("xylophone"), "{hit:?}");
    let file = library.catalog().file_by_path(&std::fs::canonicalize(&notes).unwrap()).unwrap().unwrap();
    let chunks = library.catalog().chunks_of_file(file.id).unwrap();
    let ids: Vec<i64> = chunks.iter().map(|c| c.id).collect();
    let stored = library.catalog().vectors(&ids).unwrap();
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    let fresh = library.embedder().embed_passages(&texts).unwrap();
    for ((chunk, (_, kept)), fresh) in chunks.iter().zip(&stored).zip(&fresh) {
        let cosine: f32 = kept.iter().zip(fresh).map(|(a, b)| a * b).sum();
        assert!(cosine > 0.999, "chunk {} holds another text's vector ({cosine})", chunk.ord);
    }
}

#[test]
fn short_files_are_searchable_before_a_long_one_is_through() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    // Found first, and several embedding batches long.
    std::fs::write(docs.join("a-long.md"), long_notes(None).repeat(3)).unwrap();
    for (name, text) in
        [("b.txt", "Penguins eat krill."), ("c.txt", "Saturn has rings."), ("d.txt", "Tea grows on hills.")]
    {
        std::fs::write(docs.join(name), text).unwrap();
    }
    let library = open(&tmp.path().join("lib"), MINILM);
    let settled = std::sync::Mutex::new(Vec::new());
    let on_event = |event: folio::index_events::IndexEvent| {
        if let folio::index_events::IndexEvent::File { path, .. } = event {
            settled.lock().unwrap().push(file_name(&path).to_string());
        }
    };
    let summary =
        library.index(std::slice::from_ref(&docs), &on_event, &std::sync::atomic::AtomicBool::new(false)).unwrap();
    let settled = settled.into_inner().unwrap();
    assert_eq!(settled.len(), 4, "{settled:?}");
    assert_eq!(settled.last().map(String::as_str), Some("a-long.md"), "{settled:?}");
    let first = summary.first_searchable.expect("files were indexed");
    assert!(first < summary.elapsed, "{summary:?}");
    assert!(summary.cpu_utilisation > 0.0 && summary.cpu_utilisation <= 1.0, "{summary:?}");
}

#[test]
fn russian_inflected_query_finds_its_document() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("koshki.txt"), "Кошки любят спать на мягких диванах после обеда.").unwrap();
    std::fs::write(docs.join("poezda.txt"), "Поезда из Москвы в Петербург отправляются каждый час.").unwrap();
    std::fs::write(docs.join("english.txt"), "Trains leave for the coast every morning.").unwrap();
    let library = open(&tmp.path().join("lib"), E5);
    assert_eq!(index(&library, &[&docs]).indexed, 3);

    // "диван" and "кошка" appear only in inflected forms in the document.
    let hits = library.search("кошка на диване", SearchMode::Bm25, 3).unwrap();
    assert_eq!(file_name(&hits[0].path), "koshki.txt", "{hits:?}");
    let hits = library.search("поезд из Москвы", SearchMode::Bm25, 3).unwrap();
    assert_eq!(file_name(&hits[0].path), "poezda.txt");
    // Across languages the multilingual embedder does the work.
    let hits = library.search("когда уходят поезда к морю?", SearchMode::Dense, 3).unwrap();
    assert!(hits.iter().take(2).any(|h| file_name(&h.path) == "english.txt"), "{hits:?}");
}

#[test]
fn a_pdf_that_panics_the_parser_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write_pdf(&docs.join("good.pdf"), &["Lighthouses guide ships along rocky coasts."], false);
    write_pdf(&docs.join("poison.pdf"), &["This text sits behind a font pdf-extract chokes on."], true);
    std::fs::write(docs.join("plain.txt"), "Honey bees communicate by dancing.").unwrap();
    std::fs::write(docs.join("fake.pdf"), "this is not a PDF at all").unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    let summary = index(&library, &[&docs]);
    // pdf-extract panics on poison.pdf's page; the fallback reader reads it instead.
    assert_eq!(summary.indexed, 3, "{summary:?}");
    let failed: Vec<(&str, &str)> = summary.failed.iter().map(|(p, r)| (file_name(p), r.as_str())).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed.iter().any(|(n, r)| *n == "fake.pdf" && r.contains("PDF")), "{failed:?}");
    assert_eq!(file_name(&library.search("lighthouses", SearchMode::Bm25, 1).unwrap()[0].path), "good.pdf");
    assert_eq!(file_name(&library.search("font chokes", SearchMode::Bm25, 1).unwrap()[0].path), "poison.pdf");

    // The failure is remembered with its reason and not retried while the file is unchanged; the
    // poison PDF's status says which reader read it.
    let again = index(&library, &[&docs]);
    assert_eq!((again.indexed, again.unchanged, again.failed.len()), (0, 4, 0), "{again:?}");
    let folder = &library.folders().unwrap()[0];
    let poison_row = library.files(folder).unwrap().into_iter().find(|f| file_name(&f.path) == "poison.pdf").unwrap();
    assert!(poison_row.reason.unwrap().contains("fallback reader"));
}

#[test]
fn slow_and_memory_hungry_extractions_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("small.txt"), "Small files are quick to read.").unwrap();
    let big: String = "a line of text that repeats\n".repeat(2_000_000);
    std::fs::write(docs.join("big.txt"), &big).unwrap();

    // A time limit the big file cannot meet.
    let mut options = options(MINILM);
    options.limits.timeout_base = std::time::Duration::from_millis(300);
    options.limits.timeout_per_mib = std::time::Duration::ZERO;
    let library = folio::Library::open(&tmp.path().join("lib-time"), options).unwrap();
    let summary = index(&library, &[&docs]);
    assert_eq!(summary.indexed, 1, "{summary:?}");
    assert!(summary.failed[0].1.contains("longer than"), "{:?}", summary.failed);
    drop(library);

    // A memory limit the big file cannot meet.
    let mut options = common::options(MINILM);
    options.limits.worker_memory_bytes = 160 << 20;
    let library = folio::Library::open(&tmp.path().join("lib-memory"), options).unwrap();
    let summary = index(&library, &[&docs]);
    assert_eq!(summary.indexed, 1, "{summary:?}");
    assert!(summary.failed[0].1.contains("memory"), "{:?}", summary.failed);
}

#[test]
fn the_scale_benchmark_builds_a_library_it_can_search() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("scale");
    // The bundled sample documents' paragraphs.
    let sample = folio::embed::bench::sample_passages(&[], 60).unwrap();
    let built = folio::library::scale::build(&dir, options(MINILM), 2500, &sample, 20).unwrap();
    assert_eq!((built.passages, built.seed_passages), (2500, sample.len()));
    assert!(built.disk_mib > 1.0, "{built:?}");
    let measured = folio::library::scale::measure(&dir, options(MINILM)).unwrap();
    assert_eq!(measured.queries, 20);
    assert!(measured.recall_at_10 >= 0.9 && measured.search_p95_ms > 0.0, "{measured:?}");
    // The measurement indexed one small file more, as an edit would.
    assert!(measured.add_file_s > 0.0);
    assert_eq!(store_counts(&open(&dir, MINILM)), (2501, 2501, 2501));
    // A folder that already holds a library is refused, not mixed into.
    assert!(folio::library::scale::build(&dir, options(MINILM), 10, &sample, 1).is_err());
}

/// Asking within a folder or a document filters both indexes before ranking: a small folder
/// inside the library gets its own best passages, a sibling whose name merely begins the same is
/// not part of it, and a path the library does not hold is an error.
#[test]
fn a_search_within_a_folder_ranks_that_folder_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("plant");
    let small = tmp.path().join("garden");
    let sibling = tmp.path().join("garden-shed");
    for dir in [&big, &small, &sibling] {
        std::fs::create_dir(dir).unwrap();
    }
    for i in 0..6 {
        std::fs::write(
            big.join(format!("pump-{i}.md")),
            format!(
                "# Pump maintenance {i}\n\nThe coolant pump maintenance schedule: inspect pump {i} seals monthly.\n"
            ),
        )
        .unwrap();
    }
    std::fs::write(small.join("beds.md"), "# Beds\n\nTomatoes grow in the south bed.\n").unwrap();
    std::fs::write(small.join("water.md"), "# Watering\n\nThe garden water pump is checked before summer.\n").unwrap();
    std::fs::write(sibling.join("tools.md"), "# Tools\n\nThe shed holds a spare pump for the pond.\n").unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    index(&library, &[&big, &small, &sibling]);

    let query = "pump maintenance schedule";
    let everywhere = library.search(query, SearchMode::Hybrid, 3).unwrap();
    assert!(everywhere.iter().all(|h| h.path.starts_with(&big)), "the big folder outranks the rest");

    let scope = library.scope(std::slice::from_ref(&small)).unwrap();
    for mode in [SearchMode::Hybrid, SearchMode::Bm25, SearchMode::Dense] {
        let hits = library.search_in(query, mode, 3, Some(&scope)).unwrap();
        assert!(!hits.is_empty() && hits.iter().all(|h| h.path.starts_with(&small)), "{mode:?}: {hits:?}");
        assert_eq!(file_name(&hits[0].path), "water.md", "{mode:?}");
    }
    let one_file = library.scope(&[small.join("beds.md")]).unwrap();
    let hits = library.search_in(query, SearchMode::Hybrid, 3, Some(&one_file)).unwrap();
    assert!(hits.iter().all(|h| file_name(&h.path) == "beds.md"), "{hits:?}");
    assert!(library.scope(&[tmp.path().join("nowhere")]).is_err());
    assert!(library.scope(&[std::path::PathBuf::from("garden")]).is_err(), "a relative path");
}
