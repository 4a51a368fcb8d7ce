//! A loaded model with its tokenizer, chat template and decoder, and the generation loop:
//! streaming valid UTF-8, stopping at end-of-generation tokens and stop strings, cancellable
//! within one token, and reusing the KV cache for the prompt prefix a new request shares with
//! the tokens already processed (earlier chat turns) or with a kept prefix (`prefix_cache`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::decoder::{open_decoder, Decoder, DeviceChoice};
use super::gguf::GgufFile;
use super::prefix_cache::{common_prefix, PrefixCache, MIN_PREFIX_TOKENS};
use super::sampling::{sample, Rng, SamplingOptions};
use super::template::{ChatTemplate, Message};
use super::tokenizer::{StreamDecoder, Tokenizer};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: DeviceChoice,
    /// Tokens of context to allocate (capped at the model's own).
    pub context: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { device: DeviceChoice::Auto, context: 4096 }
    }
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub max_tokens: usize,
    pub sampling: SamplingOptions,
    pub stop: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { max_tokens: 512, sampling: SamplingOptions::default(), stop: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndOfText,
    StopString,
    MaxTokens,
    ContextFull,
    Cancelled,
    /// The caller had what it needed (`chat_until`).
    Halted,
}

/// What a `chat_until` caller says after each piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Halt,
}

#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    pub text: String,
    pub stop: StopReason,
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were already cached from earlier requests.
    pub reused_tokens: usize,
    pub generated_tokens: usize,
    pub prompt_seconds: f64,
    pub first_token_seconds: f64,
    pub generate_seconds: f64,
}

impl Generation {
    pub fn prompt_tokens_per_second(&self) -> f64 {
        (self.prompt_tokens - self.reused_tokens) as f64 / self.prompt_seconds.max(1e-9)
    }
    pub fn generate_tokens_per_second(&self) -> f64 {
        self.generated_tokens.saturating_sub(1) as f64 / self.generate_seconds.max(1e-9)
    }
}

pub struct LocalModel {
    pub name: String,
    pub path: PathBuf,
    pub tokenizer: Tokenizer,
    template: ChatTemplate,
    decoder: Box<dyn Decoder>,
    /// Tokens whose keys and values the decoder holds, in order.
    history: Vec<u32>,
    /// Keys and values of the fixed openings of recent conversations (instructions, examples).
    prefixes: PrefixCache,
}

/// A model id of the catalog (`qwen2.5-0.5b-instruct`) or a path to any GGUF file.
pub fn resolve_model(id_or_path: &str) -> Result<PathBuf> {
    let path = Path::new(id_or_path);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let candidate = crate::models::decoder_file(id_or_path);
    if candidate.is_file() {
        return Ok(candidate);
    }
    // Not a file: named as an id, so what is missing is the model directory's file.
    Err(Error::ModelMissing { model: id_or_path.to_string(), path: candidate })
}

