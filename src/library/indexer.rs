//! An indexing run: discover → plan against the catalog → extract (isolated workers, in parallel)
//! → chunk → embed in batches → commit each file whole → update the derived indexes.
//!
//! Extraction threads (one worker process each) run ahead of the embedder through a bounded
//! channel, so reading files and computing embeddings overlap and memory stays bounded. Each file
//! is committed to the catalog in one transaction once all its chunks are embedded; a crash at any
//! point leaves files either fully indexed or untouched, and the derived indexes catch up on the
//! next open. A file that fails at any stage fails alone, with its reason, and the run goes on
//! (`contain` guards the stages that run in this process).

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};

use super::contain::{contain, Stage};
use super::{reuse, Library};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::index_events::{FileOutcome, IndexEvent, IndexSummary};
use crate::ingest::chunk::{chunk_pages, Chunk, ChunkSizes};
use crate::ingest::discover::{discover, Found};
use crate::ingest::extract::{ExtractError, Extraction, EXTRACTOR_VERSION};
use crate::ingest::worker::{FileExtractor, Reply};
use crate::store::catalog::{FileRecord, FileRow, FileStatus, Folder, NewChunk};

/// Tokens embedded together (chunks count by their tokens, so a batch of short passages is not
/// over in an instant nor one of long passages a long wait). Larger batches amortise per-call
/// overhead; files are committed as soon as their last chunk is through, so this also bounds how
/// much work a crash can lose.
const EMBED_BATCH_TOKENS: usize = 8192;
/// How often the keyword index is committed during a long run, making new files searchable.
const KEYWORD_COMMIT_EVERY: Duration = Duration::from_secs(10);

struct Job {
    folder_id: i64,
    found: Found,
    known_hash: Option<String>,
    /// The catalog's row for this file, when it has one: its stored chunks may lend their vectors.
    known_id: Option<i64>,
    /// Tried if the file is password-protected.
    passwords: Vec<String>,
}

/// A file read and chunked, waiting for embeddings.
struct Prepared {
    job: Job,
    hash: String,
    extractor: String,
    pages: usize,
    chunks: Vec<Chunk>,
    warnings: Option<String>,
    /// One per chunk: kept from the file's earlier version, or embedded in this run.
    vectors: Vec<Option<Vec<f32>>>,
    /// The chunks that need embedding, in order, and how many of them have been.
    to_embed: Vec<usize>,
    embedded: usize,
}

impl Prepared {
    fn waiting(&self) -> usize {
        self.to_embed.len() - self.embedded
    }

    fn waiting_tokens(&self) -> usize {
        self.to_embed[self.embedded..].iter().map(|&i| self.chunks[i].tokens.max(1)).sum()
    }

    fn reused(&self) -> usize {
        self.chunks.len() - self.to_embed.len()
    }
}

enum Outcome {
    Ready(Box<Prepared>),
    Unchanged(Job),
    Failed(Job, Option<String>, String),
    /// Password-protected, and no password given opened it.
    Locked(Job, Option<String>, String),
}

