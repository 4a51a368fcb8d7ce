//! The language of a question, to ask the model to answer in it (small models drift into the
//! language of the sources otherwise).

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

/// Whether an answer says the documents do not hold the answer (in either language, in the words
/// the prompt asks for or close to them).
pub fn is_refusal(answer: &str) -> bool {
    let a = answer.to_lowercase();
    const MARKERS: &[&str] = &[
        "could not find this in your documents",
        "couldn't find this in your documents",
        "not find this in the documents",
        "do not contain the answer",
        "don't contain the answer",
        "does not contain the answer",
        "no information about",
        "not mentioned in the",
        "ответа на этот вопрос нет",
        "нет ответа на этот вопрос",
        "не удалось найти",
        "не содержат ответа",
        "нет информации",
    ];
    MARKERS.iter().any(|m| a.contains(m))
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
}
