//! Pre-tokenizers of byte-level BPE vocabularies: split text into pieces that BPE merges never
//! cross. Written as hand-made scanners with the exact semantics of llama.cpp's (which stand for
//! the regexes in the comments), so token ids match llama.cpp's.

use super::unicode::{flags, Flags};

/// Which splitting rules a vocabulary uses (`tokenizer.ggml.pre`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    Gpt2,
    /// Every digit apart first (`\p{N}`), then GPT-2 (SmolLM, StarCoder, Refact, Command-R).
    DigitsThenGpt2,
    /// Qwen2: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    Qwen2,
}

impl PreTokenizer {
    pub fn for_name(pre: &str) -> Option<Self> {
        Some(match pre {
            "gpt2" | "mpt" | "olmo" | "jais" | "trillion" | "granite-docling" => PreTokenizer::Gpt2,
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b" => {
                PreTokenizer::DigitsThenGpt2
            }
            "qwen2" | "stablelm2" | "hunyuan" | "deepseek-r1-qwen" | "megrez" => PreTokenizer::Qwen2,
            _ => return None,
        })
    }

    /// Splits `text` into pieces (as char ranges joined back into strings).
    pub fn split(self, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        match self {
            PreTokenizer::Gpt2 => split_gpt2(&chars, &mut out),
            PreTokenizer::Qwen2 => split_qwen2(&chars, &mut out),
            PreTokenizer::DigitsThenGpt2 => {
                let mut start = 0;
                for (i, c) in chars.iter().enumerate() {
                    if flags(*c).number {
                        if start < i {
                            split_gpt2(&chars[start..i], &mut out);
                        }
                        out.push(c.to_string());
                        start = i + 1;
                    }
                }
                if start < chars.len() {
                    split_gpt2(&chars[start..], &mut out);
                }
            }
        }
        out
    }
}

/// Flags of the char at `pos`, empty beyond the piece.
fn at(chars: &[char], pos: usize) -> Flags {
    chars.get(pos).map(|c| flags(*c)).unwrap_or_default()
}

fn is_other(f: Flags) -> bool {
    f.present && !(f.whitespace || f.letter || f.number)
}

/// Matches `'s|'t|'m|'d|'re|'ve|'ll` at `pos` (optionally ignoring case); its length.
fn contraction(chars: &[char], pos: usize, ignore_case: bool) -> Option<usize> {
    if chars.get(pos) != Some(&'\'') {
        return None;
    }
    let lower = |i: usize| chars.get(i).map(|c| if ignore_case { c.to_lowercase().next().unwrap_or(*c) } else { *c });
    match lower(pos + 1) {
        Some('s' | 't' | 'm' | 'd') => Some(2),
        Some(a) => match (a, lower(pos + 2)) {
            ('r', Some('e')) | ('v', Some('e')) | ('l', Some('l')) => Some(3),
            _ => None,
        },
        None => None,
    }
}

/// Length of the whitespace run starting at `pos` for the `\s+(?!\S)|\s+` alternatives: a run
/// followed by more text leaves its last space to the next piece.
fn whitespace_piece(chars: &[char], pos: usize) -> usize {
    let mut n = 0;
    while at(chars, pos + n).whitespace {
        n += 1;
    }
    if n > 1 && pos + n < chars.len() {
        n - 1
    } else {
        n
    }
}

fn push(out: &mut Vec<String>, chars: &[char], from: usize, to: usize) {
    if to > from {
        out.push(chars[from..to].iter().collect());
    }
}

fn split_gpt2(chars: &[char], out: &mut Vec<String>) {
    let mut pos = 0;
    while pos < chars.len() {
        if let Some(len) = contraction(chars, pos, false) {
            push(out, chars, pos, pos + len);
            pos += len;
            continue;
        }
        let space = chars[pos] == ' ';
        let first = if space { at(chars, pos + 1) } else { at(chars, pos) };
        let class: Option<fn(Flags) -> bool> = if first.letter {
            Some(|f| f.letter)
        } else if first.number {
            Some(|f| f.number)
        } else if is_other(first) {
            Some(is_other)
        } else {
            None
        };
        if let Some(class) = class {
            let start = pos;
            pos += space as usize;
            while class(at(chars, pos)) {
                pos += 1;
            }
            push(out, chars, start, pos);
            continue;
        }
        let n = whitespace_piece(chars, pos);
        let len = if n > 0 { n } else { 1 };
        push(out, chars, pos, pos + len);
        pos += len;
    }
}

fn split_qwen2(chars: &[char], out: &mut Vec<String>) {
    let mut pos = 0;
    while pos < chars.len() {
        if let Some(len) = contraction(chars, pos, true) {
            push(out, chars, pos, pos + len);
            pos += len;
            continue;
        }
        let c = chars[pos];
        let here = at(chars, pos);
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if !(c == '\r' || c == '\n' || here.number) && (here.letter || at(chars, pos + 1).letter) {
            let start = pos;
            pos += 1;
            while at(chars, pos).letter {
                pos += 1;
            }
            push(out, chars, start, pos);
            continue;
        }
        // \p{N}
        if here.number {
            push(out, chars, pos, pos + 1);
            pos += 1;
            continue;
        }
        // ?[^\s\p{L}\p{N}]+[\r\n]*
        let first = if c == ' ' { at(chars, pos + 1) } else { here };
        if is_other(first) && here.present {
            let start = pos;
            pos += (c == ' ') as usize;
            while is_other(at(chars, pos)) {
                pos += 1;
            }
            while matches!(chars.get(pos), Some('\r' | '\n')) {
                pos += 1;
            }
            push(out, chars, start, pos);
            continue;
        }
        // \s*[\r\n]+
        let mut n = 0;
        let mut last_newline_end = None;
        while at(chars, pos + n).whitespace {
            if matches!(chars[pos + n], '\r' | '\n') {
                last_newline_end = Some(pos + n + 1);
            }
            n += 1;
        }
        if let Some(end) = last_newline_end {
            push(out, chars, pos, end);
            pos = end;
            continue;
        }
        let n = whitespace_piece(chars, pos);
        let len = if n > 0 { n } else { 1 };
        push(out, chars, pos, pos + len);
        pos += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_pieces() {
        assert_eq!(PreTokenizer::Gpt2.split("Hello world's  end"), vec!["Hello", " world", "'s", " ", " end"]);
        assert_eq!(PreTokenizer::DigitsThenGpt2.split("and 007"), vec!["and", " ", "0", "0", "7"]);
        assert_eq!(PreTokenizer::Gpt2.split("I'LL"), vec!["I", "'", "LL"]);
    }

    #[test]
    fn qwen2_pieces() {
        assert_eq!(
            PreTokenizer::Qwen2.split("I'LL go-fast\n\n  x"),
            vec!["I", "'LL", " go", "-fast", "\n\n", " ", " x"]
        );
        assert_eq!(PreTokenizer::Qwen2.split("12 ab"), vec!["1", "2", " ab"]);
    }
}
