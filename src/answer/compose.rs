//! Writing an answer from numbered sources: the prompt, the streamed generation, citation markers
//! checked and resolved, unmarked sentences attributed, the lead taken, and a refusal replaced by
//! the app's own sentence with the closest passages beside it. `Library::ask` calls it after
//! retrieval; the evaluation calls it with the gold passage to measure the model alone.

use std::sync::atomic::AtomicBool;

use super::prompt::AnswerIn;
use super::{citation, citations, language, lead, prompt, translate, Answer, AskEvent, AskOptions, Source};
use crate::error::Result;
use crate::llm::session::{Flow, StopReason};
use crate::llm::{GenerateOptions, LocalModel};

/// Passages shown as the closest ones when the model finds no answer in them.
const CLOSEST: usize = 3;

/// Answers `question` from `sources` with `model`, filling `answer` (whose language is the
/// question's): text, lead, citations, refusal, timings of the generation.
#[allow(clippy::too_many_arguments)]
pub fn compose(
    model: &mut LocalModel,
    history: &[(String, String)],
    sources: Vec<Source>,
    question: &str,
    options: &AskOptions,
    cancel: &AtomicBool,
    events: &mut dyn FnMut(AskEvent),
    answer: &mut Answer,
) -> Result<()> {
    let started = std::time::Instant::now();
    let in_sources = prompt::answer_language(answer.language, &sources);
    let language = match options.answer_in {
        AnswerIn::Sources | AnswerIn::Translate => in_sources,
        AnswerIn::Auto if in_sources == language::Language::English => in_sources,
        AnswerIn::Auto | AnswerIn::Question => answer.language,
    };
    // Written in another language than the question's, the answer is translated before the reader
    // sees it: the first pass streams nothing.
    let translating = matches!(options.answer_in, AnswerIn::Translate | AnswerIn::Auto);
    let translate_to = (translating && language != answer.language).then_some(answer.language);
    let stream = translate_to.is_none();
    let style = super::prompt_style(model, options);
    let messages = prompt::messages(history, 2, &sources, question, language, style);
    let generate = GenerateOptions {
        max_tokens: options.max_answer_tokens,
        sampling: options.sampling.clone(),
        stop: options.stop.clone(),
    };
    // The first sentence is held back until it is whole: if it is a refusal, generation stops
    // there and the reader never sees the model's wording of it.
    let mut opening = Opening::default();
    let generation = model.chat_until(&messages, &generate, cancel, &mut |piece| match opening.push(piece) {
        Held::Waiting => Flow::Continue,
        Held::Refusal => Flow::Halt,
        Held::Release(text) => {
            if stream {
                events(AskEvent::Text(text));
            }
            Flow::Continue
        }
    })?;
    answer.stopped = generation.stop == StopReason::Cancelled;
    if !opening.refused && !opening.released && !generation.text.is_empty() {
        // Ended (or was stopped) within its first sentence: that is the whole answer.
        if !answer.stopped && language::is_refusal(&generation.text) {
            opening.refused = true;
        } else if stream {
            events(AskEvent::Text(generation.text.clone()));
        }
    }
    answer.first_token_seconds = generation.first_token_seconds;
    answer.prompt_tokens = generation.prompt_tokens;
    answer.generated_tokens = generation.generated_tokens;

    let (_, marked, dropped) = citations::extract(generation.text.trim(), sources.len());
    answer.dropped_citations = dropped;
    let example_copied = style.has_example() && prompt::copies_example(&marked, &sources);
    if opening.refused || (!answer.stopped && (example_copied || language::is_refusal(&marked))) {
        // The model's own wording of a refusal is often broken (and in the sources' language);
        // the reader gets the app's sentence in the question's language, and the passages that
        // came closest, to judge for themselves.
        answer.refused = true;
        answer.text = answer.language.not_found().to_string();
        answer.closest = sources.iter().take(CLOSEST).map(citation).collect();
        if opening.refused || !stream {
            events(AskEvent::Text(answer.text.clone()));
        }
    } else {
        // Sentences the model left without a marker get the source their words come from.
        let texts: Vec<&str> = sources.iter().map(|s| s.text.as_str()).collect();
        let (marked, inferred) = citations::attribute(&marked, &texts);
        let (cited, text, _) = citations::extract(&marked, sources.len());
        answer.inferred_citations = inferred;
        answer.citations = cited.iter().filter_map(|n| sources.get(n - 1)).map(citation).collect();
        answer.lead = lead::lead(&text);
        answer.text = text;
        if let Some(to) = translate_to.filter(|_| !answer.stopped) {
            translate_answer(model, answer, to, sources.len(), started, cancel, events)?;
        }
    }
    answer.sources = sources;
    Ok(())
}