pub(super) fn run(
    library: &Library,
    paths: &[PathBuf],
    events: &(dyn Fn(IndexEvent) + Sync),
    cancel: &AtomicBool,
) -> Result<IndexSummary> {
    let started = Instant::now();
    let cpu_before = crate::machine::cpu_seconds();
    let mut summary = IndexSummary::default();
    let mut jobs = Vec::new();
    for path in paths {
        let root = match std::fs::canonicalize(path) {
            Ok(root) => root,
            Err(e) => match library.catalog.folders()?.into_iter().find(|f| f.path == *path) {
                // A folder of the library that is gone (deleted, or a drive not mounted) keeps its
                // index; the rest of the run goes on.
                Some(folder) => {
                    let reason = format!("cannot be found ({e}): deleted, or on a drive that is not mounted");
                    mark_unavailable(library, &folder, reason, &mut summary, events)?;
                    continue;
                }
                None => return Err(Error::InvalidInput(format!("cannot index {}: {e}", path.display()))),
            },
        };
        let folder = library.catalog.add_folder(&root)?;
        summary.folders.push(root.clone());
        events(IndexEvent::Scanning { folder: root.clone() });
        jobs.extend(plan(library, &folder, &root, &mut summary, events)?);
    }
    let total = jobs.len();
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
        let result = Committer::new(library, &mut summary, events, total, started).run(out_rx, cancel);
        // Unblock the readers if the embedder stopped early.
        while job_rx.try_recv().is_ok() {}
        result
    })?;

    library.commit_derived()?;
    summary.cancelled = cancel.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    // The readers have ended, and with them their workers, which now count among the children.
    let cores = crate::machine::Machine::this().cores as f64;
    let cpu = crate::machine::cpu_seconds() - cpu_before;
    summary.cpu_utilisation = (cpu / (summary.elapsed.as_secs_f64() * cores).max(1e-9)).clamp(0.0, 1.0);
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
    folder: &Folder,
    root: &Path,
    summary: &mut IndexSummary,
    events: &(dyn Fn(IndexEvent) + Sync),
) -> Result<Vec<Job>> {
    let folder_id = folder.id;
    let found = discover(root, &library.options.discover);
    let known: HashMap<PathBuf, FileRow> = library
        .catalog
        .files_in_folder(folder_id)?
        .into_iter()
        .filter(|f| f.path.starts_with(root))
        .map(|f| (f.path.clone(), f))
        .collect();
    // An unreadable root, or one that is suddenly empty (the mount point of a drive that is not
    // mounted), is not "every file deleted": the index stays until the folder is back.
    let unreadable = std::fs::read_dir(root).err().map(|e| format!("cannot be read ({e})"));
    let emptied = (found.is_empty() && !known.is_empty()).then(|| {
        format!(
            "is empty now, though {} files were indexed from it: a drive that is not mounted? If they were deleted on purpose, remove the folder",
            known.len()
        )
    });
    if let Some(reason) = unreadable.or(emptied) {
        mark_unavailable(library, folder, reason, summary, events)?;
        return Ok(Vec::new());
    }
    if folder.unavailable.is_some() {
        library.catalog.set_folder_unavailable(folder_id, None)?;
    }
    let present: std::collections::HashSet<&Path> = found.iter().map(|f| f.path.as_path()).collect();
    let gone: Vec<&FileRow> = known.values().filter(|f| !present.contains(f.path.as_path())).collect();
    let change = library.catalog.remove_files(&gone.iter().map(|f| f.id).collect::<Vec<_>>())?;
    library.apply_change(&change, &[])?;
    for file in &gone {
        events(IndexEvent::File { path: file.path.clone(), outcome: FileOutcome::Removed, done: 0, total: 0 });
    }
    summary.removed += gone.len();

    let book = library.passwords.lock().unwrap_or_else(|p| p.into_inner());
    let has_password = |path: &Path| book.has_any_for(path);
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
                    extractor_version: None,
                    pages: None,
                };
                library.catalog.record_unindexed(&record, FileStatus::Skipped, reason, false)?;
            }
            summary.skipped.push((f.path.clone(), reason.clone()));
            continue;
        }
        let settled = row.is_some_and(|r| {
            same_file
                && match r.status {
                    FileStatus::Indexed => true,
                    // A file that failed is retried when it changes or the readers improve, and
                    // one that needs a password when there is one to try.
                    FileStatus::Failed | FileStatus::Skipped => {
                        r.extractor_version == Some(EXTRACTOR_VERSION) && !(r.needs_password && has_password(&f.path))
                    }
                }
        });
        if settled {
            unchanged += 1;
            continue;
        }
        bytes += f.size;
        let known_hash = row.filter(|r| r.status == FileStatus::Indexed).and_then(|r| r.hash.clone());
        // Only PDFs are opened with a password: no other file carries (or sends its worker) them.
        let passwords = if extractor_name(&f.path) == "pdf" { book.candidates(&f.path) } else { Vec::new() };
        jobs.push(Job { folder_id, found: f, known_hash, known_id: row.map(|r| r.id), passwords });
    }
    drop(book);
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

