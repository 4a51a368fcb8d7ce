//! Is extracted text text? A PDF whose fonts lack a Unicode map gives glyph numbers instead of
//! letters; a file in an unrecognised code page gives mojibake. Indexing either puts nonsense into
//! search results, so extractors check what they got and report such pages instead.
//!
//! The checks look at the mix of characters, not at any language: characters with no meaning in
//! Unicode (control codes, private-use code points, U+FFFD), the share of letters and digits,
//! Latin-1 letters standing in for another script, and case patterns no language writes. The
//! thresholds were set on real documents (the corpora in the issue that introduced this: pypdf's
//! test PDFs, Debian's PDF manuals in English and Russian, R's reference manual): none of their
//! readable pages is flagged.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// What a page's text is worth indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No visible characters at all.
    Empty,
    Good,
    /// Text that decodes to nonsense; says why.
    Garbage(String),
}

/// Character counts of a text, whitespace left out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Census {
    pub visible: usize,
    pub letters: usize,
    pub digits: usize,
    /// Control codes, private-use and unassigned code points, U+FFFD.
    pub meaningless: usize,
    /// Letters of the Latin-1 supplement (À–ÿ): a few in French or German, most of the letters
    /// when Cyrillic or Greek bytes were decoded as Windows-1252.
    pub latin1_letters: usize,
    /// Characters of the upper half of Adobe's StandardEncoding (Æ Ł Œ æ ı ł œ ß ª º and the
    /// spacing accents ´ ¨ ˜ ˇ …): what a Cyrillic font without a Unicode map (TeX's T2A) comes out
    /// as when its codes are read as standard Latin. A few in Danish or German, a third of a
    /// Russian page.
    pub standard_encoding_marks: usize,
    /// Words of three or more letters.
    pub words: usize,
    /// Of those, written "пРИВЕТ": lower case first, upper case after — KOI8-R read as Windows-1251
    /// (or the reverse) swaps the case of every letter, so capitalised words come out like this
    /// and lower-case ones in capitals.
    pub inverted_case_words: usize,
    pub upper_case_words: usize,
    /// Whitespace-separated tokens containing a letter, and how many of them are one letter long.
    pub tokens: usize,
    pub one_letter_tokens: usize,
}

/// Characters of dot leaders and rules ("Introduction . . . . . 3", "Index.........12").
fn is_leader(ch: char) -> bool {
    matches!(ch, '.' | '·' | '…' | '_' | '-' | '–' | '—' | '─')
}

/// For each character, whether it lies in a run of three or more of the same leader character.
/// One pass: a token can be a hundred thousand dots long.
fn leader_run_mask(chars: &[char]) -> Vec<bool> {
    let mut mask = vec![false; chars.len()];
    let mut start = 0;
    while start < chars.len() {
        let end = start + chars[start..].iter().take_while(|&&c| c == chars[start]).count();
        if is_leader(chars[start]) && end - start >= 3 {
            mask[start..end].fill(true);
        }
        start = end;
    }
    mask
}

pub fn census(text: &str) -> Census {
    let mut c = Census::default();
    for token in text.split_whitespace() {
        // Leaders say nothing about whether the text decoded well, and a table of contents is
        // mostly leaders: a token that is only leaders, and runs of three or more inside a
        // token, are left out of the counts.
        if token.chars().all(is_leader) {
            continue;
        }
        let chars: Vec<char> = token.chars().collect();
        let leader_runs = leader_run_mask(&chars);
        let mut letters_in_token = 0usize;
        for (&ch, &in_run) in chars.iter().zip(&leader_runs) {
            if in_run {
                continue;
            }
            c.visible += 1;
            if matches!(
                ch,
                'Æ' | 'Ł'
                    | 'Œ'
                    | 'æ'
                    | 'ı'
                    | 'ł'
                    | 'œ'
                    | 'ß'
                    | 'ª'
                    | 'º'
                    | 'Ø'
                    | 'ø'
                    | '´'
                    | '¨'
                    | '˜'
                    | 'ˇ'
                    | '˝'
                    | '˛'
                    | '¯'
                    | '˘'
                    | '˙'
                    | '˚'
                    | '¸'
                    | 'ˆ'
                    | '¿'
                    | '¡'
            ) {
                c.standard_encoding_marks += 1;
            }
            if ch.is_alphabetic() {
                c.letters += 1;
                letters_in_token += 1;
                if matches!(ch, '\u{c0}'..='\u{ff}') && ch != '×' && ch != '÷' {
                    c.latin1_letters += 1;
                }
            } else if ch.is_numeric() {
                c.digits += 1;
            } else if meaningless(ch) {
                c.meaningless += 1;
            }
        }
        if letters_in_token > 0 {
            c.tokens += 1;
            if token.chars().filter(|ch| ch.is_alphanumeric()).count() == 1 {
                c.one_letter_tokens += 1;
            }
        }
        // The word without the punctuation around it.
        let word = token.trim_matches(|ch: char| !ch.is_alphanumeric());
        if word.chars().count() >= 3 && word.chars().all(char::is_alphabetic) {
            c.words += 1;
            let mut chars = word.chars();
            let first_lower = chars.next().is_some_and(char::is_lowercase);
            if chars.all(char::is_uppercase) {
                if first_lower {
                    c.inverted_case_words += 1;
                } else {
                    c.upper_case_words += 1;
                }
            }
        }
    }
    c
}

