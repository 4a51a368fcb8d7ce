//! Choosing the next token from logits: repeat penalty, temperature, top-k, top-p, seeded
//! randomness; greedy is argmax (first index wins ties, as llama.cpp).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamplingOptions {
    /// 0 means greedy.
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
    /// Logits of recently generated tokens are divided (if positive) or multiplied by this.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    pub seed: u64,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.9,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: 0x5EED,
        }
    }
}

impl SamplingOptions {
    pub fn greedy() -> Self {
        SamplingOptions { temperature: 0.0, repeat_penalty: 1.0, ..Self::default() }
    }
}

/// SplitMix64: small, fast, and reproducible for a given seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in logits.iter().enumerate() {
        if *v > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Picks a token. `recent` are the last generated tokens (for the repeat penalty).
pub fn sample(logits: &mut [f32], options: &SamplingOptions, recent: &[u32], rng: &mut Rng) -> u32 {
    if options.repeat_penalty != 1.0 {
        let from = recent.len().saturating_sub(options.repeat_last_n);
        let mut seen = recent[from..].to_vec();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            if let Some(l) = logits.get_mut(t as usize) {
                *l = if *l > 0.0 { *l / options.repeat_penalty } else { *l * options.repeat_penalty };
            }
        }
    }
    if options.temperature <= 0.0 {
        return argmax(logits);
    }
    let mut candidates: Vec<(u32, f32)> = logits.iter().enumerate().map(|(i, &l)| (i as u32, l)).collect();
    let k = if options.top_k == 0 { candidates.len() } else { options.top_k.min(candidates.len()) };
    if k < candidates.len() {
        candidates.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        candidates.truncate(k);
    }
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    let max = candidates[0].1;
    let mut probs: Vec<f32> = candidates.iter().map(|(_, l)| ((l - max) / options.temperature).exp()).collect();
    let total: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    // Nucleus: the smallest head whose probability reaches top_p.
    let mut keep = probs.len();
    if options.top_p < 1.0 {
        let mut cumulative = 0.0;
        for (i, p) in probs.iter().enumerate() {
            cumulative += p;
            if cumulative >= options.top_p {
                keep = i + 1;
                break;
            }
        }
    }
    let total: f32 = probs[..keep].iter().sum();
    let mut r = rng.next_f32() * total;
    for i in 0..keep {
        r -= probs[i];
        if r <= 0.0 {
            return candidates[i].0;
        }
    }
    candidates[keep - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
    }

    #[test]
    fn sampling_is_reproducible_and_respects_top_k() {
        let logits: Vec<f32> = (0..100).map(|i| (i % 7) as f32).collect();
        let options = SamplingOptions { top_k: 3, ..Default::default() };
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..20).map(|_| sample(&mut logits.clone(), &options, &[], &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        // Only tokens with the top logit value 6 (ids 6, 13, 20, …) can come out with top_k 3.
        assert!(run(2).iter().all(|t| t % 7 == 6));
    }

    #[test]
    fn repeat_penalty_lowers_recent_tokens() {
        let mut logits = vec![2.0, 1.9];
        let options = SamplingOptions { temperature: 0.0, repeat_penalty: 1.5, ..Default::default() };
        assert_eq!(sample(&mut logits, &options, &[0], &mut Rng::new(0)), 1);
    }
}
