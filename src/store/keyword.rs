//! The keyword index: tantivy, BM25 over chunk text. Derived from the catalog and rebuildable; each
//! commit carries the catalog sequence number it has caught up to, so that an index left behind by a
//! crash is brought up to date by replaying the catalog from that number.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use super::analyzer::{analyzer, terms, ANALYZER};
use crate::error::{Error, Result};

const WRITER_MEMORY: usize = 64 << 20;

pub struct KeywordIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    chunk_id: Field,
    text: Field,
}

impl KeywordIndex {
    /// Opens the index in `dir`, or creates an empty one. A damaged index is wiped and recreated
    /// empty; the caller then refills it from the catalog (its applied sequence is 0).
    pub fn open(dir: &Path) -> Result<Self> {
        match Self::open_existing(dir) {
            Ok(index) => Ok(index),
            Err(e) => {
                if dir.exists() {
                    tracing::warn!("keyword index at {} unreadable ({e}); rebuilding it", dir.display());
                    std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                Self::open_existing(dir)
            }
        }
    }

    fn open_existing(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (schema, chunk_id, text) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir).map_err(|e| Error::Keyword(e.into()))?;
        let index = Index::open_or_create(directory, schema)?;
        index.tokenizers().register(ANALYZER, analyzer());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        Ok(KeywordIndex { dir: dir.to_path_buf(), index, reader, writer: Mutex::new(writer), chunk_id, text })
    }

    /// The catalog sequence number the last commit caught up to.
    pub fn applied_seq(&self) -> Result<i64> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    pub fn add(&self, chunk_id: i64, text: &str) -> Result<()> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.add_document(doc!(self.chunk_id => chunk_id as u64, self.text => text))?;
        Ok(())
    }

    pub fn delete(&self, chunk_id: i64) {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_term(Term::from_field_u64(self.chunk_id, chunk_id as u64));
    }

    /// Makes the changes so far durable and visible, recording the catalog sequence they reach.
    pub fn commit(&self, seq: i64) -> Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&seq.to_string());
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Drops everything (before a rebuild from the catalog), changes not yet committed included:
    /// without the rollback, documents added since the last commit survive the deletion.
    pub fn clear(&self) -> Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.rollback()?;
        writer.delete_all_documents()?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload("0");
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// BM25 top `k` chunk ids for a free-text query, among `within` when given (filtered in the
    /// query, before ranking). The query is analysed like the documents and its words are OR-ed,
    /// so no user input can be a syntax error.
    pub fn search(&self, query: &str, k: usize, within: Option<&HashSet<i64>>) -> Result<Vec<(i64, f32)>> {
        let mut words = terms(query);
        words.sort();
        words.dedup();
        if words.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .map(|w| {
                let term = Term::from_field_text(self.text, w);
                (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
            })
            .collect();
        let mut query = BooleanQuery::new(clauses);
        if let Some(within) = within {
            let allowed = TermSetQuery::new(within.iter().map(|&id| Term::from_field_u64(self.chunk_id, id as u64)));
            query = BooleanQuery::new(vec![
                (Occur::Must, Box::new(query) as Box<dyn Query>),
                (Occur::Must, Box::new(allowed) as Box<dyn Query>),
            ]);
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(k).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let ids = searcher.segment_reader(address.segment_ord).fast_fields().u64("chunk_id")?;
            if let Some(id) = ids.first(address.doc_id) {
                hits.push((id as i64, score));
            }
        }
        Ok(hits)
    }

    /// The distinct terms of `text` as the index analyses them, each with its BM25 inverse
    /// document frequency (a term no passage holds gets the highest weight there is).
    pub fn term_weights(&self, text: &str) -> Result<Vec<(String, f32)>> {
        let mut words = terms(text);
        words.sort();
        words.dedup();
        let searcher = self.reader.searcher();
        let docs = searcher.num_docs() as f32;
        words
            .into_iter()
            .map(|w| {
                let df = searcher.doc_freq(&Term::from_field_text(self.text, &w))? as f32;
                Ok((w, (1.0 + (docs - df + 0.5) / (df + 0.5)).ln()))
            })
            .collect()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn disk_bytes(&self) -> u64 {
        super::dir_size(&self.dir)
    }
}

fn schema() -> (Schema, Field, Field) {
    let mut builder = Schema::builder();
    let chunk_id = builder.add_u64_field("chunk_id", INDEXED | FAST | STORED);
    let indexing =
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = builder.add_text_field("text", TextOptions::default().set_indexing_options(indexing));
    (builder.build(), chunk_id, text)
}
