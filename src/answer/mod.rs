//! Cited answers: question → standalone query → hybrid retrieval → relevance gate → packing into
//! the context budget → prompt with numbered sources → streamed answer → citations resolved to
//! file, page and passage; the exchange is kept in the chat.

pub mod bench;
pub mod chats;
pub mod citations;
mod compose;
pub mod gate;
pub mod language;
pub mod lead;
pub mod packing;
mod prompt;
pub mod rewrite;
pub mod summarize;
mod translate;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::library::Library;
use crate::llm::sampling::SamplingOptions;
use crate::llm::LocalModel;
use crate::search::SearchMode;
pub use compose::compose;
pub use language::Language;
pub use packing::Source;
pub use prompt::{AnswerIn, PromptStyle};
pub use rewrite::Rewrite;

/// Tokens of sources an answer reads by default (see `AskOptions::source_tokens`). 600 answered as
/// well as 1500 on XQuAD (the answer's paragraph is almost always the best passage) and halves the
/// time to the first word: `scripts/eval-answers --source-tokens 600|1500`, figures in CHANGELOG.
pub const DEFAULT_SOURCE_TOKENS: usize = 600;

#[derive(Debug, Clone)]
pub struct AskOptions {
    /// Continue this chat (its earlier turns inform the question); `None` starts a new one.
    pub chat_id: Option<i64>,
    /// Keep the exchange in the catalog.
    pub persist: bool,
    /// Chunks retrieved before packing.
    pub retrieve_k: usize,
    /// Tokens of sources at most (besides what the model's context allows).
    pub source_tokens: usize,
    pub max_answer_tokens: usize,
    pub rewrite: Rewrite,
    /// Below this cosine similarity of the best passage, nothing counts as relevant and the
    /// answer says so without calling the model. `None`: the gate's line for the embedder and
    /// the languages of question and passage, which weighs the question's words in the passages
    /// too (`gate::line`).
    pub min_similarity: Option<f32>,
    /// Passages further than this below the best similarity are left out. `None`: the
    /// embedder's default.
    pub similarity_margin: Option<f32>,
    pub sampling: SamplingOptions,
    /// How the model is asked to answer; `None`: the style for the model's size (`prompt_style`).
    pub prompt: Option<PromptStyle>,
    /// Which language the answer is written in.
    pub answer_in: AnswerIn,
    /// Answer from these folders and documents only (absolute paths); empty: the whole library.
    pub within: Vec<PathBuf>,
    /// The answer ends where it would write one of these (an API client's `stop`).
    pub stop: Vec<String>,
}

impl Default for AskOptions {
    fn default() -> Self {
        AskOptions {
            chat_id: None,
            persist: true,
            retrieve_k: 24,
            source_tokens: DEFAULT_SOURCE_TOKENS,
            max_answer_tokens: 256,
            rewrite: Rewrite::Heuristic,
            min_similarity: None,
            similarity_margin: None,
            sampling: SamplingOptions { repeat_penalty: 1.05, ..SamplingOptions::greedy() },
            prompt: None,
            answer_in: AnswerIn::default(),
            within: Vec::new(),
            stop: Vec::new(),
        }
    }
}

/// How far below the best passage's similarity a passage may be and still reach the model. Small
/// models answer from the wrong passage when unrelated ones sit beside the right one, so only
/// passages close to the best (or strong keyword matches) are given.
pub fn default_similarity_margin(embedder: &str) -> f32 {
    match embedder {
        "multilingual-e5-small" => 0.06,
        _ => 0.20,
    }
}

/// Keeps the passages close enough to the best one, by meaning or by keywords.
/// A follow-up is most likely about the documents the previous answer cited ("and how long do
/// they live?"): their passages get the fusion score of a third retriever that ranks them 10th,
/// enough to win a tie against a passage that only shares the question's generic words, too
/// little to lift one that does not match the question at all.
fn favour_files(ranked: &mut [crate::search::Ranked], chunks: &[crate::store::catalog::ChunkRow], files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    let bonus = 1.0 / (crate::search::RRF_K + 10.0);
    for r in ranked.iter_mut() {
        if chunks.iter().any(|c| c.id == r.chunk_id && files.contains(&c.path)) {
            r.score += bonus;
        }
    }
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
}

