//! `Library`: the façade both faces use. A library is a directory holding the catalog, the keyword
//! index and the vector index, and nothing else.

mod contain;
mod derived;
pub mod external;
mod indexer;
mod passwords;
mod reuse;
pub mod scale;
mod scope;

pub use passwords::read_password_file;
pub use scope::Scope;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;

use crate::embed::{Embedder, EncoderPath};
use crate::error::{Error, IoContext, Result};
use crate::index_events::{IndexEvent, IndexSummary};
use crate::ingest::chunk::ChunkSizes;
use crate::ingest::discover::DiscoverOptions;
use crate::ingest::worker::{ExtractLimits, Isolation, WorkerCommand};
use crate::models::{models_dir, DEFAULT_EMBEDDER};
use crate::search::{fuse, single, Ranked, SearchMode};
use crate::store::catalog::{Catalog, CatalogStats, ChunkRow, FileRow, Folder};
use crate::store::keyword::KeywordIndex;
use crate::store::vector::VectorIndex;

/// How to open a library.
#[derive(Debug, Clone)]
pub struct LibraryOptions {
    pub models_dir: PathBuf,
    /// The embedder of a new library. An existing library keeps the one it was built with.
    pub embedder: Option<String>,
    /// Which encoder computes the vectors (the native one where it can run, by default).
    pub encoder: EncoderPath,
    pub isolation: Isolation,
    pub limits: ExtractLimits,
    pub discover: DiscoverOptions,
    /// Chunk target and overlap in tokens; the maximum comes from the embedder.
    pub chunk_target: usize,
    pub chunk_overlap: usize,
    /// Files read at once (each in its own worker process).
    pub extract_threads: usize,
}

impl Default for LibraryOptions {
    fn default() -> Self {
        LibraryOptions {
            models_dir: models_dir(),
            embedder: None,
            encoder: EncoderPath::Auto,
            isolation: WorkerCommand::current_exe().map(Isolation::Process).unwrap_or(Isolation::InProcess),
            limits: ExtractLimits::default(),
            discover: DiscoverOptions::default(),
            chunk_target: ChunkSizes::default().target,
            chunk_overlap: ChunkSizes::default().overlap,
            extract_threads: crate::ingest::worker::WorkerPlan::for_machine(&crate::machine::Machine::this()).workers,
        }
    }
}

/// The default library directory.
pub fn default_library_dir() -> PathBuf {
    crate::models::data_dir().join("library")
}

/// A retrieved passage with where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub chunk_id: i64,
    pub path: PathBuf,
    pub page: Option<u32>,
    /// Character span of the passage in its page.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub score: f32,
    pub bm25_rank: Option<usize>,
    pub dense_rank: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FolderStatus {
    pub path: PathBuf,
    pub files_indexed: usize,
    pub files_failed: usize,
    pub files_skipped: usize,
    pub chunks: i64,
    /// Why the folder cannot be read now (its index is kept); `None`: available.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LibraryStatus {
    pub dir: PathBuf,
    pub embedder: String,
    /// The encoder that computes its vectors, in words.
    pub encoder: String,
    pub folders: Vec<FolderStatus>,
    pub catalog: CatalogStats,
    pub keyword_docs: u64,
    pub keyword_bytes: u64,
    pub vector_points: usize,
    pub vector_tombstones: usize,
    pub vector_bytes: u64,
}

pub struct Library {
    dir: PathBuf,
    options: LibraryOptions,
    catalog: Catalog,
    keyword: KeywordIndex,
    vectors: RwLock<VectorIndex>,
    embedder: Arc<Embedder>,
    /// One indexing run at a time; searches go on alongside.
    indexing: Mutex<()>,
    /// Folders removed in this session, with the mark of their removal (`queue_mark`): work queued
    /// before a folder was removed must not bring it back.
    removed: Mutex<(u64, HashMap<PathBuf, u64>)>,
    /// Passwords for password-protected files, in memory only (`passwords.rs`).
    passwords: Mutex<passwords::PasswordBook>,
    _lock: std::fs::File,
}

/// How wide the graph search looks: 100 candidates (or twice `k`) up to 100,000 points, and one
/// more such share for each doubling beyond, as the graph grows deeper. At a million synthetic
/// passages recall@10 was 0.865 with 100, 0.943 with 200 and 0.969 with 400 (`folio bench scale`).
fn search_beam(k: usize, points: usize) -> usize {
    let base = (2 * k).max(100) as f64;
    let doublings = (points as f64 / 100_000.0).max(1.0).log2();
    (base * (1.0 + doublings)).round() as usize
}

