//! Sentence embeddings: all-MiniLM-L6-v2, multilingual-e5-small, or any BERT folder of the same
//! shape. Texts are tokenized here, prefixed as the model expects and cut to its positions; an
//! encoder turns the token sequences into mean-pooled, L2-normalised vectors (so a dot product is
//! the cosine similarity). Two encoders: Folio's native one on the quantised CPU kernels, and
//! candle's f32 BERT as the reference and the path for models the native one does not implement.

pub mod bench;
mod config;
mod native;
mod ops;
mod reference;
mod weights;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::ingest::chunk::TokenSpans;
use crate::models::{embedder_dir, embedder_spec, EmbedderSpec};
use config::EncoderConfig;
use native::NativeEncoder;
use reference::ReferenceEncoder;

/// Which encoder computes the vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum EncoderPath {
    /// Native where the CPU has the vector kernels and the model's shape is implemented, else the
    /// reference.
    #[default]
    Auto,
    Native,
    Reference,
}

impl FromStr for EncoderPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(EncoderPath::Auto),
            "native" => Ok(EncoderPath::Native),
            "reference" => Ok(EncoderPath::Reference),
            other => Err(Error::InvalidInput(format!("encoder '{other}': expected auto, native or reference"))),
        }
    }
}

impl fmt::Display for EncoderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncoderPath::Auto => "auto",
            EncoderPath::Native => "native",
            EncoderPath::Reference => "reference",
        })
    }
}

enum Encoder {
    Native(NativeEncoder),
    Reference(ReferenceEncoder),
}

pub struct Embedder {
    spec: EmbedderSpec,
    encoder: Encoder,
    tokenizer: Tokenizer,
    dims: usize,
}

impl Embedder {
    /// Loads a known embedder from the model directory.
    pub fn load(models_dir: &Path, id: &str, path: EncoderPath) -> Result<Self> {
        let spec = embedder_spec(id)?.clone();
        let dir = embedder_dir(models_dir, id)?;
        Self::load_dir(&dir, spec, path)
    }

    /// Loads a Hugging Face BERT folder (`config.json`, `model.safetensors`, `tokenizer.json`).
    pub fn load_dir(dir: &Path, spec: EmbedderSpec, path: EncoderPath) -> Result<Self> {
        let id = spec.id;
        let config_text = std::fs::read_to_string(dir.join("config.json")).map_err(|e| Error::model(id, e))?;
        let config = EncoderConfig::parse(id, &config_text)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| Error::model(id, format!("tokenizer.json: {e}")))?;
        // Padding and truncation are ours to do per batch; the file's own settings would pad every
        // text to a fixed length or cut chunk offsets short.
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| Error::model(id, e))?;
        let native = match path {
            EncoderPath::Native => true,
            EncoderPath::Reference => false,
            EncoderPath::Auto => {
                crate::kernels::isa() != crate::kernels::Isa::Scalar && config.native_unsupported().is_none()
            }
        };
        let encoder = if native {
            Encoder::Native(NativeEncoder::load(dir, id, &config)?)
        } else {
            Encoder::Reference(ReferenceEncoder::load(dir, id, &config_text)?)
        };
        let spec = EmbedderSpec { max_tokens: spec.max_tokens.min(config.max_position_embeddings), ..spec };
        Ok(Embedder { spec, encoder, tokenizer, dims: config.hidden_size })
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

    /// Which encoder runs, in words: "native (int8 kernels: Vnni)" or "reference (candle f32)".
    pub fn encoder_name(&self) -> String {
        match &self.encoder {
            Encoder::Native(_) => format!("native (int8 kernels: {:?})", crate::kernels::isa()),
            Encoder::Reference(_) => "reference (candle f32)".into(),
        }
    }

    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed_with_prefix(self.spec.query_prefix, &[text])?.remove(0))
    }

    /// Several queries in one batch (as `embed_query` gives each).
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_prefix(self.spec.query_prefix, texts)
    }

    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_prefix(self.spec.passage_prefix, texts)
    }

    /// Token ids of `texts` as the encoder receives them: prefixed, with the special tokens, cut to
    /// the model's positions.
    pub fn token_ids(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let encodings = self.tokenizer.encode_batch(inputs, true).map_err(|e| Error::model(self.id(), e))?;
        let max = self.spec.max_tokens;
        Ok(encodings
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
            .collect())
    }

    fn embed_with_prefix(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.token_ids(prefix, texts)?;
        let sequences: Vec<&[u32]> = ids.iter().map(|s| s.as_slice()).collect();
        let flat = self.encode(&sequences)?;
        Ok(flat.chunks_exact(self.dims).map(<[f32]>::to_vec).collect())
    }

    /// Vectors of token sequences, `dims` values each, laid end to end.
    pub fn encode(&self, sequences: &[&[u32]]) -> Result<Vec<f32>> {
        match &self.encoder {
            Encoder::Reference(reference) => reference.encode(sequences),
            Encoder::Native(native) => native.encode(sequences),
        }
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
