//! SentencePiece BPE (Llama 1/2, Gemma, Mistral): spaces become ▁, adjacent symbols merge when
//! their concatenation is a vocabulary token, highest score first, leftmost among equals; symbols
//! left outside the vocabulary fall back to byte tokens `<0xNN>`.

use std::collections::{BinaryHeap, HashMap};

use ordered_float_key::Score;

/// Total order on f32 scores for the heap (scores are finite).
mod ordered_float_key {
    #[derive(Clone, Copy, PartialEq)]
    pub struct Score(pub f32);
    impl Eq for Score {}
    impl PartialOrd for Score {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Score {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0)
        }
    }
}

/// Splits an escaped fragment into symbols by score-ordered merging. Returns symbol strings.
pub fn merge(text: &str, vocab: &HashMap<String, u32>, scores: &[f32]) -> Vec<String> {
    let mut symbols: Vec<Option<String>> = text.chars().map(|c| Some(c.to_string())).collect();
    let n = symbols.len();
    if n < 2 {
        return symbols.into_iter().flatten().collect();
    }
    let mut prev: Vec<isize> = (0..n as isize).map(|i| i - 1).collect();
    let mut next: Vec<usize> = (1..=n).collect();
    // Max-heap on score; among equal scores the leftmost (smallest position) first.
    let mut heap: BinaryHeap<(Score, std::cmp::Reverse<usize>, usize, usize)> = BinaryHeap::new();
    let push = |heap: &mut BinaryHeap<(Score, std::cmp::Reverse<usize>, usize, usize)>,
                symbols: &[Option<String>],
                left: usize,
                right: usize| {
        if let (Some(a), Some(b)) = (&symbols[left], symbols.get(right).and_then(|s| s.as_ref())) {
            let joined = format!("{a}{b}");
            if let Some(&id) = vocab.get(&joined) {
                heap.push((
                    Score(scores.get(id as usize).copied().unwrap_or(0.0)),
                    std::cmp::Reverse(left),
                    right,
                    joined.len(),
                ));
            }
        }
    };
    for i in 0..n - 1 {
        push(&mut heap, &symbols, i, i + 1);
    }
    while let Some((_, std::cmp::Reverse(left), right, len)) = heap.pop() {
        let (Some(a), Some(b)) = (&symbols[left], symbols.get(right).and_then(|s| s.as_ref())) else { continue };
        if next[left] != right || a.len() + b.len() != len {
            continue;
        }
        symbols[left] = Some(format!("{a}{b}"));
        symbols[right] = None;
        next[left] = next[right];
        if next[right] < n {
            prev[next[right]] = left as isize;
        }
        if prev[left] >= 0 {
            push(&mut heap, &symbols, prev[left] as usize, left);
        }
        if next[left] < n {
            push(&mut heap, &symbols, left, next[left]);
        }
    }
    symbols.into_iter().flatten().collect()
}
