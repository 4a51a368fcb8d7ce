//! `folio bench scale`: builds the synthetic library here, then opens and searches it in a fresh
//! process of this same program, so that open time and memory are those of a next start.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use folio::library::scale::{build, BuildReport, MeasureReport};
use folio::library::LibraryOptions;
use serde::Serialize;

use crate::output;

#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    build: BuildReport,
    #[serde(flatten)]
    measure: MeasureReport,
}

pub fn run(
    options: LibraryOptions,
    passages: usize,
    sample: &[PathBuf],
    queries: usize,
    keep: Option<&Path>,
    json: bool,
) -> Result<()> {
    let dir = match keep {
        Some(dir) => dir.to_path_buf(),
        None => std::env::temp_dir().join(format!("folio-scale-{}", std::process::id())),
    };
    let texts = folio::embed::bench::sample_passages(sample, 20_000)?;
    let encoder = options.encoder.to_string();
    let result = build(&dir, options, passages, &texts, queries)
        .map_err(anyhow::Error::from)
        .and_then(|build| Ok(Report { build, measure: measure_in_fresh_process(&dir, &encoder)? }));
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = result?;
    if json {
        output::print_json(&report);
        return Ok(());
    }
    let (b, m) = (&report.build, &report.measure);
    println!(
        "{} passages (vectors seeded from {} real ones): built in {:.1} s, {:.0} MiB on disk",
        b.passages, b.seed_passages, b.build_s, b.disk_mib
    );
    println!(
        "open {:.2} s, resident {:.0} MiB after opening, {:.0} MiB after searching",
        m.open_s, m.rss_mib, m.rss_after_search_mib
    );
    println!(
        "hybrid search over {} queries: p50 {:.1} ms, p95 {:.1} ms; vector graph recall@10 against exact {:.4}",
        m.queries, m.search_p50_ms, m.search_p95_ms, m.recall_at_10
    );
    println!("indexing one more small file: {:.2} s", m.add_file_s);
    Ok(())
}

fn measure_in_fresh_process(dir: &Path, encoder: &str) -> Result<MeasureReport> {
    let exe = std::env::current_exe().context("finding this program")?;
    let out = std::process::Command::new(exe)
        .args(["--encoder", encoder, "bench", "scale", "--measure"])
        .arg(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting the measuring process")?;
    if !out.status.success() {
        bail!("the measuring process failed ({})", out.status);
    }
    serde_json::from_slice(&out.stdout).context("reading the measuring process's report")
}
