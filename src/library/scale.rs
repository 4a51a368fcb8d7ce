//! `folio bench scale`: how the library holds up at a hundred thousand or a million passages.
//!
//! Embedding a million real passages would take this machine a day, so the library is built from
//! synthetic ones that stress the same structures as real ones would:
//! - texts are drawn word by word from the unigram distribution of a real sample (its Zipf curve,
//!   hence realistic posting-list lengths for the keyword index), with the sample's lengths;
//! - vectors are the real embedder's vectors of the sample, each synthetic one a blend of two of
//!   them plus noise, renormalised, so the graph sees the anisotropic, clustered cloud of sentence
//!   embeddings rather than uniform noise.
//!
//! The library is built through the catalog and the same change path an indexing run takes. Opening
//! it and searching it are measured in a fresh process (`measure`), as a user's next start would be:
//! time to open, resident memory after opening, hybrid search latency through `Library::search`
//! (query embedding included), and the graph's recall@10 against exact search over all vectors,
//! which the build computes for the benchmark's queries.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Library, LibraryOptions};
use crate::error::{Error, IoContext, Result};
use crate::llm::sampling::Rng;
use crate::search::SearchMode;
use crate::store::catalog::{FileRecord, NewChunk};
use crate::vector_math::dot;

/// Passages stored per synthetic file (one catalog transaction and one graph insert each).
const FILE_PASSAGES: usize = 1000;
/// Real passages embedded to seed the synthetic vectors.
const SEED_VECTORS: usize = 512;
/// The longest synthetic passage, in words: about what a chunk holds.
const MAX_WORDS: usize = 160;
const QUERIES_FILE: &str = "scale-queries.json";

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub passages: usize,
    pub build_s: f64,
    pub disk_mib: f64,
    /// Real passages whose vectors seeded the synthetic ones.
    pub seed_passages: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeasureReport {
    pub open_s: f64,
    /// Resident memory right after opening, and after the searches.
    pub rss_mib: f64,
    pub rss_after_search_mib: f64,
    pub queries: usize,
    pub search_p50_ms: f64,
    pub search_p95_ms: f64,
    pub recall_at_10: f64,
    /// Indexing one new small file into the big library, saves included: what every edit costs.
    pub add_file_s: f64,
}

/// A benchmark query and the ids exact search ranks first for it.
#[derive(Serialize, Deserialize)]
struct Query {
    text: String,
    truth: Vec<i64>,
}

/// The sampler's seeded generator (SplitMix64), with the draws the synthetic library needs: the
/// same library for the same arguments.
struct SplitMix(Rng);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal sample (Box–Muller).
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// Words of the sample with their cumulative counts, for drawing words by frequency.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<u64>,
}

impl Vocabulary {
    fn of(texts: &[String]) -> Vocabulary {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for word in texts.iter().flat_map(|t| t.split_whitespace()) {
            *counts.entry(word).or_default() += 1;
        }
        let mut pairs: Vec<(&str, u64)> = counts.into_iter().collect();
        pairs.sort_unstable();
        let mut total = 0;
        let cumulative = pairs
            .iter()
            .map(|(_, n)| {
                total += n;
                total
            })
            .collect();
        Vocabulary { words: pairs.into_iter().map(|(w, _)| w.to_string()).collect(), cumulative }
    }

    fn draw(&self, rng: &mut SplitMix) -> &str {
        let total = *self.cumulative.last().expect("a vocabulary has words");
        let at = rng.next() % total;
        &self.words[self.cumulative.partition_point(|&c| c <= at)]
    }
}

