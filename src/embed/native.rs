//! Folio's own BERT encoder for the CPU: the six to twelve layers of MiniLM or multilingual-e5 on
//! the decoder's quantised kernels. Linear weights are quantised to Q8_0 at load and multiplied
//! with int8 activations (VNNI where the CPU has it); embeddings, layer norms, attention and
//! GELU stay in f32.
//!
//! A batch is a list of token sequences laid end to end, without padding: every matrix product
//! covers exactly the real tokens, and attention runs within each sequence only, so neither the
//! products nor the attention scores pay for padding (the reference path pads every text of a
//! batch to the longest).

use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;

use super::config::{Activation, EncoderConfig};
use super::ops::{activate, layer_norm, softmax};
use super::weights::{MappedTable, WeightsFile};
use crate::error::{Error, Result};
use crate::kernels::formats::{quantize_q8_0_weights, WeightType};
use crate::kernels::{matmul_batch, QMatrix};
use crate::vector_math::{add_bias, add_in_place};

/// Tokens per batch: sequences are laid end to end without padding, so the batch is sized by
/// tokens alone (4096 keeps the feed-forward buffer near 25 MB for a 1536-wide layer).
const NATIVE_BATCH_TOKENS: usize = 4096;

struct Linear {
    weight: QMatrix,
    bias: Vec<f32>,
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

pub struct NativeEncoder {
    config: EncoderConfig,
    activation: Activation,
    words: MappedTable,
    positions: Vec<f32>,
    /// Row 0 of the token-type table: every text is a single segment.
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    /// Buffers of the last batch, kept for the next: a batch's buffers are tens of MB, and fresh
    /// ones cost a page fault per 4 KB (a tenth of the run when allocated per batch).
    scratch: Mutex<Option<Scratch>>,
}

#[derive(Default)]
struct Scratch {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    context: Vec<f32>,
    projected: Vec<f32>,
    inner: Vec<f32>,
}

impl NativeEncoder {
    pub fn load(dir: &Path, id: &'static str, config: &EncoderConfig) -> Result<Self> {
        if let Some(why) = config.native_unsupported() {
            return Err(Error::model(id, format!("the native encoder does not run this model ({why})")));
        }
        let activation = config.activation().expect("checked by native_unsupported");
        let weights = WeightsFile::open(&dir.join("model.safetensors"), id)?;
        let h = config.hidden_size;
        let linear = |name: &str, rows: usize, cols: usize| -> Result<Linear> {
            let w = weights.f32(&format!("{name}.weight"), &[rows, cols])?;
            let mut bytes = Vec::with_capacity(rows * WeightType::Q8_0.row_bytes(cols));
            quantize_q8_0_weights(&w, &mut bytes);
            Ok(Linear {
                weight: QMatrix::owned(WeightType::Q8_0, rows, cols, bytes),
                bias: weights.f32(&format!("{name}.bias"), &[rows])?,
            })
        };
        let norm = |name: &str| -> Result<Norm> {
            let (weight, bias) = weights.norm(name, h)?;
            Ok(Norm { weight, bias })
        };
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: linear(&format!("{p}.attention.self.query"), h, h)?,
                    key: linear(&format!("{p}.attention.self.key"), h, h)?,
                    value: linear(&format!("{p}.attention.self.value"), h, h)?,
                    attention_out: linear(&format!("{p}.attention.output.dense"), h, h)?,
                    attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: linear(&format!("{p}.intermediate.dense"), config.intermediate_size, h)?,
                    output: linear(&format!("{p}.output.dense"), h, config.intermediate_size)?,
                    output_norm: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut token_type = vec![0f32; h];
        weights.table("embeddings.token_type_embeddings.weight", h)?.add_row(0, &mut token_type);
        Ok(NativeEncoder {
            config: config.clone(),
            activation,
            words: weights.table("embeddings.word_embeddings.weight", h)?,
            positions: weights.f32("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?,
            token_type,
            embedding_norm: norm("embeddings.LayerNorm")?,
            layers,
            scratch: Mutex::new(None),
        })
    }

    /// Mean-pooled, L2-normalised vectors of `sequences` (each at most `max_position_embeddings`
    /// tokens), `hidden_size` values each, laid end to end; in batches of about
    /// `NATIVE_BATCH_TOKENS` tokens (sequences are whole, so one batch always takes at least one).
    pub fn encode(&self, sequences: &[&[u32]]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(sequences.len() * self.config.hidden_size);
        let mut start = 0;
        while start < sequences.len() {
            let mut end = start + 1;
            let mut tokens = sequences[start].len();
            while end < sequences.len() && tokens + sequences[end].len() <= NATIVE_BATCH_TOKENS {
                tokens += sequences[end].len();
                end += 1;
            }
            out.extend(self.encode_batch(&sequences[start..end])?);
            start = end;
        }
        Ok(out)
    }

    fn encode_batch(&self, sequences: &[&[u32]]) -> Result<Vec<f32>> {
        let h = self.config.hidden_size;
        let starts: Vec<usize> = sequences
            .iter()
            .scan(0, |at, s| {
                let start = *at;
                *at += s.len();
                Some(start)
            })
            .collect();
        let tokens: usize = sequences.iter().map(|s| s.len()).sum();
        let mut x = self.embed_tokens(sequences, tokens)?;
        // Another thread (a search while indexing) may hold the kept buffers: it gets new ones.
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        let Scratch { q, k, v, context, projected, inner } = &mut scratch;
        // Every element is written before it is read (the products cover every output).
        for buffer in [&mut *q, &mut *k, &mut *v, &mut *context, &mut *projected] {
            buffer.resize(tokens * h, 0.0);
        }
        inner.resize(tokens * self.config.intermediate_size, 0.0);
        let eps = self.config.layer_norm_eps as f32;
        for layer in &self.layers {
            matmul_batch(
                &mut [(&layer.query.weight, &mut *q), (&layer.key.weight, &mut *k), (&layer.value.weight, &mut *v)],
                &x,
                tokens,
            );
            add_bias(q, &layer.query.bias);
            add_bias(k, &layer.key.bias);
            add_bias(v, &layer.value.bias);
            self.attention(sequences, &starts, q, k, v, context);
            layer.attention_out.weight.matmul(context, tokens, projected);
            add_bias(projected, &layer.attention_out.bias);
            add_in_place(&mut x, projected);
            layer_norm(&mut x, &layer.attention_norm.weight, &layer.attention_norm.bias, eps);

            layer.intermediate.weight.matmul(&x, tokens, inner);
            add_bias(inner, &layer.intermediate.bias);
            activate(inner, self.activation);
            layer.output.weight.matmul(inner, tokens, projected);
            add_bias(projected, &layer.output.bias);
            add_in_place(&mut x, projected);
            layer_norm(&mut x, &layer.output_norm.weight, &layer.output_norm.bias, eps);
        }
        *self.scratch.lock().unwrap_or_else(|e| e.into_inner()) = Some(scratch);
        Ok(pool(&x, sequences, &starts, h))
    }

    /// Word + position + token-type embeddings, layer-normed.
    fn embed_tokens(&self, sequences: &[&[u32]], tokens: usize) -> Result<Vec<f32>> {
        let h = self.config.hidden_size;
        let mut x = vec![0f32; tokens * h];
        let mut rows = x.chunks_exact_mut(h);
        for sequence in sequences {
            if sequence.len() > self.config.max_position_embeddings {
                return Err(Error::InvalidInput(format!(
                    "a text of {} tokens is longer than the embedder's {} positions",
                    sequence.len(),
                    self.config.max_position_embeddings
                )));
            }
            for (position, &id) in sequence.iter().enumerate() {
                let row = rows.next().expect("one row per token");
                if id as usize >= self.words.rows {
                    return Err(Error::InvalidInput(format!(
                        "token id {id} is outside the embedder's {} words: tokenizer.json and \
                         model.safetensors do not belong together",
                        self.words.rows
                    )));
                }
                row.copy_from_slice(&self.positions[position * h..(position + 1) * h]);
                add_in_place(row, &self.token_type);
                self.words.add_row(id as usize, row);
            }
        }
        let norm = &self.embedding_norm;
        layer_norm(&mut x, &norm.weight, &norm.bias, self.config.layer_norm_eps as f32);
        Ok(x)
    }

    /// Scaled dot-product attention of every token over the tokens of its own sequence: per
    /// (sequence, head), two f32 matrix products read straight from the token-major q, k and v
    /// through strides (scores = q·kᵀ, then softmax rows, then scores·v written into the head's
    /// columns of `out`). Tasks run in parallel; each product runs on one core.
    fn attention(&self, sequences: &[&[u32]], starts: &[usize], q: &[f32], k: &[f32], v: &[f32], out: &mut [f32]) {
        let h = self.config.hidden_size;
        let hd = self.config.head_dim();
        let heads = self.config.num_attention_heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let tasks: Vec<(usize, usize)> = (0..sequences.len()).flat_map(|s| (0..heads).map(move |hh| (s, hh))).collect();
        let out = SyncPtr(out.as_mut_ptr());
        tasks.par_iter().for_each_init(Vec::new, |scores, &(s, head)| {
            let (start, len) = (starts[s], sequences[s].len());
            if len == 0 {
                return;
            }
            let at = start * h + head * hd;
            scores.resize(len * len, 0.0);
            let (rs, hs) = (len as isize, h as isize);
            // SAFETY: every pointer covers `len` rows of stride `h` from the sequence's first token
            // at this head's columns, inside buffers of `tokens × h`; `scores` is `len × len`.
            // Tasks write disjoint (rows, columns) of `out`.
            unsafe {
                let (q, k, v) = (q.as_ptr().add(at), k.as_ptr().add(at), v.as_ptr().add(at));
                gemm::gemm(
                    len,
                    len,
                    hd,
                    scores.as_mut_ptr(),
                    1,
                    rs,
                    false,
                    q,
                    1,
                    hs,
                    k,
                    hs,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
                scores.chunks_exact_mut(len).for_each(softmax);
                gemm::gemm(
                    len,
                    hd,
                    len,
                    out.at(at),
                    1,
                    hs,
                    false,
                    scores.as_ptr(),
                    1,
                    rs,
                    v,
                    1,
                    hs,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        });
    }
}

/// The output of attention, written by tasks that each own a block of rows and columns.
#[derive(Clone, Copy)]
struct SyncPtr(*mut f32);
// SAFETY: tasks write disjoint elements (see `attention`).
unsafe impl Send for SyncPtr {}
unsafe impl Sync for SyncPtr {}

impl SyncPtr {
    /// # Safety
    /// `i` is inside the buffer.
    unsafe fn at(self, i: usize) -> *mut f32 {
        self.0.add(i)
    }
}

/// The mean of each sequence's rows, normalised to length 1 (so a dot product is the cosine).
fn pool(x: &[f32], sequences: &[&[u32]], starts: &[usize], h: usize) -> Vec<f32> {
    let mut pooled = vec![0f32; sequences.len() * h];
    for ((out, seq), &start) in pooled.chunks_exact_mut(h).zip(sequences).zip(starts) {
        for t in start..start + seq.len() {
            add_in_place(out, &x[t * h..(t + 1) * h]);
        }
        let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        // The mean's 1/len cancels in the normalisation.
        out.iter_mut().for_each(|v| *v /= norm);
    }
    pooled
}
