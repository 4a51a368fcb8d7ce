//! Byte-level BPE (GPT-2 family: Qwen, SmolLM, Llama 3…): bytes map to printable code points,
//! pieces merge pairwise by the rank of their merge rule, lowest first, leftmost among equals.

use std::collections::{BinaryHeap, HashMap};

/// GPT-2's byte ↔ code point table: printable bytes stand for themselves, the others move to 256+.
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b as usize] = if printable {
            b as char
        } else {
            let c = char::from_u32(next).expect("valid code point");
            next += 1;
            c
        };
    }
    table
}

pub struct Merges {
    ranks: HashMap<(String, String), u32>,
}

impl Merges {
    pub fn new(lines: &[String]) -> Self {
        let mut ranks = HashMap::with_capacity(lines.len());
        for (rank, line) in lines.iter().enumerate() {
            // Split at the first space after position 0 (a merge's left side may itself be a space).
            let first = line.chars().next().map_or(0, char::len_utf8);
            if let Some(i) = line[first..].find(' ').map(|i| i + first) {
                ranks.insert((line[..i].to_string(), line[i + 1..].to_string()), rank as u32);
            }
        }
        Merges { ranks }
    }

    fn rank(&self, a: &str, b: &str) -> Option<u32> {
        // Avoids allocating for the lookup in the common case by checking lengths first.
        self.ranks.get(&(a.to_string(), b.to_string())).copied()
    }

    /// Merges one pre-tokenized, byte-encoded piece into symbols.
    pub fn apply(&self, piece: &str) -> Vec<String> {
        let mut symbols: Vec<Option<String>> = piece.chars().map(|c| Some(c.to_string())).collect();
        if symbols.len() < 2 {
            return symbols.into_iter().flatten().collect();
        }
        // Linked list over symbols; a heap of candidate merges keyed by (rank, position).
        let n = symbols.len();
        let mut prev: Vec<isize> = (0..n as isize).map(|i| i - 1).collect();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut heap = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<std::cmp::Reverse<(u32, usize, usize, usize)>>,
                    symbols: &[Option<String>],
                    left: usize,
                    right: usize| {
            if let (Some(a), Some(b)) = (&symbols[left], symbols.get(right).and_then(|s| s.as_ref())) {
                if let Some(rank) = self.rank(a, b) {
                    heap.push(std::cmp::Reverse((rank, left, right, a.len() + b.len())));
                }
            }
        };
        for i in 0..n - 1 {
            push(&mut heap, &symbols, i, i + 1);
        }
        while let Some(std::cmp::Reverse((_, left, right, len))) = heap.pop() {
            // Stale entries: a side was merged away or changed since the entry was pushed.
            let (Some(a), Some(b)) = (&symbols[left], symbols.get(right).and_then(|s| s.as_ref())) else { continue };
            if next[left] != right || a.len() + b.len() != len {
                continue;
            }
            let merged = format!("{a}{b}");
            symbols[left] = Some(merged);
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
}
