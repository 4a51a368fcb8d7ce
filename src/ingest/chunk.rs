//! Splitting page text into overlapping chunks sized in the embedder's tokens.
//!
//! A chunk never crosses a page. Its end is put at the strongest break (paragraph, sentence, line,
//! word) in the second half of the token window, so chunks read as whole passages; the next chunk
//! starts `overlap` tokens earlier, again at a break where there is one, so a passage cut in two
//! still appears whole in one of the chunks.
//!
//! Every byte offset is put on a character boundary before the text is sliced: token offsets come
//! from a tokenizer (which may normalise, fall back to bytes or overlap its tokens), and a slice
//! inside a character panics. Japanese text over 64 KiB once ended a whole indexing run here.

use super::extract::Page;

/// Token spans (byte offsets into the text) of a tokenizer, special tokens excluded.
pub trait TokenSpans {
    fn spans(&self, text: &str) -> Vec<(usize, usize)>;
}

#[derive(Debug, Clone, Copy)]
pub struct ChunkSizes {
    /// Tokens a chunk aims for.
    pub target: usize,
    /// Tokens shared with the previous chunk.
    pub overlap: usize,
    /// Tokens a chunk may never exceed (the embedder's input limit, less its own tokens).
    pub max: usize,
}

impl Default for ChunkSizes {
    fn default() -> Self {
        ChunkSizes { target: 200, overlap: 32, max: 256 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub page: Option<u32>,
    /// Character span in the page text (Unicode scalar values, end exclusive).
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub tokens: usize,
}

/// Pages longer than this are tokenized in slices cut at paragraph or line breaks, so a huge text
/// file never needs all its token offsets in memory at once.
const SLICE_BYTES: usize = 64 * 1024;

pub fn chunk_pages(pages: &[Page], tokenizer: &dyn TokenSpans, sizes: ChunkSizes) -> Vec<Chunk> {
    let sizes = ChunkSizes {
        target: sizes.target.clamp(8, sizes.max.max(8)),
        overlap: sizes.overlap.min(sizes.target / 2),
        max: sizes.max.max(8),
    };
    let mut chunks = Vec::new();
    for page in pages {
        let mut char_base = 0usize;
        for slice in slices(&page.text) {
            let spans = aligned_spans(slice, tokenizer.spans(slice));
            let mut counter = CharCounter::new(slice);
            for (s, e) in windows(slice, &spans, sizes) {
                // Overlapping tokens can end after the window's last one: take the furthest end.
                let from = spans[s].0;
                let to = spans[s..e].iter().map(|span| span.1).max().unwrap_or(from);
                let text = slice[from..to].to_string();
                if text.trim().is_empty() {
                    continue;
                }
                chunks.push(Chunk {
                    page: page.number,
                    start: char_base + counter.chars_before(from),
                    end: char_base + counter.chars_before(to),
                    text,
                    tokens: e - s,
                });
            }
            char_base += slice.chars().count();
        }
    }
    chunks
}

/// Cuts text into consecutive slices of at most about `SLICE_BYTES`, at a blank line, a line break
/// or a space where possible.
fn slices(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > SLICE_BYTES {
        let mut limit = SLICE_BYTES;
        while !rest.is_char_boundary(limit) {
            limit -= 1;
        }
        let window = &rest[..limit];
        let half = floor_boundary(window, limit / 2);
        let cut = window[half..]
            .rfind("\n\n")
            .or_else(|| window[half..].rfind('\n'))
            .or_else(|| window[half..].rfind(' '))
            .map(|i| half + i + 1)
            .unwrap_or(limit);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The largest character boundary of `text` at or below `byte`.
fn floor_boundary(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// The smallest character boundary of `text` at or above `byte`.
fn ceil_boundary(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte += 1;
    }
    byte
}

/// Token spans made safe to slice with: inside the text, on character boundaries (a span that
/// ends inside a character takes the whole character), starts never going backwards, none empty.
/// What the windows below rely on, whatever the tokenizer returned.
fn aligned_spans(text: &str, spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(spans.len());
    let mut last_start = 0;
    for (start, end) in spans {
        let start = floor_boundary(text, start).max(last_start);
        let end = ceil_boundary(text, end);
        if start < end {
            out.push((start, end));
            last_start = start;
        }
    }
    out
}

/// How good a place it is to cut before token `i`.
fn break_strength(text: &str, spans: &[(usize, usize)], i: usize) -> u8 {
    if i == 0 || i >= spans.len() {
        return 5;
    }
    // Tokens can overlap (a tokenizer that normalises "˜" to " ̃" gives two tokens for one
    // character): then there is no gap.
    let gap = text.get(spans[i - 1].1..spans[i].0).unwrap_or("");
    let before = text[spans[i - 1].0..spans[i - 1].1].chars().last();
    if gap.contains("\n\n") {
        4
    } else if !gap.is_empty() && before.is_some_and(|c| matches!(c, '.' | '!' | '?' | '…' | '。' | ';')) {
        3
    } else if before.is_some_and(|c| matches!(c, '。' | '！' | '？' | '।' | '؟')) {
        // Chinese and Japanese write no space after a sentence; these marks end one by themselves.
        3
    } else if gap.contains('\n') {
        2
    } else if !gap.is_empty() {
        1
    } else {
        0
    }
}

/// One break in this many (of a strength) is an anchor. Fewer anchors make chunks longer but
/// boundaries slower to recover after an edit: at 4, an inserted sentence changes about 2.5 chunks
/// of a long text (10 when the latest break always wins) for 7–16% more chunks.
const ANCHOR_EVERY: u64 = 4;
/// Anchors are preferred while more than this many windows of text are left on the page.
const ANCHORED_WINDOWS: usize = 3;

/// A hash (FNV-1a) of the tokens on either side of a break.
fn break_hash(text: &str, spans: &[(usize, usize)], i: usize) -> u64 {
    let from = spans[i.saturating_sub(1)].0;
    let to = spans[i.min(spans.len() - 1)].1.max(from);
    let bytes = text.get(from..to).unwrap_or("").as_bytes();
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Token windows `[start, end)` covering all tokens.
fn windows(text: &str, spans: &[(usize, usize)], sizes: ChunkSizes) -> Vec<(usize, usize)> {
    let n = spans.len();
    let mut out = Vec::new();
    let mut s = 0;
    while s < n {
        let limit = (s + sizes.target).min(n);
        let mut e = if limit == n {
            n
        } else {
            // The strongest break in the second half of the window; of equals, an anchor (a break
            // whose neighbouring tokens hash to 0 mod ANCHOR_EVERY), then the latest. Anchors depend
            // only on the text around them, so after a local edit the chunks fall back on the
            // boundaries they had before within a chunk or two, and keep their vectors; always
            // taking the latest break would carry the edit's shift to the end of the page. The
            // last windows of a page take the latest break: an edit there changes few chunks
            // anyway, and a text of two or three chunks (an abstract) keeps its longest first chunk.
            let lo = s + sizes.target / 2 + 1;
            let anchored = n - s > ANCHORED_WINDOWS * sizes.target;
            (lo..=limit)
                .max_by_key(|&i| {
                    let anchor = anchored && break_hash(text, spans, i).is_multiple_of(ANCHOR_EVERY);
                    (break_strength(text, spans, i), anchor, i)
                })
                .unwrap_or(limit)
        };
        // A short tail joins this chunk rather than becoming a sliver of its own.
        if e < n && n - e < sizes.target / 4 && n - s <= sizes.max {
            e = n;
        }
        out.push((s, e));
        if e == n {
            break;
        }
        let next = if sizes.overlap == 0 {
            e
        } else {
            // Start the overlap at its strongest break; the earliest of equals keeps most context.
            let lo = e.saturating_sub(sizes.overlap).max(s + 1);
            (lo..e).max_by_key(|&i| (break_strength(text, spans, i), std::cmp::Reverse(i))).unwrap_or(e)
        };
        s = next.max(s + 1);
    }
    out
}

/// Converts byte offsets (character boundaries) of one text to character offsets, walking from the
/// last offset asked: chunks overlap, so the next start lies a little behind the last end.
struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    fn new(text: &'a str) -> Self {
        CharCounter { text, byte: 0, chars: 0 }
    }

    fn chars_before(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.chars -= self.text[byte..self.byte].chars().count();
        } else {
            self.chars += self.text[self.byte..byte].chars().count();
        }
        self.byte = byte;
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace-separated words as tokens: enough to test the windows.
    struct Words;
    impl TokenSpans for Words {
        fn spans(&self, text: &str) -> Vec<(usize, usize)> {
            let mut spans = Vec::new();
            let mut start = None;
            for (i, c) in text.char_indices() {
                match (c.is_whitespace(), start) {
                    (true, Some(s)) => {
                        spans.push((s, i));
                        start = None;
                    }
                    (false, None) => start = Some(i),
                    _ => {}
                }
            }
            if let Some(s) = start {
                spans.push((s, text.len()));
            }
            spans
        }
    }

    /// A long text of paragraphs and sentences of varying length (a fixed pseudo-random sequence).
    fn prose(paragraphs: usize, seed: u64) -> Vec<String> {
        let mut state = seed;
        let mut next = move |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        (0..paragraphs)
            .map(|_| {
                (0..2 + next(6))
                    .map(|_| {
                        let words: Vec<String> = (0..5 + next(20)).map(|_| format!("w{}", next(3000))).collect();
                        format!("{}.", words.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// An inserted sentence in the middle of a long text changes a few chunks, not every chunk
    /// after it, whether paragraphs, lines or nothing but sentences separate the text.
    #[test]
    fn a_local_edit_changes_only_nearby_chunks() {
        for separator in ["\n\n", "\n", " "] {
            let mut changed = Vec::new();
            for seed in 0..20u64 {
                let paragraphs = prose(300, seed);
                let before = chunk_pages(&[page(1, &paragraphs.join(separator))], &Words, ChunkSizes::default());
                let mut edited = paragraphs.clone();
                let k = 100 + (seed as usize * 7) % 100;
                edited[k] = format!("{} An inserted sentence of several new words here.", edited[k]);
                let after = chunk_pages(&[page(1, &edited.join(separator))], &Words, ChunkSizes::default());
                let old: std::collections::HashSet<&str> = before.iter().map(|c| c.text.as_str()).collect();
                changed.push(after.iter().filter(|c| !old.contains(c.text.as_str())).count());
            }
            let mean = changed.iter().sum::<usize>() as f64 / changed.len() as f64;
            let worst = changed.iter().max().copied().unwrap_or(0);
            // Always taking the latest break: a mean of 10 and a worst of 53 when lines separate.
            assert!(mean <= 4.0 && worst <= 12, "{separator:?}: {mean:.1} chunks changed on average, {worst} at worst");
        }
    }

    fn page(number: u32, text: &str) -> Page {
        Page { number: Some(number), text: text.to_string() }
    }

    #[test]
    fn chunks_stay_within_pages_and_sizes() {
        let long: String = (0..500).map(|i| format!("w{i} ")).collect();
        let pages = [page(1, &long), page(2, "short page")];
        let sizes = ChunkSizes { target: 50, overlap: 10, max: 64 };
        let chunks = chunk_pages(&pages, &Words, sizes);
        assert!(chunks.iter().all(|c| c.tokens <= 64));
        assert_eq!(chunks.last().unwrap().page, Some(2));
        assert_eq!(chunks.last().unwrap().text, "short page");
        // Every word of page 1 is in some chunk, and consecutive chunks overlap.
        for i in 0..500 {
            let w = format!("w{i} ");
            assert!(chunks.iter().any(|c| format!("{} ", c.text).contains(&w)), "{w} lost");
        }
        let first = &chunks[0];
        let second = &chunks[1];
        assert!(second.start < first.end, "no overlap");
    }

    #[test]
    fn spans_are_character_offsets() {
        let text = "Привет мир. Это тест. ".repeat(40);
        let chunks = chunk_pages(&[page(3, &text)], &Words, ChunkSizes { target: 20, overlap: 4, max: 30 });
        let chars: Vec<char> = text.chars().collect();
        for c in &chunks {
            let span: String = chars[c.start..c.end].iter().collect();
            assert_eq!(span, c.text);
        }
    }

    #[test]
    fn prefers_sentence_breaks() {
        let text = "one two three four five six. seven eight nine ten eleven twelve thirteen fourteen";
        let chunks = chunk_pages(&[page(1, text)], &Words, ChunkSizes { target: 8, overlap: 0, max: 10 });
        assert_eq!(chunks[0].text, "one two three four five six.");
    }

    /// Tokens whose spans overlap, as a normalising tokenizer gives for some characters.
    struct Overlapping;
    impl TokenSpans for Overlapping {
        fn spans(&self, text: &str) -> Vec<(usize, usize)> {
            let mut spans = Words.spans(text);
            for span in spans.iter_mut().skip(1).step_by(3) {
                span.0 = span.0.saturating_sub(2);
            }
            spans
        }
    }

    #[test]
    fn overlapping_token_spans_do_not_panic() {
        let text = "˜a b c d e f g h i j k l m n o p q r s t u v w x y z ".repeat(20);
        let chunks = chunk_pages(&[page(1, &text)], &Overlapping, ChunkSizes { target: 10, overlap: 2, max: 12 });
        assert!(!chunks.is_empty());
    }

    #[test]
    fn japanese_pages_over_a_slice_are_cut_on_character_boundaries() {
        // The run-ending panic: a slice cut at half its byte length, inside a three-byte character.
        let text = "日本語のテキストです。改行もスペースもない長い文章が続きます。".repeat(2_500);
        assert!(text.len() > 2 * SLICE_BYTES);
        let chunks = chunk_pages(&[page(1, &text)], &CharTokens, ChunkSizes::default());
        assert_char_spans(&text, &chunks);
        // Sentence marks count as breaks even without a space after them.
        assert!(chunks[0].text.ends_with('。'), "{}", chunks[0].text);
    }

    #[test]
    fn huge_pages_are_sliced() {
        let text = "word ".repeat(100_000);
        let chunks = chunk_pages(&[page(1, &text)], &Words, ChunkSizes::default());
        // 100 000 words in windows of 200 tokens advancing by at least 168.
        assert!(chunks.len() > 500, "{}", chunks.len());
        assert!(chunks.iter().all(|c| c.tokens <= 256));
    }

    /// Every character a token of its own, as BERT's tokenizer treats CJK ideographs.
    struct CharTokens;
    impl TokenSpans for CharTokens {
        fn spans(&self, text: &str) -> Vec<(usize, usize)> {
            text.char_indices().filter(|(_, c)| !c.is_whitespace()).map(|(i, c)| (i, i + c.len_utf8())).collect()
        }
    }

    /// Fixed byte windows that ignore character boundaries, as byte-fallback offsets or a buggy
    /// tokenizer can give; every second one also reaches back into its neighbour.
    struct ByteWindows(usize);
    impl TokenSpans for ByteWindows {
        fn spans(&self, text: &str) -> Vec<(usize, usize)> {
            (0..text.len())
                .step_by(self.0)
                .enumerate()
                .map(|(k, start)| (if k % 2 == 1 { start.saturating_sub(1) } else { start }, start + self.0))
                .collect()
        }
    }

    /// Chunk texts are exactly their character spans of the page, in page order.
    fn assert_char_spans(text: &str, chunks: &[Chunk]) {
        let chars: Vec<char> = text.chars().collect();
        let mut last_start = 0;
        for c in chunks {
            assert!(c.start < c.end && c.end <= chars.len(), "span {}..{} of {}", c.start, c.end, chars.len());
            let span: String = chars[c.start..c.end].iter().collect();
            assert_eq!(span, c.text);
            assert!(c.start >= last_start, "chunks out of order");
            last_start = c.start;
        }
    }

    /// Every non-space character of the page lies inside some chunk.
    fn assert_covered(text: &str, chunks: &[Chunk]) {
        let mut covered = vec![false; text.chars().count()];
        for c in chunks {
            covered[c.start..c.end].fill(true);
        }
        for (i, ch) in text.chars().enumerate() {
            assert!(covered[i] || ch.is_whitespace(), "character {i} ({ch:?}) is in no chunk");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Pieces of every kind of script, and the joins between them that matter to the chunker.
        const PIECES: &[&str] = &[
            "日本語のテキスト",
            "中文文本没有空格",
            "한국어 텍스트",
            "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
            "النص العربي من اليمين",
            "हिन्दी पाठ देवनागरी",
            "👩‍👩‍👧‍👦🏳️‍🌈👍🏽",
            "e\u{301}\u{302}\u{303}a\u{308}",
            "Zalgo\u{336}\u{337}\u{338}\u{339}\u{33a}",
            "Привет, мир",
            "plain ascii words",
            "x",
            "\u{feff}\u{200b}\u{200d}",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈𐌰",
        ];
        const JOINS: &[&str] = &["", " ", "\n", "\n\n", "。", ". ", "\t", "\u{3000}"];

        fn text(max_pieces: usize) -> impl Strategy<Value = String> {
            prop::collection::vec(
                (prop::sample::select(PIECES), prop::sample::select(JOINS), 1usize..40),
                1..max_pieces,
            )
            .prop_map(|parts| parts.iter().map(|(p, j, n)| format!("{}{j}", p.repeat(*n))).collect())
        }

        fn sizes() -> impl Strategy<Value = ChunkSizes> {
            (8usize..300, 0usize..64, 8usize..320).prop_map(|(target, overlap, max)| ChunkSizes {
                target,
                overlap,
                max,
            })
        }

        fn check(text: &str, tokenizer: &dyn TokenSpans, sizes: ChunkSizes, covers_all: bool) {
            let chunks = chunk_pages(&[page(1, text)], tokenizer, sizes);
            assert_char_spans(text, &chunks);
            let max = sizes.max.max(8);
            assert!(chunks.iter().all(|c| c.tokens <= max), "a chunk over {max} tokens");
            if covers_all {
                assert_covered(text, &chunks);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

            #[test]
            fn any_script_any_tokenizer(text in text(60), sizes in sizes(), window in 1usize..7) {
                check(&text, &Words, sizes, true);
                check(&text, &CharTokens, sizes, true);
                check(&text, &ByteWindows(window), sizes, true);
                check(&text, &Overlapping, sizes, false);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

            /// Pages over the slice size, where the page is first cut into slices.
            #[test]
            fn pages_longer_than_a_slice(text in text(400), repeat in 1usize..4, window in 1usize..7) {
                let text = text.repeat(repeat);
                let sizes = ChunkSizes::default();
                check(&text, &CharTokens, sizes, true);
                check(&text, &ByteWindows(window), sizes, true);
            }
        }
    }
}
