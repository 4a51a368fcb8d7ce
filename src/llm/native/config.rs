//! Hyperparameters of a llama-family decoder, read from GGUF metadata the way llama.cpp does.

use crate::error::{Error, Result};
use crate::llm::gguf::GgufFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Llama,
    Qwen2,
    Qwen3,
    Gemma3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Rotates pairs (x[2i], x[2i+1]): llama's GGUF layout.
    Interleaved,
    /// Rotates pairs (x[i], x[i + d/2]): Qwen, Gemma.
    Halves,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Silu,
    GeluTanh,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub arch: Arch,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub head_dim: usize,
    pub n_ff: usize,
    pub eps: f32,
    pub rope_style: RopeStyle,
    pub rope_dim: usize,
    pub rope_base: f32,
    /// Rope base of sliding-window layers (Gemma 3 uses 10 000 there).
    pub rope_base_local: f32,
    /// Linear rope scaling: positions are multiplied by this.
    pub rope_freq_scale: f32,
    pub context_length: usize,
    /// Window of sliding-window layers, and which layers have it.
    pub sliding_window: Option<usize>,
    pub sliding_pattern: usize,
    pub attn_scale: f32,
    pub embed_scale: Option<f32>,
    pub activation: Activation,
}

impl Config {
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let name = file.path.display().to_string();
        let arch_name = file.architecture()?;
        let arch = match arch_name {
            "llama" | "mistral" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            "qwen3" => Arch::Qwen3,
            "gemma3" => Arch::Gemma3,
            other => {
                return Err(Error::model(
                    name,
                    format!("architecture '{other}' is not supported (Folio runs llama, mistral, qwen2, qwen3 and gemma3 models)"),
                ))
            }
        };
        let need = |key: &str| {
            file.arch_u32(key)
                .map(|v| v as usize)
                .ok_or_else(|| Error::model(&name, format!("metadata {arch_name}.{key} is missing")))
        };
        let bad = |what: String| Error::model(&name, format!("damaged model: {what}"));
        let n_embd = need("embedding_length")?;
        let n_head = need("attention.head_count")?;
        if n_embd == 0 || n_head == 0 {
            return Err(bad(format!("embedding width {n_embd} with {n_head} attention heads")));
        }
        let n_head_kv = file.arch_u32("attention.head_count_kv").map(|v| v as usize).unwrap_or(n_head);
        let head_dim = match file.arch_u32("attention.key_length") {
            Some(v) => v as usize,
            None if n_embd.is_multiple_of(n_head) => n_embd / n_head,
            None => return Err(bad(format!("{n_head} attention heads do not divide the embedding width {n_embd}"))),
        };
        let rope_dim = file.arch_u32("rope.dimension_count").map(|v| v as usize).unwrap_or(head_dim);
        let rope_base = file.arch_f32("rope.freq_base").unwrap_or(10_000.0);
        let rope_freq_scale = match file.meta_str(&format!("{arch_name}.rope.scaling.type")) {
            Some("linear") => 1.0 / file.arch_f32("rope.scaling.factor").unwrap_or(1.0),
            Some("none") | None => 1.0,
            Some(other) => {
                tracing::warn!("{name}: rope scaling '{other}' is not implemented; long contexts may degrade");
                1.0
            }
        };
        let gemma = arch == Arch::Gemma3;
        let config = Config {
            arch,
            n_layer: need("block_count")?,
            n_embd,
            n_head,
            n_head_kv,
            head_dim,
            n_ff: need("feed_forward_length")?,
            eps: file.arch_f32("attention.layer_norm_rms_epsilon").unwrap_or(1e-6),
            rope_style: if arch == Arch::Llama { RopeStyle::Interleaved } else { RopeStyle::Halves },
            rope_dim,
            rope_base,
            rope_base_local: if gemma { file.arch_f32("rope.local_freq_base").unwrap_or(10_000.0) } else { rope_base },
            rope_freq_scale,
            context_length: file.arch_u32("context_length").map(|v| v as usize).unwrap_or(4096),
            sliding_window: if gemma { file.arch_u32("attention.sliding_window").map(|v| v as usize) } else { None },
            sliding_pattern: 6,
            attn_scale: 1.0 / (head_dim as f32).sqrt(),
            embed_scale: gemma.then(|| (n_embd as f32).sqrt()),
            activation: if gemma { Activation::GeluTanh } else { Activation::Silu },
        };
        config.check(file.content.tensor_infos.len()).map_err(bad)?;
        Ok(config)
    }

    /// Every hyperparameter the decoder divides by, allocates from or indexes with, checked before
    /// it does: a damaged or hostile file is an error, never a panic, an abort or a huge
    /// allocation. `tensors`: how many tensors the file holds (each layer needs several).
    fn check(&self, tensors: usize) -> std::result::Result<(), String> {
        // Far above any real model (the largest have 128 heads of 256, widths of 16k, 126 layers),
        // low enough that no product of them overflows or allocates absurdly.
        const MAX_DIM: usize = 1 << 20;
        let positive = [
            ("embedding width", self.n_embd),
            ("attention heads", self.n_head),
            ("key-value heads", self.n_head_kv),
            ("head width", self.head_dim),
            ("feed-forward width", self.n_ff),
            ("rope dimensions", self.rope_dim),
            ("context length", self.context_length),
            ("block count", self.n_layer),
        ];
        for (what, value) in positive {
            if value == 0 || value > MAX_DIM {
                return Err(format!("{what} is {value}"));
            }
        }
        if !self.n_head.is_multiple_of(self.n_head_kv) {
            return Err(format!("{} key-value heads do not divide {} attention heads", self.n_head_kv, self.n_head));
        }
        if self.rope_dim > self.head_dim || !self.rope_dim.is_multiple_of(2) {
            return Err(format!("rope dimensions {} for heads of width {}", self.rope_dim, self.head_dim));
        }
        if self.n_layer > tensors {
            return Err(format!("{} blocks declared, but the file holds only {tensors} tensors", self.n_layer));
        }
        if self.sliding_window == Some(0) {
            return Err("a sliding window of 0 tokens".into());
        }
        if self.q_dim() > MAX_DIM || self.kv_dim() > MAX_DIM {
            return Err(format!("attention of {} × {} is impossibly wide", self.n_head, self.head_dim));
        }
        let finite_positive = [
            ("norm epsilon", self.eps),
            ("rope base", self.rope_base),
            ("local rope base", self.rope_base_local),
            ("rope scale", self.rope_freq_scale),
        ];
        for (what, value) in finite_positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{what} is {value}"));
            }
        }
        Ok(())
    }

    /// Whether layer `l` attends through a sliding window (Gemma 3: all but every sixth layer).
    pub fn is_sliding(&self, l: usize) -> bool {
        self.sliding_window.is_some() && !(l + 1).is_multiple_of(self.sliding_pattern)
    }

    pub fn kv_dim(&self) -> usize {
        self.n_head_kv * self.head_dim
    }

    pub fn q_dim(&self) -> usize {
        self.n_head * self.head_dim
    }
}
