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
        let n_embd = need("embedding_length")?;
        let n_head = need("attention.head_count")?;
        let n_head_kv = file.arch_u32("attention.head_count_kv").map(|v| v as usize).unwrap_or(n_head);
        let head_dim = file.arch_u32("attention.key_length").map(|v| v as usize).unwrap_or(n_embd / n_head);
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
        Ok(Config {
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
        })
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
