//! A smoke fuzzer that runs with the tests: every extractor gets mutated versions of real sample
//! files (bit flips, interesting bytes, inserted syntax tokens, deleted, duplicated and repeated
//! ranges, truncation; for ZIP-based formats the XML inside is mutated and the archive rebuilt, so
//! the mutations reach the XML readers instead of stopping at a broken ZIP). An input must not
//! panic the extractor or take longer than `SLOW`.
//!
//! Deterministic: the same seed and iteration count give the same inputs, so a failure repeats.
//! `FOLIO_FUZZ_ITERATIONS` (default 150 per format) and `FOLIO_FUZZ_SEED` change them;
//! `scripts/fuzz` runs it for longer, next to the coverage-guided targets in `fuzz/`. A failing
//! input is saved (its path is printed) and then belongs in `regressions` below.

mod common;
mod formats_samples;

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use folio::ingest::chunk::{chunk_pages, Chunk, ChunkSizes, TokenSpans};
use folio::ingest::extract::{extractor_for, Extraction};

/// Longer than this for one small input is a hang.
const SLOW: Duration = Duration::from_secs(10);
/// An input still running after this is stuck for good: the watchdog saves it and ends the run.
const STUCK: Duration = Duration::from_secs(60);

/// The input being extracted and since when, for the watchdog.
static CURRENT: Mutex<Option<(Instant, String, Vec<u8>)>> = Mutex::new(None);

fn start_watchdog() {
    std::thread::spawn(|| loop {
        std::thread::sleep(Duration::from_secs(1));
        let current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((started, file, input)) = current.as_ref() {
            if started.elapsed() > STUCK {
                let saved = save(file, 0, input);
                eprintln!("{file}: an input is stuck after {STUCK:?}; saved to {}", saved.display());
                std::process::exit(1);
            }
        }
    });
}

struct Target {
    /// A file name whose extension picks the extractor.
    file: &'static str,
    seeds: Vec<Vec<u8>>,
}

fn targets() -> Vec<Target> {
    let tmp = tempfile::tempdir().unwrap();
    let written = |name: &str, write: &dyn Fn(&Path)| {
        let path = tmp.path().join(name);
        write(&path);
        std::fs::read(path).unwrap()
    };
    let pdf =
        written("a.pdf", &|p| common::write_pdf(p, &["First page of text", "Second page\nwith two lines"], false));
    let poison_pdf = written("b.pdf", &|p| common::write_pdf(p, &["Behind a broken font"], true));
    vec![
        Target { file: "x.pdf", seeds: vec![pdf, poison_pdf] },
        Target { file: "x.docx", seeds: vec![written("a.docx", &formats_samples::write_docx)] },
        Target { file: "x.pptx", seeds: vec![written("a.pptx", &formats_samples::write_pptx)] },
        Target { file: "x.xlsx", seeds: vec![written("a.xlsx", &formats_samples::write_xlsx)] },
        Target { file: "x.ods", seeds: vec![written("a.ods", &formats_samples::write_ods)] },
        Target { file: "x.odt", seeds: vec![written("a.odt", &formats_samples::write_odt)] },
        Target { file: "x.epub", seeds: vec![written("a.epub", &formats_samples::write_epub)] },
        Target { file: "x.rtf", seeds: vec![formats_samples::RTF.as_bytes().to_vec()] },
        Target { file: "x.doc", seeds: vec![formats_samples::ole::word_97("The pump is primed.\r", "Насос.")] },
        Target { file: "x.ppt", seeds: vec![formats_samples::ole::powerpoint_97()] },
        Target { file: "x.msg", seeds: vec![formats_samples::ole::outlook_message()] },
        Target { file: "x.eml", seeds: vec![formats_samples::EML.as_bytes().to_vec()] },
        Target { file: "x.csv", seeds: vec![b"name,\"role, rank\"\nNemo,\"cap\"\"tain\"\n1;2;3\n".to_vec()] },
        Target {
            file: "x.html",
            seeds: vec![b"<html><head><title>T</title><script>x<y</script></head><body><ul><li>a<li>b</ul><pre>p</pre><img alt=z></body></html>".to_vec()],
        },
        Target { file: "x.md", seeds: vec![b"# T\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n".to_vec()] },
        Target { file: "x.txt", seeds: vec!["Привет, мир! Hello\r\n\u{feff}tab\there".as_bytes().to_vec()] },
    ]
}

