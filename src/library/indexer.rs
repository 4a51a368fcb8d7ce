//! An indexing run: discover → plan against the catalog → extract (isolated workers, in parallel)
//! → chunk → embed in batches → commit each file whole → update the derived indexes.
//!
//! Extraction threads (one worker process each) run ahead of the embedder through a bounded
//! channel, so reading files and computing embeddings overlap and memory stays bounded. Each file
//! is committed to the catalog in one transaction once all its chunks are embedded; a crash at any
//! point leaves files either fully indexed or untouched, and the derived indexes catch up on the
//! next open.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::Library;
use crate::error::{Error, Result};
use crate::ingest::chunk::{chunk_pages, Chunk, ChunkSizes};
use crate::ingest::discover::{discover, Found};
use crate::ingest::extract::EXTRACTOR_VERSION;
use crate::ingest::worker::{FileExtractor, Reply};
use crate::progress::{FileOutcome, IndexEvent, IndexSummary};
use crate::store::catalog::{FileRecord, FileRow, FileStatus, NewChunk};

/// Chunks embedded together. Larger batches amortise per-call overhead; files are committed as soon
/// as their last chunk is through, so this also bounds how much work a crash can lose.
const EMBED_BATCH: usize = 64;
/// How often the keyword index is committed during a long run, making new files searchable.
const KEYWORD_COMMIT_EVERY: Duration = Duration::from_secs(10);

struct Job {
    folder_id: i64,
    found: Found,
    known_hash: Option<String>,
}

/// A file read and chunked, waiting for embeddings.
struct Prepared {
    job: Job,
    hash: String,
    extractor: String,
    pages: usize,
    chunks: Vec<Chunk>,
    warnings: Option<String>,
    vectors: Vec<Vec<f32>>,
}

enum Outcome {
    Ready(Box<Prepared>),
    Unchanged(Job),
    Failed(Job, Option<String>, String),
}

pub(super) fn run(
    library: &Library,
    paths: &[PathBuf],
    events: &(dyn Fn(IndexEvent) + Sync),
    cancel: &AtomicBool,
) -> Result<IndexSummary> {
    let started = Instant::now();
    let mut summary = IndexSummary::default();
    let mut jobs = Vec::new();
    for path in paths {
        let root = std::fs::canonicalize(path)
            .map_err(|e| Error::InvalidInput(format!("cannot index {}: {e}", path.display())))?;
        let folder = library.catalog.add_folder(&root)?;
        summary.folders.push(root.clone());
        events(IndexEvent::Scanning { folder: root.clone() });
        jobs.extend(plan(library, folder.id, &root, &mut summary, events)?);
    }
    let total = jobs.len();
    let mut done = 0usize;
    let sizes = ChunkSizes {
        target: library.options.chunk_target,
        overlap: library.options.chunk_overlap,
        max: chunk_max_tokens(library),
    };

    std::thread::scope(|scope| -> Result<()> {
        let (job_tx, job_rx) = bounded::<Job>(jobs.len().max(1));
        for job in jobs {
            job_tx.send(job).expect("queue sized for all jobs");
        }
        drop(job_tx);
        let threads = library.options.extract_threads.max(1);
        let (out_tx, out_rx) = bounded::<Outcome>(threads * 2);
        for _ in 0..threads {
            let (job_rx, out_tx) = (job_rx.clone(), out_tx.clone());
            scope.spawn(move || read_files(library, sizes, job_rx, out_tx, cancel));
        }
        drop(out_tx);
        let result = embed_and_commit(library, out_rx, &mut summary, &mut done, total, events, cancel);
        // Unblock the readers if the embedder stopped early.
        while job_rx.try_recv().is_ok() {}
        result
    })?;

    library.commit_derived()?;
    summary.cancelled = cancel.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    events(IndexEvent::Finished { summary: summary.clone() });
    Ok(summary)
}

/// The embedder's limit, less its special tokens and the passage prefix.
fn chunk_max_tokens(library: &Library) -> usize {
    let spec = library.embedder.spec();
    let prefix = crate::ingest::chunk::TokenSpans::spans(library.embedder.as_ref(), spec.passage_prefix).len();
    (spec.max_tokens - 2 - prefix).min(spec.trained_tokens)
}

