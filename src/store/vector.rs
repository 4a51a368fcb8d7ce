//! The vector index: an hnsw_rs graph over chunk embeddings, persisted between runs.
//!
//! hnsw_rs cannot delete points, so removed chunks become tombstones that searches filter out; when
//! they make up a large share of the graph, the caller rebuilds it from the catalog. The graph is
//! saved into a fresh folder and a small `current.json` is then replaced atomically to point at it,
//! so a crash during a save leaves the previous save intact. The save records the catalog sequence
//! number it reflects; on open the catalog replays what came after.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hnsw_rs::prelude::{AnnT, Distance, Hnsw, HnswIo, ReloadOptions};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vector_math::dot;

/// Graph parameters: 16 links a node and a wide construction beam give recall@10 above 0.98 on
/// 384-dimensional sentence embeddings (see `folio eval retrieval`).
const MAX_LINKS: usize = 16;
const MAX_LAYERS: usize = 16;
const EF_CONSTRUCTION: usize = 200;
const BASENAME: &str = "graph";
/// Points a loaded graph reads into memory; the vectors of the others are read from the saved file
/// through a memory map. The first points of a dump are the upper layers', which every search
/// visits. A million 384-dimensional vectors are 1.5 GB: mapped, opening does not read them all,
/// and the pages searches touch are the file's, which the system can drop under pressure.
const IN_MEMORY_POINTS: usize = 100_000;
const CURRENT: &str = "current.json";

/// Distance between unit vectors: 1 − cosine. Clamped at 0, where hnsw_rs's own dot distance
/// asserts and rounding of a vector against itself could trip it.
#[derive(Default, Clone, Copy)]
pub struct UnitCosine;

impl Distance<f32> for UnitCosine {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    folder: String,
    seq: i64,
    dims: usize,
    points: usize,
    tombstones: Vec<i64>,
}

pub struct VectorIndex {
    dir: PathBuf,
    graph: Hnsw<'static, f32, UnitCosine>,
    dims: usize,
    points: usize,
    tombstones: HashSet<i64>,
    applied_seq: i64,
    saved_seq: i64,
}

impl VectorIndex {
    /// An empty index that will be saved into `dir`.
    pub fn empty(dir: &Path, dims: usize, expected_points: usize) -> Self {
        let graph = Hnsw::new(MAX_LINKS, expected_points.max(1024), MAX_LAYERS, EF_CONSTRUCTION, UnitCosine);
        VectorIndex {
            dir: dir.to_path_buf(),
            graph,
            dims,
            points: 0,
            tombstones: HashSet::new(),
            applied_seq: 0,
            saved_seq: -1,
        }
    }

