//! Quantised GEMM for prompts: many tokens against the same weights.
//!
//! Activations are laid out "token-lane": for each block of 32 inputs and each group of 8 tokens,
//! 8 steps of 32 bytes, each step holding 4 consecutive inputs of all 8 tokens. A weight row's 4
//! matching bytes are broadcast to all lanes, so one integer dot instruction (`vpdpbusd` with VNNI,
//! `vpmaddubsw`+`vpmaddwd` without) advances 8 tokens at once, and the block scales apply to 8
//! tokens with one multiply. Weight rows are unpacked to bytes once per band of rows and reused by
//! every token group, whatever their format (simple formats, Q4_K, Q5_K, Q6_K).

use half::f16;
use rayon::prelude::*;

use super::formats::{f16_at, q6k_ints, scale_min_k4, WeightType};

/// Tokens per lane group (256-bit registers of 32-bit lanes).
pub const LANES: usize = 8;
/// 1.5 · 2²³: added to a float below 2²² in magnitude, it leaves the value rounded half to even
/// in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// Activations of `tokens` tokens in the token-lane layout, quantised like ggml's Q8_0 (per 32
/// values, scale 127/max rounded half to even, scale stored as f16).
pub struct LaneActivations {
    pub tokens: usize,
    pub groups: usize,
    pub blocks: usize,
    /// [group][block][step][lane][4]
    qs: Vec<i8>,
    /// [group][block][lane]
    d: Vec<f32>,
    /// d · Σq over each half block: [group][block][half][lane]
    sum16: Vec<f32>,
    /// d · Σq over the block: [group][block][lane]
    sum32: Vec<f32>,
    /// ggml's stored s = f16(d · Σq), which Q4_1/Q5_1 dot products use: [group][block][lane]
    s_f16: Vec<f32>,
    /// 128 · Σq over the block, exact: what Q8_0 weights stored with a +128 offset subtract.
    q128: Vec<i32>,
}

impl LaneActivations {
    /// Quantises `tokens` rows of `cols` values. Groups of 8 tokens are independent and own
    /// contiguous slices of every array, so they are quantised in parallel (one thread took a
    /// tenth of an encoder layer's time here).
    pub fn quantize(x: &[f32], tokens: usize, cols: usize) -> Self {
        let blocks = cols / 32;
        let groups = tokens.div_ceil(LANES);
        let mut a = LaneActivations {
            tokens,
            groups,
            blocks,
            qs: vec![0; groups * blocks * 256],
            d: vec![0.0; groups * blocks * LANES],
            sum16: vec![0.0; groups * blocks * 2 * LANES],
            sum32: vec![0.0; groups * blocks * LANES],
            s_f16: vec![0.0; groups * blocks * LANES],
            q128: vec![0; groups * blocks * LANES],
        };
        if groups == 0 || blocks == 0 {
            return a;
        }
        let per = blocks * LANES;
        a.qs.par_chunks_mut(blocks * 256)
            .zip(a.d.par_chunks_mut(per))
            .zip(a.sum16.par_chunks_mut(2 * per))
            .zip(a.sum32.par_chunks_mut(per))
            .zip(a.s_f16.par_chunks_mut(per))
            .zip(a.q128.par_chunks_mut(per))
            .enumerate()
            .with_min_len(4)
            .for_each(|(g, (((((qs, d), sum16), sum32), s_f16), q128))| {
                for lane in 0..LANES.min(tokens - g * LANES) {
                    let t = g * LANES + lane;
                    for b in 0..blocks {
                        let xs = &x[t * cols + b * 32..t * cols + b * 32 + 32];
                        let amax = xs.iter().fold(0f32, |m, v| if v.abs() > m { v.abs() } else { m });
                        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
                        let scale = f16::from_f32(amax / 127.0).to_f32();
                        // Round half to even by adding 1.5·2²³ (the sum's low mantissa bits are
                        // the integer): the same values as `round_ties_even`, and vectorised.
                        let mut q = [0i32; 32];
                        for (q, v) in q.iter_mut().zip(xs) {
                            let z = v * id + ROUND;
                            *q = (z.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32).clamp(-127, 127);
                        }
                        let lo: i32 = q[..16].iter().sum();
                        let hi: i32 = q[16..].iter().sum();
                        let base = b * 256;
                        for (step, four) in q.chunks_exact(4).enumerate() {
                            let at = base + step * 32 + lane * 4;
                            for (dst, &v) in qs[at..at + 4].iter_mut().zip(four) {
                                *dst = v as i8;
                            }
                        }
                        d[b * LANES + lane] = scale;
                        sum16[(b * 2) * LANES + lane] = scale * lo as f32;
                        sum16[(b * 2 + 1) * LANES + lane] = scale * hi as f32;
                        sum32[b * LANES + lane] = scale * (lo + hi) as f32;
                        s_f16[b * LANES + lane] = f16::from_f32((amax / 127.0) * (lo + hi) as f32).to_f32();
                        q128[b * LANES + lane] = 128 * (lo + hi);
                    }
                }
            });
        a
    }
}

