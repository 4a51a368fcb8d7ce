//! Searching and asking within part of the library: folders or documents, resolved to their
//! passages and filtered in both indexes before ranking (not after), so a small folder inside a
//! large library still gets its own best passages rather than what is left of the library's.

use std::collections::HashSet;
use std::path::PathBuf;

use super::Library;
use crate::error::{Error, Result};
use crate::vector_math::dot;

/// Passages of a scope at most for an exact vector search (a product with each, cheaper than a
/// filtered graph walk for a few thousand and exact); beyond, the graph search skips the rest.
const EXACT_LIMIT: usize = 20_000;

/// The passages a search may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub(crate) chunks: HashSet<i64>,
}

impl Scope {
    pub fn passages(&self) -> usize {
        self.chunks.len()
    }
}

impl Library {
    /// The passages of `paths`: each a document of the library or a folder (everything indexed
    /// under it). A path that holds no indexed passage is an error that names it.
    pub fn scope(&self, paths: &[PathBuf]) -> Result<Scope> {
        let mut chunks = HashSet::new();
        for path in paths {
            if !path.is_absolute() {
                return Err(Error::InvalidInput(format!("{} is not an absolute path", path.display())));
            }
            // The library keeps paths as they were added, which were canonical.
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let mut found = self.catalog.chunk_ids_under(&canonical)?;
            if found.is_empty() && canonical != *path {
                found = self.catalog.chunk_ids_under(path)?;
            }
            if found.is_empty() {
                return Err(Error::InvalidInput(format!("{} holds no indexed passage of the library", path.display())));
            }
            chunks.extend(found);
        }
        Ok(Scope { chunks })
    }

    /// The `k` passages closest to `query` (a query vector), among `scope` when given.
    pub(crate) fn dense_search_in(&self, query: &[f32], k: usize, scope: Option<&Scope>) -> Result<Vec<(i64, f32)>> {
        match scope {
            None => Ok(self.dense_search(query, k)),
            Some(scope) if scope.chunks.len() <= EXACT_LIMIT => exact_search(self, query, k, &scope.chunks),
            Some(scope) => {
                let vectors = self.vectors.read().unwrap_or_else(|p| p.into_inner());
                // A filtered walk reaches fewer allowed points per step: it looks wider.
                let beam = super::search_beam(k, vectors.points()) * 4;
                Ok(vectors.search(query, k, beam, Some(&scope.chunks)))
            }
        }
    }
}

/// Every passage of a small scope against the query, from the catalog's stored vectors.
fn exact_search(library: &Library, query: &[f32], k: usize, chunks: &HashSet<i64>) -> Result<Vec<(i64, f32)>> {
    let mut ids: Vec<i64> = chunks.iter().copied().collect();
    ids.sort_unstable();
    let mut scored: Vec<(i64, f32)> =
        library.catalog.vectors(&ids)?.into_iter().map(|(id, vector)| (id, dot(query, &vector))).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(k);
    Ok(scored)
}
