//! The language of a question, to ask the model to answer in it (small models drift into the
//! language of the sources otherwise).

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    English,
    Russian,
}

impl Language {
    pub fn detect(text: &str) -> Language {
        let (mut cyrillic, mut letters) = (0usize, 0usize);
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            if matches!(c, '\u{0400}'..='\u{04FF}') {
                cyrillic += 1;
            }
        }
        if letters > 0 && cyrillic * 3 >= letters {
            Language::Russian
        } else {
            Language::English
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Russian => "Russian",
        }
    }

    /// What the answer says when the documents do not hold the answer.
    pub fn not_found(self) -> &'static str {
        match self {
            Language::English => "I could not find this in your documents.",
            Language::Russian => "В ваших документах ответа на этот вопрос нет.",
        }
    }
}

/// Whether an answer says the documents do not hold the answer: its first sentence says so, in
/// either language, in the words the prompt asks for or any of the ways small models paraphrase
/// them (broken grammar included: "Ваша документах ответа нет"), and does not go on to answer
/// ("…is not stated, but the war began in 1914 [1]").
pub fn is_refusal(answer: &str) -> bool {
    let first = first_sentence(answer);
    let words = normalize(first);
    let hedged = [" but ", " however ", " но ", " однако ", " а ", " хотя "].iter().any(|w| words.contains(w));
    // Each phrase starts at a word; its last word may be inflected ("не найден" finds "не найдено").
    !hedged && REFUSALS.iter().any(|r| words.contains(&format!(" {r}")))
}

/// Refusal phrases, normalised like the answer (lower case, ё as е, no punctuation, single spaces).
/// "не найден" covers "не найдено", "не найдена": a phrase's last word matches as a prefix.
const REFUSALS: &[&str] = &[
    "could not find",
    "couldnt find",
    "cannot find",
    "can not find",
    "cant find",
    "unable to find",
    "did not find",
    "didnt find",
    "not found",
    "no information",
    "no answer",
    "not mentioned",
    "not mention",
    "do not contain",
    "does not contain",
    "dont contain",
    "doesnt contain",
    "not contain the answer",
    "not in the sources",
    "not in your documents",
    "not in the documents",
    "not provided in",
    "not specified in",
    "not stated in",
    "sources do not",
    "documents do not",
    "не удалось найти",
    "не могу найти",
    "не смог найти",
    "не нашел",
    "не найден",
    "нет ответа",
    "ответа нет",
    "ответа на этот вопрос нет",
    "ответа на вопрос нет",
    "нет информации",
    "информации нет",
    "информация отсутствует",
    "отсутствует информация",
    "нет сведений",
    "нет данных",
    "не содержат",
    "не содержит",
    "не упомина",
    "не упомянут",
    "не указан",
    "не сказано",
    "не говорится",
];

/// The text up to the first sentence end (a stop followed by a space) or line break, leading
/// space left out.
pub(super) fn first_sentence(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            c == '\n'
                || (matches!(c, '.' | '!' | '?' | '…') && text[i + c.len_utf8()..].starts_with(char::is_whitespace))
        })
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    &text[..end]
}

/// Lower case, ё as е, letters and digits only, single spaces, a space at both ends (so phrases
/// match whole words).
fn normalize(text: &str) -> String {
    let mut out = String::from(" ");
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c == 'ё' { 'е' } else { c };
        if c.is_alphanumeric() {
            out.push(c);
        } else if c == '\'' || c == '’' {
            // "couldn't" → "couldnt"
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_language_and_refusals() {
        assert_eq!(Language::detect("Когда был основан Париж?"), Language::Russian);
        assert_eq!(Language::detect("When was Paris founded? (Париж)"), Language::English);
        assert!(is_refusal("I could not find this in your documents."));
        assert!(is_refusal("В ваших документах ответа на этот вопрос нет."));
        assert!(!is_refusal("Paris was founded in the 3rd century BC [1]."));
    }

    #[test]
    fn refusals_are_recognised_in_their_paraphrases() {
        for refusal in [
            "Ваших документах ответа на этот вопрос нет.",
            "Ваша документах нет ответа на этот вопрос.",
            "В предоставленных источниках информации нет.",
            "Информация о дате основания в источниках не указана.",
            "К сожалению, ответ не найден в документах.",
            "I couldn't find this in your documents.",
            "The sources do not contain the answer to this question.",
            "This is not mentioned in the sources.",
            "I could not find the answer.\nThe sources discuss other topics [1].",
        ] {
            assert!(is_refusal(refusal), "{refusal}");
        }
        for answer in [
            "308 [1]. The Panthers defense gave up 308 points [1].",
            "The exact date is not stated, but the war began in 1914 [1].",
            "Точная дата не указана, но война началась в 1914 году [1].",
            "Pianos answer to touch [2].",
            "Информационные технологии [1].",
        ] {
            assert!(!is_refusal(answer), "{answer}");
        }
    }
}