pub fn supported(wtype: WeightType) -> bool {
    matches!(
        wtype,
        WeightType::Q4_0
            | WeightType::Q4_1
            | WeightType::Q5_0
            | WeightType::Q5_1
            | WeightType::Q8_0
            | WeightType::Q4K
            | WeightType::Q5K
            | WeightType::Q6K
    )
}

/// Weight rows unpacked to one byte per value, with the scale `dw` and offset factor `cw` of each
/// sub-block (x = dw·u + cw, with u the byte): sub-blocks of 32 values, or 16 for Q6_K.
pub struct Unpacked {
    pub values: Vec<u8>,
    pub dw: Vec<f32>,
    pub cw: Vec<f32>,
    pub sub: usize,
    /// Q8_0 bytes are signed values, not unsigned ones.
    pub signed: bool,
    /// Q8_0 bytes stored as q + 128 (unsigned), for VNNI's unsigned × signed dot without the two
    /// sign instructions per step; the kernel subtracts 128·Σa, so the integer sums are exact.
    /// (Not for AVX2: its 16-bit pair sums would saturate at 255 × 127 × 2.)
    pub offset128: bool,
    /// Offsets multiply ggml's f16 activation sums (Q4_1/Q5_1) rather than exact ones.
    pub uses_s_f16: bool,
    /// Steps of 4 values whose 16-bit pair products (`vpmaddubsw`) can be summed before they
    /// must be widened to 32 bits: two products of the largest value by 127 fit 16 bits this
    /// many times (4-bit values 8, 5-bit 4, 6-bit 2, 8-bit once).
    pub pair_steps: usize,
}

impl Unpacked {
    /// Room for `rows` rows of `cols` values; `vnni` says which kernel will read them.
    pub fn new(wtype: WeightType, cols: usize, rows: usize, vnni: bool) -> Self {
        let sub = if wtype == WeightType::Q6K { 16 } else { 32 };
        let q8 = wtype == WeightType::Q8_0;
        Unpacked {
            values: vec![0; rows * cols],
            dw: vec![0.0; rows * cols / sub],
            cw: vec![0.0; rows * cols / sub],
            sub,
            signed: q8 && !vnni,
            offset128: q8 && vnni,
            uses_s_f16: matches!(wtype, WeightType::Q4_1 | WeightType::Q5_1),
            pair_steps: match wtype {
                WeightType::Q4_0 | WeightType::Q4_1 | WeightType::Q4K => 8,
                WeightType::Q5_0 | WeightType::Q5_1 | WeightType::Q5K => 4,
                WeightType::Q6K => 2,
                _ => 1,
            },
        }
    }