fn meaningless(ch: char) -> bool {
    ch == '\u{fffd}'
        || matches!(get_general_category(ch), Gc::Control | Gc::PrivateUse | Gc::Unassigned | Gc::Surrogate)
}

/// Texts shorter than this (visible characters) are too short to judge by their mix: a page
/// number, a heading. They pass unless they are mostly meaningless characters.
const TOO_SHORT_TO_JUDGE: usize = 24;

pub fn assess(text: &str) -> Verdict {
    let c = census(text);
    if c.visible == 0 {
        return Verdict::Empty;
    }
    let share = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
    if share(c.meaningless, c.visible) > 0.10 && c.meaningless >= 3 {
        return Verdict::Garbage(format!(
            "{:.0}% of its characters have no meaning in Unicode (fonts without a Unicode map)",
            100.0 * share(c.meaningless, c.visible)
        ));
    }
    if c.visible < TOO_SHORT_TO_JUDGE {
        return Verdict::Good;
    }
    if share(c.letters + c.digits, c.visible) < 0.30 {
        return Verdict::Garbage(format!(
            "only {:.0}% of its characters are letters or digits (glyph codes instead of text)",
            100.0 * share(c.letters + c.digits, c.visible)
        ));
    }
    if c.standard_encoding_marks >= 20 && share(c.standard_encoding_marks, c.visible) > 0.10 {
        return Verdict::Garbage(
            "a font without a Unicode map read as standard Latin (its letters are accents and ligatures)".into(),
        );
    }
    if c.letters >= 40 && share(c.latin1_letters, c.letters) > 0.35 {
        return Verdict::Garbage(
            "its letters come from the wrong code page (Cyrillic or Greek read as Latin-1)".into(),
        );
    }
    if c.words >= 20
        && share(c.inverted_case_words + c.upper_case_words, c.words) > 0.70
        && share(c.inverted_case_words, c.words) >= 0.05
    {
        return Verdict::Garbage("its letters come from the wrong code page (KOI8-R read as Windows-1251)".into());
    }
    if c.tokens >= 40 && share(c.one_letter_tokens, c.tokens) > 0.75 {
        return Verdict::Garbage(
            "letters without words (the characters are placed one by one, without spacing)".into(),
        );
    }
    Verdict::Good
}

