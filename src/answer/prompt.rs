//! The prompt of a cited answer: instructions, earlier turns, numbered sources, the question.

use super::language::Language;
use super::packing::Source;
use crate::llm::Message;

/// How the model is asked to answer. `folio eval qa --prompt` measures them against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptStyle {
    /// The fact in a sentence (the first design).
    Sentence,
    /// The fact first in a few words, then at most one sentence of support.
    Short,
    /// `Short`, with one worked exchange in the answer's language before the question.
    ShortExample,
    /// `ShortExample`, with a second exchange that shows a refusal.
    ShortExamples,
}

/// Model files up to this size get `Short`, larger ones `ShortExample`.
const SMALL_MODEL_BYTES: u64 = 800 << 20;

impl PromptStyle {
    /// The style that measured best for a model of this size (XQuAD, 40 answerable and 20 held-out
    /// questions a set): qwen2.5-0.5b (a 491 MB file) copies a worked example's shape without its
    /// judgement (it answers held-out questions from unrelated text, even with the example's own
    /// fact), so it is asked without one; qwen2.5-1.5b (1.1 GB) follows it and answers in a few
    /// exact words.
    pub fn for_model_file(bytes: u64) -> PromptStyle {
        if bytes <= SMALL_MODEL_BYTES {
            PromptStyle::Short
        } else {
            PromptStyle::ShortExample
        }
    }

    /// Whether the prompt shows the worked answer example.
    pub fn has_example(self) -> bool {
        matches!(self, PromptStyle::ShortExample | PromptStyle::ShortExamples)
    }
}

impl std::str::FromStr for PromptStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sentence" => Ok(PromptStyle::Sentence),
            "short" => Ok(PromptStyle::Short),
            "short-example" => Ok(PromptStyle::ShortExample),
            "short-examples" => Ok(PromptStyle::ShortExamples),
            other => Err(format!("unknown prompt style {other:?} (sentence, short, short-example, short-examples)")),
        }
    }
}

pub fn system_prompt(language: Language, style: PromptStyle) -> String {
    let how = match style {
        PromptStyle::Sentence => "Be brief and exact: answer with the fact asked for, in a sentence. ",
        PromptStyle::Short | PromptStyle::ShortExample | PromptStyle::ShortExamples => {
            "Begin with the answer itself in a few words: the name, number, date or phrase asked for. \
             Then add at most one sentence from the sources that supports it. "
        }
    };
    format!(
        "You answer questions using only the numbered sources, which are passages from the user's own documents. \
         After each statement, cite the sources it comes from by number in square brackets, like [1] or [2][3]. \
         {how}\
         If the sources do not contain the answer, reply only: {} \
         Never use outside knowledge. Answer in {}.",
        language.not_found(),
        language.name()
    )
}

/// A worked exchange where the source does not hold the answer, in the answer's language.
fn refusal_example(language: Language) -> [Message; 2] {
    let (source, question) = match language {
        Language::English => (
            "[1] garden.txt:\nTomatoes need six to eight hours of sun a day and should be watered at the roots.",
            "Who invented the telephone?",
        ),
        Language::Russian => (
            "[1] sad.txt:\nПомидорам нужно от шести до восьми часов солнца в день, поливать их следует под корень.",
            "Кто изобрёл телефон?",
        ),
    };
    [
        Message::new("user", format!("Sources:\n\n{source}\n\nQuestion: {question}")),
        Message::new("assistant", language.not_found()),
    ]
}

/// One worked exchange in the answer's language: a source, a question, and an answer in the shape
/// asked for. Small models copy a shown answer's shape far better than a described one.
fn example(language: Language) -> [Message; 2] {
    let (source, question, answer) = match language {
        Language::English => (
            "[1] rivers.txt:\nThe Amazon carries more water than any other river: about 209,000 cubic metres \
             per second reach the Atlantic. Its basin covers some seven million square kilometres.",
            "How much water does the Amazon carry?",
            "About 209,000 cubic metres per second [1]. That is more than any other river [1].",
        ),
        Language::Russian => (
            "[1] reki.txt:\nАмазонка несёт больше воды, чем любая другая река: около 209 тысяч кубических метров \
             в секунду впадают в Атлантику. Её бассейн занимает около семи миллионов квадратных километров.",
            "Сколько воды несёт Амазонка?",
            "Около 209 тысяч кубических метров в секунду [1]. Это больше, чем у любой другой реки [1].",
        ),
    };
    [Message::new("user", format!("Sources:\n\n{source}\n\nQuestion: {question}")), Message::new("assistant", answer)]
}

