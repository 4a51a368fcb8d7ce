//! Attention of new tokens over the KV cache: causal, optionally windowed (gemma's local
//! layers), grouped-query (query head h reads key/value head h / (heads / kv_heads)).
//!
//! Decoding and short runs follow the arithmetic of llama.cpp's CPU one-row kernel (f16 query,
//! values accumulated in f16), so greedy outputs agree with it. A prompt's tokens are taken in
//! blocks, flash-attention style: every query head that shares a key/value head, for a block
//! of tokens, meets a block of keys at once; the keys and values are converted to f32 once per
//! block instead of once per query, scores and weighted values are matrix products, and the
//! softmax runs online. Per query and key one at a time, attention took a quarter of a
//! 1,500-token prompt's time.

use half::f16;
use rayon::prelude::*;

use super::config::Config;
use crate::kernels::f16_vec;
use crate::vector_math::exp;

/// Query rows from which llama.cpp's CPU flash attention switches from its one-row kernel to
/// its tiled kernel (f32 throughout); from here on the blocked path runs.
const TILED_FROM: usize = 64;
/// Tokens of a query block (each with all the query heads of one key/value head).
const QUERY_BLOCK: usize = 32;
/// Key positions scored at once: with a query block they keep scores, keys and values (about
/// 300 KB for qwen2.5-0.5b) within L2.
const KEY_BLOCK: usize = 128;

/// What a layer's new tokens attend over: its cached keys and values, the position of the first
/// new token, and the layer's window (gemma's local layers).
#[derive(Clone, Copy)]
pub struct Past<'a> {
    pub k_cache: &'a [f16],
    pub v_cache: &'a [f16],
    pub start: usize,
    pub window: Option<usize>,
}

/// Attention of the `q.len() / q_dim` new tokens at positions `past.start..` over the cache,
/// into `out` (one row of `q_dim` per token).
pub fn attention(c: &Config, q: &[f32], past: Past, out: &mut [f32]) {
    let n = q.len() / c.q_dim();
    if n >= TILED_FROM {
        blocked(c, q, past, out);
    } else {
        one_row(c, q, past, out);
    }
}

/// The first key position a query at `pos` sees.
fn first_key(pos: usize, window: Option<usize>) -> usize {
    window.map_or(0, |w| (pos + 1).saturating_sub(w))
}

/// llama.cpp's one-row kernel: each query head of each token alone.
fn one_row(c: &Config, q: &[f32], past: Past, out: &mut [f32]) {
    let Past { k_cache, v_cache, start, window } = past;
    let (hd, kv, qd) = (c.head_dim, c.kv_dim(), c.q_dim());
    let group = c.n_head / c.n_head_kv;
    let n = q.len() / qd;
    let attend = |(idx, o): (usize, &mut [f32])| {
        let (t, h) = (idx / c.n_head, idx % c.n_head);
        let pos = start + t;
        let first = first_key(pos, window);
        let qh = &q[t * qd + h * hd..t * qd + (h + 1) * hd];
        let kvh = h / group;
        let key = |j: usize| &k_cache[j * kv + kvh * hd..j * kv + (kvh + 1) * hd];
        let value = |j: usize| &v_cache[j * kv + kvh * hd..j * kv + (kvh + 1) * hd];
        // llama.cpp's CPU attention: the query rounded to f16, online softmax, values
        // accumulated in f16.
        let qh16: Vec<f16> = qh.iter().map(|v| f16::from_f32(*v)).collect();
        let mut acc = vec![f16::ZERO; hd];
        let (mut sum, mut max) = (0f32, f32::NEG_INFINITY);
        for j in first..=pos {
            let s = (f16_vec::dot(&qh16, key(j)) as f32) * c.attn_scale;
            let (mut ms, mut vs) = (1f32, 1f32);
            if s > max {
                ms = (max - s).exp();
                max = s;
                f16_vec::scale(&mut acc, ms);
            } else {
                vs = (s - max).exp();
            }
            f16_vec::mad(&mut acc, value(j), vs);
            sum = sum * ms + vs;
        }
        let inv = if sum == 0.0 { 0.0 } else { 1.0 / sum };
        for (a, b) in o.iter_mut().zip(&acc) {
            *a = b.to_f32() * inv;
        }
    };
    // Waking threads costs more than a few heads over a short context take.
    if n * (start + n) < 512 {
        out.chunks_mut(hd).enumerate().for_each(attend);
    } else {
        out.par_chunks_mut(hd).enumerate().for_each(attend);
    }
}

/// Output rows written from several threads: each block owns its tokens' heads of one group.
#[derive(Clone, Copy)]
struct Rows(*mut f32);
unsafe impl Send for Rows {}
unsafe impl Sync for Rows {}

