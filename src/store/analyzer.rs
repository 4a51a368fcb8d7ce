//! The keyword index's analyzer: words, lower-cased, folded to ASCII where Latin (café → cafe), and stemmed by
//! the Snowball stemmer of their script, Russian for Cyrillic words and English for Latin ones. One
//! field serves both languages: a Russian document matches inflected forms of a Russian query word,
//! an English one the forms of an English word, and mixed documents work without a language guess.

use std::borrow::Cow;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};

pub const ANALYZER: &str = "folio_words";

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(ScriptStemmer)
        .build()
}

/// Analyses text into the terms the index holds, for building queries the same way.
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[derive(Clone, Copy)]
pub struct ScriptStemmer;

impl TokenFilter for ScriptStemmer {
    type Tokenizer<T: Tokenizer> = ScriptStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> ScriptStemmerFilter<T> {
        ScriptStemmerFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct ScriptStemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for ScriptStemmerFilter<T> {
    type TokenStream<'a> = ScriptStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        ScriptStemmerStream {
            tail: self.inner.token_stream(text),
            english: frostem::Stemmer::new(frostem::Algorithm::English),
            russian: frostem::Stemmer::new(frostem::Algorithm::Russian),
        }
    }
}

pub struct ScriptStemmerStream<T> {
    tail: T,
    english: frostem::Stemmer,
    russian: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for ScriptStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let stemmed = if token.text.chars().any(is_cyrillic) {
            // Russian text writes ё and е interchangeably; the stemmer expects е.
            let normalised = token.text.replace('ё', "е");
            match self.russian.stem(&normalised) {
                Cow::Owned(s) => s,
                Cow::Borrowed(s) => s.to_string(),
            }
        } else if token.text.chars().all(|c| c.is_ascii_alphabetic()) {
            match self.english.stem(&token.text) {
                Cow::Owned(s) => s,
                Cow::Borrowed(_) => return true,
            }
        } else {
            return true;
        };
        token.text = stemmed;
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}' | '\u{0500}'..='\u{052F}')
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn russian_inflections_share_a_stem() {
        assert_eq!(terms("книгами"), terms("книга"));
        assert_eq!(terms("Москвы"), terms("москве"));
        assert_eq!(terms("ёлка"), terms("елки"));
    }

    #[test]
    fn english_stems_and_folds() {
        assert_eq!(terms("Running runs"), vec!["run", "run"]);
        assert_eq!(terms("café"), vec!["cafe"]);
        assert_eq!(terms("3.14 v2"), vec!["3", "14", "v2"]);
    }
}