/// Builds a library of `passages` synthetic passages in `dir` (which must not hold one), seeded
/// from the real `sample`, and stores `queries` benchmark queries with their exact top 10.
pub fn build(
    dir: &Path,
    options: LibraryOptions,
    passages: usize,
    sample: &[String],
    queries: usize,
) -> Result<BuildReport> {
    if sample.is_empty() || passages == 0 {
        return Err(Error::InvalidInput("the scale benchmark needs passages and a sample of text".into()));
    }
    if dir.join("catalog.db").exists() {
        return Err(Error::InvalidInput(format!("{} already holds a library; give an empty folder", dir.display())));
    }
    let started = Instant::now();
    let library = Library::open(dir, options)?;
    let seeds: Vec<&str> = sample.iter().take(SEED_VECTORS).map(String::as_str).collect();
    let seed_vectors = library.embedder.embed_passages(&seeds)?;
    let vocabulary = Vocabulary::of(sample);
    let lengths: Vec<usize> = sample.iter().map(|t| t.split_whitespace().count().clamp(8, MAX_WORDS)).collect();
    let dims = library.embedder.dims();

    let files_dir = dir.join("synthetic");
    std::fs::create_dir_all(&files_dir).at(&files_dir)?;
    let folder = library.catalog.add_folder(&files_dir)?;
    let mut rng = SplitMix(Rng::new(0x5eed));
    let mut all_ids = Vec::with_capacity(passages);
    let mut all_vectors = Vec::with_capacity(passages * dims);
    for (file, first) in (0..passages).step_by(FILE_PASSAGES).enumerate() {
        let count = FILE_PASSAGES.min(passages - first);
        let texts: Vec<String> = (0..count)
            .map(|_| {
                let words = lengths[rng.below(lengths.len())];
                (0..words).map(|_| vocabulary.draw(&mut rng)).collect::<Vec<_>>().join(" ")
            })
            .collect();
        let vectors: Vec<Vec<f32>> = (0..count).map(|_| blend(&seed_vectors, &mut rng)).collect();
        let path = files_dir.join(format!("file-{file:05}.txt"));
        let mut offset = 0;
        let chunks: Vec<NewChunk> = texts
            .iter()
            .zip(&vectors)
            .map(|(text, vector)| {
                let start = offset;
                offset += text.chars().count() + 1;
                NewChunk { page: None, start, end: offset - 1, tokens: text.split(' ').count(), text, vector }
            })
            .collect();
        let record = FileRecord {
            folder_id: folder.id,
            path: &path,
            size: offset as u64,
            mtime_ns: 0,
            hash: None,
            extractor: Some("synthetic"),
            extractor_version: None,
            pages: Some(1),
        };
        let change = library.catalog.commit_file(&record, &chunks, None)?;
        let added: Vec<(&str, &[f32])> = texts.iter().zip(&vectors).map(|(t, v)| (t.as_str(), v.as_slice())).collect();
        library.apply_change(&change, &added)?;
        all_ids.extend_from_slice(&change.added);
        all_vectors.extend(vectors.into_iter().flatten());
    }
    library.commit_derived()?;

    let queries: Vec<Query> = sample
        .iter()
        .cycle()
        .take(queries)
        .map(|text| text.split_whitespace().take(12).collect::<Vec<_>>().join(" "))
        .map(|text| Ok((library.embedder.embed_query(&text)?, text)))
        .collect::<Result<Vec<_>>>()?
        .into_par_iter()
        .map(|(vector, text)| Query { truth: exact_top(&vector, &all_vectors, &all_ids, 10), text })
        .collect();
    let path = dir.join(QUERIES_FILE);
    std::fs::write(&path, serde_json::to_vec(&queries).expect("queries serialise")).at(&path)?;
    drop(library);
    let build_s = started.elapsed().as_secs_f64();
    Ok(BuildReport {
        passages,
        build_s,
        disk_mib: crate::store::dir_size(dir) as f64 / (1 << 20) as f64,
        seed_passages: seeds.len(),
    })
}