    /// Loads the last save in `dir`; `Ok(None)` when there is none or it is unreadable (the caller
    /// rebuilds from the catalog). The caller checks `dims` against its embedder's.
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        Self::load_mapping_beyond(dir, IN_MEMORY_POINTS)
    }

    fn load_mapping_beyond(dir: &Path, in_memory_points: usize) -> Result<Option<Self>> {
        let current = dir.join(CURRENT);
        let Ok(text) = std::fs::read_to_string(&current) else {
            return Ok(None);
        };
        let Ok(state) = serde_json::from_str::<SavedState>(&text) else {
            tracing::warn!("{} is damaged; the vector index will be rebuilt", current.display());
            return Ok(None);
        };
        let dims = state.dims;
        if state.points == 0 {
            let mut empty = Self::empty(dir, dims, 0);
            empty.tombstones = state.tombstones.into_iter().collect();
            (empty.applied_seq, empty.saved_seq) = (state.seq, state.seq);
            return Ok(Some(empty));
        }
        let folder = dir.join(&state.folder);
        // hnsw_rs's memory map ends the process when its files are missing: they are checked here.
        let complete = ["graph.hnsw.graph", "graph.hnsw.data"].iter().all(|f| folder.join(f).is_file());
        // hnsw_rs asserts on malformed files; a damaged save must not take the program down.
        let loaded = catch_unwind(AssertUnwindSafe(|| -> Option<Hnsw<'static, f32, UnitCosine>> {
            // The loaded graph borrows its loader (and its memory map) for life; loads happen once
            // per open, so the loader is leaked to give the graph a 'static lifetime.
            let mut options = ReloadOptions::default();
            if state.points > in_memory_points {
                options = options.set_mmap_threshold(in_memory_points.max(1));
            }
            let io = HnswIo::new_with_options(&folder, BASENAME, options);
            let io: &'static mut HnswIo = Box::leak(Box::new(io));
            io.load_hnsw::<f32, UnitCosine>().ok()
        }))
        .ok()
        .filter(|_| complete);
        let graph = match loaded {
            Some(Some(graph)) if graph.get_nb_point() == state.points => graph,
            _ => {
                tracing::warn!("vector index in {} is damaged; it will be rebuilt", folder.display());
                return Ok(None);
            }
        };
        Ok(Some(VectorIndex {
            dir: dir.to_path_buf(),
            graph,
            dims,
            points: state.points,
            tombstones: state.tombstones.into_iter().collect(),
            applied_seq: state.seq,
            saved_seq: state.seq,
        }))
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn applied_seq(&self) -> i64 {
        self.applied_seq
    }

    pub fn set_applied_seq(&mut self, seq: i64) {
        self.applied_seq = seq;
    }

    pub fn insert(&mut self, items: &[(i64, &[f32])]) -> Result<()> {
        if let Some((id, v)) = items.iter().find(|(_, v)| v.len() != self.dims) {
            return Err(Error::Vectors(format!("chunk {id} has {} dimensions, the index {}", v.len(), self.dims)));
        }
        let data: Vec<(&[f32], usize)> = items.iter().map(|(id, v)| (*v, *id as usize)).collect();
        if data.len() > 32 {
            self.graph.parallel_insert_slice(&data);
        } else {
            for item in data {
                self.graph.insert_slice(item);
            }
        }
        self.points += items.len();
        Ok(())
    }

    pub fn remove(&mut self, chunk_id: i64) {
        self.tombstones.insert(chunk_id);
    }

    pub fn tombstones(&self) -> usize {
        self.tombstones.len()
    }

    pub fn points(&self) -> usize {
        self.points
    }

    /// Worth rebuilding when a quarter of the graph is dead.
    pub fn needs_rebuild(&self) -> bool {
        self.tombstones.len() > 1000 && self.tombstones.len() * 4 > self.points
    }

    /// Top `k` live chunks by cosine similarity, among `within` when given (the graph search
    /// skips every other point).
    pub fn search(&self, query: &[f32], k: usize, ef: usize, within: Option<&HashSet<i64>>) -> Vec<(i64, f32)> {
        if self.points == 0 || k == 0 || query.len() != self.dims {
            return Vec::new();
        }
        let tombstones = &self.tombstones;
        let allowed = |id: &usize| {
            let id = *id as i64;
            !tombstones.contains(&id) && within.is_none_or(|w| w.contains(&id))
        };
        let found = if tombstones.is_empty() && within.is_none() {
            self.graph.search(query, k, ef.max(k))
        } else {
            self.graph.search_filter(query, k, ef.max(k), Some(&allowed))
        };
        found.into_iter().map(|n| (n.d_id as i64, 1.0 - n.distance)).collect()
    }

    /// Saves the graph if it changed since the last save.
    pub fn save(&mut self) -> Result<()> {
        if self.saved_seq == self.applied_seq {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let folder_name = format!("graph-{}-{nonce}", self.applied_seq);
        let folder = self.dir.join(&folder_name);
        std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        let written = if self.points == 0 {
            // hnsw_rs cannot dump an empty graph; an empty save is just the state file.
            Ok(BASENAME.to_string())
        } else {
            self.graph.file_dump(&folder, BASENAME)
        };
        match written {
            Ok(name) if name == BASENAME => {}
            Ok(name) => return Err(Error::Vectors(format!("graph saved under an unexpected name {name}"))),
            Err(e) => return Err(Error::Vectors(format!("saving the graph into {}: {e}", folder.display()))),
        }
        for file in ["graph.hnsw.graph", "graph.hnsw.data"] {
            if let Ok(f) = std::fs::File::open(folder.join(file)) {
                f.sync_all().map_err(|e| Error::io(folder.join(file), e))?;
            }
        }
        let state = SavedState {
            folder: folder_name.clone(),
            seq: self.applied_seq,
            dims: self.dims,
            points: self.points,
            tombstones: self.tombstones.iter().copied().collect(),
        };
        super::write_atomically(&self.dir.join(CURRENT), &serde_json::to_vec(&state).expect("state serialises"))?;
        self.saved_seq = self.applied_seq;
        // Older saves are garbage now.
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with("graph-") && name != folder_name {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Ok(())
    }

    pub fn disk_bytes(&self) -> u64 {
        super::dir_size(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_vectors(count: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                let mut v: Vec<f32> = (0..dims)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
                    })
                    .collect();
                let norm = dot(&v, &v).sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect()
    }

    /// A graph whose vectors are partly read through the memory map finds what the graph in
    /// memory found, takes new points, and saves and loads again with all of them.
    #[test]
    fn a_mapped_graph_searches_grows_and_saves_like_one_in_memory() {
        let tmp = tempfile::tempdir().unwrap();
        let dims = 32;
        let first = unit_vectors(600, dims, 1);
        let mut index = VectorIndex::empty(tmp.path(), dims, 600);
        let items: Vec<(i64, &[f32])> = first.iter().enumerate().map(|(i, v)| (i as i64, v.as_slice())).collect();
        index.insert(&items).unwrap();
        index.set_applied_seq(1);
        index.save().unwrap();
        let queries = unit_vectors(20, dims, 2);
        let before: Vec<Vec<(i64, f32)>> = queries.iter().map(|q| index.search(q, 5, 100, None)).collect();

        let mut mapped = VectorIndex::load_mapping_beyond(tmp.path(), 100).unwrap().expect("the save loads");
        assert_eq!(mapped.points(), 600);
        let after: Vec<Vec<(i64, f32)>> = queries.iter().map(|q| mapped.search(q, 5, 100, None)).collect();
        assert_eq!(before, after);

        let more = unit_vectors(100, dims, 3);
        let items: Vec<(i64, &[f32])> = more.iter().enumerate().map(|(i, v)| (1000 + i as i64, v.as_slice())).collect();
        mapped.insert(&items).unwrap();
        mapped.set_applied_seq(2);
        mapped.save().unwrap();
        let reloaded = VectorIndex::load_mapping_beyond(tmp.path(), 100).unwrap().expect("the new save loads");
        assert_eq!(reloaded.points(), 700);
        // Every vector, mapped or read, finds itself (an approximate graph built by parallel
        // inserts may leave one in hundreds out of reach: wrong vectors would miss them all).
        let ids = (0..600).chain(1000..1100);
        let found = first
            .iter()
            .chain(&more)
            .zip(ids)
            .filter(|(v, id)| reloaded.search(v, 1, 100, None).first().map(|hit| hit.0) == Some(*id))
            .count();
        assert!(found >= 690, "{found} of 700 vectors found themselves");
    }

    #[test]
    fn a_search_within_returns_only_allowed_points_and_the_best_of_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dims = 32;
        let vectors = unit_vectors(600, dims, 3);
        let mut index = VectorIndex::empty(tmp.path(), dims, 600);
        let items: Vec<(i64, &[f32])> = vectors.iter().enumerate().map(|(i, v)| (i as i64, v.as_slice())).collect();
        index.insert(&items).unwrap();
        // Every fifth point; the query is one of them, so it must come first.
        let within: HashSet<i64> = (0..600).step_by(5).collect();
        let found = index.search(&vectors[35], 10, 200, Some(&within));
        assert_eq!(found.len(), 10);
        assert!(found.iter().all(|(id, _)| within.contains(id)), "{found:?}");
        assert_eq!(found[0].0, 35);
    }
}
