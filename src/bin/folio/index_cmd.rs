//! `folio index`: a progress bar while indexing, then a summary with skipped and failed files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
use folio::index_events::{FileOutcome, IndexEvent, IndexSummary};
use folio::sizes::human_size;
use folio::Library;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub fn index(library: &Library, paths: &[PathBuf], json: bool) -> Result<()> {
    let bar =
        if json { ProgressBar::hidden() } else { ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  {msg}  ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let chunks = Mutex::new(0usize);
    let started = std::time::Instant::now();
    let on_event = |event: IndexEvent| match event {
        IndexEvent::Scanning { folder } => bar.set_message(format!("scanning {}", folder.display())),
        IndexEvent::Planned { to_read, .. } => bar.inc_length(to_read as u64),
        IndexEvent::File { done, outcome, .. } => {
            if done > 0 {
                bar.set_position(done as u64);
            }
            if let FileOutcome::Indexed { chunks: n, .. } = outcome {
                let mut total = chunks.lock().unwrap();
                *total += n;
                let rate = *total as f64 / started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{} passages, {rate:.0}/s", *total));
            }
        }
        IndexEvent::Embedded { .. } | IndexEvent::Finished { .. } | IndexEvent::Unavailable { .. } => {}
    };
    let summary = library.index(paths, &on_event, &AtomicBool::new(false))?;
    bar.finish_and_clear();
    if json {
        crate::output::print_json(&summary);
    } else {
        print_summary(&summary);
    }
    Ok(())
}

fn print_summary(s: &IndexSummary) {
    let secs = s.elapsed.as_secs_f64();
    println!(
        "Indexed {} file(s) into {} passages in {secs:.1} s ({:.1} files/s, {:.0} passages/s, {} read); {} unchanged, {} removed.",
        s.indexed,
        s.chunks,
        s.indexed as f64 / secs.max(1e-3),
        s.chunks as f64 / secs.max(1e-3),
        human_size(s.bytes_read),
        s.unchanged,
        s.removed
    );
    if let Some(first) = s.first_searchable {
        println!(
            "The first file was searchable after {:.1} s; the run kept the cores {:.0}% busy.",
            first.as_secs_f64(),
            s.cpu_utilisation * 100.0
        );
    }
    if s.reused > 0 {
        println!(
            "{} of the passages were unchanged in their edited files and kept their vectors; {} were embedded.",
            s.reused,
            s.chunks - s.reused
        );
    }
    print_grouped("Skipped", &s.skipped);
    print_grouped("Failed", &s.failed);
    for (folder, reason) in &s.unavailable {
        println!("Unavailable, its index kept: {} {reason}", folder.display());
    }
}

/// Lists files by reason; long lists show the first few of each reason.
fn print_grouped(title: &str, files: &[(PathBuf, String)]) {
    if files.is_empty() {
        return;
    }
    let mut by_reason: BTreeMap<&str, Vec<&PathBuf>> = BTreeMap::new();
    for (path, reason) in files {
        by_reason.entry(reason.as_str()).or_default().push(path);
    }
    println!("{title} {} file(s):", files.len());
    for (reason, paths) in by_reason {
        println!("  {reason} ({}):", paths.len());
        for path in paths.iter().take(10) {
            println!("    {}", path.display());
        }
        if paths.len() > 10 {
            println!("    … and {} more", paths.len() - 10);
        }
    }
}

/// `folio extract FILE`: what the indexer would read from one file, in the same isolated worker
/// and under the same limits, without touching the library. For checking a file that fails or
/// reads badly.
pub fn extract(path: &std::path::Path, passwords: &[String], json: bool) -> Result<()> {
    use folio::ingest::worker::{ExtractLimits, FileExtractor, Isolation, Reply, WorkerCommand};
    let size = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?.len();
    let mut extractor = FileExtractor::new(Isolation::Process(WorkerCommand::current_exe()?), ExtractLimits::default());
    let reply = extractor.extract(path, size, None, passwords);
    if json {
        crate::output::print_json(&reply);
        return Ok(());
    }
    match reply {
        Reply::Extracted { extractor, extraction, .. } => {
            for page in &extraction.pages {
                match page.number {
                    Some(n) => println!("--- page {n} ---"),
                    None => println!("---"),
                }
                println!("{}", page.text);
            }
            eprintln!("read by: {extractor}; {} pages", extraction.pages.len());
            for warning in &extraction.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(())
        }
        Reply::Failed { error, .. } => anyhow::bail!("{}: {error}", path.display()),
        Reply::Unchanged { .. } => unreachable!("no known hash was given"),
    }
}