fn close_to_best(ranked: &[crate::search::Ranked], margin: f32) -> Vec<crate::search::Ranked> {
    let best_dense = ranked.iter().filter_map(|r| r.dense_score).fold(f32::NEG_INFINITY, f32::max);
    let best_bm25 = ranked.iter().filter_map(|r| r.bm25_score).fold(0f32, f32::max);
    ranked
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            *i == 0
                || r.dense_score.is_some_and(|d| d >= best_dense - margin)
                || r.bm25_score.is_some_and(|b| best_bm25 > 0.0 && b >= 0.6 * best_bm25)
        })
        .map(|(_, r)| *r)
        .collect()
}

/// A citation the answer uses, resolved to its source.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Citation {
    pub number: usize,
    pub path: PathBuf,
    pub page: Option<u32>,
    pub snippet: String,
    pub score: f32,
    pub chunk_ids: Vec<i64>,
}

/// What a chat keeps of an answer beside its text (`StoredMessage::details`). Chats saved by
/// earlier versions lack the later fields, which read as empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct MessageDetails {
    pub query: String,
    pub citations: Vec<Citation>,
    /// A refusal's closest passages.
    pub closest: Vec<Citation>,
    pub refused: bool,
    pub dropped_citations: usize,
    pub stopped: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Answer {
    pub text: String,
    /// The fact the answer begins with, without markers (`lead::lead`); empty for a refusal.
    pub lead: String,
    pub citations: Vec<Citation>,
    /// When the model found no answer in passages the gate judged relevant: the best of them, for
    /// the reader to check instead of a bare refusal.
    pub closest: Vec<Citation>,
    /// Markers naming no provided source, removed from the text.
    pub dropped_citations: usize,
    /// Sentences without a marker that were attributed to the source their words come from.
    pub inferred_citations: usize,
    /// The answer says the documents do not hold it (said by the model, or without calling it).
    pub refused: bool,
    /// Nothing relevant was retrieved, so the model was not asked.
    pub nothing_relevant: bool,
    /// The user stopped the answer: the text is what was written until then.
    pub stopped: bool,
    pub query: String,
    /// The question's language (the answer's too, unless every source is in another one:
    /// `prompt::answer_language`).
    pub language: Language,
    pub sources: Vec<Source>,
    pub chat_id: Option<i64>,
    pub retrieve_seconds: f64,
    pub first_token_seconds: f64,
    pub total_seconds: f64,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// The answer as the model first wrote it, in its sources' language, when `text` is its
    /// translation into the question's (`AnswerIn::Translate`).
    pub translated_from: Option<String>,
}

/// What an answer reports while it is being made.
#[derive(Debug, Clone)]
pub enum AskEvent {
    Query(String),
    Sources(Vec<Source>),
    Text(String),
}

pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A one-line snippet of a source for citations.
fn snippet(text: &str) -> String {
    truncate_chars(&text.split_whitespace().collect::<Vec<_>>().join(" "), 240)
}

impl Answer {
    /// An answer not yet made, to the question in `language` (retrieved with `query`).
    pub fn new(query: String, language: Language, chat_id: Option<i64>) -> Answer {
        Answer {
            text: String::new(),
            lead: String::new(),
            citations: Vec::new(),
            closest: Vec::new(),
            dropped_citations: 0,
            inferred_citations: 0,
            refused: false,
            nothing_relevant: false,
            stopped: false,
            query,
            language,
            sources: Vec::new(),
            chat_id,
            retrieve_seconds: 0.0,
            first_token_seconds: 0.0,
            total_seconds: 0.0,
            prompt_tokens: 0,
            generated_tokens: 0,
            translated_from: None,
        }
    }
}

/// The prompt style for this answer: the one asked for, or the one for the model.
pub fn prompt_style(model: &LocalModel, options: &AskOptions) -> PromptStyle {
    options.prompt.unwrap_or_else(|| {
        let bytes = std::fs::metadata(&model.path).map(|m| m.len()).unwrap_or(0);
        PromptStyle::for_model_file(bytes)
    })
}

