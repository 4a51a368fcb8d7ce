//! What every fuzz target does: hand the bytes to the extractor for a file name, as the worker
//! would. Panics and hangs are what the fuzzer looks for; the PDF extractor catches pdf-extract's
//! and lopdf's own panics, so a panic here is a bug of Folio's readers (or one they failed to
//! contain).

use std::path::Path;

pub fn extract(file: &str, data: &[u8]) {
    let path = Path::new(file);
    let extractor = folio::ingest::extract::extractor_for(path).expect("the target's extension has an extractor");
    let _ = extractor.extract(path, data);
}

/// Tokens of a fixed byte width that ignore character boundaries, every second one reaching back a
/// byte: offsets as bad as a tokenizer can give.
struct ByteWindows(usize);

impl folio::ingest::chunk::TokenSpans for ByteWindows {
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        (0..text.len())
            .step_by(self.0)
            .enumerate()
            .map(|(k, start)| (if k % 2 == 1 { start.saturating_sub(1) } else { start }, start + self.0))
            .collect()
    }
}

/// The chunker over any text: the first bytes choose the sizes and the token width, the rest is
/// the page. Each chunk's text must be its character span of the page.
pub fn chunk(data: &[u8]) {
    use folio::ingest::chunk::{chunk_pages, ChunkSizes};
    use folio::ingest::extract::Page;
    let [target, overlap, max, width, rest @ ..] = data else {
        return;
    };
    let sizes = ChunkSizes { target: *target as usize, overlap: *overlap as usize, max: *max as usize };
    let text = String::from_utf8_lossy(rest).into_owned();
    let chars: Vec<char> = text.chars().collect();
    let pages = [Page { number: Some(1), text }];
    for chunk in chunk_pages(&pages, &ByteWindows(*width as usize % 8 + 1), sizes) {
        let span: String = chars[chunk.start..chunk.end].iter().collect();
        assert_eq!(span, chunk.text);
    }
}

/// A GGUF model file as the app loads one: header, hyperparameters, tokenizer, the native
/// decoder and one step of it. Errors are fine; a panic or an abort is a missing check.
pub fn gguf(data: &[u8]) {
    use folio::llm::decoder::{open_decoder, DeviceChoice};
    use folio::llm::gguf::GgufFile;
    use folio::llm::native::config::Config;
    use folio::llm::tokenizer::Tokenizer;
    // The loader maps a file: one per process, rewritten for every input.
    let path = std::env::temp_dir().join(format!("folio-fuzz-{}.gguf", std::process::id()));
    std::fs::write(&path, data).expect("the temporary directory is writable");
    let Ok(file) = GgufFile::open(&path) else { return };
    if Config::from_gguf(&file).is_err() || Tokenizer::from_gguf(&file).is_err() {
        return;
    }
    if let Ok(mut decoder) = open_decoder(&file, DeviceChoice::Cpu, 64) {
        let _ = decoder.forward(&[0, 1]);
    }
}
