//! The decoder: weights straight from the GGUF memory map, a KV cache that can be cut back to any
//! prefix (so a chat reuses the work of earlier turns), and a forward pass over a batch of tokens.

use std::sync::Arc;

use half::f16;

use super::attention::{attention, Past};
use super::config::{Activation, Arch, Config};
use super::ops::{add_bias, add_in_place, gelu_tanh_mul, rms_norm, rms_norm_into, silu_mul, RopeTable};
use crate::error::{Error, Result};
use crate::kernels::formats::{dequantize_row, WeightType};
use crate::kernels::{matmul_batch, QMatrix};
use crate::llm::gguf::GgufFile;

struct Layer {
    attn_norm: Vec<f32>,
    wq: QMatrix,
    wk: QMatrix,
    wv: QMatrix,
    bq: Option<Vec<f32>>,
    bk: Option<Vec<f32>>,
    bv: Option<Vec<f32>>,
    q_norm: Option<Vec<f32>>,
    k_norm: Option<Vec<f32>>,
    wo: QMatrix,
    post_attn_norm: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    w_gate: QMatrix,
    w_up: QMatrix,
    w_down: QMatrix,
    post_ffn_norm: Option<Vec<f32>>,
}

/// Keys and values of every layer for positions `0..len`, in f16 as llama.cpp keeps them: half
/// the memory of f32, and the same rounding.
struct KvCache {
    k: Vec<Vec<f16>>,
    v: Vec<Vec<f16>>,
    len: usize,
}

/// The keys and values of a cache's first `len` positions, kept aside to be put back later
/// (`NativeModel::restore`): the prompt prefix an answer shares with every other.
pub struct KvSnapshot {
    len: usize,
    k: Vec<Vec<f16>>,
    v: Vec<Vec<f16>>,
}

impl KvSnapshot {
    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Memory held, in bytes.
    pub fn bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|layer| layer.len() * 2).sum()
    }

    /// A snapshot of `len` zero positions of one layer `width` values wide (the prefix cache's tests).
    #[cfg(test)]
    pub(crate) fn zeros(len: usize, width: usize) -> Self {
        KvSnapshot { len, k: vec![vec![f16::ZERO; len * width]], v: vec![vec![f16::ZERO; len * width]] }
    }
}

pub struct NativeModel {
    pub config: Config,
    token_embd: QMatrix,
    output_norm: Vec<f32>,
    output: QMatrix,
    layers: Vec<Layer>,
    cache: KvCache,
    rope_global: RopeTable,
    rope_local: RopeTable,
    max_context: usize,
}

fn weight_type(dtype: candle_core::quantized::GgmlDType) -> Option<WeightType> {
    use candle_core::quantized::GgmlDType as G;
    Some(match dtype {
        G::F32 => WeightType::F32,
        G::F16 => WeightType::F16,
        G::BF16 => WeightType::BF16,
        G::Q4_0 => WeightType::Q4_0,
        G::Q4_1 => WeightType::Q4_1,
        G::Q5_0 => WeightType::Q5_0,
        G::Q5_1 => WeightType::Q5_1,
        G::Q8_0 => WeightType::Q8_0,
        G::Q2K => WeightType::Q2K,
        G::Q3K => WeightType::Q3K,
        G::Q4K => WeightType::Q4K,
        G::Q5K => WeightType::Q5K,
        G::Q6K => WeightType::Q6K,
        _ => return None,
    })
}