impl Rows {
    /// # Safety
    /// `at..at + len` lies within the output and no other thread writes it.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, at: usize, len: usize) -> &mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(at), len)
    }
}

/// The blocked prompt path: tasks of (key/value head, block of tokens).
fn blocked(c: &Config, q: &[f32], past: Past, out: &mut [f32]) {
    let n = q.len() / c.q_dim();
    let tasks: Vec<(usize, usize)> =
        (0..c.n_head_kv).flat_map(|g| (0..n).step_by(QUERY_BLOCK).map(move |t0| (g, t0))).collect();
    let rows = Rows(out.as_mut_ptr());
    tasks.par_iter().for_each(|&(g, t0)| {
        let t1 = (t0 + QUERY_BLOCK).min(n);
        let block = QueryBlock { c, g, t0, t1, start: past.start, window: past.window };
        let result = block.run(q, past.k_cache, past.v_cache);
        let (hd, qd, group) = (c.head_dim, c.q_dim(), c.n_head / c.n_head_kv);
        for (r, row) in result.chunks_exact(hd).enumerate() {
            let (t, h) = (t0 + r / group, g * group + r % group);
            // SAFETY: token t's head h belongs to this task alone, and lies within `out`.
            unsafe { rows.slice(t * qd + h * hd, hd) }.copy_from_slice(row);
        }
    });
}

/// Tokens `t0..t1` with the query heads of key/value head `g`.
struct QueryBlock<'a> {
    c: &'a Config,
    g: usize,
    t0: usize,
    t1: usize,
    start: usize,
    window: Option<usize>,
}

