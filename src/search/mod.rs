//! Hybrid retrieval: BM25 and nearest-neighbour lists fused by reciprocal rank.
//!
//! Reciprocal-rank fusion needs no score calibration between the two retrievers (BM25 scores and
//! cosines live on different scales), and rewards chunks that both rank well.

use std::collections::HashMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    Bm25,
    Dense,
    Hybrid,
}

impl SearchMode {
    pub const ALL: [SearchMode; 3] = [SearchMode::Bm25, SearchMode::Dense, SearchMode::Hybrid];

    pub fn name(self) -> &'static str {
        match self {
            SearchMode::Bm25 => "bm25",
            SearchMode::Dense => "dense",
            SearchMode::Hybrid => "hybrid",
        }
    }
}

impl std::str::FromStr for SearchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bm25" => Ok(SearchMode::Bm25),
            "dense" => Ok(SearchMode::Dense),
            "hybrid" => Ok(SearchMode::Hybrid),
            other => Err(format!("unknown search mode '{other}' (bm25, dense or hybrid)")),
        }
    }
}

/// The usual constant of reciprocal-rank fusion: ranks beyond a few dozen barely count.
pub const RRF_K: f32 = 60.0;

/// A retrieved chunk with its fused score, and its rank (1-based) and score in each list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Ranked {
    pub chunk_id: i64,
    pub score: f32,
    pub bm25_rank: Option<usize>,
    pub dense_rank: Option<usize>,
    pub bm25_score: Option<f32>,
    /// Cosine similarity of the query and chunk embeddings.
    pub dense_score: Option<f32>,
}

/// Fuses a BM25 list and a dense list (each best first) by reciprocal rank.
pub fn fuse(bm25: &[(i64, f32)], dense: &[(i64, f32)]) -> Vec<Ranked> {
    let mut by_id: HashMap<i64, Ranked> = HashMap::new();
    for (rank, (id, score)) in bm25.iter().enumerate() {
        let entry = by_id.entry(*id).or_insert(Ranked { chunk_id: *id, ..Ranked::default() });
        entry.score += 1.0 / (RRF_K + rank as f32 + 1.0);
        entry.bm25_rank = Some(rank + 1);
        entry.bm25_score = Some(*score);
    }
    for (rank, (id, score)) in dense.iter().enumerate() {
        let entry = by_id.entry(*id).or_insert(Ranked { chunk_id: *id, ..Ranked::default() });
        entry.score += 1.0 / (RRF_K + rank as f32 + 1.0);
        entry.dense_rank = Some(rank + 1);
        entry.dense_score = Some(*score);
    }
    let mut fused: Vec<Ranked> = by_id.into_values().collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.chunk_id.cmp(&b.chunk_id)));
    fused
}

/// One retriever's list as `Ranked`, keeping its own scores.
pub fn single(list: &[(i64, f32)], mode: SearchMode) -> Vec<Ranked> {
    list.iter()
        .enumerate()
        .map(|(rank, &(chunk_id, score))| {
            let bm25 = mode == SearchMode::Bm25;
            Ranked {
                chunk_id,
                score,
                bm25_rank: bm25.then_some(rank + 1),
                dense_rank: (!bm25).then_some(rank + 1),
                bm25_score: bm25.then_some(score),
                dense_score: (!bm25).then_some(score),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement() {
        let bm25 = [(1, 9.0), (2, 8.0), (3, 7.0)];
        let dense = [(3, 0.9), (4, 0.8), (1, 0.7)];
        let fused = fuse(&bm25, &dense);
        assert_eq!(fused[0].chunk_id, 1);
        assert_eq!(fused[1].chunk_id, 3);
        assert_eq!(fused[0].bm25_rank, Some(1));
        assert_eq!(fused[0].dense_rank, Some(3));
        assert_eq!(fused.len(), 4);
    }
}