impl NativeModel {
    /// Loads the model in `file`, with room for `max_context` tokens (capped at the model's own).
    pub fn load(file: &GgufFile, max_context: usize) -> Result<Self> {
        let config = Config::from_gguf(file)?;
        let name = file.path.display().to_string();
        let map = Arc::new(
            // SAFETY: read-only mapping of a model file that is not modified while loaded.
            unsafe { memmap2::Mmap::map(&std::fs::File::open(&file.path).map_err(|e| Error::model(&name, e))?) }
                .map_err(|e| Error::model(&name, e))?,
        );
        let data_offset = file.content.tensor_data_offset as usize;
        let matrix = |tensor: &str, rows: usize, cols: usize| -> Result<QMatrix> {
            let info = file
                .content
                .tensor_infos
                .get(tensor)
                .ok_or_else(|| Error::model(&name, format!("tensor {tensor} is missing")))?;
            let wtype = weight_type(info.ggml_dtype).ok_or_else(|| {
                Error::model(&name, format!("tensor {tensor} has type {:?}, which Folio cannot read", info.ggml_dtype))
            })?;
            let dims = info.shape.dims();
            if Some(dims.iter().product::<usize>()) != rows.checked_mul(cols) || dims.last() != Some(&cols) {
                return Err(Error::model(
                    &name,
                    format!("tensor {tensor} has shape {dims:?}, expected [{rows}, {cols}]"),
                ));
            }
            if !cols.is_multiple_of(wtype.block().0) {
                return Err(Error::model(
                    &name,
                    format!("tensor {tensor}: {cols} columns are not whole {wtype:?} blocks"),
                ));
            }
            Ok(QMatrix::mapped(wtype, rows, cols, map.clone(), data_offset + info.offset as usize))
        };
        let vector = |tensor: &str, len: usize| -> Result<Vec<f32>> {
            let m = matrix(tensor, 1, len)?;
            let mut out = vec![0f32; len];
            m.dequantize_row(0, &mut out);
            Ok(out)
        };
        let optional_vector = |tensor: &str, len: usize| -> Result<Option<Vec<f32>>> {
            if file.has_tensor(tensor) {
                vector(tensor, len).map(Some)
            } else {
                Ok(None)
            }
        };
        let c = &config;
        let vocab = file
            .content
            .tensor_infos
            .get("token_embd.weight")
            .map(|t| t.shape.dims()[0])
            .ok_or_else(|| Error::model(&name, "tensor token_embd.weight is missing"))?;
        let token_embd = matrix("token_embd.weight", vocab, c.n_embd)?;
        let output = if file.has_tensor("output.weight") {
            matrix("output.weight", vocab, c.n_embd)?
        } else {
            token_embd.clone()
        };
        let mut layers = Vec::with_capacity(c.n_layer);
        for l in 0..c.n_layer {
            let t = |suffix: &str| format!("blk.{l}.{suffix}");
            layers.push(Layer {
                attn_norm: vector(&t("attn_norm.weight"), c.n_embd)?,
                wq: matrix(&t("attn_q.weight"), c.q_dim(), c.n_embd)?,
                wk: matrix(&t("attn_k.weight"), c.kv_dim(), c.n_embd)?,
                wv: matrix(&t("attn_v.weight"), c.kv_dim(), c.n_embd)?,
                bq: optional_vector(&t("attn_q.bias"), c.q_dim())?,
                bk: optional_vector(&t("attn_k.bias"), c.kv_dim())?,
                bv: optional_vector(&t("attn_v.bias"), c.kv_dim())?,
                q_norm: optional_vector(&t("attn_q_norm.weight"), c.head_dim)?,
                k_norm: optional_vector(&t("attn_k_norm.weight"), c.head_dim)?,
                wo: matrix(&t("attn_output.weight"), c.n_embd, c.q_dim())?,
                post_attn_norm: optional_vector(&t("post_attention_norm.weight"), c.n_embd)?,
                ffn_norm: vector(&t("ffn_norm.weight"), c.n_embd)?,
                w_gate: matrix(&t("ffn_gate.weight"), c.n_ff, c.n_embd)?,
                w_up: matrix(&t("ffn_up.weight"), c.n_ff, c.n_embd)?,
                w_down: matrix(&t("ffn_down.weight"), c.n_embd, c.n_ff)?,
                post_ffn_norm: optional_vector(&t("post_ffw_norm.weight"), c.n_embd)?,
            });
        }
        let max_context = max_context.min(c.context_length).max(16);
        let cache = KvCache { k: vec![Vec::new(); c.n_layer], v: vec![Vec::new(); c.n_layer], len: 0 };
        let output_norm = vector("output_norm.weight", c.n_embd)?;
        Ok(NativeModel {
            rope_global: RopeTable::new(c.rope_dim, c.rope_base, c.rope_freq_scale),
            rope_local: RopeTable::new(c.rope_dim, c.rope_base_local, 1.0),
            config,
            token_embd,
            output_norm,
            output,
            layers,
            cache,
            max_context,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.output.rows
    }

    pub fn max_context(&self) -> usize {
        self.max_context
    }

    /// Tokens whose keys and values are cached.
    pub fn cached(&self) -> usize {
        self.cache.len
    }

    /// Forgets cached positions from `len` on, keeping the prefix.
    pub fn truncate(&mut self, len: usize) {
        self.cache.len = self.cache.len.min(len);
    }

    /// A copy of the keys and values of the first `len` cached positions (at most those cached).
    pub fn snapshot(&self, len: usize) -> KvSnapshot {
        let len = len.min(self.cache.len);
        let n = len * self.config.kv_dim();
        KvSnapshot {
            len,
            k: self.cache.k.iter().map(|layer| layer[..n].to_vec()).collect(),
            v: self.cache.v.iter().map(|layer| layer[..n].to_vec()).collect(),
        }
    }

    /// Makes the cache hold a snapshot's positions and nothing after them. A snapshot of another
    /// model's shape is refused (nothing cached): returns the positions now cached.
    pub fn restore(&mut self, snapshot: &KvSnapshot) -> usize {
        let n = snapshot.len * self.config.kv_dim();
        if snapshot.k.len() != self.layers.len()
            || snapshot.len > self.max_context
            || snapshot.k.iter().chain(&snapshot.v).any(|layer| layer.len() != n)
        {
            self.cache.len = 0;
            return 0;
        }
        for (cache, saved) in
            self.cache.k.iter_mut().chain(self.cache.v.iter_mut()).zip(snapshot.k.iter().chain(&snapshot.v))
        {
            if cache.len() < n {
                cache.resize(n, f16::ZERO);
            }
            cache[..n].copy_from_slice(saved);
        }
        self.cache.len = snapshot.len;
        snapshot.len
    }

    /// Runs `tokens` at the positions after the cached ones; returns the last token's logits.
    ///
    /// The pass runs on one of the thread pool's workers, not on the caller's thread: every
    /// parallel step inside it (about eight a layer, matrix products and the quantisation of
    /// their input) then splits its work by stealing between workers that are awake, instead of
    /// each being sent to the pool from outside and the caller put to sleep and woken again.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        rayon::scope(|_| self.forward_on_pool(tokens))
    }

    fn forward_on_pool(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let c = self.config.clone();
        let n = tokens.len();
        let start = self.cache.len;
        if n == 0 {
            return Err(Error::InvalidInput("nothing to run: no tokens".into()));
        }
        if start + n > self.max_context {
            return Err(Error::InvalidInput(format!(
                "{} tokens do not fit the context of {} tokens",
                start + n,
                self.max_context
            )));
        }
        let vocab = self.vocab_size();
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= vocab) {
            return Err(Error::InvalidInput(format!("token {bad} is outside the vocabulary of {vocab}")));
        }
        self.rope_global.ensure(start + n);
        self.rope_local.ensure(start + n);
        for l in 0..c.n_layer {
            let need = (start + n) * c.kv_dim();
            if self.cache.k[l].len() < need {
                // Grow in steps so long generations do not reallocate every token.
                let grow = need.max((self.cache.k[l].len() * 3 / 2).min(self.max_context * c.kv_dim()));
                self.cache.k[l].resize(grow, f16::ZERO);
                self.cache.v[l].resize(grow, f16::ZERO);
            }
        }

        let d = c.n_embd;
        let mut x = vec![0f32; n * d];
        for (i, &t) in tokens.iter().enumerate() {
            self.token_embd.dequantize_row(t as usize, &mut x[i * d..(i + 1) * d]);
        }
        if let Some(scale) = c.embed_scale {
            x.iter_mut().for_each(|v| *v *= scale);
        }
        let mut h = vec![0f32; n * d];
        let mut q = vec![0f32; n * c.q_dim()];
        let mut k = vec![0f32; n * c.kv_dim()];
        let mut v = vec![0f32; n * c.kv_dim()];
        let mut att = vec![0f32; n * c.q_dim()];
        let mut o = vec![0f32; n * d];
        let mut gate = vec![0f32; n * c.n_ff];
        let mut up = vec![0f32; n * c.n_ff];

        for (l, layer) in self.layers.iter().enumerate() {
            rms_norm_into(&x, &layer.attn_norm, c.eps, &mut h);
            matmul_batch(&mut [(&layer.wq, &mut q[..]), (&layer.wk, &mut k[..]), (&layer.wv, &mut v[..])], &h, n);
            for (t, b) in [(&mut q, &layer.bq), (&mut k, &layer.bk), (&mut v, &layer.bv)] {
                if let Some(b) = b {
                    add_bias(t, b);
                }
            }
            if let Some(w) = &layer.q_norm {
                rms_norm(&mut q, w, c.eps);
            }
            if let Some(w) = &layer.k_norm {
                rms_norm(&mut k, w, c.eps);
            }
            let rope = if c.is_sliding(l) { &self.rope_local } else { &self.rope_global };
            for i in 0..n {
                rope.apply(&mut q[i * c.q_dim()..(i + 1) * c.q_dim()], c.head_dim, start + i, c.rope_style);
                rope.apply(&mut k[i * c.kv_dim()..(i + 1) * c.kv_dim()], c.head_dim, start + i, c.rope_style);
            }
            let kv = c.kv_dim();
            for (dst, src) in self.cache.k[l][start * kv..(start + n) * kv].iter_mut().zip(&k) {
                *dst = f16::from_f32(*src);
            }
            for (dst, src) in self.cache.v[l][start * kv..(start + n) * kv].iter_mut().zip(&v) {
                *dst = f16::from_f32(*src);
            }
            let window = if c.is_sliding(l) { c.sliding_window } else { None };
            attention(&c, &q, Past { k_cache: &self.cache.k[l], v_cache: &self.cache.v[l], start, window }, &mut att);
            layer.wo.matmul(&att, n, &mut o);
            if let Some(w) = &layer.post_attn_norm {
                rms_norm(&mut o, w, c.eps);
            }
            add_in_place(&mut x, &o);

            rms_norm_into(&x, &layer.ffn_norm, c.eps, &mut h);
            matmul_batch(&mut [(&layer.w_gate, &mut gate[..]), (&layer.w_up, &mut up[..])], &h, n);
            match c.activation {
                Activation::Silu => silu_mul(&mut gate, &up),
                Activation::GeluTanh => gelu_tanh_mul(&mut gate, &up),
            }
            layer.w_down.matmul(&gate, n, &mut o);
            if let Some(w) = &layer.post_ffn_norm {
                rms_norm(&mut o, w, c.eps);
            }
            add_in_place(&mut x, &o);
        }
        self.cache.len = start + n;

        // Only the last token's logits are needed: prompt tokens before it only fill the cache.
        let mut last = x[(n - 1) * d..].to_vec();
        rms_norm(&mut last, &self.output_norm, c.eps);
        let mut logits = vec![0f32; vocab];
        self.output.matmul(&last, 1, &mut logits);
        let _ = Arch::Llama;
        Ok(logits)
    }
}

/// Dequantises the embedding of one token (for tests and tools).
pub fn embedding(model: &NativeModel, token: u32) -> Vec<f32> {
    let mut out = vec![0f32; model.config.n_embd];
    model.token_embd.dequantize_row(token as usize, &mut out);
    let _ = dequantize_row;
    out
}
