//! The tokenizer of a GGUF model, built from its metadata alone (`tokenizer.ggml.*`), with the
//! behaviour of llama.cpp: byte-level BPE for `gpt2` vocabularies, SentencePiece BPE for `llama`
//! ones, special tokens split out of text, beginning/end tokens as the file asks. Token ids equal
//! llama.cpp's (tests compare them against ids recorded from llama.cpp).

mod bpe;
mod pretokenize;
mod spm;
mod unicode;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::llm::gguf::GgufFile;
use pretokenize::PreTokenizer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bpe(PreTokenizer),
    Spm,
}

/// A token's attributes (llama.cpp's name), from its GGUF type: flags, not the type itself,
/// because a token can be user-defined and control at once (llama.cpp ORs CONTROL into the
/// end-of-generation tokens it recognises by name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Attrs(u8);

impl Attrs {
    const UNKNOWN: u8 = 1;
    const CONTROL: u8 = 2;
    const USER_DEFINED: u8 = 4;
    const BYTE: u8 = 8;

    /// GGUF's `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined,
    /// 5 unused, 6 byte.
    fn from_gguf_type(token_type: i32) -> Attrs {
        Attrs(match token_type {
            2 => Self::UNKNOWN,
            3 => Self::CONTROL,
            4 => Self::USER_DEFINED,
            6 => Self::BYTE,
            _ => 0,
        })
    }

    fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// Control and unknown tokens are text only when specials are asked for.
    fn control_like(self) -> bool {
        self.has(Self::CONTROL) || self.has(Self::UNKNOWN)
    }
}

/// Texts llama.cpp treats as end of generation whatever their declared type.
const EOG_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
];
/// Fill-in-the-middle separators that also end generation.
const FIM_EOG_TEXTS: &[&str] =
    &["<|fim_pad|>", "<fim-pad>", "<|repo_name|>", "<reponame>", "<|file_sep|>", "<file_sep>", "<filename>"];

pub struct Tokenizer {
    kind: Kind,
    tokens: Vec<String>,
    attrs: Vec<Attrs>,
    scores: Vec<f32>,
    vocab: HashMap<String, u32>,
    merges: Option<bpe::Merges>,
    /// Special tokens, longest first, with whether they are matched only when parsing specials.
    specials: Vec<(String, u32, bool)>,
    byte_tokens: [Option<u32>; 256],
    byte_encoder: [char; 256],
    byte_decoder: HashMap<char, u8>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    add_bos: bool,
    add_eos: bool,
    add_space_prefix: bool,
    eog: Vec<u32>,
}

impl Tokenizer {
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let fail = |reason: String| Error::model(file.path.display().to_string(), reason);
        let model = file
            .meta_str("tokenizer.ggml.model")
            .ok_or_else(|| fail("no tokenizer.ggml.model in its metadata".into()))?;
        let tokens: Vec<String> = file
            .meta("tokenizer.ggml.tokens")
            .and_then(|v| v.to_vec().ok())
            .ok_or_else(|| fail("no tokenizer.ggml.tokens in its metadata".into()))?
            .iter()
            .map(|v| v.to_string().cloned().unwrap_or_default())
            .collect();
        let attrs: Vec<Attrs> = match file.meta("tokenizer.ggml.token_type").and_then(|v| v.to_vec().ok()) {
            Some(values) => values.iter().map(|v| Attrs::from_gguf_type(v.to_i32().unwrap_or(1))).collect(),
            None => vec![Attrs::default(); tokens.len()],
        };
        let scores: Vec<f32> = match file.meta("tokenizer.ggml.scores").and_then(|v| v.to_vec().ok()) {
            Some(values) => values.iter().map(|v| v.to_f32().unwrap_or(0.0)).collect(),
            None => vec![0.0; tokens.len()],
        };
        let pre = file.meta_str("tokenizer.ggml.pre").unwrap_or("default");
        let (kind, merges) = match model {
            "gpt2" => {
                let pretokenizer = PreTokenizer::for_name(pre).unwrap_or_else(|| {
                    tracing::warn!("pre-tokenizer '{pre}' is not known; using GPT-2's");
                    PreTokenizer::Gpt2
                });
                let lines: Vec<String> = file
                    .meta("tokenizer.ggml.merges")
                    .and_then(|v| v.to_vec().ok())
                    .ok_or_else(|| fail("a BPE vocabulary without tokenizer.ggml.merges".into()))?
                    .iter()
                    .map(|v| v.to_string().cloned().unwrap_or_default())
                    .collect();
                (Kind::Bpe(pretokenizer), Some(bpe::Merges::new(&lines)))
            }
            "llama" => (Kind::Spm, None),
            other => {
                return Err(fail(format!(
                    "tokenizer type '{other}' is not supported (Folio reads 'gpt2' BPE and 'llama' SentencePiece vocabularies)"
                )))
            }
        };
        let mut attrs = attrs;
        attrs.resize(tokens.len(), Attrs::default());
        let id = |key: &str| file.meta_u32(key).filter(|&i| (i as usize) < tokens.len());
        let (bos, eos, eot) =
            (id("tokenizer.ggml.bos_token_id"), id("tokenizer.ggml.eos_token_id"), id("tokenizer.ggml.eot_token_id"));
        let is_spm = kind == Kind::Spm;
        let add_bos = file.meta_bool("tokenizer.ggml.add_bos_token").unwrap_or(is_spm);
        let add_eos = file.meta_bool("tokenizer.ggml.add_eos_token").unwrap_or(false);
        let add_space_prefix = file.meta_bool("tokenizer.ggml.add_space_prefix").unwrap_or(is_spm);

