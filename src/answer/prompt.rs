//! The prompt of a cited answer: instructions, earlier turns, numbered sources, the question.

use super::language::Language;
use super::packing::Source;
use crate::llm::Message;

pub fn system_prompt(language: Language) -> String {
    format!(
        "You answer questions using only the numbered sources, which are passages from the user's own documents. \
         After each statement, cite the sources it comes from by number in square brackets, like [1] or [2][3]. \
         Be brief and exact: answer with the fact asked for, in a sentence. \
         If the sources do not contain the answer, reply only: {} \
         Never use outside knowledge. Answer in {}.",
        language.not_found(),
        language.name()
    )
}

/// How a source is introduced to the model.
pub fn source_header(source: &Source) -> String {
    let name = source.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match source.page {
        Some(page) => format!("[{}] {name}, page {page}:", source.number),
        None => format!("[{}] {name}:", source.number),
    }
}

pub fn user_message(sources: &[Source], question: &str) -> String {
    let mut text = String::from("Sources:\n\n");
    for s in sources {
        text.push_str(&source_header(s));
        text.push('\n');
        text.push_str(&unwrap_lines(s.text.trim()));
        text.push_str("\n\n");
    }
    text.push_str("Question: ");
    text.push_str(question.trim());
    text
}

/// The language the answer is written in: the question's, unless every source is in one other
/// language. A small model asked to answer in Russian from English passages takes the mismatch
/// for "not in the sources" and refuses (XQuAD, Russian questions on English articles: 63% refused
/// though the answer was in the context, 2 of 30 cited); answering in the sources' language it
/// finds the answer (27% refused, 14 of 30 cited), and a reader with documents in that language
/// reads it.
pub fn answer_language(question: Language, sources: &[Source]) -> Language {
    let mut languages = sources.iter().map(|s| Language::detect(&s.text));
    match languages.next() {
        Some(first) if first != question && languages.all(|l| l == first) => first,
        _ => question,
    }
}

/// The conversation for the model: instructions, up to `keep_turns` earlier exchanges (without
/// their sources, to save context), then sources and the question.
pub fn messages(
    history: &[(String, String)],
    keep_turns: usize,
    sources: &[Source],
    question: &str,
    language: Language,
) -> Vec<Message> {
    let mut messages = vec![Message::new("system", system_prompt(answer_language(language, sources)))];
    for (q, a) in history.iter().rev().take(keep_turns).rev() {
        messages.push(Message::new("user", q.clone()));
        messages.push(Message::new("assistant", a.clone()));
    }
    messages.push(Message::new("user", user_message(sources, question)));
    messages
}

/// Joins lines broken by the layout (PDF lines, wrapped text files) into paragraphs: a small
/// model reads a paragraph better than a column of fragments. Blank lines stay.
fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|para| para.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            number: 1,
            path: "a.txt".into(),
            page: None,
            start: 0,
            end: text.len(),
            text: text.into(),
            chunk_ids: vec![1],
            score: 1.0,
        }
    }

    #[test]
    fn answers_in_the_sources_language_only_when_all_of_them_share_another() {
        let en = source("The Panthers defense gave up just 308 points.");
        let ru = source("Защита «Пантер» пропустила всего 308 очков.");
        assert_eq!(answer_language(Language::Russian, &[en.clone(), en.clone()]), Language::English);
        assert_eq!(answer_language(Language::Russian, &[en.clone(), ru.clone()]), Language::Russian);
        assert_eq!(answer_language(Language::English, std::slice::from_ref(&en)), Language::English);
        assert_eq!(answer_language(Language::Russian, &[]), Language::Russian);
        let prompt = &messages(&[], 2, &[en], "Сколько очков пропустила защита?", Language::Russian)[0].content;
        assert!(prompt.contains("Answer in English"), "{prompt}");
    }

    #[test]
    fn wrapped_lines_become_paragraphs() {
        assert_eq!(super::unwrap_lines("a b\nc d\n\n\nnext\npara"), "a b c d\n\nnext para");
    }
}