/// Compares a folder on disk with the catalog: records skipped files, removes deleted ones, and
/// returns the files to read.
fn plan(
    library: &Library,
    folder_id: i64,
    root: &Path,
    summary: &mut IndexSummary,
    events: &(dyn Fn(IndexEvent) + Sync),
) -> Result<Vec<Job>> {
    let found = discover(root, &library.options.discover);
    let known: HashMap<PathBuf, FileRow> = library
        .catalog
        .files_in_folder(folder_id)?
        .into_iter()
        .filter(|f| f.path.starts_with(root))
        .map(|f| (f.path.clone(), f))
        .collect();
    let present: std::collections::HashSet<&Path> = found.iter().map(|f| f.path.as_path()).collect();
    let gone: Vec<&FileRow> = known.values().filter(|f| !present.contains(f.path.as_path())).collect();
    let change = library.catalog.remove_files(&gone.iter().map(|f| f.id).collect::<Vec<_>>())?;
    library.apply_change(&change, &[])?;
    for file in &gone {
        events(IndexEvent::File { path: file.path.clone(), outcome: FileOutcome::Removed, done: 0, total: 0 });
    }
    summary.removed += gone.len();

    let mut jobs = Vec::new();
    let (mut unchanged, mut bytes) = (0usize, 0u64);
    for f in found {
        let row = known.get(&f.path);
        let same_file = row.is_some_and(|r| r.size == f.size && r.mtime_ns == f.mtime_ns);
        if let Some(reason) = &f.skip {
            let already = row.is_some_and(|r| r.status == FileStatus::Skipped && same_file);
            if !already {
                let record = FileRecord {
                    folder_id,
                    path: &f.path,
                    size: f.size,
                    mtime_ns: f.mtime_ns,
                    hash: None,
                    extractor: None,
                    pages: None,
                };
                library.catalog.record_unindexed(&record, FileStatus::Skipped, reason)?;
            }
            summary.skipped.push((f.path.clone(), reason.clone()));
            continue;
        }
        let settled = row.is_some_and(|r| {
            same_file
                && match r.status {
                    FileStatus::Indexed => true,
                    // A file that failed is retried when it changes or the readers improve.
                    FileStatus::Failed | FileStatus::Skipped => r.extractor_version == Some(EXTRACTOR_VERSION),
                }
        });
        if settled {
            unchanged += 1;
            continue;
        }
        bytes += f.size;
        let known_hash = row.filter(|r| r.status == FileStatus::Indexed).and_then(|r| r.hash.clone());
        jobs.push(Job { folder_id, found: f, known_hash });
    }
    summary.unchanged += unchanged;
    summary.bytes_read += bytes;
    events(IndexEvent::Planned {
        folder: root.to_path_buf(),
        to_read: jobs.len(),
        bytes,
        unchanged,
        removed: gone.len(),
    });
    Ok(jobs)
}

/// A reader thread: extracts files through its own worker process and chunks them.
fn read_files(library: &Library, sizes: ChunkSizes, jobs: Receiver<Job>, out: Sender<Outcome>, cancel: &AtomicBool) {
    let mut extractor = FileExtractor::new(library.options.isolation.clone(), library.options.limits.clone());
    for job in jobs {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let outcome = match extractor.extract(&job.found.path, job.found.size, job.known_hash.as_deref()) {
            Reply::Unchanged { .. } => Outcome::Unchanged(job),
            Reply::Failed { hash, error } => Outcome::Failed(job, hash, error.to_string()),
            Reply::Extracted { hash, extractor, extraction } => {
                let chunks = chunk_pages(&extraction.pages, library.embedder.as_ref(), sizes);
                if chunks.is_empty() {
                    Outcome::Failed(job, Some(hash), "no text found".into())
                } else {
                    let warnings = (!extraction.warnings.is_empty()).then(|| extraction.warnings.join("; "));
                    Outcome::Ready(Box::new(Prepared {
                        job,
                        hash,
                        extractor,
                        pages: extraction.pages.len(),
                        vectors: Vec::with_capacity(chunks.len()),
                        chunks,
                        warnings,
                    }))
                }
            }
        };
        if out.send(outcome).is_err() {
            break;
        }
    }
}