/// What only the worked example says, in both languages' versions of it (lower case).
const EXAMPLE_MARKS: &[&str] =
    &["209", "seven million", "7 million", "amazon", "семи миллионов", "7 миллионов", "амазонк"];

/// Whether an answer repeats something of the worked example that none of the real sources
/// holds: given sources without the answer, a model sometimes answers from the example instead
/// (XQuAD held-out questions: qwen2.5-0.5b gave the example's "209 thousand cubic metres",
/// qwen2.5-1.5b "about 7 million square kilometres"). Such an answer is no answer.
pub fn copies_example(answer: &str, sources: &[Source]) -> bool {
    let answer = answer.to_lowercase();
    let sources: Vec<String> = sources.iter().map(|s| s.text.to_lowercase()).collect();
    EXAMPLE_MARKS.iter().any(|mark| answer.contains(mark) && !sources.iter().any(|s| s.contains(mark)))
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

/// Which language an answer is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerIn {
    /// Always the question's, by the route that measured best: from English sources the answer
    /// is written in English and translated (`Translate`); from sources in another language it is
    /// written in the question's language directly (`Question`). The models Folio runs read and
    /// write English best: qwen2.5-0.5b on XQuAD, Russian questions over English articles,
    /// translated F1 0.081, containment 0.225, 0% refused against 0.064, 0.100 and 45% answering
    /// in Russian directly; English questions over Russian articles, answering in English directly
    /// refused 7.5% against 35% when it wrote Russian first.
    #[default]
    Auto,
    /// The question's, unless every source is in one other language (`answer_language`).
    Sources,
    /// Always the question's.
    Question,
    /// Written in the sources' language (as `Sources`), then translated into the question's by a
    /// second pass when the two differ.
    Translate,
}

impl std::str::FromStr for AnswerIn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sources" => Ok(AnswerIn::Sources),
            "question" => Ok(AnswerIn::Question),
            "translate" => Ok(AnswerIn::Translate),
            "auto" => Ok(AnswerIn::Auto),
            other => Err(format!("unknown answer language rule {other:?} (auto, sources, question, translate)")),
        }
    }
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

/// The conversation for the model, to be answered in `language`: instructions, up to `keep_turns`
/// earlier exchanges (without their sources, to save context), then sources and the question.
pub fn messages(
    history: &[(String, String)],
    keep_turns: usize,
    sources: &[Source],
    question: &str,
    language: Language,
    style: PromptStyle,
) -> Vec<Message> {
    // The instructions and the example come first and are the same for every question in a
    // language, so the model's cached prefix covers them from the second question on.
    let mut messages = vec![Message::new("system", system_prompt(language, style))];
    if style.has_example() {
        messages.extend(example(language));
    }
    if style == PromptStyle::ShortExamples {
        messages.extend(refusal_example(language));
    }
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
        let prompt = &messages(&[], 2, &[en], "Сколько очков?", Language::English, PromptStyle::Short)[0].content;
        assert!(prompt.contains("Answer in English"), "{prompt}");
    }

    #[test]
    fn an_answer_taken_from_the_example_is_recognised() {
        let unrelated = source("The Panthers defense gave up just 308 points.");
        let holding = source("Its discharge is 209 thousand cubic metres a second.");
        let copied = "Около 209 тысяч кубических метров в секунду [1].";
        assert!(copies_example(copied, std::slice::from_ref(&unrelated)));
        assert!(!copies_example(copied, &[unrelated.clone(), holding]));
        assert!(!copies_example("308 points [1].", &[unrelated]));
        assert!(copies_example("About 7 million square kilometres [1].", &[source("Rivers of Europe.")]));
        // The example itself carries marks it is checked by, in both languages.
        for language in [Language::English, Language::Russian] {
            let shown = example(language).map(|m| m.content.to_lowercase()).concat();
            assert!(EXAMPLE_MARKS.iter().filter(|m| shown.contains(*m)).count() >= 3, "{language:?}");
        }
    }

    #[test]
    fn small_models_are_asked_without_the_example() {
        assert_eq!(PromptStyle::for_model_file(491 << 20), PromptStyle::Short);
        assert_eq!(PromptStyle::for_model_file(1117 << 20), PromptStyle::ShortExample);
        assert!(!PromptStyle::Short.has_example() && PromptStyle::ShortExample.has_example());
    }

    #[test]
    fn wrapped_lines_become_paragraphs() {
        assert_eq!(super::unwrap_lines("a b\nc d\n\n\nnext\npara"), "a b c d\n\nnext para");
    }
}