/// Replaces the answer's text with its translation into `to`, streamed; when the model gives no
/// usable translation the reader gets the original (a number, a name, or a failed pass).
fn translate_answer(
    model: &mut LocalModel,
    answer: &mut Answer,
    to: language::Language,
    sources: usize,
    started: std::time::Instant,
    cancel: &AtomicBool,
    events: &mut dyn FnMut(AskEvent),
) -> Result<()> {
    let first_pass = started.elapsed().as_secs_f64();
    match translate::translate(model, &answer.text, to, cancel, &mut |piece| events(AskEvent::Text(piece.to_string())))?
    {
        Some(translation) => {
            answer.translated_from = Some(answer.text.clone());
            let (_, text, _) = citations::extract(&translation.text, sources);
            answer.lead = lead::lead(&text);
            answer.text = text;
            answer.first_token_seconds = first_pass + translation.first_token_seconds;
            answer.generated_tokens += translation.generated_tokens;
        }
        None => {
            answer.first_token_seconds = started.elapsed().as_secs_f64();
            events(AskEvent::Text(answer.text.clone()));
        }
    }
    Ok(())
}

/// The answer's first sentence, held back while it streams.
#[derive(Default)]
struct Opening {
    text: String,
    /// The first sentence was whole and not a refusal: everything since streams through.
    released: bool,
    refused: bool,
}

enum Held {
    Waiting,
    Refusal,
    Release(String),
}

/// Past this many characters an opening is no refusal, whatever follows.
const OPENING_MAX: usize = 240;

impl Opening {
    fn push(&mut self, piece: &str) -> Held {
        if self.released {
            return Held::Release(piece.to_string());
        }
        if self.refused {
            return Held::Refusal;
        }
        self.text.push_str(piece);
        if !first_sentence_done(&self.text) && self.text.chars().count() < OPENING_MAX {
            return Held::Waiting;
        }
        if language::is_refusal(&self.text) {
            self.refused = true;
            Held::Refusal
        } else {
            self.released = true;
            Held::Release(std::mem::take(&mut self.text))
        }
    }
}

/// Whether `text` holds a whole first sentence: a line break, a citation marker closed, or a stop
/// followed by a space.
fn first_sentence_done(text: &str) -> bool {
    text.contains(']') || language::first_sentence(text).len() < text.trim_start().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(pieces: &[&str]) -> (Vec<String>, bool) {
        let mut opening = Opening::default();
        let mut shown = Vec::new();
        let mut refused = false;
        for p in pieces {
            match opening.push(p) {
                Held::Waiting => {}
                Held::Refusal => refused = true,
                Held::Release(t) => shown.push(t),
            }
        }
        (shown, refused)
    }

    #[test]
    fn an_answer_streams_once_its_first_sentence_is_whole() {
        let (shown, refused) = stream(&["About", " 209", ",000 m³/s", " [1]", ". That", " is", " more."]);
        assert!(!refused);
        assert_eq!(shown, ["About 209,000 m³/s [1]", ". That", " is", " more."]);
    }

    #[test]
    fn a_refusal_is_held_back_and_stops() {
        let (shown, refused) = stream(&["Ваших", " документах", " ответа", " нет", ".", " Но", " вот"]);
        assert!(refused);
        assert!(shown.is_empty(), "{shown:?}");
    }
}
