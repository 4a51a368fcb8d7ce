//! The lead of an answer: the fact it begins with, before its first citation marker or the end of
//! its first sentence. The prompt asks for the fact first in a few words; the window can show the
//! lead on its own, and the evaluation scores it with exact match and F1 as the field does.

/// The answer's opening words up to its first citation marker, sentence end or line break.
pub fn lead(answer: &str) -> String {
    let text = answer.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            c == '[' || c == '\n' || (matches!(c, '.' | '!' | '?' | ';') && ends_sentence(&text[i + c.len_utf8()..]))
        })
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    text[..end].trim().trim_end_matches([',', ':', '—', '-', ' ']).trim().to_string()
}

/// A stop ends the sentence when whitespace or the end follows ("3.5" and "e.g" do not end one).
fn ends_sentence(after: &str) -> bool {
    after.is_empty() || after.starts_with(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::lead;

    #[test]
    fn the_lead_is_the_fact_before_its_marker() {
        assert_eq!(
            lead("About 209,000 cubic metres per second [1]. That is more [1]."),
            "About 209,000 cubic metres per second"
        );
        assert_eq!(lead("308 [1]."), "308");
        assert_eq!(lead("Denver Broncos.\nThey won [2]."), "Denver Broncos");
        assert_eq!(lead("It rose 3.5 m in 1998. Then [1]"), "It rose 3.5 m in 1998");
        assert_eq!(lead("  Около 209 тысяч [1]"), "Около 209 тысяч");
        assert_eq!(lead("Carolina Panthers"), "Carolina Panthers");
        assert_eq!(lead(""), "");
    }
}