/// A synthetic vector: two seed vectors blended, with noise, on the unit sphere.
fn blend(seeds: &[Vec<f32>], rng: &mut SplitMix) -> Vec<f32> {
    let (a, b) = (&seeds[rng.below(seeds.len())], &seeds[rng.below(seeds.len())]);
    let weight = 0.2 + 0.3 * rng.unit() as f32;
    let noise = 0.6 / (a.len() as f32).sqrt();
    let mut v: Vec<f32> = a.iter().zip(b).map(|(x, y)| x + weight * y + noise * rng.normal()).collect();
    let norm = dot(&v, &v).sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// The ids of the `k` vectors (rows of `flat`) nearest to `query` by cosine.
fn exact_top(query: &[f32], flat: &[f32], ids: &[i64], k: usize) -> Vec<i64> {
    let mut best: Vec<(f32, i64)> = Vec::with_capacity(k + 1);
    for (row, &id) in flat.chunks_exact(query.len()).zip(ids) {
        let score = dot(query, row);
        if best.len() < k || score > best[best.len() - 1].0 {
            let at = best.partition_point(|(s, _)| *s >= score);
            best.insert(at, (score, id));
            best.truncate(k);
        }
    }
    best.into_iter().map(|(_, id)| id).collect()
}

/// Opens the library `build` made and searches it with the stored queries. Meant for a fresh
/// process, so that the memory and time are those of a user's next start. Then indexes one small
/// file into it (the library keeps it), for the cost of an edit at this size.
pub fn measure(dir: &Path, options: LibraryOptions) -> Result<MeasureReport> {
    let path = dir.join(QUERIES_FILE);
    let text = std::fs::read(&path).at(&path)?;
    let queries: Vec<Query> = serde_json::from_slice(&text)
        .map_err(|e| Error::InvalidInput(format!("{}: not the scale benchmark's queries ({e})", path.display())))?;
    let started = Instant::now();
    let library = Library::open(dir, options)?;
    let open_s = started.elapsed().as_secs_f64();
    let rss_mib = crate::machine::rss_mib();
    let mut latencies = Vec::with_capacity(queries.len());
    for query in &queries {
        let t = Instant::now();
        library.search(&query.text, SearchMode::Hybrid, 10)?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let rss_after_search_mib = crate::machine::rss_mib();
    let (mut found, mut wanted) = (0, 0);
    for query in &queries {
        let vector = library.embedder.embed_query(&query.text)?;
        let hits = library.dense_search(&vector, 10);
        found += hits.iter().filter(|(id, _)| query.truth.contains(id)).count();
        wanted += query.truth.len();
    }
    let added = dir.join("added");
    std::fs::create_dir_all(&added).at(&added)?;
    let note = added.join("note.txt");
    // New text on every measurement, so that each one pays for an edit.
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    std::fs::write(&note, format!("A note added to a large library, version {nonce}: the cost of one edit."))
        .at(&note)?;
    let t = Instant::now();
    library.index(&[added], &|_| {}, &std::sync::atomic::AtomicBool::new(false))?;
    let add_file_s = t.elapsed().as_secs_f64();
    Ok(MeasureReport {
        add_file_s,
        open_s,
        rss_mib,
        rss_after_search_mib,
        queries: queries.len(),
        search_p50_ms: crate::stats::quantile(&latencies, 0.5),
        search_p95_ms: crate::stats::quantile(&latencies, 0.95),
        recall_at_10: found as f64 / wanted.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_ranks_by_cosine() {
        let flat = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8, -1.0, 0.0];
        assert_eq!(exact_top(&[1.0, 0.0], &flat, &[10, 11, 12, 13], 2), vec![10, 12]);
        assert_eq!(exact_top(&[0.0, 1.0], &flat, &[10, 11, 12, 13], 3), vec![11, 12, 10]);
    }

    #[test]
    fn words_are_drawn_by_their_frequency() {
        let vocabulary = Vocabulary::of(&["the the the cat".to_string()]);
        let mut rng = SplitMix(Rng::new(1));
        let the = (0..4000).filter(|_| vocabulary.draw(&mut rng) == "the").count();
        assert!((2800..3200).contains(&the), "{the} of 4000");
    }
}
