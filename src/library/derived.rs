//! Keeping the keyword and vector indexes in step with the catalog.

use super::Library;
use crate::error::Result;
use crate::store::catalog::Change;
use crate::store::vector::VectorIndex;

impl Library {
    /// Brings both derived indexes up to the catalog: replays the changes each has missed (a crash
    /// between a catalog commit and an index commit), or rebuilds one that is ahead of the catalog
    /// (it cannot be trusted).
    pub(super) fn catch_up_derived(&self) -> Result<()> {
        let seq = self.catalog.seq()?;
        let keyword_seq = match self.keyword.applied_seq()? {
            s if s > seq => {
                self.keyword.clear()?;
                0
            }
            s => s,
        };
        if keyword_seq < seq {
            tracing::info!("keyword index behind the catalog ({keyword_seq} < {seq}); catching up");
            for id in self.catalog.removed_after(keyword_seq)? {
                self.keyword.delete(id);
            }
            self.catalog.for_each_chunk_after(keyword_seq, |batch| {
                for (id, text, _) in batch {
                    self.keyword.add(*id, text)?;
                }
                Ok(())
            })?;
            self.keyword.commit(seq)?;
        }
        let vector_seq = self.vectors.read().unwrap_or_else(|p| p.into_inner()).applied_seq();
        if vector_seq > seq {
            self.rebuild_vectors()?;
        } else if vector_seq < seq {
            tracing::info!("vector index behind the catalog ({vector_seq} < {seq}); catching up");
            let removed = self.catalog.removed_after(vector_seq)?;
            let mut vectors = self.vectors.write().unwrap_or_else(|p| p.into_inner());
            for id in removed {
                vectors.remove(id);
            }
            self.catalog.for_each_chunk_after(vector_seq, |batch| {
                let items: Vec<(i64, &[f32])> = batch.iter().map(|(id, _, v)| (*id, v.as_slice())).collect();
                vectors.insert(&items)
            })?;
            vectors.set_applied_seq(seq);
            vectors.save()?;
        }
        self.catalog.prune_removed(seq)?;
        Ok(())
    }

    /// Applies a committed catalog change to both indexes (in memory; `commit_derived` makes it
    /// durable). `added` holds the new chunks' text and vectors, in `change.added` order.
    pub(super) fn apply_change(&self, change: &Change, added: &[(&str, &[f32])]) -> Result<()> {
        for &id in &change.removed {
            self.keyword.delete(id);
        }
        for (&id, (text, _)) in change.added.iter().zip(added) {
            self.keyword.add(id, text)?;
        }
        let mut vectors = self.vectors.write().unwrap_or_else(|p| p.into_inner());
        for &id in &change.removed {
            vectors.remove(id);
        }
        let items: Vec<(i64, &[f32])> = change.added.iter().zip(added).map(|(&id, (_, v))| (id, *v)).collect();
        vectors.insert(&items)?;
        vectors.set_applied_seq(change.seq);
        Ok(())
    }

    /// Commits the keyword index and saves the vector index at the catalog's current sequence;
    /// rebuilds the vector graph when tombstones have piled up.
    pub(super) fn commit_derived(&self) -> Result<()> {
        let seq = self.catalog.seq()?;
        self.keyword.commit(seq)?;
        let needs_rebuild = self.vectors.read().unwrap_or_else(|p| p.into_inner()).needs_rebuild();
        if needs_rebuild {
            self.rebuild_vectors()?;
        } else {
            let mut vectors = self.vectors.write().unwrap_or_else(|p| p.into_inner());
            vectors.set_applied_seq(seq);
            vectors.save()?;
        }
        self.catalog.prune_removed(seq)?;
        Ok(())
    }

    /// Both derived indexes anew from the catalog, for when a failure while a change was applied
    /// left them in a state that no sequence number records.
    pub(super) fn rebuild_derived(&self) -> Result<()> {
        self.keyword.clear()?;
        self.rebuild_vectors()?;
        self.catch_up_derived()
    }

    /// A fresh graph from the catalog's live chunks.
    pub(super) fn rebuild_vectors(&self) -> Result<()> {
        let seq = self.catalog.seq()?;
        let expected = self.catalog.stats()?.chunks as usize;
        tracing::info!("rebuilding the vector index from {expected} chunks");
        let mut fresh = VectorIndex::empty(&self.dir.join("vectors"), self.embedder.dims(), expected);
        self.catalog.for_each_chunk_after(0, |batch| {
            let items: Vec<(i64, &[f32])> = batch.iter().map(|(id, _, v)| (*id, v.as_slice())).collect();
            fresh.insert(&items)
        })?;
        fresh.set_applied_seq(seq);
        fresh.save()?;
        *self.vectors.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }
}
