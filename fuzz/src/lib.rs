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
