//! Exact match and token F1 as the SQuAD and XQuAD evaluation scripts compute them: both strings
//! normalised (lower case; every character of a Unicode punctuation category removed, as MLQA's
//! and XQuAD's script does; English articles dropped; whitespace collapsed), F1 over whitespace
//! tokens, and the best score over the accepted answers.

use std::collections::HashMap;

use unicode_general_category::{get_general_category, GeneralCategory as G};

fn is_punctuation(c: char) -> bool {
    matches!(
        get_general_category(c),
        G::ConnectorPunctuation
            | G::DashPunctuation
            | G::OpenPunctuation
            | G::ClosePunctuation
            | G::InitialPunctuation
            | G::FinalPunctuation
            | G::OtherPunctuation
    )
}

/// The normalised tokens of an answer.
pub fn normalize(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let without_punctuation: String = lowered.chars().filter(|c| !is_punctuation(*c)).collect();
    without_punctuation.split_whitespace().filter(|w| !matches!(*w, "a" | "an" | "the")).map(str::to_string).collect()
}

/// 1 when the normalised prediction equals a normalised accepted answer.
pub fn exact_match(prediction: &str, answers: &[String]) -> f64 {
    let predicted = normalize(prediction);
    answers.iter().any(|a| normalize(a) == predicted) as u8 as f64
}

/// The best token F1 of the prediction against the accepted answers.
pub fn f1(prediction: &str, answers: &[String]) -> f64 {
    let predicted = normalize(prediction);
    answers.iter().map(|a| token_f1(&predicted, &normalize(a))).fold(0.0, f64::max)
}

fn token_f1(predicted: &[String], gold: &[String]) -> f64 {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in gold {
        *counts.entry(t).or_default() += 1;
    }
    let mut common = 0usize;
    for t in predicted {
        if let Some(n) = counts.get_mut(t.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / predicted.len() as f64;
    let recall = common as f64 / gold.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalisation_follows_the_official_script() {
        assert_eq!(normalize("The  Denver Broncos!"), ["denver", "broncos"]);
        // Unicode punctuation, not only ASCII: guillemets, dashes, the ellipsis.
        assert_eq!(normalize("«Пантеры» — чемпионы…"), ["пантеры", "чемпионы"]);
        // Articles are words: "theatre" keeps its letters.
        assert_eq!(normalize("an apple in theatre"), ["apple", "in", "theatre"]);
    }

    #[test]
    fn exact_match_and_f1_take_the_best_answer() {
        let gold = answers(&["Denver Broncos", "the Broncos"]);
        assert_eq!(exact_match("The Broncos.", &gold), 1.0);
        assert_eq!(exact_match("Broncos of Denver", &gold), 0.0);
        // "Denver Broncos won" against "Denver Broncos": precision 2/3, recall 1.
        assert!((f1("Denver Broncos won", &gold) - 0.8).abs() < 1e-12);
        assert_eq!(f1("Carolina", &gold), 0.0);
        // Repeated tokens count once per occurrence in the answer.
        assert!((f1("308 308", &answers(&["308"])) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f1("", &gold), 0.0);
    }
}
