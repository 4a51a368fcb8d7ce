//! `folio bench embed`: the native encoder against candle's f32 reference on the same passages in
//! one process: passages and tokens per second of each, their ratio, and how close the two
//! paths' vectors are (cosine, min and mean over the passages).

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::{Embedder, EncoderPath};
use crate::error::{Error, Result};
use crate::stats::quantile;
use crate::vector_math::dot;

#[derive(Debug, Clone, Serialize)]
pub struct EmbedBench {
    pub embedder: String,
    pub passages: usize,
    pub tokens: usize,
    pub threads: usize,
    pub rounds: usize,
    pub native_encoder: String,
    pub native: PathFigures,
    pub reference: PathFigures,
    /// Native passages per second over the reference's (medians).
    pub speedup: f64,
    pub cosine_min: f64,
    pub cosine_mean: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathFigures {
    /// Medians over the rounds.
    pub passages_per_s: f64,
    pub tokens_per_s: f64,
    pub seconds_runs: Vec<f64>,
}

/// Both encoders of `id` over `passages`, each timed `rounds` times (medians reported).
pub fn run(models_dir: &Path, id: &str, passages: &[String], rounds: usize) -> Result<EmbedBench> {
    if passages.is_empty() {
        return Err(Error::InvalidInput("no passages to embed".into()));
    }
    let native = Embedder::load(models_dir, id, EncoderPath::Native)?;
    let reference = Embedder::load(models_dir, id, EncoderPath::Reference)?;
    let texts: Vec<&str> = passages.iter().map(String::as_str).collect();
    let ids = native.token_ids(native.spec.passage_prefix, &texts)?;
    let sequences: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
    let tokens: usize = sequences.iter().map(|s| s.len()).sum();
    let warm = &sequences[..sequences.len().min(8)];
    native.encode(warm)?;
    reference.encode(warm)?;
    // Rounds alternate the paths, so a noisy neighbour slows both alike.
    let (mut native_runs, mut reference_runs) = (Vec::new(), Vec::new());
    let (mut native_vectors, mut reference_vectors) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        native_vectors = native.encode(&sequences)?;
        native_runs.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        reference_vectors = reference.encode(&sequences)?;
        reference_runs.push(t.elapsed().as_secs_f64());
    }
    let figures = |runs: Vec<f64>| {
        let median = quantile(&runs, 0.5);
        PathFigures {
            passages_per_s: passages.len() as f64 / median,
            tokens_per_s: tokens as f64 / median,
            seconds_runs: runs,
        }
    };
    let dims = native.dims();
    let cosines: Vec<f64> = native_vectors
        .chunks_exact(dims)
        .zip(reference_vectors.chunks_exact(dims))
        .map(|(a, b)| dot(a, b) as f64)
        .collect();
    let native_figures = figures(native_runs);
    let reference_figures = figures(reference_runs);
    Ok(EmbedBench {
        embedder: id.to_string(),
        passages: passages.len(),
        tokens,
        threads: rayon::current_num_threads(),
        rounds: rounds.max(1),
        native_encoder: native.encoder_name(),
        speedup: native_figures.passages_per_s / reference_figures.passages_per_s,
        native: native_figures,
        reference: reference_figures,
        cosine_min: cosines.iter().cloned().fold(f64::INFINITY, f64::min),
        cosine_mean: cosines.iter().sum::<f64>() / cosines.len() as f64,
    })
}

/// Up to `count` passages for the benchmark from `sources`, taken in turn from each: a BEIR
/// `corpus.jsonl` gives one passage per document (title and text), a text or Markdown file one per
/// paragraph, a folder the paragraphs of its text files. No sources: the bundled sample documents.
pub fn sample_passages(sources: &[std::path::PathBuf], count: usize) -> Result<Vec<String>> {
    let mut lists: Vec<Vec<String>> = Vec::new();
    for source in sources {
        lists.push(passages_of(source)?);
    }
    if lists.is_empty() {
        lists = [
            include_str!("../../assets/sample/honeybees.txt"),
            include_str!("../../assets/sample/baikal-ru.txt"),
            include_str!("../../assets/sample/welcome.md"),
        ]
        .iter()
        .map(|text| paragraphs(text))
        .collect();
    }
    // In turn from each source, so a mixed sample keeps its mix at any count.
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let out: Vec<String> =
        (0..longest).flat_map(|i| lists.iter().filter_map(move |list| list.get(i).cloned())).take(count).collect();
    if out.is_empty() {
        return Err(Error::InvalidInput("the sample sources hold no paragraphs of text".into()));
    }
    Ok(out)
}

fn passages_of(path: &Path) -> Result<Vec<String>> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| Error::InvalidInput(format!("{}: {e}", p.display())));
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "md"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for file in files {
            out.extend(paragraphs(&read(&file)?));
        }
        return Ok(out);
    }
    let text = read(path)?;
    if path.extension().is_some_and(|x| x == "jsonl") {
        return Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|doc| {
                let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).unwrap_or("").trim().to_string();
                [field("title"), field("text")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(". ")
            })
            .filter(|p| !p.is_empty())
            .collect());
    }
    Ok(paragraphs(&text))
}

/// Paragraphs of a text: blocks between blank lines, at least a sentence long.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|p| p.len() >= 40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_alternate_between_sources_and_read_beir_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus.jsonl");
        std::fs::write(
            &corpus,
            "{\"_id\": \"1\", \"title\": \"First title\", \"text\": \"An abstract long enough to count as a passage.\"}\n\
             not json\n\
             {\"_id\": \"2\", \"title\": \"\", \"text\": \"Another abstract, without a title, long enough too.\"}\n",
        )
        .unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir(&docs).unwrap();
        std::fs::write(
            docs.join("a.txt"),
            "Первый абзац русского текста, достаточно длинный.\n\nshort\n\nВторой абзац, тоже достаточно длинный для выборки.",
        )
        .unwrap();
        let passages = sample_passages(&[corpus, docs], 10).unwrap();
        assert_eq!(passages.len(), 4, "{passages:?}");
        assert_eq!(passages[0], "First title. An abstract long enough to count as a passage.");
        assert!(passages[1].starts_with("Первый абзац"));
        assert!(passages[2].starts_with("Another abstract"));
        assert!(passages[3].starts_with("Второй абзац"));
        assert_eq!(sample_passages(&[], 3).unwrap().len(), 3, "the bundled sample");
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "tiny").unwrap();
        assert!(sample_passages(&[empty], 5).is_err());
    }
}
