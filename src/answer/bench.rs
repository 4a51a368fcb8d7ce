//! `folio bench first-token`: how long a question waits for the first word of its answer, on the
//! answer's real prompt (instructions, numbered sources packed to a budget, the question), with
//! nothing cached and with the instructions' keys and values kept (`LocalModel`'s prefix cache),
//! after an unrelated request has taken the decoder's live cache in between, as a translation
//! pass or a follow-up rewrite does.

use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::language::Language;
use super::packing::Source;
use super::{prompt, prompt_style, AskOptions};
use crate::error::{Error, Result};
use crate::llm::{GenerateOptions, LocalModel, Message};
use crate::stats::quantile;

#[derive(Debug, Clone, Serialize)]
pub struct FirstTokenBench {
    pub model: String,
    pub device: String,
    pub threads: usize,
    /// Tokens of the whole prompt (median over the repetitions).
    pub prompt_tokens: usize,
    /// Seconds to the first token with nothing cached (medians).
    pub cold_seconds: f64,
    /// Seconds to the first token with the opening kept, after an unrelated request.
    pub kept_seconds: f64,
    /// Prompt tokens the kept opening spared: the instructions (and worked example) every answer
    /// in a language begins with.
    pub reused_tokens: usize,
    /// `1 − kept / cold`.
    pub saved_share: f64,
    pub cold_runs: Vec<f64>,
    pub kept_runs: Vec<f64>,
}

/// Sources numbered from 1, taken from `passages` (from `first` on, wrapping) until their text
/// holds `budget` tokens.
fn sources(model: &LocalModel, passages: &[String], first: usize, budget: usize) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    let mut tokens = 0;
    for (i, text) in passages.iter().cycle().skip(first).take(passages.len() * 8).enumerate() {
        if tokens >= budget {
            break;
        }
        tokens += model.count_tokens(text);
        out.push(Source {
            number: i + 1,
            path: format!("passage-{}.txt", (first + i) % passages.len()).into(),
            page: None,
            start: 0,
            end: text.len(),
            text: text.clone(),
            chunk_ids: vec![],
            score: 1.0,
        });
    }
    out
}

/// Measures the first-token time of `repetitions` English questions over sources of
/// `source_tokens` tokens drawn from `passages`, cold and with the opening kept.
pub fn first_token(
    model: &mut LocalModel,
    passages: &[String],
    source_tokens: usize,
    repetitions: usize,
) -> Result<FirstTokenBench> {
    if passages.is_empty() {
        return Err(Error::InvalidInput("no passages to build sources from".into()));
    }
    let options = AskOptions::default();
    let style = prompt_style(model, &options);
    let one = GenerateOptions { max_tokens: 1, sampling: options.sampling.clone(), stop: vec![] };
    let cancel = AtomicBool::new(false);
    let question = "What do the sources say about how this began, and when?";
    let (mut cold, mut kept, mut lengths, mut reused) = (vec![], vec![], vec![], vec![]);
    // A warm-up run pages the weights in and grows the buffers.
    let warm_up = prompt::messages(&[], 0, &sources(model, passages, 0, 64), question, Language::English, style);
    model.chat(&warm_up, &one, &cancel, &mut |_| {})?;
    for r in 0..repetitions.max(1) {
        let messages = prompt::messages(
            &[],
            0,
            &sources(model, passages, 1 + r * 7, source_tokens),
            question,
            Language::English,
            style,
        );
        model.reset();
        let g = model.chat(&messages, &one, &cancel, &mut |_| {})?;
        cold.push(g.first_token_seconds);
        lengths.push(g.prompt_tokens as f64);

        // The same question again, the opening kept and an unrelated request run in between.
        model.reset();
        super::prepare(model, &options)?;
        let between = [Message::new("user", "Translate into Russian: the colony survives the winter.")];
        model.chat(&between, &one, &cancel, &mut |_| {})?;
        let g = model.chat(&messages, &one, &cancel, &mut |_| {})?;
        kept.push(g.first_token_seconds);
        reused.push(g.reused_tokens as f64);
    }
    let (cold_median, kept_median) = (quantile(&cold, 0.5), quantile(&kept, 0.5));
    Ok(FirstTokenBench {
        model: model.name.clone(),
        device: model.device_name(),
        threads: rayon::current_num_threads(),
        prompt_tokens: quantile(&lengths, 0.5) as usize,
        cold_seconds: cold_median,
        kept_seconds: kept_median,
        reused_tokens: quantile(&reused, 0.5) as usize,
        saved_share: 1.0 - kept_median / cold_median.max(1e-9),
        cold_runs: cold,
        kept_runs: kept,
    })
}