impl LocalModel {
    /// Loads a GGUF decoder. A damaged file is an error: the header and every hyperparameter are
    /// checked first, and a panic of a reader that slipped past the checks (candle's model code
    /// on the GPU path, a tokenizer corner) is caught and reported as damage, so the caller's
    /// thread and locks survive.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self> {
        crate::llm::gguf::without_panics(path, || Self::load_checked(path, options))
    }

    fn load_checked(path: &Path, options: &LoadOptions) -> Result<Self> {
        let file = GgufFile::open(path)?;
        let tokenizer = Tokenizer::from_gguf(&file)?;
        let template = template_for(&file, &tokenizer)?;
        let decoder = open_decoder(&file, options.device, options.context)?;
        let name = file
            .meta_str("general.name")
            .map(str::to_string)
            .unwrap_or_else(|| path.file_stem().unwrap_or_default().to_string_lossy().into_owned());
        Ok(LocalModel {
            name,
            path: path.to_path_buf(),
            tokenizer,
            template,
            decoder,
            history: Vec::new(),
            prefixes: PrefixCache::default(),
        })
    }

    pub fn device_name(&self) -> String {
        self.decoder.device_name()
    }

    pub fn context_length(&self) -> usize {
        self.decoder.max_context()
    }

    /// The prompt text of a conversation, ready for the assistant's turn.
    pub fn render(&self, messages: &[Message]) -> Result<String> {
        self.template.render(messages, true)
    }

    /// Token ids of a rendered prompt. Templates that write the beginning-of-text token themselves
    /// get no second one.
    pub fn encode_prompt(&self, text: &str) -> Vec<u32> {
        let bos_in_text = self
            .tokenizer
            .bos
            .and_then(|b| self.tokenizer.token_text(b))
            .is_some_and(|b| !b.is_empty() && text.starts_with(b));
        self.tokenizer.encode(text, !bos_in_text, true)
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer.encode(text, false, false).len()
    }

    /// Answers a conversation, streaming text through `on_text`.
    pub fn chat(
        &mut self,
        messages: &[Message],
        options: &GenerateOptions,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        self.chat_until(messages, options, cancel, &mut |text| {
            on_text(text);
            Flow::Continue
        })
    }

    /// `chat`, where `on_text` can end the generation after any piece (`Flow::Halt`).
    pub fn chat_until(
        &mut self,
        messages: &[Message],
        options: &GenerateOptions,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str) -> Flow,
    ) -> Result<Generation> {
        let prompt = self.render(messages)?;
        tracing::debug!(target: "folio::prompt", "{prompt}");
        let ids = self.encode_prompt(&prompt);
        let opening = self.opening_tokens(messages, &prompt, &ids);
        let mut options = options.clone();
        options.stop.extend(self.template.stops.iter().cloned());
        self.run(&ids, opening, &options, cancel, on_text)
    }

    /// How many leading tokens of a conversation's prompt (`text`, `ids`) are its opening: every
    /// message before the last one, the part the next request of the same kind shares (the
    /// instructions and worked examples of an answer, earlier turns of a chat). 0 when the
    /// opening does not end on a token boundary of the whole prompt.
    fn opening_tokens(&self, messages: &[Message], text: &str, ids: &[u32]) -> usize {
        let Some((_, before)) = messages.split_last().filter(|(_, before)| !before.is_empty()) else { return 0 };
        let Ok(opening) = self.template.render(before, false) else { return 0 };
        if !text.starts_with(&opening) {
            return 0;
        }
        let opening_ids = self.encode_prompt(&opening);
        if ids.starts_with(&opening_ids) {
            opening_ids.len()
        } else {
            0
        }
    }

    /// Runs the opening of a conversation (every message but the last) ahead of time and keeps
    /// its keys and values, so the first request that begins with it processes only the rest.
    /// Returns the opening's length in tokens (0: nothing to keep, or the decoder cannot keep it).
    pub fn prefill_opening(&mut self, messages: &[Message]) -> Result<usize> {
        let prompt = self.render(messages)?;
        let ids = self.encode_prompt(&prompt);
        let opening = self.opening_tokens(messages, &prompt, &ids);
        if opening < MIN_PREFIX_TOKENS || opening >= ids.len() {
            return Ok(0);
        }
        if self.prefixes.touch(&ids[..opening]) {
            return Ok(opening);
        }
        // At least the opening's last token runs (`reuse_cached` leaves one).
        let kept = self.reuse_cached(&ids[..opening]);
        self.forward_or_reset(&ids[kept..opening])?;
        Ok(self.keep_opening(&ids, opening))
    }

    /// Points the decoder's cache at the longest prefix of `prompt` it can have without running
    /// anything: what the live cache holds, or a kept opening if that shares more. At least one
    /// token is left to run, so logits come out. Returns the cached length.
    fn reuse_cached(&mut self, prompt: &[u32]) -> usize {
        let limit = prompt.len().saturating_sub(1);
        let live = common_prefix(&self.history, prompt).min(limit);
        if let Some((shared, tokens, snapshot)) = self.prefixes.best(prompt) {
            let shared = shared.min(limit);
            if shared > live && self.decoder.restore(snapshot) == tokens.len() {
                self.history.clear();
                self.history.extend_from_slice(tokens);
                let kept = self.decoder.truncate(shared);
                self.history.truncate(kept);
                return kept;
            }
        }
        let kept = self.decoder.truncate(live);
        self.history.truncate(kept);
        kept
    }

    /// Keeps the keys and values of `prompt[..opening]`, which the decoder has just processed.
    fn keep_opening(&mut self, prompt: &[u32], opening: usize) -> usize {
        if opening < MIN_PREFIX_TOKENS || self.history.len() < opening || self.history[..opening] != prompt[..opening] {
            return 0;
        }
        if self.prefixes.touch(&prompt[..opening]) {
            return opening;
        }
        match self.decoder.snapshot(opening) {
            Some(kv) if kv.len() == opening => {
                self.prefixes.insert(prompt[..opening].to_vec(), kv);
                opening
            }
            _ => 0,
        }
    }

    /// Continues `prompt` tokens.
    pub fn generate(
        &mut self,
        prompt: &[u32],
        options: &GenerateOptions,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        self.run(prompt, 0, options, cancel, &mut |text| {
            on_text(text);
            Flow::Continue
        })
    }

    /// Generates after `prompt`, whose first `opening` tokens are kept aside for later requests.
    fn run(
        &mut self,
        prompt: &[u32],
        opening: usize,
        options: &GenerateOptions,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str) -> Flow,
    ) -> Result<Generation> {
        let context = self.decoder.max_context();
        if prompt.is_empty() {
            return Err(Error::InvalidInput("the prompt is empty".into()));
        }
        if prompt.len() >= context {
            return Err(Error::InvalidInput(format!(
                "the prompt has {} tokens and the context holds {context}; shorten it or load the model with a larger context",
                prompt.len()
            )));
        }
        let started = Instant::now();
        let opening = if (MIN_PREFIX_TOKENS..prompt.len()).contains(&opening) { opening } else { 0 };
        let kept = self.reuse_cached(prompt);
        let mut logits = if kept < opening {
            // The opening first, so its keys and values can be kept before the rest follows.
            self.forward_or_reset(&prompt[kept..opening])?;
            self.keep_opening(prompt, opening);
            self.forward_or_reset(&prompt[opening..])?
        } else {
            let logits = self.forward_or_reset(&prompt[kept..])?;
            self.keep_opening(prompt, opening);
            logits
        };
        let prompt_seconds = started.elapsed().as_secs_f64();

        let mut rng = Rng::new(options.sampling.seed);
        let mut stream = StreamDecoder::default();
        let mut stops = StopMatcher::new(&options.stop);
        let mut text = String::new();
        let mut generated: Vec<u32> = Vec::new();
        let mut first_token_seconds = 0.0;
        let gen_started = Instant::now();
        let stop = loop {
            if cancel.load(Ordering::Relaxed) {
                break StopReason::Cancelled;
            }
            let token = sample(&mut logits, &options.sampling, &generated, &mut rng);
            if generated.is_empty() {
                first_token_seconds = started.elapsed().as_secs_f64();
            }
            generated.push(token);
            if self.tokenizer.is_eog(token) {
                break StopReason::EndOfText;
            }
            let piece = stream.push(&self.tokenizer, token);
            let (emit, hit) = stops.push(&piece);
            if !emit.is_empty() {
                text.push_str(&emit);
                if on_text(&emit) == Flow::Halt {
                    break StopReason::Halted;
                }
            }
            if hit {
                break StopReason::StopString;
            }
            if generated.len() >= options.max_tokens {
                break StopReason::MaxTokens;
            }
            if self.history.len() + 1 >= context {
                break StopReason::ContextFull;
            }
            logits = self.decoder.forward(&[token])?;
            self.history.push(token);
        };
        if !matches!(stop, StopReason::StopString | StopReason::Halted) {
            let rest = stops.finish(&stream.finish());
            if !rest.is_empty() {
                text.push_str(&rest);
                on_text(&rest);
            }
        }
        Ok(Generation {
            text,
            stop,
            prompt_tokens: prompt.len(),
            reused_tokens: kept,
            generated_tokens: generated.len(),
            prompt_seconds,
            first_token_seconds,
            generate_seconds: gen_started.elapsed().as_secs_f64(),
        })
    }

    /// Runs `tokens` after the cached ones and records them; on an error the live cache is
    /// emptied (it may be half-written; the kept openings are copies and stay).
    fn forward_or_reset(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        match self.decoder.forward(tokens) {
            Ok(logits) => {
                self.history.extend_from_slice(tokens);
                Ok(logits)
            }
            Err(e) => {
                self.decoder.truncate(0);
                self.history.clear();
                Err(e)
            }
        }
    }

    /// Runs tokens straight through the decoder after the cached ones (benchmarks, tests).
    pub fn decoder_forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let logits = self.decoder.forward(tokens)?;
        self.history.extend_from_slice(tokens);
        Ok(logits)
    }

    /// Forgets cached tokens and kept openings: the next request processes its whole prompt.
    pub fn reset(&mut self) {
        self.decoder.truncate(0);
        self.history.clear();
        self.prefixes.clear();
    }

    /// Conversation openings whose keys and values are kept.
    pub fn kept_openings(&self) -> usize {
        self.prefixes.len()
    }
}