        let vocab: HashMap<String, u32> = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        // End-of-generation tokens: declared ones plus those llama.cpp recognises by name, which
        // also count as control tokens from then on.
        let mut eog: Vec<u32> = [eos, eot, id("tokenizer.ggml.eom_token_id")].into_iter().flatten().collect();
        for text in EOG_TEXTS.iter().chain(FIM_EOG_TEXTS) {
            if let Some(&i) = vocab.get(*text) {
                eog.push(i);
                attrs[i as usize].0 |= Attrs::CONTROL;
            }
        }
        eog.sort_unstable();
        eog.dedup();

        let mut specials: Vec<(String, u32, bool)> = attrs
            .iter()
            .enumerate()
            .filter_map(|(i, &a)| {
                let control_like = a.control_like();
                (control_like || a.has(Attrs::USER_DEFINED)).then(|| (tokens[i].clone(), i as u32, control_like))
            })
            .filter(|(text, _, _)| !text.is_empty())
            .collect();
        specials.sort_by_key(|s| std::cmp::Reverse(s.0.len()));

        let mut byte_tokens = [None; 256];
        for (b, slot) in byte_tokens.iter_mut().enumerate() {
            *slot = vocab.get(&format!("<0x{b:02X}>")).copied();
        }
        let byte_encoder = bpe::byte_to_char();
        let byte_decoder = byte_encoder.iter().enumerate().map(|(b, c)| (*c, b as u8)).collect();
        Ok(Tokenizer {
            kind,
            tokens,
            attrs,
            scores,
            vocab,
            merges,
            specials,
            byte_tokens,
            byte_encoder,
            byte_decoder,
            bos,
            eos,
            add_bos,
            add_eos,
            add_space_prefix,
            eog,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.binary_search(&id).is_ok()
    }

    pub fn eog_tokens(&self) -> &[u32] {
        &self.eog
    }

    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.vocab.get(text).copied()
    }