impl Library {
    /// Opens (or creates) the library in `dir`, repairing derived indexes that are behind the
    /// catalog or damaged.
    pub fn open(dir: &Path, options: LibraryOptions) -> Result<Library> {
        std::fs::create_dir_all(dir).at(dir)?;
        let lock_path = dir.join("lock");
        let lock =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).at(&lock_path)?;
        if lock.try_lock().is_err() {
            return Err(Error::LibraryLocked { dir: dir.to_path_buf() });
        }
        let catalog = Catalog::open(&dir.join("catalog.db"))?;
        let embedder_id = match (catalog.meta("embedder")?, &options.embedder) {
            (Some(stored), Some(asked)) if &stored != asked => {
                return Err(Error::EmbedderMismatch { dir: dir.to_path_buf(), stored, requested: asked.clone() })
            }
            (Some(stored), _) => stored,
            (None, asked) => asked.clone().unwrap_or_else(|| DEFAULT_EMBEDDER.to_string()),
        };
        let vectors_dir = dir.join("vectors");
        // The embedder (tokenizer and weights) and the vector graph are what takes time when a
        // large library opens: they load side by side.
        let (embedder, saved) = std::thread::scope(|scope| {
            let embedder = scope.spawn(|| Embedder::load(&options.models_dir, &embedder_id, options.encoder));
            let saved = VectorIndex::load(&vectors_dir);
            (embedder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), saved)
        });
        let embedder = Arc::new(embedder?);
        catalog.set_meta("embedder", &embedder_id)?;
        let keyword = KeywordIndex::open(&dir.join("keyword"))?;
        // A graph of other dimensions is another embedder's: rebuilt from the catalog.
        let vectors = saved?
            .filter(|v| v.dims() == embedder.dims())
            .unwrap_or_else(|| VectorIndex::empty(&vectors_dir, embedder.dims(), 0));
        let library = Library {
            dir: dir.to_path_buf(),
            options,
            catalog,
            keyword,
            vectors: RwLock::new(vectors),
            embedder,
            indexing: Mutex::new(()),
            removed: Mutex::new((0, HashMap::new())),
            passwords: Mutex::default(),
            _lock: lock,
        };
        library.catch_up_derived()?;
        Ok(library)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Adds folders (or single files) and indexes them; on an existing folder, re-indexes what
    /// changed and forgets what was deleted.
    pub fn index(
        &self,
        paths: &[PathBuf],
        events: &(dyn Fn(IndexEvent) + Sync),
        cancel: &AtomicBool,
    ) -> Result<IndexSummary> {
        let _run = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        indexer::run(self, paths, events, cancel)
    }

    /// A mark of this moment, for a face that queues indexing work now and runs it later.
    pub fn queue_mark(&self) -> u64 {
        self.removed.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// `index`, for work queued at `mark`: a folder removed since then is not indexed (nor added
    /// back). `Ok(None)` when every path was removed.
    pub fn index_queued(
        &self,
        paths: &[PathBuf],
        mark: u64,
        events: &(dyn Fn(IndexEvent) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Option<IndexSummary>> {
        let live: Vec<PathBuf> = {
            let removed = self.removed.lock().unwrap_or_else(|p| p.into_inner());
            let removed_after = |path: &Path| {
                let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                removed
                    .1
                    .iter()
                    .any(|(folder, at)| *at > mark && (canonical.starts_with(folder) || path.starts_with(folder)))
            };
            paths.iter().filter(|p| !removed_after(p)).cloned().collect()
        };
        if live.is_empty() {
            return Ok(None);
        }
        self.index(&live, events, cancel).map(Some)
    }

    /// Re-indexes every folder of the library.
    pub fn refresh(&self, events: &(dyn Fn(IndexEvent) + Sync), cancel: &AtomicBool) -> Result<IndexSummary> {
        let folders: Vec<PathBuf> = self.catalog.folders()?.into_iter().map(|f| f.path).collect();
        self.index(&folders, events, cancel)
    }

    /// Forgets a folder and everything indexed from it. Work queued before this call
    /// (`index_queued`) no longer indexes it, even while this call waits for a run to end.
    pub fn remove_folder(&self, path: &Path) -> Result<usize> {
        let wanted = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        {
            let mut marks = self.removed.lock().unwrap_or_else(|p| p.into_inner());
            marks.0 += 1;
            let mark = marks.0;
            marks.1.insert(wanted.clone(), mark);
            marks.1.insert(path.to_path_buf(), mark);
        }
        let _run = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let folder = self
            .catalog
            .folders()?
            .into_iter()
            .find(|f| f.path == wanted || f.path == path)
            .ok_or_else(|| Error::InvalidInput(format!("{} is not a folder of this library", path.display())))?;
        let change = self.catalog.remove_folder(folder.id)?;
        let removed = change.removed.len();
        self.apply_change(&change, &[])?;
        self.commit_derived()?;
        Ok(removed)
    }

    pub fn folders(&self) -> Result<Vec<Folder>> {
        self.catalog.folders()
    }

    pub fn files(&self, folder: &Folder) -> Result<Vec<FileRow>> {
        self.catalog.files_in_folder(folder.id)
    }

    pub fn status(&self) -> Result<LibraryStatus> {
        let mut folders = Vec::new();
        for folder in self.catalog.folders()? {
            let files = self.catalog.files_in_folder(folder.id)?;
            let count = |s| files.iter().filter(|f| f.status == s).count();
            use crate::store::catalog::FileStatus::*;
            folders.push(FolderStatus {
                path: folder.path.clone(),
                files_indexed: count(Indexed),
                files_failed: count(Failed),
                files_skipped: count(Skipped),
                chunks: files.iter().map(|f| f.chunks).sum(),
                unavailable: folder.unavailable.clone(),
            });
        }
        let vectors = self.vectors.read().unwrap_or_else(|p| p.into_inner());
        Ok(LibraryStatus {
            dir: self.dir.clone(),
            embedder: self.embedder.id().to_string(),
            encoder: self.embedder.encoder_name(),
            folders,
            catalog: self.catalog.stats()?,
            keyword_docs: self.keyword.num_docs(),
            keyword_bytes: self.keyword.disk_bytes(),
            vector_points: vectors.points() - vectors.tombstones(),
            vector_tombstones: vectors.tombstones(),
            vector_bytes: vectors.disk_bytes(),
        })
    }

    /// The `k` best chunk ids for a query, with their scores and per-retriever ranks.
    pub fn retrieve(&self, query: &str, mode: SearchMode, k: usize) -> Result<Vec<Ranked>> {
        self.retrieve_in(query, mode, k, None)
    }

    /// `retrieve` among the passages of `scope` only (`Library::scope`).
    pub fn retrieve_in(&self, query: &str, mode: SearchMode, k: usize, scope: Option<&Scope>) -> Result<Vec<Ranked>> {
        // Fusion looks deeper than `k` into each list: a chunk ranked 30th by both retrievers
        // deserves a place in the top 10.
        let depth = (k * 3).max(50);
        let within = scope.map(|s| &s.chunks);
        let bm25 = if mode == SearchMode::Dense { Vec::new() } else { self.keyword.search(query, depth, within)? };
        let dense = if mode == SearchMode::Bm25 {
            Vec::new()
        } else {
            let q = self.embedder.embed_query(query)?;
            self.dense_search_in(&q, depth, scope)?
        };
        let mut ranked = match mode {
            SearchMode::Bm25 => single(&bm25, mode),
            SearchMode::Dense => single(&dense, mode),
            SearchMode::Hybrid => fuse(&bm25, &dense),
        };
        ranked.truncate(k);
        Ok(ranked)
    }

    /// The query's distinct keyword terms with their inverse document frequencies in this library.
    pub fn term_weights(&self, query: &str) -> Result<Vec<(String, f32)>> {
        self.keyword.term_weights(query)
    }

    /// Nearest chunks to an embedded query.
    pub fn dense_search(&self, query: &[f32], k: usize) -> Vec<(i64, f32)> {
        let vectors = self.vectors.read().unwrap_or_else(|p| p.into_inner());
        vectors.search(query, k, search_beam(k, vectors.points()), None)
    }

    /// The `k` best passages for a query.
    pub fn search(&self, query: &str, mode: SearchMode, k: usize) -> Result<Vec<SearchHit>> {
        self.search_in(query, mode, k, None)
    }

    /// `search` among the passages of `scope` only.
    pub fn search_in(&self, query: &str, mode: SearchMode, k: usize, scope: Option<&Scope>) -> Result<Vec<SearchHit>> {
        let ranked = self.retrieve_in(query, mode, k, scope)?;
        self.hits(&ranked)
    }

    /// Resolves ranked chunk ids to passages (chunks deleted meanwhile drop out).
    pub fn hits(&self, ranked: &[Ranked]) -> Result<Vec<SearchHit>> {
        let ids: Vec<i64> = ranked.iter().map(|r| r.chunk_id).collect();
        let rows = self.catalog.chunks(&ids)?;
        let mut by_id: std::collections::HashMap<i64, ChunkRow> = rows.into_iter().map(|r| (r.id, r)).collect();
        Ok(ranked
            .iter()
            .filter_map(|r| {
                let row = by_id.remove(&r.chunk_id)?;
                Some(SearchHit {
                    chunk_id: row.id,
                    path: row.path,
                    page: row.page,
                    start: row.start,
                    end: row.end,
                    text: row.text,
                    score: r.score,
                    bm25_rank: r.bm25_rank,
                    dense_rank: r.dense_rank,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::search_beam;

    #[test]
    fn the_search_beam_widens_as_the_graph_doubles() {
        assert_eq!(search_beam(10, 5_000), 100);
        assert_eq!(search_beam(10, 100_000), 100);
        assert_eq!(search_beam(50, 50_000), 100);
        assert_eq!(search_beam(10, 200_000), 200);
        assert_eq!(search_beam(10, 1_000_000), 432);
        assert_eq!(search_beam(80, 100), 160);
    }
}