fn mark_unavailable(
    library: &Library,
    folder: &Folder,
    reason: String,
    summary: &mut IndexSummary,
    events: &(dyn Fn(IndexEvent) + Sync),
) -> Result<()> {
    library.catalog.set_folder_unavailable(folder.id, Some(&reason))?;
    events(IndexEvent::Unavailable { folder: folder.path.clone(), reason: reason.clone() });
    summary.unavailable.push((folder.path.clone(), reason));
    Ok(())
}

/// A reader thread: extracts files through its own worker process and chunks them.
fn read_files(library: &Library, sizes: ChunkSizes, jobs: Receiver<Job>, out: Sender<Outcome>, cancel: &AtomicBool) {
    let mut extractor = FileExtractor::new(library.options.isolation.clone(), library.options.limits.clone());
    for job in jobs {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let reply = extractor.extract(&job.found.path, job.found.size, job.known_hash.as_deref(), &job.passwords);
        let outcome = match reply {
            Reply::Unchanged { .. } => Outcome::Unchanged(job),
            Reply::Failed { hash, error: error @ ExtractError::PasswordRequired { .. } } => {
                Outcome::Locked(job, hash, error.to_string())
            }
            Reply::Failed { hash, error } => Outcome::Failed(job, hash, error.to_string()),
            Reply::Extracted { hash, extractor, extraction } => {
                prepare(library, sizes, job, hash, extractor, extraction)
            }
        };
        if out.send(outcome).is_err() {
            break;
        }
    }
}

/// Chunks an extracted file. A failure while chunking fails this file alone.
fn prepare(
    library: &Library,
    sizes: ChunkSizes,
    job: Job,
    hash: String,
    extractor: String,
    extraction: Extraction,
) -> Outcome {
    let chunked = contain(Stage::Chunking, || {
        failpoint::hit("chunk", &job.found.path);
        Ok(chunk_pages(&extraction.pages, library.embedder.as_ref(), sizes))
    });
    let chunks = match chunked {
        Ok(Ok(chunks)) => chunks,
        Ok(Err(error)) => return Outcome::Failed(job, Some(hash), Stage::Chunking.reason(error)),
        Err(reason) => return Outcome::Failed(job, Some(hash), reason),
    };
    if chunks.is_empty() {
        return Outcome::Failed(job, Some(hash), "no text found".into());
    }
    let warnings = (!extraction.warnings.is_empty()).then(|| extraction.warnings.join("; "));
    // Keeping vectors only saves work: when the stored ones cannot be read, every chunk is embedded.
    let vectors = match job.known_id {
        Some(file_id) => reuse::stored_vectors(&library.catalog, file_id, &chunks).unwrap_or_else(|e| {
            tracing::warn!(
                "{}: embedding every chunk again, the stored vectors cannot be read: {e}",
                job.found.path.display()
            );
            vec![None; chunks.len()]
        }),
        None => vec![None; chunks.len()],
    };
    let to_embed = vectors.iter().enumerate().filter(|(_, v)| v.is_none()).map(|(i, _)| i).collect();
    Outcome::Ready(Box::new(Prepared {
        job,
        hash,
        extractor,
        pages: extraction.pages.len(),
        vectors,
        to_embed,
        embedded: 0,
        chunks,
        warnings,
    }))
}

/// The chunks of one queued file that go into a batch: its queue position and a range of its
/// `to_embed`.
type Part = (usize, Range<usize>);

/// The embedding and committing side of a run: batches chunks across files, commits each file once
/// all of its chunks have vectors, and settles every file's outcome. A file that fails here fails
/// alone; only errors of the library itself (a full disk) end the run.
struct Committer<'a> {
    library: &'a Library,
    summary: &'a mut IndexSummary,
    events: &'a (dyn Fn(IndexEvent) + Sync),
    done: usize,
    total: usize,
    queue: VecDeque<Box<Prepared>>,
    embedded: usize,
    started: Instant,
    last_keyword_commit: Instant,
    /// A panic while a change was applied to the keyword and vector indexes left them in a state
    /// no sequence number records: they are rebuilt from the catalog before the run ends.
    derived_suspect: bool,
}

