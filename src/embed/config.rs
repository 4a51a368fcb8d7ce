//! A BERT folder's `config.json`, as the native encoder reads it: sizes, the activation, and
//! whether the shape is one the native path implements (the reference path takes the rest).

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct EncoderConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_eps() -> f64 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

fn default_position_type() -> String {
    "absolute".into()
}

/// The feed-forward activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x·Φ(x)` with the exact normal CDF (BERT's "gelu").
    GeluErf,
    /// The tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    GeluTanh,
    Relu,
}

impl EncoderConfig {
    pub fn parse(id: &str, text: &str) -> Result<Self> {
        let config: EncoderConfig =
            serde_json::from_str(text).map_err(|e| Error::model(id, format!("config.json: {e}")))?;
        if config.hidden_size == 0
            || config.num_attention_heads == 0
            || !config.hidden_size.is_multiple_of(config.num_attention_heads)
            || config.num_hidden_layers == 0
            || config.intermediate_size == 0
            || config.max_position_embeddings == 0
        {
            return Err(Error::model(id, "config.json: sizes are zero or heads do not divide the hidden size"));
        }
        Ok(config)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Why the native encoder cannot run this model, if it cannot: the quantised kernels take rows
    /// in blocks of 32, and only BERT's own attention and activations are implemented.
    pub fn native_unsupported(&self) -> Option<String> {
        if let Some(kind) = self.model_type.as_deref().filter(|t| *t != "bert") {
            return Some(format!("model type {kind}"));
        }
        if self.position_embedding_type != "absolute" {
            return Some(format!("{} position embeddings", self.position_embedding_type));
        }
        if self.activation().is_none() {
            return Some(format!("activation {}", self.hidden_act));
        }
        if !self.hidden_size.is_multiple_of(32) || !self.intermediate_size.is_multiple_of(32) {
            return Some(format!("sizes {} and {} are not multiples of 32", self.hidden_size, self.intermediate_size));
        }
        None
    }

    pub fn activation(&self) -> Option<Activation> {
        match self.hidden_act.as_str() {
            "gelu" => Some(Activation::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_approximate" => Some(Activation::GeluTanh),
            "relu" => Some(Activation::Relu),
            _ => None,
        }
    }
}