/// The model's own template, or a built-in one chosen by the special tokens the vocabulary has.
fn template_for(file: &GgufFile, tokenizer: &Tokenizer) -> Result<ChatTemplate> {
    let text = |id: Option<u32>| id.and_then(|i| tokenizer.token_text(i)).unwrap_or("").to_string();
    let (bos, eos) = (text(tokenizer.bos), text(tokenizer.eos));
    if let Some(source) = file.meta_str("tokenizer.chat_template") {
        match ChatTemplate::new(source, &bos, &eos) {
            Ok(t) => return Ok(t),
            Err(e) => tracing::warn!("{}: {e}; using a built-in template", file.path.display()),
        }
    }
    let name = if tokenizer.token_id("<|im_start|>").is_some() {
        "chatml"
    } else if tokenizer.token_id("<|start_header_id|>").is_some() {
        "llama3"
    } else if tokenizer.token_id("<start_of_turn>").is_some() {
        "gemma"
    } else {
        "plain"
    };
    ChatTemplate::builtin(name, &bos, &eos)
}

/// Holds back streamed text that might be the start of a stop string, and finds stop strings.
struct StopMatcher {
    stops: Vec<String>,
    pending: String,
}

impl StopMatcher {
    fn new(stops: &[String]) -> Self {
        StopMatcher { stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(), pending: String::new() }
    }