    /// Token ids of `text`. `add_special`: the beginning/end tokens the model asks for;
    /// `parse_special`: control tokens written in the text (`<|im_start|>`) become those tokens.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut ids = Vec::new();
        if add_special && self.add_bos {
            ids.extend(self.bos);
        }
        let mut first_fragment = true;
        let mut after_special = true;
        for fragment in self.partition(text, parse_special) {
            match fragment {
                Fragment::Special(id) => {
                    ids.push(id);
                    after_special = true;
                }
                Fragment::Text(raw) => {
                    match self.kind {
                        Kind::Bpe(pre) => self.encode_bpe(raw, pre, &mut ids),
                        Kind::Spm => {
                            let prefix = self.add_space_prefix && after_special;
                            self.encode_spm(raw, prefix, &mut ids);
                        }
                    }
                    after_special = false;
                }
            }
            first_fragment = false;
        }
        let _ = first_fragment;
        if add_special && self.add_eos {
            ids.extend(self.eos);
        }
        ids
    }

    /// Splits text at special tokens, longest first, anywhere in the text.
    fn partition<'a>(&self, text: &'a str, parse_special: bool) -> Vec<Fragment<'a>> {
        let mut fragments = vec![Fragment::Text(text)];
        for (special, id, control_like) in &self.specials {
            if *control_like && !parse_special {
                continue;
            }
            let mut next = Vec::with_capacity(fragments.len());
            for fragment in fragments {
                let Fragment::Text(raw) = fragment else {
                    next.push(fragment);
                    continue;
                };
                let mut rest = raw;
                while let Some(at) = rest.find(special.as_str()) {
                    if at > 0 {
                        next.push(Fragment::Text(&rest[..at]));
                    }
                    next.push(Fragment::Special(*id));
                    rest = &rest[at + special.len()..];
                }
                if !rest.is_empty() {
                    next.push(Fragment::Text(rest));
                }
            }
            fragments = next;
        }
        fragments
    }

    fn encode_bpe(&self, text: &str, pre: PreTokenizer, ids: &mut Vec<u32>) {
        let merges = self.merges.as_ref().expect("BPE vocabularies have merges");
        for piece in pre.split(text) {
            let encoded: String = piece.bytes().map(|b| self.byte_encoder[b as usize]).collect();
            for symbol in merges.apply(&encoded) {
                match self.vocab.get(&symbol) {
                    Some(&id) => ids.push(id),
                    None => {
                        // Only possible with incomplete vocabularies: fall back to single bytes.
                        for c in symbol.chars() {
                            if let Some(&id) = self.vocab.get(&c.to_string()) {
                                ids.push(id);
                            }
                        }
                    }
                }
            }
        }
    }

    fn encode_spm(&self, text: &str, space_prefix: bool, ids: &mut Vec<u32>) {
        let mut escaped = String::with_capacity(text.len() + 3);
        if space_prefix {
            escaped.push('▁');
        }
        for c in text.chars() {
            escaped.push(if c == ' ' { '▁' } else { c });
        }
        for symbol in spm::merge(&escaped, &self.vocab, &self.scores) {
            match self.vocab.get(&symbol) {
                Some(&id) => ids.push(id),
                None => {
                    for b in symbol.bytes() {
                        if let Some(id) =
                            self.byte_tokens[b as usize].or_else(|| self.vocab.get(&(b as char).to_string()).copied())
                        {
                            ids.push(id);
                        }
                    }
                }
            }
        }
    }

    /// The bytes a token stands for. Control tokens give nothing unless `special`.
    pub fn piece_bytes(&self, id: u32, special: bool) -> Vec<u8> {
        let Some(text) = self.tokens.get(id as usize) else { return Vec::new() };
        let attrs = self.attrs[id as usize];
        if attrs.control_like() {
            if special {
                text.as_bytes().to_vec()
            } else {
                Vec::new()
            }
        } else if attrs.has(Attrs::USER_DEFINED) {
            text.as_bytes().to_vec()
        } else if attrs.has(Attrs::BYTE) {
            parse_byte_token(text).map(|b| vec![b]).unwrap_or_default()
        } else {
            match self.kind {
                Kind::Bpe(_) => text.chars().filter_map(|c| self.byte_decoder.get(&c).copied()).collect(),
                Kind::Spm => text.replace('▁', " ").into_bytes(),
            }
        }
    }

    /// Text of a token sequence (invalid UTF-8 replaced), control tokens included when `special`.
    pub fn decode(&self, ids: &[u32], special: bool) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.piece_bytes(id, special)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }
}

enum Fragment<'a> {
    Text(&'a str),
    Special(u32),
}

fn parse_byte_token(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    u8::from_str_radix(hex, 16).ok()
}

/// Turns a stream of tokens into text that is always valid UTF-8: bytes of a character split across
/// tokens (a Cyrillic letter, an emoji) are held back until the character is complete.
#[derive(Default)]
pub struct StreamDecoder {
    pending: Vec<u8>,
}

impl StreamDecoder {
    pub fn push(&mut self, tokenizer: &Tokenizer, id: u32) -> String {
        self.pending.extend(tokenizer.piece_bytes(id, false));
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) => {
                // An invalid sequence that is not merely incomplete can never become valid.
                if e.error_len().is_some() {
                    let text = String::from_utf8_lossy(&self.pending).into_owned();
                    self.pending.clear();
                    return text;
                }
                e.valid_up_to()
            }
        };
        let text = String::from_utf8(self.pending[..valid].to_vec()).expect("checked valid");
        self.pending.drain(..valid);
        text
    }

    /// Whatever is left at the end (an incomplete character becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}