/// The embedding and committing side: batches chunks across files, commits each file once all of
/// its chunks have vectors.
fn embed_and_commit(
    library: &Library,
    incoming: Receiver<Outcome>,
    summary: &mut IndexSummary,
    done: &mut usize,
    total: usize,
    events: &(dyn Fn(IndexEvent) + Sync),
    cancel: &AtomicBool,
) -> Result<()> {
    let mut queue: VecDeque<Box<Prepared>> = VecDeque::new();
    let mut open = true;
    let mut embedded = 0usize;
    let mut last_keyword_commit = Instant::now();
    let settle = |summary: &mut IndexSummary, done: &mut usize, path: PathBuf, outcome: FileOutcome| {
        *done += 1;
        match &outcome {
            FileOutcome::Indexed { chunks, .. } => {
                summary.indexed += 1;
                summary.chunks += chunks;
            }
            FileOutcome::Unchanged => summary.unchanged += 1,
            FileOutcome::Failed { reason } => summary.failed.push((path.clone(), reason.clone())),
            FileOutcome::Skipped { reason } => summary.skipped.push((path.clone(), reason.clone())),
            FileOutcome::Removed => summary.removed += 1,
        }
        events(IndexEvent::File { path, outcome, done: *done, total });
    };
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        // Take what has arrived; wait only when there is nothing to embed.
        let pending: usize = queue.iter().map(|p| p.chunks.len() - p.vectors.len()).sum();
        while open {
            let next = if pending == 0 && queue.is_empty() {
                incoming.recv().ok()
            } else {
                match incoming.try_recv() {
                    Ok(o) => Some(o),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => None,
                }
            };
            let Some(outcome) = next else {
                open = false;
                break;
            };
            match outcome {
                Outcome::Ready(prepared) => {
                    queue.push_back(prepared);
                    if queue.iter().map(|p| p.chunks.len() - p.vectors.len()).sum::<usize>() >= EMBED_BATCH {
                        break;
                    }
                }
                Outcome::Unchanged(job) => {
                    if let Some(row) = library.catalog.file_by_path(&job.found.path)? {
                        library.catalog.touch_file(row.id, job.found.size, job.found.mtime_ns)?;
                    }
                    settle(summary, done, job.found.path, FileOutcome::Unchanged);
                }
                Outcome::Failed(job, hash, reason) => {
                    let record = FileRecord {
                        folder_id: job.folder_id,
                        path: &job.found.path,
                        size: job.found.size,
                        mtime_ns: job.found.mtime_ns,
                        hash: hash.as_deref(),
                        extractor: Some(extractor_name(&job.found.path)),
                        pages: None,
                    };
                    library.catalog.record_unindexed(&record, FileStatus::Failed, &reason)?;
                    settle(summary, done, job.found.path, FileOutcome::Failed { reason });
                }
            }
        }
        if queue.is_empty() {
            if open {
                continue;
            }
            return Ok(());
        }
        // One batch from the front of the queue, possibly spanning several files.
        let mut texts: Vec<&str> = Vec::with_capacity(EMBED_BATCH);
        for p in queue.iter() {
            for c in &p.chunks[p.vectors.len()..] {
                if texts.len() == EMBED_BATCH {
                    break;
                }
                texts.push(&c.text);
            }
        }
        let mut vectors = library.embedder.embed_passages(&texts)?.into_iter();
        embedded += texts.len();
        for p in queue.iter_mut() {
            while p.vectors.len() < p.chunks.len() {
                match vectors.next() {
                    Some(v) => p.vectors.push(v),
                    None => break,
                }
            }
        }
        events(IndexEvent::Embedded { chunks: embedded });
        while queue.front().is_some_and(|p| p.vectors.len() == p.chunks.len()) {
            let p = queue.pop_front().expect("front checked");
            let chunks = commit(library, &p)?;
            settle(
                summary,
                done,
                p.job.found.path.clone(),
                FileOutcome::Indexed { chunks, warnings: p.warnings.clone() },
            );
        }
        if last_keyword_commit.elapsed() > KEYWORD_COMMIT_EVERY {
            library.keyword.commit(library.vectors.read().unwrap_or_else(|p| p.into_inner()).applied_seq())?;
            last_keyword_commit = Instant::now();
        }
    }
}

fn extractor_name(path: &Path) -> &'static str {
    crate::ingest::extract::extractor_for(path).map(|x| x.name()).unwrap_or("none")
}

/// Stores one fully embedded file and feeds the derived indexes.
fn commit(library: &Library, p: &Prepared) -> Result<usize> {
    let record = FileRecord {
        folder_id: p.job.folder_id,
        path: &p.job.found.path,
        size: p.job.found.size,
        mtime_ns: p.job.found.mtime_ns,
        hash: Some(&p.hash),
        extractor: Some(&p.extractor),
        pages: Some(p.pages),
    };
    let chunks: Vec<NewChunk> = p
        .chunks
        .iter()
        .zip(&p.vectors)
        .map(|(c, v)| NewChunk { page: c.page, start: c.start, end: c.end, tokens: c.tokens, text: &c.text, vector: v })
        .collect();
    let change = library.catalog.commit_file(&record, &chunks, p.warnings.as_deref())?;
    let added: Vec<(&str, &[f32])> =
        p.chunks.iter().zip(&p.vectors).map(|(c, v)| (c.text.as_str(), v.as_slice())).collect();
    library.apply_change(&change, &added)?;
    Ok(chunks.len())
}