    /// Returns the text safe to show and whether a stop string was completed.
    fn push(&mut self, piece: &str) -> (String, bool) {
        self.pending.push_str(piece);
        if let Some(at) = self.stops.iter().filter_map(|s| self.pending.find(s.as_str())).min() {
            let emit = self.pending[..at].to_string();
            self.pending.clear();
            return (emit, true);
        }
        // Keep the longest tail that is a prefix of some stop string.
        let mut keep = 0;
        for stop in &self.stops {
            for len in (1..stop.len().min(self.pending.len()) + 1).rev() {
                if self.pending.is_char_boundary(self.pending.len() - len)
                    && stop.starts_with(&self.pending[self.pending.len() - len..])
                {
                    keep = keep.max(len);
                    break;
                }
            }
        }
        let cut = self.pending.len() - keep;
        let emit = self.pending[..cut].to_string();
        self.pending.drain(..cut);
        (emit, false)
    }

    fn finish(&mut self, rest: &str) -> String {
        self.pending.push_str(rest);
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::StopMatcher;

    #[test]
    fn stop_strings_are_held_back_and_cut() {
        let mut m = StopMatcher::new(&["\nUser:".to_string()]);
        assert_eq!(m.push("Hello"), ("Hello".to_string(), false));
        assert_eq!(m.push(" there\nUs"), (" there".to_string(), false));
        assert_eq!(m.push("er: next"), (String::new(), true));
        let mut m = StopMatcher::new(&["STOP".to_string()]);
        assert_eq!(m.push("ST"), (String::new(), false));
        assert_eq!(m.push("ART"), ("START".to_string(), false));
    }
}
