//! Retrieval evaluation through the product's own path: the documents are written as files into a
//! folder, indexed by `Library::index` (discover → extract → chunk → embed → index), and searched by
//! `Library::retrieve`, exactly as `folio index` and `folio search` do. A document's score is its
//! best chunk's.
//!
//! Two inputs are understood: BEIR (corpus.jsonl, queries.jsonl, qrels.tsv) and a folder of
//! documents with questions that name the file holding their answer (XQuAD as shipped in
//! `shared/eval`).

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use super::metrics::{hit_at, mrr_at, ndcg_at, quantile, recall_at};
use crate::error::{Error, IoContext, Result};
use crate::index_events::IndexEvent;
use crate::library::{Library, LibraryOptions};
use crate::search::SearchMode;

/// A question with the documents that answer it (document key → relevance grade).
#[derive(Debug, Clone)]
pub struct Judged {
    pub id: String,
    pub text: String,
    pub relevant: HashMap<String, i32>,
}

/// What to evaluate: a folder of documents (each document's key is its file name, or a mapping
/// from file name to key) and judged queries.
pub struct Dataset {
    pub docs_dir: PathBuf,
    pub key_of_file: HashMap<String, String>,
    pub queries: Vec<Judged>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ModeScores {
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    #[serde(rename = "hit@1")]
    pub hit_1: f64,
    #[serde(rename = "hit@5")]
    pub hit_5: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    pub latency_ms_median: f64,
    pub latency_ms_p95: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Throughput {
    pub documents: usize,
    pub chunks: usize,
    /// Wall time of the indexing run (0 when the library already held the documents).
    pub index_seconds: f64,
    pub documents_per_second: f64,
    pub chunks_per_second: f64,
    /// Embedding alone, on a sample of the library's chunks.
    pub embed_chunks_per_second: f64,
    pub embed_tokens_per_second: f64,
    pub peak_rss_mib: f64,
    pub peak_worker_rss_mib: f64,
    /// Share of exact (brute-force) top-10 neighbours the HNSW graph returns.
    #[serde(rename = "hnsw_recall@10")]
    pub hnsw_recall_10: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    pub embedder: String,
    pub queries: usize,
    pub modes: Vec<(SearchMode, ModeScores)>,
    pub throughput: Throughput,
}

pub struct EvalOptions {
    pub modes: Vec<SearchMode>,
    /// Where the evaluation library lives (reused when it already holds the documents).
    pub library_dir: PathBuf,
    pub library: LibraryOptions,
}

/// Reads a BEIR dataset and writes its corpus as one text file per document into `docs_dir`
/// (title, blank line, text) unless the folder already holds them.
pub fn load_beir(corpus: &Path, queries: &Path, qrels: &Path, docs_dir: &Path) -> Result<Dataset> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(rename = "_id")]
        id: String,
        #[serde(default)]
        title: String,
        text: String,
    }
    #[derive(serde::Deserialize)]
    struct Query {
        #[serde(rename = "_id")]
        id: String,
        text: String,
    }
    std::fs::create_dir_all(docs_dir).at(docs_dir)?;
    let mut key_of_file = HashMap::new();
    for (n, line) in read_lines(corpus)?.into_iter().enumerate() {
        let doc: Doc = serde_json::from_str(&line)
            .map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", corpus.display(), n + 1)))?;
        let file = format!("{}.txt", sanitize(&doc.id));
        let path = docs_dir.join(&file);
        let content = if doc.title.is_empty() { doc.text } else { format!("{}\n\n{}", doc.title, doc.text) };
        if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            std::fs::write(&path, &content).at(&path)?;
        }
        key_of_file.insert(file, doc.id);
    }
    let mut relevant: HashMap<String, HashMap<String, i32>> = HashMap::new();
    for (n, line) in read_lines(qrels)?.into_iter().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        if n == 0 && fields.first() == Some(&"query-id") {
            continue;
        }
        if fields.len() < 3 {
            return Err(Error::InvalidInput(format!(
                "{} line {}: expected query-id, corpus-id, score",
                qrels.display(),
                n + 1
            )));
        }
        let grade = fields[2].trim().parse().unwrap_or(0);
        relevant.entry(fields[0].to_string()).or_default().insert(fields[1].to_string(), grade);
    }
    let mut judged = Vec::new();
    for (n, line) in read_lines(queries)?.into_iter().enumerate() {
        let q: Query = serde_json::from_str(&line)
            .map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", queries.display(), n + 1)))?;
        if let Some(rel) = relevant.remove(&q.id) {
            judged.push(Judged { id: q.id, text: q.text, relevant: rel });
        }
    }
    Ok(Dataset { docs_dir: docs_dir.to_path_buf(), key_of_file, queries: judged })
}

/// A folder of documents and questions (`id`, `question`, `doc`) whose `doc` names the file that
/// holds the answer.
pub fn load_doc_questions(docs_dir: &Path, questions: &Path) -> Result<Dataset> {
    #[derive(serde::Deserialize)]
    struct Question {
        id: String,
        question: String,
        doc: String,
    }
    let mut judged = Vec::new();
    for (n, line) in read_lines(questions)?.into_iter().enumerate() {
        let q: Question = serde_json::from_str(&line)
            .map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", questions.display(), n + 1)))?;
        judged.push(Judged { id: q.id, text: q.question, relevant: HashMap::from([(q.doc, 1)]) });
    }
    Ok(Dataset { docs_dir: docs_dir.to_path_buf(), key_of_file: HashMap::new(), queries: judged })
}

