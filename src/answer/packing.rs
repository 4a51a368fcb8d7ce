//! Packing retrieved chunks into the model's context budget: best first, the neighbours of the
//! strongest chunks considered (an answer often straddles a chunk boundary), overlapping or
//! adjacent chunks of a page merged into one source, each source numbered for citation.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::search::Ranked;
use crate::store::catalog::{Catalog, ChunkRow};

/// A numbered source given to the model.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Source {
    pub number: usize,
    pub path: PathBuf,
    pub page: Option<u32>,
    /// Character span in the page.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub chunk_ids: Vec<i64>,
    /// Best fused retrieval score among its chunks.
    pub score: f32,
}

#[derive(Debug, Clone, Copy)]
pub struct PackOptions {
    /// Tokens the sources may take, headers included.
    pub budget_tokens: usize,
    /// Neighbours (previous and next chunk) are considered for this many of the best chunks.
    pub expand_top: usize,
    pub max_sources: usize,
}

/// Tokens of a source's header line ("[3] report.pdf, page 12:").
const HEADER_TOKENS: usize = 16;

struct Picked {
    row: ChunkRow,
    score: f32,
}

pub fn pack(
    catalog: &Catalog,
    ranked: &[Ranked],
    count_tokens: &dyn Fn(&str) -> usize,
    options: PackOptions,
) -> Result<Vec<Source>> {
    let ids: Vec<i64> = ranked.iter().map(|r| r.chunk_id).collect();
    let rows = catalog.chunks(&ids)?;
    let score_of: std::collections::HashMap<i64, f32> = ranked.iter().map(|r| (r.chunk_id, r.score)).collect();

    // Candidates in priority order: each chunk, and right after the strongest ones their neighbours.
    let mut candidates: Vec<Picked> = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let score = score_of.get(&row.id).copied().unwrap_or(0.0);
        let (file_id, ord, page) = (row.file_id, row.ord, row.page);
        candidates.push(Picked { row, score });
        if i < options.expand_top {
            for neighbour in [ord + 1, ord - 1] {
                if neighbour < 0 {
                    continue;
                }
                if let Some(n) = catalog.chunk_at(file_id, neighbour)? {
                    if n.page == page {
                        candidates.push(Picked { row: n, score: score * 0.5 });
                    }
                }
            }
        }
    }

    let mut seen = HashSet::new();
    let mut picked: Vec<Picked> = Vec::new();
    let mut used = 0usize;
    for c in candidates {
        if !seen.insert(c.row.id) {
            continue;
        }
        let cost = count_tokens(&c.row.text) + HEADER_TOKENS;
        if used + cost > options.budget_tokens {
            continue;
        }
        // A new source must not exceed the count; chunks joining an existing source are free.
        let joins = picked
            .iter()
            .any(|p| p.row.file_id == c.row.file_id && p.row.page == c.row.page && (p.row.ord - c.row.ord).abs() == 1);
        let sources_now = count_groups(&picked);
        if !joins && sources_now >= options.max_sources {
            continue;
        }
        used += cost;
        picked.push(c);
    }
    Ok(merge(picked))
}

fn count_groups(picked: &[Picked]) -> usize {
    let mut keys: Vec<(i64, Option<u32>, i64)> =
        picked.iter().map(|p| (p.row.file_id, p.row.page, p.row.ord)).collect();
    keys.sort();
    let mut groups = 0;
    for (i, k) in keys.iter().enumerate() {
        if i == 0 || !(keys[i - 1].0 == k.0 && keys[i - 1].1 == k.1 && k.2 - keys[i - 1].2 == 1) {
            groups += 1;
        }
    }
    groups
}

/// Joins chunks of the same page with consecutive positions into single sources, then numbers
/// the sources best first.
fn merge(picked: Vec<Picked>) -> Vec<Source> {
    let mut by_page: BTreeMap<(i64, Option<u32>), Vec<Picked>> = BTreeMap::new();
    for p in picked {
        by_page.entry((p.row.file_id, p.row.page)).or_default().push(p);
    }
    let mut sources = Vec::new();
    for (_, mut chunks) in by_page {
        chunks.sort_by_key(|c| c.row.ord);
        let mut current: Option<(Source, i64)> = None;
        for c in chunks {
            match current.as_mut() {
                Some((source, last_ord)) if c.row.ord == *last_ord + 1 => {
                    // Consecutive chunks overlap by a few sentences: append only the new part.
                    let overlap = source.end.saturating_sub(c.row.start);
                    let tail: String = c.row.text.chars().skip(overlap).collect();
                    if overlap == 0 && !source.text.ends_with(char::is_whitespace) {
                        source.text.push(' ');
                    }
                    source.text.push_str(&tail);
                    source.end = source.end.max(c.row.end);
                    source.chunk_ids.push(c.row.id);
                    source.score = source.score.max(c.score);
                    *last_ord = c.row.ord;
                }
                _ => {
                    if let Some((done, _)) = current.take() {
                        sources.push(done);
                    }
                    current = Some((
                        Source {
                            number: 0,
                            path: c.row.path.clone(),
                            page: c.row.page,
                            start: c.row.start,
                            end: c.row.end,
                            text: c.row.text.clone(),
                            chunk_ids: vec![c.row.id],
                            score: c.score,
                        },
                        c.row.ord,
                    ));
                }
            }
        }
        if let Some((done, _)) = current {
            sources.push(done);
        }
    }
    sources.sort_by(|a, b| b.score.total_cmp(&a.score));
    for (i, s) in sources.iter_mut().enumerate() {
        s.number = i + 1;
    }
    sources
}