impl QueryBlock<'_> {
    /// Rows of `head_dim` outputs, token-major then head (`(t − t0)·group + head in group`).
    fn run(&self, q: &[f32], k_cache: &[f16], v_cache: &[f16]) -> Vec<f32> {
        let c = self.c;
        let (hd, kv, qd) = (c.head_dim, c.kv_dim(), c.q_dim());
        let group = c.n_head / c.n_head_kv;
        let rows = (self.t1 - self.t0) * group;
        let mut queries = vec![0f32; rows * hd];
        for (r, dst) in queries.chunks_exact_mut(hd).enumerate() {
            let (t, h) = (self.t0 + r / group, self.g * group + r % group);
            dst.copy_from_slice(&q[t * qd + h * hd..t * qd + (h + 1) * hd]);
        }
        let (mut max, mut sum) = (vec![f32::NEG_INFINITY; rows], vec![0f32; rows]);
        let mut acc = vec![0f32; rows * hd];
        let mut scores = vec![0f32; rows * KEY_BLOCK];
        let (mut keys, mut values) = (vec![0f32; KEY_BLOCK * hd], vec![0f32; KEY_BLOCK * hd]);
        let first = first_key(self.start + self.t0, self.window);
        let last = self.start + self.t1 - 1;
        for j0 in (first..=last).step_by(KEY_BLOCK) {
            let keys_here = (last + 1 - j0).min(KEY_BLOCK);
            for (i, j) in (j0..j0 + keys_here).enumerate() {
                let at = j * kv + self.g * hd;
                widen(&k_cache[at..at + hd], &mut keys[i * hd..(i + 1) * hd]);
                widen(&v_cache[at..at + hd], &mut values[i * hd..(i + 1) * hd]);
            }
            // scores = queries · keysᵀ · scale, rows × keys_here (row stride KEY_BLOCK).
            // SAFETY: the shapes and strides below stay within the buffers sized above.
            unsafe {
                gemm::gemm(
                    rows,
                    keys_here,
                    hd,
                    scores.as_mut_ptr(),
                    1,
                    KEY_BLOCK as isize,
                    false,
                    queries.as_ptr(),
                    1,
                    hd as isize,
                    keys.as_ptr(),
                    hd as isize,
                    1,
                    0.0,
                    c.attn_scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            };
            for r in 0..rows {
                let pos = self.start + self.t0 + r / group;
                let row = &mut scores[r * KEY_BLOCK..r * KEY_BLOCK + keys_here];
                // Keys this query does not see: after it, or before its window.
                let (lo, hi) = (first_key(pos, self.window).max(j0), (pos + 1).min(j0 + keys_here));
                if lo >= hi {
                    row.fill(0.0);
                    continue;
                }
                let seen = lo - j0..hi - j0;
                let block_max = row[seen.clone()].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let new_max = max[r].max(block_max);
                let rescale = if max[r] == f32::NEG_INFINITY { 0.0 } else { exp(max[r] - new_max) };
                for v in row.iter_mut() {
                    *v = exp(*v - new_max);
                }
                row[..seen.start].fill(0.0);
                row[seen.end..].fill(0.0);
                sum[r] = sum[r] * rescale + row.iter().sum::<f32>();
                max[r] = new_max;
                if rescale != 1.0 {
                    acc[r * hd..(r + 1) * hd].iter_mut().for_each(|a| *a *= rescale);
                }
            }
            // acc += weights · values, rows × hd.
            // SAFETY: as above.
            unsafe {
                gemm::gemm(
                    rows,
                    hd,
                    keys_here,
                    acc.as_mut_ptr(),
                    1,
                    hd as isize,
                    true,
                    scores.as_ptr(),
                    1,
                    KEY_BLOCK as isize,
                    values.as_ptr(),
                    1,
                    hd as isize,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            };
        }
        for (row, total) in acc.chunks_exact_mut(hd).zip(&sum) {
            let inv = if *total > 0.0 { 1.0 / total } else { 0.0 };
            row.iter_mut().for_each(|a| *a *= inv);
        }
        acc
    }
}

/// f16 values to f32 (F16C where the CPU has it).
fn widen(src: &[f16], dst: &mut [f32]) {
    use half::slice::HalfFloatSliceExt;
    src.convert_to_f32_slice(dst);
}

#[cfg(test)]
mod tests {
    use super::super::config::{Activation, Arch, RopeStyle};
    use super::*;

    fn config(n_head: usize, n_head_kv: usize, head_dim: usize) -> Config {
        Config {
            arch: Arch::Llama,
            n_layer: 1,
            n_embd: n_head * head_dim,
            n_head,
            n_head_kv,
            head_dim,
            n_ff: 1,
            eps: 1e-6,
            rope_style: RopeStyle::Halves,
            rope_dim: head_dim,
            rope_base: 10_000.0,
            rope_base_local: 10_000.0,
            rope_freq_scale: 1.0,
            context_length: 4096,
            sliding_window: None,
            sliding_pattern: 0,
            attn_scale: 1.0 / (head_dim as f32).sqrt(),
            embed_scale: None,
            activation: Activation::Silu,
        }
    }

    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 4.0
            })
            .collect()
    }

    /// Attention in f64 straight from its definition.
    fn reference(c: &Config, q: &[f32], k: &[f16], v: &[f16], start: usize, window: Option<usize>) -> Vec<f32> {
        let (hd, kv, qd) = (c.head_dim, c.kv_dim(), c.q_dim());
        let group = c.n_head / c.n_head_kv;
        let n = q.len() / qd;
        let mut out = vec![0f32; q.len()];
        for t in 0..n {
            let pos = start + t;
            for h in 0..c.n_head {
                let g = h / group;
                let keys: Vec<usize> = (first_key(pos, window)..=pos).collect();
                let scores: Vec<f64> = keys
                    .iter()
                    .map(|&j| {
                        (0..hd).map(|i| q[t * qd + h * hd + i] as f64 * k[j * kv + g * hd + i].to_f64()).sum::<f64>()
                            * c.attn_scale as f64
                    })
                    .collect();
                let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = weights.iter().sum();
                for i in 0..hd {
                    let value: f64 = keys.iter().zip(&weights).map(|(&j, w)| w * v[j * kv + g * hd + i].to_f64()).sum();
                    out[t * qd + h * hd + i] = (value / total) as f32;
                }
            }
        }
        out
    }

    /// The blocked prompt path equals attention's definition: grouped heads, a cache that holds
    /// earlier positions, windows shorter and longer than a key block, several query and key
    /// blocks with partial last ones.
    #[test]
    fn blocked_prompt_attention_matches_the_definition() {
        for (n_head, n_head_kv, head_dim, start, n, window) in [
            (4, 1, 32, 0, 70, None),
            (14, 2, 64, 37, 150, None),
            (4, 4, 16, 5, 300, Some(50)),
            (8, 2, 32, 200, 90, Some(256)),
        ] {
            let c = config(n_head, n_head_kv, head_dim);
            let total = start + n;
            let k: Vec<f16> = noise(total * c.kv_dim(), 1).into_iter().map(f16::from_f32).collect();
            let v: Vec<f16> = noise(total * c.kv_dim(), 2).into_iter().map(f16::from_f32).collect();
            let q = noise(n * c.q_dim(), 3);
            let mut out = vec![f32::NAN; q.len()];
            blocked(&c, &q, Past { k_cache: &k, v_cache: &v, start, window }, &mut out);
            let want = reference(&c, &q, &k, &v, start, window);
            let worst = out.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst < 1e-4, "heads {n_head}/{n_head_kv}, start {start}, {n} tokens, window {window:?}: {worst}");
        }
    }
}
