//! Vectors a changed file keeps. A chunk whose text is the same as one of the file's stored chunks
//! takes that chunk's vector instead of being embedded again: a passage's vector depends on its
//! text alone, and a library keeps one embedder for life. With chunk boundaries that recover after
//! a local edit (`ingest::chunk`), editing a paragraph re-embeds a few passages, not the file.

use std::collections::HashMap;

use crate::error::Result;
use crate::ingest::chunk::Chunk;
use crate::store::catalog::Catalog;

/// A digest of a chunk's text: 128 bits of BLAKE3, so that the old chunks of even a huge file are
/// held as a small map rather than as their texts.
fn digest(text: &str) -> [u8; 16] {
    let hash = blake3::hash(text.as_bytes());
    hash.as_bytes()[..16].try_into().expect("BLAKE3 gives 32 bytes")
}

/// For each new chunk of the file `file_id`, the stored vector of an old chunk with the same text,
/// if there is one.
pub(super) fn stored_vectors(catalog: &Catalog, file_id: i64, chunks: &[Chunk]) -> Result<Vec<Option<Vec<f32>>>> {
    let mut old = HashMap::new();
    catalog.for_each_chunk_of_file(file_id, |id, text| {
        old.insert(digest(text), id);
    })?;
    if old.is_empty() {
        return Ok(vec![None; chunks.len()]);
    }
    let ids: Vec<Option<i64>> = chunks.iter().map(|c| old.get(&digest(&c.text)).copied()).collect();
    let mut wanted: Vec<i64> = ids.iter().flatten().copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let vectors: HashMap<i64, Vec<f32>> = catalog.vectors(&wanted)?.into_iter().collect();
    Ok(ids.into_iter().map(|id| id.and_then(|id| vectors.get(&id).cloned())).collect())
}