/// Text whose letters are Windows-1251 bytes shown as Windows-1252 (a PDF font that declares the
/// standard Latin encoding but holds Cyrillic glyphs; a legacy file read with the wrong code page)
/// turned back into what it says, if that gives good text that is mostly Cyrillic.
pub fn repair_cyrillic_mojibake(text: &str) -> Option<String> {
    let c = census(text);
    if c.letters < 20 || (c.latin1_letters as f64) < c.letters as f64 * 0.35 {
        return None;
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    if unmappable {
        return None;
    }
    let (fixed, _, malformed) = encoding_rs::WINDOWS_1251.decode(&bytes);
    let cyrillic = fixed.chars().filter(|ch| matches!(ch, '\u{400}'..='\u{4ff}')).count();
    let letters = fixed.chars().filter(|ch| ch.is_alphabetic()).count();
    (!malformed && cyrillic * 2 > letters && assess(&fixed) == Verdict::Good).then(|| fixed.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn garbage(text: &str) -> bool {
        matches!(assess(text), Verdict::Garbage(_))
    }

    #[test]
    fn real_text_passes() {
        assert_eq!(assess(""), Verdict::Empty);
        assert_eq!(assess(" \n\t"), Verdict::Empty);
        assert!(!garbage("The quick brown fox jumps over the lazy dog, again and again."));
        assert!(!garbage("Съешь же ещё этих мягких французских булок, да выпей чаю. 1.2 Раздел . . . . . . . . 12"));
        assert!(!garbage("Größere Äpfel schmecken süßer, à la française, déjà vu. Ærøskøbing ligger på Ærø."));
        assert!(!garbage("fn main() { let x = vec![1, 2, 3]; println!(\"{x:?}\"); } // 42"));
        assert!(!garbage("∑ α_i x_i ≤ β, ∀ i ∈ {1, …, n}; see eq. (3.14) and Table 2 for the values of x and y"));
        assert!(!garbage("12"));
    }

    #[test]
    fn tables_of_contents_are_text() {
        let toc = "Contents\n1 Introduction . . . . . . . . . . . . . . . . . . . . 3\n2 Getting started .............. 17\n\
            2.1 dimnames . . . . . . . . . . . . . . . . . . . . . . . . 161\n2.2 dontCheck . . . . . . . . . . . . . . . . . . . 165\n\
            2.3 double . . . . . . . . . . . . . . . . . . . . . . . . . 166\n2.4 dput ______________ 168\n";
        assert_eq!(assess(toc), Verdict::Good);
        // A Russian page in a T2A font read through Adobe's StandardEncoding (texlive-ru.pdf).
        let t2a =
            "1 ´´¯˜¯˝¨¯ 3 T E X Live  æŒ æ ¨,   ºŁ  DVD T E X Collection¿. Ł DVD æææ ªŁ ººØ T E X. ´ º  2.1  ŒŒ Łæ \
            æŁ - Œª DVD. ¨ T E X Live, Ł T E X Collection Łæ ªŁ ººØ T E X. ´  Œ  æ Łæ T E X Live.";
        assert!(garbage(t2a), "{:?}", assess(t2a));
        // German and Danish keep their ß and æ.
        assert_eq!(
            assess(
                "Die Straße ist groß, und der Fuß tut weh. Blåbærgrød med fløde er en dansk ret, sæt den på bordet."
            ),
            Verdict::Good
        );
        // Leaders alone do not make garbage text good.
        assert!(garbage(&format!("{} . . . . . . . . 12", "\u{e000}\u{e001}\u{e002} ".repeat(10))));
    }

    #[test]
    fn garbage_is_flagged() {
        // Glyph numbers from a font without a Unicode map.
        assert!(garbage("\u{3}\u{4}\u{5}\u{6} \u{7}\u{8}\u{b}\u{e}\u{f} \u{10}\u{11}\u{12}"));
        assert!(garbage("\u{e001}\u{e002}\u{e003}\u{e004} \u{e005}\u{e006}\u{e007}"));
        assert!(garbage("!\"#$% &'()*+ ,-./ :;<=> ?@[\\] ^_`{| }~!\"# $%&'( )*+,- ./:;<"));
        // "Привет, как дела? Всё хорошо, спасибо." in Windows-1251 read as Windows-1252.
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("Привет, как дела? Всё хорошо, спасибо. Это текст письма.");
        let (mojibake, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
        assert!(garbage(&mojibake), "{mojibake}");
        let original = "Привет, как дела? Всё хорошо, спасибо. Это текст письма. ".repeat(3);
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(&original);
        let (swapped, _, _) = encoding_rs::WINDOWS_1251.decode(&bytes);
        assert!(garbage(&swapped), "{swapped}");
        assert!(garbage(&"T h e q u i c k b r o w n f o x ".repeat(4)));
        // Capitals in a real heading are no reason.
        assert!(!garbage("ГЛАВА ПЕРВАЯ. ВВЕДЕНИЕ В ПРЕДМЕТ И ОСНОВНЫЕ ПОНЯТИЯ ТЕОРИИ МНОЖЕСТВ И ЛОГИКИ ВЫСКАЗЫВАНИЙ, ФУНКЦИИ И ОТНОШЕНИЯ, ЧИСЛА И ИХ СВОЙСТВА"));
    }

    #[test]
    fn cp1251_shown_as_latin1_is_repaired() {
        let original = "Привет, как дела? Всё хорошо, спасибо. Это текст письма.";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(original);
        let (mojibake, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
        assert_eq!(repair_cyrillic_mojibake(&mojibake).as_deref(), Some(original));
        assert_eq!(repair_cyrillic_mojibake("Größere Äpfel schmecken süßer, à la française, déjà vu."), None);
    }
}
