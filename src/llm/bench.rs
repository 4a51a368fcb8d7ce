//! `folio bench llm`: prompt processing and generation speed, time to first token, peak memory,
//! and what the KV cache reuse of a chat saves; the figures llama-bench prints, measured the same
//! way (pp: a 512-token prompt on an empty cache; tg: 128 tokens decoded one at a time).

use std::time::Instant;

use serde::Serialize;

use super::sampling::argmax;
use super::session::LocalModel;
use super::template::Message;
use crate::error::Result;
use crate::stats::quantile;

#[derive(Debug, Clone, Serialize)]
pub struct LlmBench {
    pub model: String,
    pub device: String,
    pub threads: usize,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// Medians over the repetitions.
    pub prompt_tokens_per_second: f64,
    pub generate_tokens_per_second: f64,
    pub time_to_first_token_seconds: f64,
    /// Generation right after the prompt, its keys and values in the cache: what an answer over
    /// packed sources runs at (the empty-cache figure above is llama-bench's tg).
    pub generate_after_prompt_tokens_per_second: f64,
    pub prompt_tokens_per_second_runs: Vec<f64>,
    pub generate_tokens_per_second_runs: Vec<f64>,
    /// A second chat turn: seconds to its first token with the first turn's cache kept, and from scratch.
    pub second_turn_first_token_seconds_reused: f64,
    pub second_turn_first_token_seconds_fresh: f64,
    pub second_turn_reused_tokens: usize,
    pub peak_rss_mib: f64,
}

/// A prompt of exactly `n` tokens from varied English text.
pub(crate) fn prompt_tokens(model: &LocalModel, n: usize) -> Vec<u32> {
    let text = include_str!("../../assets/sample/honeybees.txt").repeat(1 + n / 100);
    let mut ids = model.tokenizer.encode(&text, false, false);
    ids.truncate(n);
    ids
}

pub fn run(model: &mut LocalModel, prompt_len: usize, generate_len: usize, repetitions: usize) -> Result<LlmBench> {
    let prompt = prompt_tokens(model, prompt_len);
    // Warm-up: page the weights in, grow buffers.
    model.reset();
    model.decoder_forward(&prompt[..prompt.len().min(16)])?;
    let mut pp = Vec::new();
    let mut tg = Vec::new();
    let mut ttft = Vec::new();
    let mut tg_deep = Vec::new();
    for _ in 0..repetitions.max(1) {
        model.reset();
        let t = Instant::now();
        let logits = model.decoder_forward(&prompt)?;
        let secs = t.elapsed().as_secs_f64();
        pp.push(prompt.len() as f64 / secs);
        let mut token = argmax(&logits);
        ttft.push(secs);
        let t = Instant::now();
        for _ in 0..generate_len {
            token = argmax(&model.decoder_forward(&[token])?);
        }
        tg_deep.push(generate_len as f64 / t.elapsed().as_secs_f64());
        model.reset();
        let mut token = prompt[0];
        let t = Instant::now();
        for _ in 0..generate_len {
            let logits = model.decoder_forward(&[token])?;
            token = argmax(&logits);
        }
        tg.push(generate_len as f64 / t.elapsed().as_secs_f64());
    }

    // KV reuse across chat turns: the second turn shares the first turn's prompt and answer.
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let options = super::session::GenerateOptions {
        max_tokens: 32,
        sampling: super::sampling::SamplingOptions::greedy(),
        stop: vec![],
    };
    let context_text: String = include_str!("../../assets/sample/honeybees.txt").to_string();
    let mut messages = vec![
        Message::new("system", "Answer from the document."),
        Message::new("user", format!("Document:\n{context_text}\n\nHow many workers does a strong colony hold?")),
    ];
    model.reset();
    let first = model.chat(&messages, &options, &cancel, &mut |_| {})?;
    messages.push(Message::new("assistant", first.text.trim()));
    messages.push(Message::new("user", "And how much honey does it need for winter?"));
    let reused = model.chat(&messages, &options, &cancel, &mut |_| {})?;
    model.reset();
    let fresh = model.chat(&messages, &options, &cancel, &mut |_| {})?;

    Ok(LlmBench {
        model: model.name.clone(),
        device: model.device_name(),
        threads: rayon::current_num_threads(),
        prompt_tokens: prompt.len(),
        generated_tokens: generate_len,
        prompt_tokens_per_second: quantile(&pp, 0.5),
        generate_tokens_per_second: quantile(&tg, 0.5),
        time_to_first_token_seconds: quantile(&ttft, 0.5),
        generate_after_prompt_tokens_per_second: quantile(&tg_deep, 0.5),
        prompt_tokens_per_second_runs: pp,
        generate_tokens_per_second_runs: tg,
        second_turn_first_token_seconds_reused: reused.first_token_seconds,
        second_turn_first_token_seconds_fresh: fresh.first_token_seconds,
        second_turn_reused_tokens: reused.reused_tokens,
        peak_rss_mib: crate::machine::peak_rss_mib(),
    })
}