impl<'a> Committer<'a> {
    fn new(
        library: &'a Library,
        summary: &'a mut IndexSummary,
        events: &'a (dyn Fn(IndexEvent) + Sync),
        total: usize,
        started: Instant,
    ) -> Self {
        Committer {
            library,
            summary,
            events,
            done: 0,
            total,
            queue: VecDeque::new(),
            embedded: 0,
            started,
            last_keyword_commit: Instant::now(),
            derived_suspect: false,
        }
    }

    fn run(mut self, incoming: Receiver<Outcome>, cancel: &AtomicBool) -> Result<()> {
        let result = self.work(incoming, cancel);
        if self.derived_suspect {
            tracing::warn!("rebuilding the keyword and vector indexes from the catalog after a failed update");
            self.library.rebuild_derived()?;
        }
        result
    }

    fn work(&mut self, incoming: Receiver<Outcome>, cancel: &AtomicBool) -> Result<()> {
        let mut open = true;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            if open {
                open = self.take_arrivals(&incoming)?;
            }
            if self.queue.is_empty() {
                if open {
                    continue;
                }
                return Ok(());
            }
            self.embed_batch()?;
            let committed = self.commit_ready()?;
            // The first file is made searchable at once: a user who drops a folder can ask about
            // it seconds later, not only when the whole folder is through.
            let first = committed && self.summary.first_searchable.is_none();
            if first || self.last_keyword_commit.elapsed() > KEYWORD_COMMIT_EVERY {
                self.commit_keywords()?;
                if first {
                    self.summary.first_searchable = Some(self.started.elapsed());
                }
            }
        }
    }

    /// Makes what the keyword index has taken in searchable (the vector index is at once).
    fn commit_keywords(&mut self) -> Result<()> {
        let seq = self.library.vectors.read().unwrap_or_else(|p| p.into_inner()).applied_seq();
        self.library.keyword.commit(seq)?;
        self.last_keyword_commit = Instant::now();
        Ok(())
    }

    /// Tokens of the chunks waiting for vectors.
    fn pending_tokens(&self) -> usize {
        self.queue.iter().map(|p| p.waiting_tokens()).sum()
    }

    /// Takes what the readers have sent, waiting only when there is nothing to embed. False once
    /// every reader is done.
    fn take_arrivals(&mut self, incoming: &Receiver<Outcome>) -> Result<bool> {
        loop {
            let next = if self.queue.is_empty() {
                incoming.recv().ok()
            } else {
                match incoming.try_recv() {
                    Ok(outcome) => Some(outcome),
                    Err(TryRecvError::Empty) => return Ok(true),
                    Err(TryRecvError::Disconnected) => None,
                }
            };
            let Some(outcome) = next else {
                return Ok(false);
            };
            match outcome {
                Outcome::Ready(prepared) => {
                    self.queue.push_back(prepared);
                    if self.pending_tokens() >= EMBED_BATCH_TOKENS {
                        return Ok(true);
                    }
                }
                Outcome::Unchanged(job) => {
                    if let Some(row) = self.library.catalog.file_by_path(&job.found.path)? {
                        self.library.catalog.touch_file(row.id, job.found.size, job.found.mtime_ns)?;
                    }
                    self.settle(job.found.path, FileOutcome::Unchanged);
                }
                Outcome::Failed(job, hash, reason) => self.fail(&job, hash.as_deref(), reason, false)?,
                Outcome::Locked(job, hash, reason) => {
                    self.library.passwords.lock().unwrap_or_else(|p| p.into_inner()).forget(&job.found.path);
                    self.fail(&job, hash.as_deref(), reason, true)?
                }
            }
        }
    }

    /// Embeds one batch from the front of the queue, possibly spanning several files. When it
    /// fails, each of its files is embedded alone, so that only the file at fault fails.
    fn embed_batch(&mut self) -> Result<()> {
        let parts = self.next_batch();
        if parts.is_empty() {
            // Every queued file kept all its vectors.
            return Ok(());
        }
        let mut failed = Vec::new();
        match self.embed(&parts) {
            Ok(vectors) => self.assign(&parts, vectors),
            Err(reason) if parts.len() == 1 => failed.push((parts[0].0, reason)),
            Err(_) => {
                for part in &parts {
                    match self.embed(std::slice::from_ref(part)) {
                        Ok(vectors) => self.assign(std::slice::from_ref(part), vectors),
                        Err(reason) => failed.push((part.0, reason)),
                    }
                }
            }
        }
        self.embedded += parts.iter().map(|(_, range)| range.len()).sum::<usize>();
        (self.events)(IndexEvent::Embedded { chunks: self.embedded });
        // Back to front, so the positions of the others stay valid.
        failed.sort_by_key(|(position, _)| *position);
        for (position, reason) in failed.into_iter().rev() {
            let p = self.queue.remove(position).expect("a queued file");
            self.fail(&p.job, Some(&p.hash), reason, false)?;
        }
        Ok(())
    }

    /// The next chunks still without vectors, up to `EMBED_BATCH_TOKENS` (and at least one), from
    /// the files with the least left to embed first: a short file queued behind a long one becomes
    /// searchable without waiting for it, and the long one fills what room is left.
    fn next_batch(&self) -> Vec<Part> {
        let mut order: Vec<usize> = (0..self.queue.len()).filter(|&i| self.queue[i].waiting() > 0).collect();
        order.sort_by_cached_key(|&i| self.queue[i].waiting_tokens());
        let mut parts = Vec::new();
        let mut room = EMBED_BATCH_TOKENS;
        for position in order {
            let p = &self.queue[position];
            let mut to = p.embedded;
            while to < p.to_embed.len() {
                let tokens = p.chunks[p.to_embed[to]].tokens.max(1);
                if tokens > room && !(parts.is_empty() && to == p.embedded) {
                    break;
                }
                room = room.saturating_sub(tokens);
                to += 1;
            }
            if to > p.embedded {
                parts.push((position, p.embedded..to));
            }
            if room == 0 {
                break;
            }
        }
        parts
    }

    /// The vectors of some files' chunks, checked: one per chunk, of the embedder's width, finite.
    fn embed(&self, parts: &[Part]) -> std::result::Result<Vec<Vec<f32>>, String> {
        let texts: Vec<&str> = parts
            .iter()
            .flat_map(|(position, range)| {
                let p = &self.queue[*position];
                p.to_embed[range.clone()].iter().map(|&i| p.chunks[i].text.as_str())
            })
            .collect();
        let vectors = match contain(Stage::Embedding, || {
            for (position, _) in parts {
                failpoint::hit("embed", &self.queue[*position].job.found.path);
            }
            self.library.embedder.embed_passages(&texts)
        }) {
            Ok(Ok(vectors)) => vectors,
            Ok(Err(error)) => return Err(Stage::Embedding.reason(error)),
            Err(reason) => return Err(reason),
        };
        let dims = self.library.embedder.dims();
        let sound =
            vectors.len() == texts.len() && vectors.iter().all(|v| v.len() == dims && v.iter().all(|x| x.is_finite()));
        if !sound {
            return Err(Stage::Embedding.reason("the embedder returned invalid vectors"));
        }
        Ok(vectors)
    }

    fn assign(&mut self, parts: &[Part], vectors: Vec<Vec<f32>>) {
        let mut vectors = vectors.into_iter();
        for (position, range) in parts {
            let p = &mut self.queue[*position];
            for &i in &p.to_embed[range.clone()] {
                p.vectors[i] = vectors.next();
            }
            p.embedded = range.end;
        }
    }

    /// Commits the queued files whose chunks all have vectors; true when one was stored.
    fn commit_ready(&mut self) -> Result<bool> {
        let mut committed = false;
        let mut position = 0;
        while position < self.queue.len() {
            if self.queue[position].waiting() > 0 {
                position += 1;
                continue;
            }
            let p = self.queue.remove(position).expect("a queued file");
            match self.commit(&p)? {
                Ok(chunks) => {
                    self.summary.reused += p.reused();
                    let outcome = FileOutcome::Indexed { chunks, warnings: p.warnings.clone() };
                    self.settle(p.job.found.path.clone(), outcome);
                    committed = true;
                }
                Err(reason) => self.fail(&p.job, Some(&p.hash), reason, false)?,
            }
        }
        Ok(committed)
    }

    /// Stores one fully embedded file and feeds the derived indexes. A panic while storing fails
    /// the file (its transaction rolls back); a panic while feeding the derived indexes keeps the
    /// file, which the catalog holds, and marks those indexes for a rebuild. Errors end the run.
    fn commit(&mut self, p: &Prepared) -> Result<std::result::Result<usize, String>> {
        let path = &p.job.found.path;
        let record = FileRecord {
            folder_id: p.job.folder_id,
            path,
            size: p.job.found.size,
            mtime_ns: p.job.found.mtime_ns,
            hash: Some(&p.hash),
            extractor: Some(&p.extractor),
            extractor_version: Some(EXTRACTOR_VERSION),
            pages: Some(p.pages),
        };
        let vectors: Vec<&[f32]> =
            p.vectors.iter().map(|v| v.as_deref().expect("every chunk has its vector")).collect();
        let chunks: Vec<NewChunk> = p
            .chunks
            .iter()
            .zip(&vectors)
            .map(|(c, &v)| NewChunk {
                page: c.page,
                start: c.start,
                end: c.end,
                tokens: c.tokens,
                text: &c.text,
                vector: v,
            })
            .collect();
        let stored = contain(Stage::Committing, || {
            failpoint::hit("commit", path);
            self.library.catalog.commit_file(&record, &chunks, p.warnings.as_deref())
        });
        let change = match stored {
            Ok(change) => change?,
            Err(reason) => return Ok(Err(reason)),
        };
        let added: Vec<(&str, &[f32])> = p.chunks.iter().zip(&vectors).map(|(c, &v)| (c.text.as_str(), v)).collect();
        let applied = contain(Stage::Committing, || {
            failpoint::hit("derive", path);
            self.library.apply_change(&change, &added)
        });
        match applied {
            Ok(result) => result?,
            Err(reason) => {
                tracing::warn!("{}: {reason}", path.display());
                self.derived_suspect = true;
            }
        }
        Ok(Ok(chunks.len()))
    }

    /// Records a file that could not be indexed, and whether a password would read it; chunks of
    /// an earlier version stay searchable.
    fn fail(&mut self, job: &Job, hash: Option<&str>, reason: String, needs_password: bool) -> Result<()> {
        let record = FileRecord {
            folder_id: job.folder_id,
            path: &job.found.path,
            size: job.found.size,
            mtime_ns: job.found.mtime_ns,
            hash,
            extractor: Some(extractor_name(&job.found.path)),
            extractor_version: Some(EXTRACTOR_VERSION),
            pages: None,
        };
        self.library.catalog.record_unindexed(&record, FileStatus::Failed, &reason, needs_password)?;
        self.settle(job.found.path.clone(), FileOutcome::Failed { reason });
        Ok(())
    }

    fn settle(&mut self, path: PathBuf, outcome: FileOutcome) {
        self.done += 1;
        match &outcome {
            FileOutcome::Indexed { chunks, .. } => {
                self.summary.indexed += 1;
                self.summary.chunks += chunks;
            }
            FileOutcome::Unchanged => self.summary.unchanged += 1,
            FileOutcome::Failed { reason } => self.summary.failed.push((path.clone(), reason.clone())),
            FileOutcome::Skipped { reason } => self.summary.skipped.push((path.clone(), reason.clone())),
            FileOutcome::Removed => self.summary.removed += 1,
        }
        (self.events)(IndexEvent::File { path, outcome, done: self.done, total: self.total });
    }
}

fn extractor_name(path: &Path) -> &'static str {
    crate::ingest::extract::extractor_for(path).map(|x| x.name()).unwrap_or("none")
}
