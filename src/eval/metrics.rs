//! Ranking metrics as BEIR (pytrec_eval) computes them.

use std::collections::HashMap;

/// nDCG@k with linear gains (the relevance grade), log2 discounts, ideal ranking from the judgments.
pub fn ndcg_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, doc)| *relevant.get(doc).unwrap_or(&0) as f64 / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<i32> = relevant.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, g)| *g as f64 / ((i + 2) as f64).log2()).sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}

/// Share of the relevant documents found in the top k.
pub fn recall_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    let total = relevant.values().filter(|g| **g > 0).count();
    if total == 0 {
        return 0.0;
    }
    let found = ranking.iter().take(k).filter(|d| relevant.get(*d).is_some_and(|g| *g > 0)).count();
    found as f64 / total as f64
}

/// 1 when a relevant document is in the top k.
pub fn hit_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    ranking.iter().take(k).any(|d| relevant.get(d).is_some_and(|g| *g > 0)) as u8 as f64
}

/// Reciprocal rank of the first relevant document within the top k.
pub fn mrr_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    ranking
        .iter()
        .take(k)
        .position(|d| relevant.get(d).is_some_and(|g| *g > 0))
        .map(|p| 1.0 / (p + 1) as f64)
        .unwrap_or(0.0)
}

pub use crate::stats::quantile;

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    fn docs(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ndcg_matches_hand_computation() {
        let r = rel(&[("a", 1), ("b", 1)]);
        assert!((ndcg_at(&docs(&["a", "b", "c"]), &r, 10) - 1.0).abs() < 1e-12);
        // Relevant at ranks 2 and 3: (1/log2 3 + 1/log2 4) / (1 + 1/log2 3).
        let expected = (1.0 / 3f64.log2() + 0.5) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&docs(&["c", "a", "b"]), &r, 10) - expected).abs() < 1e-12);
        assert_eq!(ndcg_at(&docs(&["c"]), &r, 10), 0.0);
    }

    #[test]
    fn recall_hit_mrr() {
        let r = rel(&[("a", 1), ("b", 1)]);
        let ranking = docs(&["x", "a", "y"]);
        assert_eq!(recall_at(&ranking, &r, 100), 0.5);
        assert_eq!(hit_at(&ranking, &r, 1), 0.0);
        assert_eq!(hit_at(&ranking, &r, 5), 1.0);
        assert_eq!(mrr_at(&ranking, &r, 10), 0.5);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
    }
}
