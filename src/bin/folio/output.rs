//! Human-readable rendering of engine results.

use folio::library::{LibraryStatus, SearchHit};
use folio::sizes::human_size;

pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).expect("serialisable");
    // A reader that stops early (`folio --json … | head`) closes the pipe: that ends the output,
    // not the program with a panic.
    if let Err(e) = writeln!(std::io::stdout(), "{text}") {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
            std::process::exit(1);
        }
    }
}

/// One line of context: the passage with whitespace collapsed, cut at `width` characters.
pub fn snippet(text: &str, width: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        let cut: String = flat.chars().take(width).collect();
        format!("{}…", cut.trim_end())
    }
}

pub fn print_hits(hits: &[SearchHit]) {
    if hits.is_empty() {
        println!("No passages found.");
        return;
    }
    for (i, hit) in hits.iter().enumerate() {
        let page = hit.page.map(|p| format!(", page {p}")).unwrap_or_default();
        println!("{:>2}. {}{page}  (score {:.4})", i + 1, hit.path.display(), hit.score);
        println!("    {}", snippet(&hit.text, 200));
    }
}

pub fn print_status(status: &LibraryStatus) {
    println!("Library   {}", status.dir.display());
    println!("Embedder  {} ({} encoder)", status.embedder, status.encoder);
    let c = &status.catalog;
    println!(
        "Files     {} indexed, {} failed, {} skipped in {} folder(s)",
        c.files_indexed, c.files_failed, c.files_skipped, c.folders
    );
    println!("Passages  {} ({} tokens)", c.chunks, c.tokens);
    println!(
        "Indexes   catalog {}, keyword {} ({} docs), vectors {} ({} live, {} tombstones)",
        human_size(c.bytes),
        human_size(status.keyword_bytes),
        status.keyword_docs,
        human_size(status.vector_bytes),
        status.vector_points,
        status.vector_tombstones
    );
    for f in &status.folders {
        println!(
            "  {}  {} indexed, {} failed, {} skipped, {} passages",
            f.path.display(),
            f.files_indexed,
            f.files_failed,
            f.files_skipped,
            f.chunks
        );
    }
}

/// Writes `records` to `path`, one JSON object a line.
pub fn write_json_lines<T: serde::Serialize>(path: &std::path::Path, records: &[T]) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for record in records {
        writeln!(out, "{}", serde_json::to_string(record)?)?;
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))
}