/// Syntax fragments of the formats under test: mutations that insert them reach deeper than
/// random bytes do.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"<w:p>",
    b"<w:t>",
    b"<a:t>",
    b"<text:p>",
    b"<table:table-cell table:number-columns-repeated=\"99999999\">",
    b"<table:table-row table:number-rows-repeated=\"4294967295\">",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&bogus;",
    b"<![CDATA[",
    b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    b"\"",
    b"'",
    b"{",
    b"}",
    b"\\",
    b"\\u-1",
    b"\\u99999",
    b"\\'ff",
    b"\\bin999999999",
    b"\\uc9",
    b"{\\*",
    b"\\ansicpg65001",
    b"\\fcharset204",
    b"--",
    b"\r\n\r\n",
    b"Content-Type: multipart/mixed; boundary=z\r\n",
    b"--z\r\n",
    b"=?utf-8?B?",
    b"?=",
    b"=\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"obj",
    b"endobj",
    b"stream\n",
    b"endstream",
    b"<<",
    b">>",
    b"/Type /Page",
    b"/Kids [",
    b"R",
    b" 0 R",
    b"xref",
    b"trailer",
    b"startxref",
    b"BT",
    b"ET",
    b"Tj",
    b"TJ",
    b"[(",
    b")]",
    b"/F1 99999 Tf",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3",
    b"\xe2\x80",
    b"\0",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate_bytes(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(8) {
            0 if len > 0 => data[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => {
                data[at.min(len - 1)] =
                    [0u8, 0xff, b'<', b'>', b'{', b'}', b'\\', b'"', b'&', b'/', b'\n', b'0'][rng.below(12)]
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            3 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                data.drain(at.min(len)..end);
            }
            4 if len > 0 => {
                let from = rng.below(len);
                let end = (from + 1 + rng.below(256)).min(len);
                let copy = data[from..end].to_vec();
                data.splice(at..at, copy);
            }
            5 => data.truncate(at),
            6 if len > 0 => {
                // A short slice repeated many times: nesting and repetition bombs.
                let from = rng.below(len);
                let end = (from + 1 + rng.below(16)).min(len);
                let copy = data[from..end].repeat(1 + rng.below(20_000));
                data.splice(at..at, copy);
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let copy = token.repeat(1 + rng.below(5_000));
                data.splice(at..at, copy);
            }
        }
    }
    data
}

/// For ZIP containers: mutate one entry (preferably XML) and rebuild the archive; now and then
/// the raw bytes instead.
fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    if !input.starts_with(b"PK") || rng.below(10) == 0 {
        return mutate_bytes(input, rng);
    }
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(input)) else { return mutate_bytes(input, rng) };
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        entries.push((entry.name().map(|n| n.into_owned()).unwrap_or_default(), bytes));
    }
    let xml: Vec<usize> = (0..entries.len())
        .filter(|&i| [".xml", ".rels", ".xhtml", ".opf"].iter().any(|e| entries[i].0.ends_with(e)))
        .collect();
    let pick = if xml.is_empty() { rng.below(entries.len()) } else { xml[rng.below(xml.len())] };
    entries[pick].1 = mutate_bytes(&entries[pick].1, rng);
    if rng.below(20) == 0 {
        entries.remove(rng.below(entries.len()));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, bytes) in &entries {
        zip.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// What an extraction promises whatever its input: pages numbered from 1 and increasing.
fn check(extraction: &Extraction) -> Result<(), String> {
    let numbers: Vec<u32> = extraction.pages.iter().filter_map(|p| p.number).collect();
    if numbers.first() == Some(&0) || numbers.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!("page numbers {numbers:?}"));
    }
    Ok(())
}

/// Three-byte tokens that ignore character boundaries: the worst offsets a tokenizer can give.
struct ByteTokens;
impl TokenSpans for ByteTokens {
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        (0..text.len()).step_by(3).map(|start| (start, start + 3)).collect()
    }
}

/// What the chunker promises: each chunk's text is its character span of its page.
fn check_chunks(extraction: &Extraction, chunks: &[Chunk]) -> Result<(), String> {
    for chunk in chunks {
        let page = extraction.pages.iter().find(|p| p.number == chunk.page).ok_or("a chunk of no page")?;
        let span: String = page.text.chars().skip(chunk.start).take(chunk.end - chunk.start).collect();
        if span != chunk.text {
            return Err(format!("chunk {}..{} is not its span of the page", chunk.start, chunk.end));
        }
    }
    Ok(())
}

