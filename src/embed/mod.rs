//! Sentence embeddings with candle's BERT: all-MiniLM-L6-v2, multilingual-e5-small, or any BERT
//! folder of the same shape.
//!
//! Texts are sorted by length and batched so padding stays small; the model's attention mask keeps
//! padding out of attention, and mean pooling averages real tokens only (MiniLM's tokenizer pads to
//! 128 tokens, and pooling over padding makes unrelated sentences look alike). Vectors are
//! L2-normalised, so a dot product is the cosine similarity.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::ingest::chunk::TokenSpans;
use crate::models::{embedder_dir, embedder_spec, EmbedderSpec};

/// Tokens in one batch (batch size × padded length): big enough to keep matrix kernels busy,
/// small enough that attention scores stay in cache-friendly sizes.
const BATCH_TOKENS: usize = 8192;
const MAX_BATCH: usize = 64;
/// Attention score elements in one batch (rows × length²) at most: the score tensors grow with
/// the square of the length, and at 8192 tokens of 512-token chunks they took gigabytes.
const BATCH_ATTENTION: usize = 8192 * 128;

pub struct Embedder {
    spec: EmbedderSpec,
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dims: usize,
}

impl Embedder {
    /// Loads a known embedder from the model directory.
    pub fn load(models_dir: &Path, id: &str) -> Result<Self> {
        let spec = embedder_spec(id)?.clone();
        let dir = embedder_dir(models_dir, id)?;
        Self::load_dir(&dir, spec)
    }

    /// Loads a Hugging Face BERT folder (`config.json`, `model.safetensors`, `tokenizer.json`).
    pub fn load_dir(dir: &Path, spec: EmbedderSpec) -> Result<Self> {
        let id = spec.id;
        let config_text = std::fs::read_to_string(dir.join("config.json")).map_err(|e| Error::model(id, e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| Error::model(id, format!("config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| Error::model(id, format!("tokenizer.json: {e}")))?;
        // Padding and truncation are ours to do per batch; the file's own settings would pad every
        // text to a fixed length or cut chunk offsets short.
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| Error::model(id, e))?;
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only; Folio never writes model files while
        // they are loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device) }
            .map_err(|e| Error::model(id, format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| Error::model(id, format!("weights do not fit config.json: {e}")))?;
        let spec = EmbedderSpec { max_tokens: spec.max_tokens.min(config.max_position_embeddings), ..spec };
        Ok(Embedder { spec, model, tokenizer, device, dims: config.hidden_size })
    }

    pub fn id(&self) -> &'static str {
        self.spec.id
    }

    pub fn spec(&self) -> &EmbedderSpec {
        &self.spec
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed_with_prefix(self.spec.query_prefix, &[text])?.remove(0))
    }

    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_prefix(self.spec.passage_prefix, texts)
    }

    fn embed_with_prefix(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let encodings = self.tokenizer.encode_batch(inputs, true).map_err(|e| Error::model(self.id(), e))?;
        let max = self.spec.max_tokens;
        let ids: Vec<Vec<u32>> = encodings
            .iter()
            .map(|enc| {
                let ids = enc.get_ids();
                if ids.len() <= max {
                    ids.to_vec()
                } else {
                    // Keep the closing special token ([SEP] or </s>) after truncation.
                    let mut kept = ids[..max - 1].to_vec();
                    kept.push(*ids.last().unwrap());
                    kept
                }
            })
            .collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let mut vectors = vec![Vec::new(); ids.len()];
        let mut start = 0;
        while start < order.len() {
            let longest = ids[order[start]].len().max(1);
            let count = (BATCH_TOKENS / longest)
                .min(BATCH_ATTENTION / (longest * longest))
                .clamp(1, MAX_BATCH)
                .min(order.len() - start);
            let batch = &order[start..start + count];
            let pooled = self.forward(batch.iter().map(|&i| ids[i].as_slice()), count, longest)?;
            for (row, &i) in batch.iter().enumerate() {
                vectors[i] = pooled[row * self.dims..(row + 1) * self.dims].to_vec();
            }
            start += count;
        }
        Ok(vectors)
    }

    /// One padded batch through the model; returns `rows × dims` pooled, normalised values.
    fn forward<'a>(&self, batch: impl Iterator<Item = &'a [u32]>, rows: usize, len: usize) -> Result<Vec<f32>> {
        let mut input = vec![0u32; rows * len];
        let mut mask = vec![0u32; rows * len];
        for (row, ids) in batch.enumerate() {
            input[row * len..row * len + ids.len()].copy_from_slice(ids);
            mask[row * len..row * len + ids.len()].fill(1);
        }
        let input = Tensor::from_vec(input, (rows, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, len), &self.device)?;
        let token_types = input.zeros_like()?;
        let hidden = self.model.forward(&input, &token_types, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        Ok(mean.broadcast_div(&norms)?.flatten_all()?.to_vec1::<f32>()?)
    }
}

impl TokenSpans for Embedder {
    /// Token spans for chunking, without leading whitespace, so that the gap between two spans is
    /// the text between the tokens whatever the tokenizer's offset convention.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let Ok(encoding) = self.tokenizer.encode(text, false) else {
            return Vec::new();
        };
        encoding
            .get_offsets()
            .iter()
            .filter_map(|&(start, end)| {
                let end = end.min(text.len());
                let start = start.min(end);
                let trimmed = text.get(start..end)?.trim_start();
                let start = end - trimmed.len();
                (start < end).then_some((start, end))
            })
            .collect()
    }
}

pub use crate::vector_math::dot;