fn read_lines(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).at(path)?;
    std::io::BufReader::new(file)
        .lines()
        .filter(|l| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .collect::<std::io::Result<Vec<_>>>()
        .at(path)
}

fn sanitize(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Chunks retrieved per query to rank documents: deep enough for recall@100 when documents have
/// a few chunks each.
const CHUNK_DEPTH: usize = 300;

pub fn evaluate(
    dataset: &Dataset,
    options: EvalOptions,
    progress: &(dyn Fn(IndexEvent) + Sync),
) -> Result<RetrievalReport> {
    let library = Library::open(&options.library_dir, options.library)?;
    let started = Instant::now();
    let summary = library.index(std::slice::from_ref(&dataset.docs_dir), progress, &AtomicBool::new(false))?;
    let index_seconds = if summary.indexed > 0 { started.elapsed().as_secs_f64() } else { 0.0 };
    let docs_root = std::fs::canonicalize(&dataset.docs_dir).at(&dataset.docs_dir)?;

    let key_of = |path: &Path| -> String {
        let name = path.strip_prefix(&docs_root).unwrap_or(path).to_string_lossy().into_owned();
        dataset.key_of_file.get(&name).cloned().unwrap_or(name)
    };
    let mut modes = Vec::new();
    for &mode in &options.modes {
        let mut scores = ModeScores::default();
        let mut latencies = Vec::with_capacity(dataset.queries.len());
        for q in &dataset.queries {
            let t = Instant::now();
            let ranked = library.retrieve(&q.text, mode, CHUNK_DEPTH)?;
            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            let hits = library.hits(&ranked)?;
            let mut seen = HashSet::new();
            let ranking: Vec<String> =
                hits.iter().map(|h| key_of(&h.path)).filter(|k| seen.insert(k.clone())).collect();
            scores.ndcg_10 += ndcg_at(&ranking, &q.relevant, 10);
            scores.recall_100 += recall_at(&ranking, &q.relevant, 100);
            scores.hit_1 += hit_at(&ranking, &q.relevant, 1);
            scores.hit_5 += hit_at(&ranking, &q.relevant, 5);
            scores.mrr_10 += mrr_at(&ranking, &q.relevant, 10);
        }
        let n = dataset.queries.len().max(1) as f64;
        scores.ndcg_10 /= n;
        scores.recall_100 /= n;
        scores.hit_1 /= n;
        scores.hit_5 /= n;
        scores.mrr_10 /= n;
        scores.latency_ms_median = quantile(&latencies, 0.5);
        scores.latency_ms_p95 = quantile(&latencies, 0.95);
        modes.push((mode, scores));
    }

    let stats = library.catalog().stats()?;
    let (embed_chunks_per_second, embed_tokens_per_second) = embedding_speed(&library)?;
    let throughput = Throughput {
        documents: (stats.files_indexed) as usize,
        chunks: stats.chunks as usize,
        index_seconds,
        documents_per_second: if index_seconds > 0.0 { summary.indexed as f64 / index_seconds } else { 0.0 },
        chunks_per_second: if index_seconds > 0.0 { summary.chunks as f64 / index_seconds } else { 0.0 },
        embed_chunks_per_second,
        embed_tokens_per_second,
        peak_rss_mib: peak_rss_mib(),
        peak_worker_rss_mib: crate::ingest::worker::worker_peak_rss_mib(),
        hnsw_recall_10: hnsw_recall(&library, &dataset.queries)?,
    };
    Ok(RetrievalReport {
        embedder: library.embedder().id().to_string(),
        queries: dataset.queries.len(),
        modes,
        throughput,
    })
}

/// Embeds a sample of stored chunks again, timing the embedder alone.
fn embedding_speed(library: &Library) -> Result<(f64, f64)> {
    let mut sample: Vec<String> = Vec::new();
    library.catalog().for_each_chunk_after(0, |batch| {
        sample.extend(batch.iter().take(512 - sample.len().min(512)).map(|(_, t, _)| t.clone()));
        Ok(())
    })?;
    sample.truncate(512);
    if sample.is_empty() {
        return Ok((0.0, 0.0));
    }
    let texts: Vec<&str> = sample.iter().map(String::as_str).collect();
    let tokens: usize =
        texts.iter().map(|t| crate::ingest::chunk::TokenSpans::spans(library.embedder(), t).len() + 2).sum();
    let t = Instant::now();
    library.embedder().embed_passages(&texts)?;
    let secs = t.elapsed().as_secs_f64();
    Ok((texts.len() as f64 / secs, tokens as f64 / secs))
}

/// Recall@10 of the HNSW graph against brute force over the same vectors, on the queries.
fn hnsw_recall(library: &Library, queries: &[Judged]) -> Result<f64> {
    let mut all: Vec<(i64, Vec<f32>)> = Vec::new();
    library.catalog().for_each_chunk_after(0, |batch| {
        all.extend(batch.iter().map(|(id, _, v)| (*id, v.clone())));
        Ok(())
    })?;
    if all.is_empty() || queries.is_empty() {
        return Ok(0.0);
    }
    let k = 10.min(all.len());
    let mut found = 0usize;
    for q in queries {
        let v = library.embedder().embed_query(&q.text)?;
        let mut exact: Vec<(f32, i64)> = all.iter().map(|(id, x)| (crate::embed::dot(&v, x), *id)).collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let truth: HashSet<i64> = exact.iter().take(k).map(|(_, id)| *id).collect();
        found += library.dense_search(&v, k).iter().filter(|(id, _)| truth.contains(id)).count();
    }
    Ok(found as f64 / (k * queries.len()) as f64)
}

pub use crate::machine::peak_rss_mib;