fn save(file: &str, iteration: usize, input: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join("folio-fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{iteration}-{file}"));
    std::fs::write(&path, input).unwrap();
    path
}

/// Runs `file`'s extractor on `input`: `Err` says what went wrong (a panic, a hang, a broken
/// promise); `Ok` says whether it read text.
fn run_one(file: &str, input: &[u8]) -> Result<bool, String> {
    let path = Path::new(file);
    let extractor = extractor_for(path).unwrap();
    let started = Instant::now();
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = Some((started, file.to_string(), input.to_vec()));
    // What the indexer does next runs in its own process: the chunker gets every extraction too.
    let result = catch_unwind(AssertUnwindSafe(|| {
        extractor.extract(path, input).map(|extraction| {
            let chunks = chunk_pages(&extraction.pages, &ByteTokens, ChunkSizes { target: 24, overlap: 4, max: 32 });
            (extraction, chunks)
        })
    }));
    let elapsed = started.elapsed();
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = None;
    match result {
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("panicked: {message}"))
        }
        Ok(_) if elapsed > SLOW => Err(format!("took {elapsed:?}")),
        Ok(Ok((extraction, chunks))) => {
            check(&extraction).and_then(|()| check_chunks(&extraction, &chunks)).map(|()| true)
        }
        Ok(Err(_)) => Ok(false),
    }
}

#[test]
fn mutated_documents_never_panic_or_hang() {
    let iterations: usize = std::env::var("FOLIO_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    let seed: u64 = std::env::var("FOLIO_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let only = std::env::var("FOLIO_FUZZ_ONLY").ok();
    let corpus = std::env::var_os("FOLIO_FUZZ_SEEDS_OUT").map(PathBuf::from);
    // Panics inside pdf-extract are caught by the PDF extractor; their messages are noise here.
    std::panic::set_hook(Box::new(|_| {}));
    start_watchdog();
    let mut failures = Vec::new();
    for target in targets() {
        if only.as_deref().is_some_and(|o| !target.file.ends_with(o)) {
            continue;
        }
        if let Some(dir) = &corpus {
            // Seeds for the coverage-guided fuzzer (scripts/fuzz).
            let dir = dir.join(target.file.trim_start_matches("x."));
            std::fs::create_dir_all(&dir).unwrap();
            for (i, s) in target.seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("seed{i}")), s).unwrap();
            }
        }
        let mut rng = Rng(seed
            ^ target.file.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3)));
        let started = Instant::now();
        let mut read = 0usize;
        for i in 0..iterations {
            let seed_input = &target.seeds[i % target.seeds.len()];
            let input = mutate(seed_input, &mut rng);
            match run_one(target.file, &input) {
                Ok(text) => read += usize::from(text),
                Err(why) => {
                    let saved = save(target.file, i, &input);
                    failures.push(format!("{} iteration {i}: {why} (input saved to {})", target.file, saved.display()));
                }
            }
        }
        println!("{}: {iterations} inputs in {:.1} s, {read} gave text", target.file, started.elapsed().as_secs_f64());
    }
    let _ = std::panic::take_hook();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Inputs the fuzzers found that once failed, kept so they stay fixed.
#[test]
fn regressions() {
    // scripts/fuzz asks for the sample files as seed corpora of the coverage-guided targets
    // (named after the extension they read).
    if let Some(dir) = std::env::var_os("FOLIO_FUZZ_SEEDS_TO") {
        for target in targets() {
            let name = Path::new(target.file).extension().unwrap().to_str().unwrap();
            let corpus = Path::new(&dir).join(name);
            std::fs::create_dir_all(&corpus).unwrap();
            for (i, seed) in target.seeds.iter().enumerate() {
                std::fs::write(corpus.join(format!("sample-{i}")), seed).unwrap();
            }
        }
    }
    let cases: &[(&str, &[u8])] = &[
        // HTML nested half a million levels took html5ever minutes; now read without the parser.
        ("deep.html", &"<b><i>".repeat(300_000).into_bytes()),
        // An RTF `\bin` whose length runs past the end of the file.
        ("bin.rtf", b"{\\rtf1 a\\bin99999999999 b}"),
        // A text tag with no end and a multi-byte character where the tag stripper cut.
        ("cut.html", &(b"<div>".repeat(1100).into_iter().chain("<é".bytes()).collect::<Vec<u8>>())),
    ];
    for (file, input) in cases {
        assert!(run_one(file, input).is_ok(), "{file}: {:?}", run_one(file, input));
    }
}
