//! The second pass of an answer written in its sources' language: the short answer translated
//! into the question's. A small model asked to answer a Russian question from English passages
//! in Russian often takes the mismatch for "not in the sources"; answering in English finds the
//! fact, and translating a few words is a task it does well.

use std::sync::atomic::AtomicBool;

use super::citations;
use super::language::Language;
use crate::error::Result;
use crate::llm::sampling::SamplingOptions;
use crate::llm::{GenerateOptions, LocalModel, Message};

/// What the translation pass produced.
pub struct Translation {
    pub text: String,
    /// Seconds from the start of the pass to its first piece of text.
    pub first_token_seconds: f64,
    pub generated_tokens: usize,
}

fn instruction(to: Language) -> &'static str {
    // In the target language: a small model follows an instruction in the language it is to write.
    match to {
        Language::Russian => {
            "Переведи текст пользователя на русский язык. Пометки вида [1] оставь без изменений на своих местах. \
             Ответь только переводом, без пояснений."
        }
        Language::English => {
            "Translate the user's text into English. Leave markers like [1] unchanged where they are. \
             Reply with the translation only, no explanations."
        }
    }
}

/// One worked translation into `to`. Without it qwen2.5-0.5b mostly echoed the English sentence
/// ("Tesla lived most of his life in a series of New York hotels."); with it, it translates
/// ("Тесла проживал … в ряде отелей New York [1].") and keeps the marker.
fn example(to: Language) -> [&'static str; 2] {
    match to {
        Language::Russian => {
            ["The bridge over the river was built in 1885 [2].", "Мост через реку был построен в 1885 году [2]."]
        }
        Language::English => {
            ["Мост через реку был построен в 1885 году [2].", "The bridge over the river was built in 1885 [2]."]
        }
    }
}

/// Translates `text` (an answer with citation markers) into `to`, streaming the translation
/// through `on_text`. `None` when the model's output is not a usable translation (empty, or not
/// in `to`): the caller keeps the original.
pub fn translate(
    model: &mut LocalModel,
    text: &str,
    to: Language,
    cancel: &AtomicBool,
    on_text: &mut dyn FnMut(&str),
) -> Result<Option<Translation>> {
    // A number or a date with its markers reads the same in every language.
    let words = citations::extract(text, usize::MAX).1;
    if !words.chars().any(char::is_alphabetic) {
        return Ok(None);
    }
    let [shown, translated] = example(to);
    let messages = [
        Message::new("system", instruction(to)),
        Message::new("user", shown),
        Message::new("assistant", translated),
        Message::new("user", text.trim()),
    ];
    // Russian takes about twice the tokens of English for the same words.
    let max_tokens = model.count_tokens(text) * 3 + 16;
    let options = GenerateOptions { max_tokens, sampling: SamplingOptions::greedy(), stop: vec![] };
    let generation = model.chat(&messages, &options, cancel, on_text)?;
    let translated = keep_markers(text, generation.text.trim());
    if translated.trim().is_empty() || Language::detect(&translated) != to {
        return Ok(None);
    }
    Ok(Some(Translation {
        text: translated,
        first_token_seconds: generation.first_token_seconds,
        generated_tokens: generation.generated_tokens,
    }))
}

/// The translation with every citation marker of the original: a marker the model dropped is put
/// back at the end, so the answer still cites what it cited before.
fn keep_markers(original: &str, translated: &str) -> String {
    let wanted = citations::extract(original, usize::MAX).0;
    let have = citations::extract(translated, usize::MAX).0;
    let missing: String = wanted.iter().filter(|n| !have.contains(n)).map(|n| format!("[{n}]")).collect();
    if missing.is_empty() {
        translated.to_string()
    } else {
        format!("{translated} {missing}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_the_translation_dropped_are_put_back() {
        assert_eq!(keep_markers("Paris [1][2].", "Париж [1]."), "Париж [1]. [2]");
        assert_eq!(keep_markers("Paris [1].", "Париж [1]."), "Париж [1].");
        assert_eq!(keep_markers("Paris.", "Париж."), "Париж.");
    }

    #[test]
    fn keep_markers_does_not_invent_citations() {
        assert_eq!(keep_markers("1885 [3].", "1885 [3]."), "1885 [3].");
    }
}