/// Runs the opening every answer begins with (instructions, and the worked example where the
/// model is shown one) in both languages ahead of the first question, and keeps its keys and
/// values: a face calls it once a model is loaded, so the first question, and any after a
/// translation pass or a rewrite, processes only its sources and itself. Returns the tokens kept.
pub fn prepare(model: &mut LocalModel, options: &AskOptions) -> Result<usize> {
    let style = prompt_style(model, options);
    let mut total = 0;
    // English last: its opening stays in the live cache too.
    for language in [Language::Russian, Language::English] {
        total += model.prefill_opening(&prompt::messages(&[], 0, &[], "", language, style))?;
    }
    Ok(total)
}

/// A source as a citation of it.
fn citation(s: &Source) -> Citation {
    Citation {
        number: s.number,
        path: s.path.clone(),
        page: s.page,
        snippet: snippet(&s.text),
        score: s.score,
        chunk_ids: s.chunk_ids.clone(),
    }
}

impl Library {
    /// Answers `question` from the library with `model`, streaming through `events`.
    pub fn ask(
        &self,
        model: &mut LocalModel,
        question: &str,
        options: &AskOptions,
        cancel: &AtomicBool,
        events: &mut dyn FnMut(AskEvent),
    ) -> Result<Answer> {
        let started = Instant::now();
        let question = chats::checked_question(question)?;
        let language = Language::detect(question);
        // The chat's messages, read once: its earlier turns and the files its last answer cited.
        let (history, cited) = match options.chat_id {
            Some(id) => {
                let messages = self.chat_messages(id)?;
                (chats::question_answer_pairs(&messages), chats::files_cited_last(&messages))
            }
            None => (Vec::new(), Vec::new()),
        };
        let query = rewrite::standalone_query(Some(model), &history, question, options.rewrite)?;
        events(AskEvent::Query(query.clone()));

        let scope = if options.within.is_empty() { None } else { Some(self.scope(&options.within)?) };
        let mut ranked = self.retrieve_in(&query, SearchMode::Hybrid, options.retrieve_k, scope.as_ref())?;
        if !cited.is_empty() {
            let chunks = self.catalog().chunks(&ranked.iter().map(|r| r.chunk_id).collect::<Vec<_>>())?;
            favour_files(&mut ranked, &chunks, &cited);
        }
        let gate = gate::judge(self, &query, &ranked, language, options.min_similarity)?;
        let mut answer = Answer::new(query, language, options.chat_id);
        answer.nothing_relevant = !gate.relevant();
        if answer.nothing_relevant {
            answer.text = language.not_found().to_string();
            answer.refused = true;
            answer.retrieve_seconds = started.elapsed().as_secs_f64();
            events(AskEvent::Sources(Vec::new()));
            events(AskEvent::Text(answer.text.clone()));
        } else {
            let sources = self.pack_sources(model, &ranked, &history, question, language, options)?;
            answer.retrieve_seconds = started.elapsed().as_secs_f64();
            events(AskEvent::Sources(sources.clone()));
            compose(model, &history, sources, question, options, cancel, events, &mut answer)?;
            answer.first_token_seconds += answer.retrieve_seconds;
        }
        answer.total_seconds = started.elapsed().as_secs_f64();
        if options.persist {
            self.keep_exchange(question, &mut answer)?;
        }
        Ok(answer)
    }

    /// The passages that reach the model: those close to the best, packed into what the context
    /// leaves after the answer, the instructions, the earlier turns and the question.
    fn pack_sources(
        &self,
        model: &LocalModel,
        ranked: &[crate::search::Ranked],
        history: &[(String, String)],
        question: &str,
        language: Language,
        options: &AskOptions,
    ) -> Result<Vec<Source>> {
        let frame = prompt::messages(history, 2, &[], question, language, prompt_style(model, options));
        let frame_tokens = model.encode_prompt(&model.render(&frame)?).len();
        // A margin for the template's own tokens.
        let room = model.context_length().saturating_sub(options.max_answer_tokens + frame_tokens + 64);
        let budget = room.min(options.source_tokens);
        let pack_options = packing::PackOptions { budget_tokens: budget, expand_top: 2, max_sources: 8 };
        let margin = options.similarity_margin.unwrap_or_else(|| default_similarity_margin(self.embedder().id()));
        let close = close_to_best(ranked, margin);
        packing::pack(self.catalog(), &close, &|t| model.count_tokens(t), pack_options)
    }
}
