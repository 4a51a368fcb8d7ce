//! candle's BERT in f32: the reference the native encoder is measured against, and the path for
//! models the native encoder does not implement (and for GPUs).
//!
//! Texts are sorted by length and batched so padding stays small; the model's attention mask keeps
//! padding out of attention, and mean pooling averages real tokens only (MiniLM's tokenizer pads to
//! 128 tokens, and pooling over padding makes unrelated sentences look alike).

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use crate::error::{Error, Result};

/// Tokens in one batch (batch size × padded length): big enough to keep matrix kernels busy,
/// small enough that attention scores stay in cache-friendly sizes.
const BATCH_TOKENS: usize = 8192;
const MAX_BATCH: usize = 64;
/// Attention score elements in one batch (rows × length²) at most: the score tensors grow with
/// the square of the length, and at 8192 tokens of 512-token chunks they took gigabytes.
const BATCH_ATTENTION: usize = 8192 * 128;

pub struct ReferenceEncoder {
    model: BertModel,
    device: Device,
    dims: usize,
}

impl ReferenceEncoder {
    pub fn load(dir: &Path, id: &'static str, config_text: &str) -> Result<Self> {
        let config: Config =
            serde_json::from_str(config_text).map_err(|e| Error::model(id, format!("config.json: {e}")))?;
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only; Folio never writes model files while
        // they are loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device) }
            .map_err(|e| Error::model(id, format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| Error::model(id, format!("weights do not fit config.json: {e}")))?;
        Ok(ReferenceEncoder { model, device, dims: config.hidden_size })
    }

    /// Pooled, normalised vectors of `sequences`, `dims` values each, laid end to end.
    pub fn encode(&self, sequences: &[&[u32]]) -> Result<Vec<f32>> {
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(sequences[i].len()));
        let mut vectors = vec![0f32; sequences.len() * self.dims];
        let mut start = 0;
        while start < order.len() {
            let longest = sequences[order[start]].len().max(1);
            let count = (BATCH_TOKENS / longest)
                .min(BATCH_ATTENTION / (longest * longest))
                .clamp(1, MAX_BATCH)
                .min(order.len() - start);
            let batch = &order[start..start + count];
            let pooled = self.forward(batch.iter().map(|&i| sequences[i]), count, longest)?;
            for (row, &i) in batch.iter().enumerate() {
                vectors[i * self.dims..(i + 1) * self.dims]
                    .copy_from_slice(&pooled[row * self.dims..(row + 1) * self.dims]);
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