    /// Unpacks `row` into slot `slot`.
    pub fn fill(&mut self, wtype: WeightType, slot: usize, row: &[u8], cols: usize) {
        let values = &mut self.values[slot * cols..(slot + 1) * cols];
        let subs = cols / self.sub;
        let dw = &mut self.dw[slot * subs..(slot + 1) * subs];
        let cw = &mut self.cw[slot * subs..(slot + 1) * subs];
        #[cfg(target_arch = "x86_64")]
        if super::isa() != super::Isa::Scalar {
            // SAFETY: AVX2 is present (checked by `isa`); the row holds whole blocks.
            unsafe { super::avx2::unpack_row(wtype, row, cols, values, dw, cw) };
            if self.offset128 {
                values.iter_mut().for_each(|v| *v ^= 0x80);
            }
            return;
        }
        let (_, bytes) = wtype.block();
        match wtype {
            WeightType::Q4_0 | WeightType::Q4_1 | WeightType::Q5_0 | WeightType::Q5_1 | WeightType::Q8_0 => {
                for b in 0..cols / 32 {
                    let blk = &row[b * bytes..(b + 1) * bytes];
                    let d = f16_at(blk, 0);
                    let out = &mut values[b * 32..b * 32 + 32];
                    match wtype {
                        WeightType::Q4_0 | WeightType::Q4_1 => {
                            let qs = &blk[if wtype == WeightType::Q4_0 { 2 } else { 4 }..];
                            for j in 0..16 {
                                out[j] = qs[j] & 0xF;
                                out[j + 16] = qs[j] >> 4;
                            }
                        }
                        WeightType::Q5_0 | WeightType::Q5_1 => {
                            let head = if wtype == WeightType::Q5_0 { 2 } else { 4 };
                            let qh = u32::from_le_bytes([blk[head], blk[head + 1], blk[head + 2], blk[head + 3]]);
                            let qs = &blk[head + 4..];
                            for j in 0..16 {
                                out[j] = (qs[j] & 0xF) | ((((qh >> j) & 1) as u8) << 4);
                                out[j + 16] = (qs[j] >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4);
                            }
                        }
                        _ => out.copy_from_slice(&blk[2..34]),
                    }
                    dw[b] = d;
                    cw[b] = match wtype {
                        WeightType::Q4_0 => -8.0 * d,
                        WeightType::Q5_0 => -16.0 * d,
                        WeightType::Q4_1 | WeightType::Q5_1 => f16_at(blk, 2),
                        _ => 0.0,
                    };
                }
            }
            WeightType::Q4K | WeightType::Q5K => {
                for b in 0..cols / 256 {
                    let blk = &row[b * bytes..(b + 1) * bytes];
                    let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
                    let five = wtype == WeightType::Q5K;
                    let (qh, ql) = if five { (&blk[16..48], &blk[48..176]) } else { (&blk[0..0], &blk[16..144]) };
                    for j in 0..8 {
                        let (sc, m) = scale_min_k4(j, &blk[4..16]);
                        dw[b * 8 + j] = d * sc as f32;
                        cw[b * 8 + j] = -dmin * m as f32;
                        let q = &ql[(j / 2) * 32..(j / 2) * 32 + 32];
                        let out = &mut values[b * 256 + j * 32..b * 256 + j * 32 + 32];
                        for l in 0..32 {
                            let mut v = if j % 2 == 0 { q[l] & 0xF } else { q[l] >> 4 };
                            if five {
                                v |= ((qh[l] >> j) & 1) << 4;
                            }
                            out[l] = v;
                        }
                    }
                }
            }
            WeightType::Q6K => {
                let mut q = [0i32; 256];
                for b in 0..cols / 256 {
                    let blk = &row[b * bytes..(b + 1) * bytes];
                    q6k_ints(blk, &mut q);
                    let d = f16_at(blk, 208);
                    for (i, v) in q.iter().enumerate() {
                        values[b * 256 + i] = (v + 32) as u8;
                    }
                    for g in 0..16 {
                        let s = d * (blk[192 + g] as i8) as f32;
                        dw[b * 16 + g] = s;
                        cw[b * 16 + g] = -32.0 * s;
                    }
                }
            }
            _ => unreachable!("not a GEMM format"),
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub mod x86 {
    use std::arch::x86_64::*;

    use super::{LaneActivations, Unpacked, LANES};

    /// The integer dot of 4 values of each lane with the broadcast weight bytes, accumulated in
    /// two stages: `step` into a partial sum, `widen` the partial sum into the 32-bit total. The
    /// partial sum of AVX2 is 16-bit pairs (`vpmaddubsw`), so several steps share one `vpmaddwd`
    /// (`Unpacked::pair_steps` of them); VNNI's is already 32-bit.
    pub trait Dot {
        /// Steps a partial sum may take before `widen`, given the format's `pair_steps`.
        fn steps(pair_steps: usize) -> usize;
        /// # Safety
        /// The CPU has the instructions of the implementation (AVX2; AVX-512 VNNI for `Vnni`).
        unsafe fn step(partial: __m256i, w: __m256i, a: __m256i) -> __m256i;
        /// # Safety
        /// As for `step`.
        unsafe fn step_signed(partial: __m256i, w: __m256i, a: __m256i) -> __m256i;
        /// # Safety
        /// As for `step`.
        unsafe fn widen(total: __m256i, partial: __m256i) -> __m256i;
    }

    pub struct Avx2;
    impl Dot for Avx2 {
        fn steps(pair_steps: usize) -> usize {
            pair_steps
        }
        #[inline(always)]
        unsafe fn step(partial: __m256i, w: __m256i, a: __m256i) -> __m256i {
            _mm256_add_epi16(partial, _mm256_maddubs_epi16(w, a))
        }
        #[inline(always)]
        unsafe fn step_signed(partial: __m256i, w: __m256i, a: __m256i) -> __m256i {
            _mm256_add_epi16(partial, _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w)))
        }
        #[inline(always)]
        unsafe fn widen(total: __m256i, partial: __m256i) -> __m256i {
            _mm256_add_epi32(total, _mm256_madd_epi16(partial, _mm256_set1_epi16(1)))
        }
    }

    pub struct Vnni;
    impl Dot for Vnni {
        fn steps(_: usize) -> usize {
            8
        }
        #[inline(always)]
        unsafe fn step(partial: __m256i, w: __m256i, a: __m256i) -> __m256i {
            _mm256_dpbusd_epi32(partial, w, a)
        }
        #[inline(always)]
        unsafe fn step_signed(partial: __m256i, w: __m256i, a: __m256i) -> __m256i {
            // u8·s8 only: make the weight unsigned by sign transfer onto the activation.
            _mm256_dpbusd_epi32(partial, _mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w))
        }
        #[inline(always)]
        unsafe fn widen(total: __m256i, partial: __m256i) -> __m256i {
            _mm256_add_epi32(total, partial)
        }
    }

