//! Keys and values of prompt prefixes that recur, kept by their tokens: the instructions (and
//! worked example) of an answer are the same for every question in a language, those of a
//! translation or a follow-up rewrite for every one of theirs. The decoder's live cache already
//! serves a prompt that extends the last one; this keeps the prefixes a different request in
//! between would otherwise throw away (an answer after a translation pass or a rewrite, a Russian
//! question after an English one), and the one a face prefills before the first question.

use super::native::KvSnapshot;

/// Prefixes shorter than this are not worth a copy (a chat template's opening tokens).
pub const MIN_PREFIX_TOKENS: usize = 16;

/// Memory all kept prefixes may take: about 4,700 positions of qwen2.5-0.5b, 2,300 of
/// qwen2.5-1.5b, so every instruction set of both languages fits several times over.
const BUDGET_BYTES: usize = 64 << 20;

struct Entry {
    tokens: Vec<u32>,
    kv: KvSnapshot,
    used: u64,
}

#[derive(Default)]
pub struct PrefixCache {
    entries: Vec<Entry>,
    clock: u64,
}

/// How many leading tokens two sequences share.
pub fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl PrefixCache {
    /// The kept prefix that shares the most leading tokens with `prompt`, with that count and
    /// the prefix's tokens (which the snapshot holds in full).
    pub fn best(&mut self, prompt: &[u32]) -> Option<(usize, &[u32], &KvSnapshot)> {
        let (i, shared) = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, common_prefix(&e.tokens, prompt)))
            .max_by_key(|&(_, shared)| shared)
            .filter(|&(_, shared)| shared > 0)?;
        self.clock += 1;
        let entry = &mut self.entries[i];
        entry.used = self.clock;
        Some((shared, &entry.tokens, &entry.kv))
    }

    /// Whether `tokens` are kept; if so, they count as just used.
    pub fn touch(&mut self, tokens: &[u32]) -> bool {
        self.clock += 1;
        let clock = self.clock;
        self.entries.iter_mut().find(|e| e.tokens == tokens).map(|e| e.used = clock).is_some()
    }

    /// Keeps `kv`, the keys and values of `tokens`; the least recently used prefixes leave when
    /// the budget is exceeded. A prefix already kept is only marked as used.
    pub fn insert(&mut self, tokens: Vec<u32>, kv: KvSnapshot) {
        if self.touch(&tokens) {
            return;
        }
        if kv.len() != tokens.len() || kv.bytes() > BUDGET_BYTES {
            return;
        }
        self.entries.push(Entry { tokens, kv, used: self.clock });
        while self.bytes() > BUDGET_BYTES {
            let oldest = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used).map(|(i, _)| i);
            match oldest {
                Some(i) => drop(self.entries.swap_remove(i)),
                None => break,
            }
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.kv.bytes()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_shared_prefix_wins() {
        let mut cache = PrefixCache::default();
        cache.insert(vec![1, 2, 3], KvSnapshot::zeros(3, 4));
        cache.insert(vec![1, 2, 9, 9], KvSnapshot::zeros(4, 4));
        let (shared, tokens, kv) = cache.best(&[1, 2, 9, 7, 7]).unwrap();
        assert_eq!((shared, tokens, kv.len()), (3, &[1, 2, 9, 9][..], 4));
        let (shared, tokens, _) = cache.best(&[1, 2, 3, 4]).unwrap();
        assert_eq!((shared, tokens), (3, &[1, 2, 3][..]));
        assert!(cache.best(&[5, 1, 2]).is_none());
        // A snapshot that does not hold its tokens' positions is not kept.
        cache.insert(vec![4, 4], KvSnapshot::zeros(1, 4));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_least_recently_used_prefix_leaves_when_the_budget_is_full() {
        let mut cache = PrefixCache::default();
        // 9 MiB of keys and values a position: a prefix of three takes 27 MiB; two such fit the
        // 64 MiB budget, three do not.
        let width = 9 << 18;
        let (a, b, c) = (vec![1, 1, 1], vec![2, 2, 2], vec![3, 3, 3]);
        cache.insert(a.clone(), KvSnapshot::zeros(3, width));
        cache.insert(b.clone(), KvSnapshot::zeros(3, width));
        assert!(cache.touch(&a), "a used after b");
        cache.insert(c.clone(), KvSnapshot::zeros(3, width));
        assert_eq!(cache.len(), 2);
        assert!(cache.touch(&a) && cache.touch(&c) && !cache.touch(&b));
        // One prefix larger than the whole budget is never kept.
        cache.insert(vec![4; 8], KvSnapshot::zeros(8, width));
        assert_eq!(cache.len(), 2);
        assert!(!cache.is_empty());
        cache.clear();
        assert!(cache.is_empty());
    }
}
