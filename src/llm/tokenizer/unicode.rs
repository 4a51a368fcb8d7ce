//! Character classes of the pre-tokenizers, as llama.cpp defines them: letters and numbers by
//! Unicode general category, whitespace as an explicit set.

use unicode_general_category::{get_general_category, GeneralCategory as G};

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Flags {
    pub letter: bool,
    pub number: bool,
    pub whitespace: bool,
    /// False only outside the text being split (llama.cpp's empty flags).
    pub present: bool,
}

pub fn flags(c: char) -> Flags {
    let category = get_general_category(c);
    Flags {
        letter: matches!(
            category,
            G::UppercaseLetter | G::LowercaseLetter | G::TitlecaseLetter | G::ModifierLetter | G::OtherLetter
        ),
        number: matches!(category, G::DecimalNumber | G::LetterNumber | G::OtherNumber),
        whitespace: is_whitespace(c),
        present: true,
    }
}

/// llama.cpp's `\s`: exactly these code points.
pub fn is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{D}'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}