    /// Σ over `steps` (a range of 4-value steps of one block) of the rows' integer dots with
    /// the token lanes, `per` steps to a partial sum.
    ///
    /// # Safety
    /// As for `rows_times_tokens`; `steps` lies within the block at `a_ptr` / column `col`.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn block_dots<D: Dot, const R: usize>(
        u: &Unpacked,
        cols: usize,
        col: usize,
        a_ptr: *const i8,
        steps: std::ops::Range<usize>,
        per: usize,
    ) -> [__m256i; R] {
        let mut total = [_mm256_setzero_si256(); R];
        let mut first = steps.start;
        while first < steps.end {
            let mut partial = [_mm256_setzero_si256(); R];
            for step in first..(first + per).min(steps.end) {
                let a = _mm256_loadu_si256(a_ptr.add(step * 32) as *const __m256i);
                for r in 0..R {
                    let wv = (u.values.as_ptr().add(r * cols + col + step * 4) as *const i32).read_unaligned();
                    let w = _mm256_set1_epi32(wv);
                    partial[r] = if u.signed { D::step_signed(partial[r], w, a) } else { D::step(partial[r], w, a) };
                }
            }
            for r in 0..R {
                total[r] = D::widen(total[r], partial[r]);
            }
            first += per;
        }
        total
    }

    /// `out[t][r]` for `R` unpacked rows (slots 0..R) and all tokens.
    ///
    /// # Safety
    /// The CPU has `D`'s instructions; `u` holds `R` rows of `cols` values and `acts` was
    /// quantized for `cols` columns (the pointer arithmetic relies on both).
    // Indexing by the row number over `0..R` (a constant) is what unrolls into registers.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    pub unsafe fn rows_times_tokens<D: Dot, const R: usize>(
        u: &Unpacked,
        cols: usize,
        acts: &LaneActivations,
        groups: std::ops::Range<usize>,
        mut write: impl FnMut(usize, usize, f32),
    ) {
        let subs_per_row = cols / u.sub;
        let per = D::steps(u.pair_steps).max(1);
        for g in groups {
            let mut acc = [_mm256_setzero_ps(); R];
            for b in 0..acts.blocks {
                let s = g * acts.blocks + b;
                let a_ptr = acts.qs.as_ptr().add(s * 256);
                let dav = _mm256_loadu_ps(acts.d.as_ptr().add(s * LANES));
                if u.sub == 32 {
                    let mut isum = block_dots::<D, R>(u, cols, b * 32, a_ptr, 0..8, per);
                    if u.offset128 {
                        let q128 = _mm256_loadu_si256(acts.q128.as_ptr().add(s * LANES) as *const __m256i);
                        for r in 0..R {
                            isum[r] = _mm256_sub_epi32(isum[r], q128);
                        }
                    }
                    let sums = if u.uses_s_f16 {
                        _mm256_loadu_ps(acts.s_f16.as_ptr().add(s * LANES))
                    } else {
                        _mm256_loadu_ps(acts.sum32.as_ptr().add(s * LANES))
                    };
                    for r in 0..R {
                        let k = r * subs_per_row + b;
                        let scale = _mm256_mul_ps(dav, _mm256_set1_ps(*u.dw.get_unchecked(k)));
                        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), scale, acc[r]);
                        acc[r] = _mm256_fmadd_ps(sums, _mm256_set1_ps(*u.cw.get_unchecked(k)), acc[r]);
                    }
                } else {
                    for half in 0..2 {
                        let isum = block_dots::<D, R>(u, cols, b * 32, a_ptr, half * 4..half * 4 + 4, per);
                        let sums = _mm256_loadu_ps(acts.sum16.as_ptr().add((s * 2 + half) * LANES));
                        for r in 0..R {
                            let k = r * subs_per_row + b * 2 + half;
                            let scale = _mm256_mul_ps(dav, _mm256_set1_ps(*u.dw.get_unchecked(k)));
                            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), scale, acc[r]);
                            acc[r] = _mm256_fmadd_ps(sums, _mm256_set1_ps(*u.cw.get_unchecked(k)), acc[r]);
                        }
                    }
                }
            }
            for r in 0..R {
                let mut lanes = [0f32; LANES];
                _mm256_storeu_ps(lanes.as_mut_ptr(), acc[r]);
                for (lane, v) in lanes.iter().enumerate() {
                    let t = g * LANES + lane;
                    if t < acts.tokens {
                        write(r, t, *v);
                    }
                }
            }
        }
    }

    /// # Safety
    /// The CPU has AVX2 and FMA; the shapes are as for `rows_times_tokens`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn run_avx2<const R: usize>(
        u: &Unpacked,
        cols: usize,
        acts: &LaneActivations,
        groups: std::ops::Range<usize>,
        write: impl FnMut(usize, usize, f32),
    ) {
        rows_times_tokens::<Avx2, R>(u, cols, acts, groups, write)
    }

    /// # Safety
    /// The CPU has AVX2, FMA, AVX-512 VNNI and VL; the shapes are as for `rows_times_tokens`.
    #[target_feature(enable = "avx2,fma,avx512vnni,avx512vl")]
    pub unsafe fn run_vnni<const R: usize>(
        u: &Unpacked,
        cols: usize,
        acts: &LaneActivations,
        groups: std::ops::Range<usize>,
        write: impl FnMut(usize, usize, f32),
    ) {
        rows_times_tokens::<Vnni, R>(u, cols, acts, groups, write)
    }
}
