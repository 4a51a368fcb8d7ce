//! AVX2 kernels: tiles of R weight rows × C tokens. A tile unpacks each weight block once and
//! uses it against C tokens' activation blocks, so prompt processing reads weights R·C times less
//! often than a row-by-row loop. Integer products use `maddubs` (u8 × i8 → i16 pairs) and `madd`
//! (→ i32); block scales are applied in f32.

#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;

use super::formats::{f16_at, scale_min_k4, Q8KRow, Q8Row, WeightType};

#[inline(always)]
unsafe fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps(v, 1);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

#[inline(always)]
unsafe fn hsum_i32(v: __m256i) -> i32 {
    let lo = _mm256_castsi256_si128(v);
    let hi = _mm256_extracti128_si256(v, 1);
    let s = _mm_add_epi32(lo, hi);
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
    _mm_cvtsi128_si32(s)
}

/// 16 bytes of nibbles → 32 bytes: low nibbles first (elements 0..15), then high (16..31).
#[inline(always)]
unsafe fn nibbles(p: *const u8) -> __m256i {
    let raw = _mm_loadu_si128(p as *const __m128i);
    let hi = _mm_srli_epi16(raw, 4);
    _mm256_and_si256(_mm256_set_m128i(hi, raw), _mm256_set1_epi8(0x0F))
}

/// 32 bits → 32 bytes of 0xFF where the bit is set.
#[inline(always)]
unsafe fn bits_to_bytes(bits: u32) -> __m256i {
    let v = _mm256_set1_epi32(bits as i32);
    let shuffled = _mm256_shuffle_epi8(
        v,
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000),
    );
    let mask = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
    _mm256_cmpeq_epi8(_mm256_or_si256(shuffled, mask), _mm256_set1_epi64x(-1))
}

/// A simple-format block unpacked: unsigned values (or signed for Q8_0), scale, and the offset
/// `c` with x = d·u + c.
#[inline(always)]
pub(super) unsafe fn unpack_simple(wtype: WeightType, blk: *const u8) -> (__m256i, f32, f32) {
    let d = f16_at(std::slice::from_raw_parts(blk, 4), 0);
    match wtype {
        WeightType::Q4_0 => (nibbles(blk.add(2)), d, -8.0 * d),
        WeightType::Q4_1 => (nibbles(blk.add(4)), d, f16_at(std::slice::from_raw_parts(blk, 4), 2)),
        WeightType::Q5_0 | WeightType::Q5_1 => {
            let head = if wtype == WeightType::Q5_0 { 2 } else { 4 };
            let qh = u32::from_le_bytes(*(blk.add(head) as *const [u8; 4]));
            let high = _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10));
            let v = _mm256_or_si256(nibbles(blk.add(head + 4)), high);
            let c = if wtype == WeightType::Q5_0 { -16.0 * d } else { f16_at(std::slice::from_raw_parts(blk, 4), 2) };
            (v, d, c)
        }
        WeightType::Q8_0 => (_mm256_loadu_si256(blk.add(2) as *const __m256i), d, 0.0),
        _ => unreachable!(),
    }
}

/// `out[r][t] = dot(rows[r], acts[t])` for a simple format.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn tile_simple<const R: usize, const C: usize>(
    wtype: WeightType,
    rows: &[&[u8]; R],
    acts: &[&Q8Row; C],
    out: &mut [[f32; C]; R],
) {
    let bytes = wtype.block().1;
    let blocks = acts[0].d.len();
    let signed = wtype == WeightType::Q8_0;
    let ones = _mm256_set1_epi16(1);
    let mut acc = [[_mm256_setzero_ps(); C]; R];
    let mut corr = [[0f32; C]; R];
    // Offsets of Q4_0/Q5_0 meet d·sum of the int8 values; those of Q4_1/Q5_1 ggml's stored s.
    let exact_sum = matches!(wtype, WeightType::Q4_0 | WeightType::Q5_0);
    for b in 0..blocks {
        let mut w = [_mm256_setzero_si256(); R];
        let mut dw = [0f32; R];
        let mut cw = [0f32; R];
        for r in 0..R {
            let (v, d, c) = unpack_simple(wtype, rows[r].as_ptr().add(b * bytes));
            w[r] = v;
            dw[r] = d;
            cw[r] = c;
        }
        let mut wabs = w;
        if signed {
            for r in 0..R {
                wabs[r] = _mm256_sign_epi8(w[r], w[r]);
            }
        }
        for t in 0..C {
            let a = _mm256_loadu_si256(acts[t].qs.as_ptr().add(b * 32) as *const __m256i);
            let da = acts[t].d[b];
            let sa = if exact_sum { da * acts[t].sums[b] as f32 } else { acts[t].s[b] };
            for r in 0..R {
                let p = if signed {
                    _mm256_maddubs_epi16(wabs[r], _mm256_sign_epi8(a, w[r]))
                } else {
                    _mm256_maddubs_epi16(w[r], a)
                };
                let p32 = _mm256_madd_epi16(p, ones);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(dw[r] * da), acc[r][t]);
                corr[r][t] += cw[r] * sa;
            }
        }
    }
    for r in 0..R {
        for t in 0..C {
            out[r][t] = hsum(acc[r][t]) + corr[r][t];
        }
    }
}

/// Unpacks one Q4_K/Q5_K/Q6_K block of a row into 256 unsigned values and its integer scales.
/// Returns (d, dmin); `mins` is unused for Q6_K.
#[inline(always)]
pub(super) unsafe fn unpack_k(
    wtype: WeightType,
    blk: &[u8],
    values: &mut [u8; 256],
    scales: &mut [i16; 16],
    mins: &mut [i16; 8],
) -> (f32, f32) {
    let out = values.as_mut_ptr();
    match wtype {
        WeightType::Q4K | WeightType::Q5K => {
            let sc = &blk[4..16];
            for j in 0..8 {
                let (s, m) = scale_min_k4(j, sc);
                scales[j] = s as i16;
                mins[j] = m as i16;
            }
            let five = wtype == WeightType::Q5K;
            let ql = if five { &blk[48..176] } else { &blk[16..144] };
            let qh =
                if five { _mm256_loadu_si256(blk.as_ptr().add(16) as *const __m256i) } else { _mm256_setzero_si256() };
            let low4 = _mm256_set1_epi8(0x0F);
            for chunk in 0..4 {
                let q = _mm256_loadu_si256(ql.as_ptr().add(chunk * 32) as *const __m256i);
                let mut lo = _mm256_and_si256(q, low4);
                let mut hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
                if five {
                    // Bit 2·chunk of each qh byte is the fifth bit of the low half, bit 2·chunk+1 of the high.
                    let b0 = _mm256_and_si256(
                        _mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * chunk as i32)),
                        _mm256_set1_epi8(1),
                    );
                    let b1 = _mm256_and_si256(
                        _mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * chunk as i32 + 1)),
                        _mm256_set1_epi8(1),
                    );
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(b0, 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(b1, 4));
                }
                _mm256_storeu_si256(out.add(chunk * 64) as *mut __m256i, lo);
                _mm256_storeu_si256(out.add(chunk * 64 + 32) as *mut __m256i, hi);
            }
            (f16_at(blk, 0), f16_at(blk, 2))
        }
        WeightType::Q6K => {
            for g in 0..16 {
                scales[g] = (blk[192 + g] as i8) as i16;
            }
            let low4 = _mm256_set1_epi8(0x0F);
            let three = _mm256_set1_epi8(3);
            for half in 0..2 {
                let ql = blk.as_ptr().add(half * 64);
                let qh = _mm256_loadu_si256(blk.as_ptr().add(128 + half * 32) as *const __m256i);
                let l0 = _mm256_loadu_si256(ql as *const __m256i);
                let l1 = _mm256_loadu_si256(ql.add(32) as *const __m256i);
                let h = |shift: i32| {
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(shift)), three), 4)
                };
                let q0 = _mm256_or_si256(_mm256_and_si256(l0, low4), h(0));
                let q1 = _mm256_or_si256(_mm256_and_si256(l1, low4), h(2));
                let q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), h(4));
                let q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4), h(6));
                let base = out.add(half * 128);
                _mm256_storeu_si256(base as *mut __m256i, q0);
                _mm256_storeu_si256(base.add(32) as *mut __m256i, q1);
                _mm256_storeu_si256(base.add(64) as *mut __m256i, q2);
                _mm256_storeu_si256(base.add(96) as *mut __m256i, q3);
            }
            (f16_at(blk, 208), 0.0)
        }
        _ => unreachable!(),
    }
}

/// `out[r][t] = dot(rows[r], acts[t])` for Q4_K, Q5_K and Q6_K.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn tile_k<const R: usize, const C: usize>(
    wtype: WeightType,
    rows: &[&[u8]; R],
    acts: &[&Q8KRow; C],
    out: &mut [[f32; C]; R],
) {
    let bytes = wtype.block().1;
    let blocks = acts[0].d.len();
    let q6 = wtype == WeightType::Q6K;
    let mut acc = [[_mm256_setzero_ps(); C]; R];
    let mut corr = [[0f32; C]; R];
    let mut values = [[0u8; 256]; R];
    let mut scales = [[0i16; 16]; R];
    let mut mins = [[0i16; 8]; R];
    let mut dw = [(0f32, 0f32); R];
    for b in 0..blocks {
        for r in 0..R {
            dw[r] = unpack_k(wtype, &rows[r][b * bytes..(b + 1) * bytes], &mut values[r], &mut scales[r], &mut mins[r]);
        }
        for t in 0..C {
            let a = acts[t].qs.as_ptr().add(b * 256);
            let bsums = &acts[t].bsums[b * 16..b * 16 + 16];
            let da = acts[t].d[b];
            for r in 0..R {
                let v = values[r].as_ptr();
                let mut isum = _mm256_setzero_si256();
                for j in 0..8 {
                    let w = _mm256_loadu_si256(v.add(j * 32) as *const __m256i);
                    let x = _mm256_loadu_si256(a.add(j * 32) as *const __m256i);
                    let p = _mm256_maddubs_epi16(w, x);
                    let s = if q6 {
                        // Lanes 0..7 hold elements 0..15 (scale 2j), lanes 8..15 the next 16.
                        let lo = _mm_set1_epi16(scales[r][2 * j]);
                        let hi = _mm_set1_epi16(scales[r][2 * j + 1]);
                        _mm256_set_m128i(hi, lo)
                    } else {
                        _mm256_set1_epi16(scales[r][j])
                    };
                    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, s));
                }
                if q6 {
                    // Values were stored without their −32 offset: take 32·Σ scale·bsum back out.
                    let sc = _mm256_loadu_si256(scales[r].as_ptr() as *const __m256i);
                    let bs = _mm256_loadu_si256(bsums.as_ptr() as *const __m256i);
                    let off = hsum_i32(_mm256_madd_epi16(sc, bs));
                    let total = hsum_i32(isum) - 32 * off;
                    corr[r][t] += dw[r].0 * da * total as f32;
                } else {
                    acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(dw[r].0 * da), acc[r][t]);
                    let mut msum = 0i32;
                    for j in 0..8 {
                        msum += mins[r][j] as i32 * (bsums[2 * j] as i32 + bsums[2 * j + 1] as i32);
                    }
                    corr[r][t] -= dw[r].1 * da * msum as f32;
                }
            }
        }
    }
    for r in 0..R {
        for t in 0..C {
            out[r][t] = hsum(acc[r][t]) + corr[r][t];
        }
    }
}

/// Unpacks a whole row for the GEMM: bytes, and per sub-block scale and offset factor.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn unpack_row(
    wtype: WeightType,
    row: &[u8],
    cols: usize,
    values: &mut [u8],
    dw: &mut [f32],
    cw: &mut [f32],
) {
    let bytes = wtype.block().1;
    match wtype {
        WeightType::Q4_0 | WeightType::Q4_1 | WeightType::Q5_0 | WeightType::Q5_1 | WeightType::Q8_0 => {
            for b in 0..cols / 32 {
                let (v, d, c) = unpack_simple(wtype, row.as_ptr().add(b * bytes));
                _mm256_storeu_si256(values.as_mut_ptr().add(b * 32) as *mut __m256i, v);
                dw[b] = d;
                cw[b] = c;
            }
        }
        WeightType::Q4K | WeightType::Q5K | WeightType::Q6K => {
            let (mut vals, mut scales, mut mins) = ([0u8; 256], [0i16; 16], [0i16; 8]);
            for b in 0..cols / 256 {
                let (d, dmin) = unpack_k(wtype, &row[b * bytes..(b + 1) * bytes], &mut vals, &mut scales, &mut mins);
                values[b * 256..b * 256 + 256].copy_from_slice(&vals);
                if wtype == WeightType::Q6K {
                    for g in 0..16 {
                        dw[b * 16 + g] = d * scales[g] as f32;
                        cw[b * 16 + g] = -32.0 * d * scales[g] as f32;
                    }
                } else {
                    for j in 0..8 {
                        dw[b * 8 + j] = d * scales[j] as f32;
                        cw[b * 8 + j] = -dmin * mins[j] as f32;
                    }
                }
            }
        }
        _ => unreachable!("not a GEMM format"),
    }
}

/// One row · one token for simple formats (decoding): a plain loop the compiler keeps in
/// registers, two accumulators to hide the FMA latency. Q4_0, Q5_0 and Q8_0 values are made
/// signed (less 8 or 16) and multiplied through the sign trick, so a block needs no scalar
/// offset term: summed in one scalar, that term made a chain of dependent additions that held
/// every block back (and Q8_0, whose offset is zero, paid it too). Q4_1 and Q5_1, whose offsets
/// are stored per block, keep it, in two scalars.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_simple<const W: u8>(row: &[u8], act: &Q8Row) -> f32 {
    let wtype = simple_type::<W>();
    let bytes = wtype.block().1;
    let blocks = act.d.len();
    let (qs, ds, ss) = (act.qs.as_ptr(), act.d.as_ptr(), act.s.as_ptr());
    let signed = matches!(wtype, WeightType::Q4_0 | WeightType::Q5_0 | WeightType::Q8_0);
    let bias = _mm256_set1_epi8(match wtype {
        WeightType::Q4_0 => 8,
        WeightType::Q5_0 => 16,
        _ => 0,
    });
    let ones = _mm256_set1_epi16(1);
    let p = row.as_ptr();
    // d·(w·a) of one block, and its offset term (Q4_1/Q5_1 only).
    let block = |b: usize| -> (__m256, __m256, f32) {
        let (w, d, c) = unpack_simple(wtype, p.add(b * bytes));
        let a = _mm256_loadu_si256(qs.add(b * 32) as *const __m256i);
        let da = *ds.add(b);
        let prod = if signed {
            let w = _mm256_sub_epi8(w, bias);
            _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w))
        } else {
            _mm256_maddubs_epi16(w, a)
        };
        let v = _mm256_cvtepi32_ps(_mm256_madd_epi16(prod, ones));
        (v, _mm256_set1_ps(d * da), if signed { 0.0 } else { c * *ss.add(b) })
    };
    // Two accumulators, even and odd blocks, named rather than an array indexed by the block
    // number: that kept them in memory, a store and a reload on every block.
    let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut corr_even, mut corr_odd) = (0f32, 0f32);
    let mut b = 0;
    while b + 1 < blocks {
        let (v, s, c) = block(b);
        even = _mm256_fmadd_ps(v, s, even);
        let (v2, s2, c2) = block(b + 1);
        odd = _mm256_fmadd_ps(v2, s2, odd);
        if !signed {
            corr_even += c;
            corr_odd += c2;
        }
        b += 2;
    }
    if b < blocks {
        let (v, s, c) = block(b);
        even = _mm256_fmadd_ps(v, s, even);
        if !signed {
            corr_even += c;
        }
    }
    hsum(_mm256_add_ps(even, odd)) + (corr_even + corr_odd)
}

/// The simple format a const parameter stands for (0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1, 4 Q8_0).
#[inline(always)]
pub const fn simple_type<const W: u8>() -> WeightType {
    match W {
        0 => WeightType::Q4_0,
        1 => WeightType::Q4_1,
        2 => WeightType::Q5_0,
        3 => WeightType::Q5_1,
        _ => WeightType::Q8_0,
    }
}

/// One row · one token for Q4_K/Q5_K/Q6_K (decoding). Each format has its own loop that keeps a
/// block's values in registers from the load to the product: unpacking a block into a buffer
/// first (as the prompt tiles do, where the unpacked block serves several tokens) stored and
/// reloaded 256 bytes a block, and decoding, which uses each block once, spent a third of its
/// time there (qwen2.5-1.5b Q4_K_M).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_k(wtype: WeightType, row: &[u8], act: &Q8KRow) -> f32 {
    match wtype {
        WeightType::Q4K => dot_q45k::<false>(row, act),
        WeightType::Q5K => dot_q45k::<true>(row, act),
        WeightType::Q6K => dot_q6k(row, act),
        _ => unreachable!("not a k-quant with a kernel"),
    }
}

/// The eight 6-bit scales and eight 6-bit mins of a Q4_K/Q5_K block (12 packed bytes at
/// `packed`), as 16 bytes: scales in bytes 0..8, mins in 8..16. Scales and mins 0..3 are the low
/// six bits of bytes 0..3 and 4..7; those of 4..7 take their low four bits from the nibbles of
/// bytes 8..11 and their top two from the spare bits 6..7 of bytes 0..3 (scales) and 4..7 (mins).
#[inline(always)]
unsafe fn k4_scales_mins(packed: *const u8) -> __m128i {
    let word = |i: usize| u32::from_le_bytes(*(packed.add(4 * i) as *const [u8; 4]));
    let (a, b, c) = (word(0), word(1), word(2));
    const LOW6: u32 = 0x3F3F_3F3F;
    const LOW4: u32 = 0x0F0F_0F0F;
    const LOW2: u32 = 0x0303_0303;
    let scales_lo = a & LOW6;
    let scales_hi = (c & LOW4) | (((a >> 6) & LOW2) << 4);
    let mins_lo = b & LOW6;
    let mins_hi = ((c >> 4) & LOW4) | (((b >> 6) & LOW2) << 4);
    _mm_set_epi32(mins_hi as i32, mins_lo as i32, scales_hi as i32, scales_lo as i32)
}

/// Q4_K (`FIVE = false`) or Q5_K · Q8_K. Per block: the 4-bit values of 64 elements come from one
/// 32-byte load (low nibbles the first 32, high the next), the fifth bits of Q5_K from one
/// 32-byte load shifted two bits a step; products are summed per sub-block of 32 with its scale;
/// the mins meet the activations' 16-element sums once per block.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_q45k<const FIVE: bool>(row: &[u8], act: &Q8KRow) -> f32 {
    let bytes = if FIVE { 176 } else { 144 };
    let quants = if FIVE { 48 } else { 16 };
    let low4 = _mm256_set1_epi8(0x0F);
    let bit4 = _mm256_set1_epi8(0x10);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_ps();
    let mut acc_min = _mm_setzero_ps();
    let p = row.as_ptr();
    for b in 0..act.d.len() {
        let blk = p.add(b * bytes);
        let da = *act.d.get_unchecked(b);
        let d = da * f16_at(std::slice::from_raw_parts(blk, 4), 0);
        let dmin = da * f16_at(std::slice::from_raw_parts(blk, 4), 2);
        let sm = _mm256_cvtepu8_epi16(k4_scales_mins(blk.add(4)));
        let mut scales = [0i16; 16];
        _mm256_storeu_si256(scales.as_mut_ptr() as *mut __m256i, sm);
        // Σ min_j · (sum of sub-block j's activations): pairs of 16-element sums, times the mins.
        let bsums = _mm256_loadu_si256(act.bsums.as_ptr().add(b * 16) as *const __m256i);
        let pairs = _mm256_madd_epi16(bsums, ones);
        let pairs = _mm_packs_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
        let mins = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pairs);
        acc_min = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(mins), acc_min);

        let mut high = if FIVE { _mm256_loadu_si256(blk.add(16) as *const __m256i) } else { _mm256_setzero_si256() };
        let a = act.qs.as_ptr().add(b * 256);
        let mut sum = _mm256_setzero_si256();
        for j in 0..4 {
            let q = _mm256_loadu_si256(blk.add(quants + 32 * j) as *const __m256i);
            let mut lo = _mm256_and_si256(q, low4);
            let mut hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if FIVE {
                // Bit 0 of each byte of `high` is the fifth bit of the low half, bit 1 of the high.
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(high, 4), bit4));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(high, 3), bit4));
                high = _mm256_srli_epi16(high, 2);
            }
            let x_lo = _mm256_loadu_si256(a.add(64 * j) as *const __m256i);
            let x_hi = _mm256_loadu_si256(a.add(64 * j + 32) as *const __m256i);
            let p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x_lo), _mm256_set1_epi16(scales[2 * j]));
            let p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x_hi), _mm256_set1_epi16(scales[2 * j + 1]));
            sum = _mm256_add_epi32(sum, _mm256_add_epi32(p_lo, p_hi));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    }
    let m = _mm_add_ps(acc_min, _mm_movehl_ps(acc_min, acc_min));
    let m = _mm_add_ss(m, _mm_movehdup_ps(m));
    hsum(acc) - _mm_cvtss_f32(m)
}

/// Q6_K · Q8_K. Per half block (128 elements): two 32-byte loads of low nibbles and one of high
/// bit pairs give four vectors of 32 six-bit values; each 16 elements have their own scale, set
/// beside the next one's in one vector. Values are used without their −32 offset, which comes
/// back out once per block through the activations' 16-element sums.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_q6k(row: &[u8], act: &Q8KRow) -> f32 {
    let low4 = _mm256_set1_epi8(0x0F);
    let three = _mm256_set1_epi8(0x30);
    let mut acc = _mm256_setzero_ps();
    let p = row.as_ptr();
    for b in 0..act.d.len() {
        let blk = p.add(b * 210);
        let d = *act.d.get_unchecked(b) * f16_at(std::slice::from_raw_parts(blk.add(208), 2), 0);
        let sc8 = _mm_loadu_si128(blk.add(192) as *const __m128i);
        let sc16 = _mm256_cvtepi8_epi16(sc8);
        let bsums = _mm256_loadu_si256(act.bsums.as_ptr().add(b * 16) as *const __m256i);
        let offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums), 5);
        // Scale pair (2k, 2k+1) as 8 + 8 words: byte shuffles of the 16 scales, then widened.
        let pair = |k: i64| {
            let m = _mm_set_epi64x((2 * k + 1) * 0x0101_0101_0101_0101, 2 * k * 0x0101_0101_0101_0101);
            _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, m))
        };
        let a = act.qs.as_ptr().add(b * 256);
        let mut sum = _mm256_setzero_si256();
        for half in 0..2 {
            let ql = blk.add(64 * half);
            let qh = _mm256_loadu_si256(blk.add(128 + 32 * half) as *const __m256i);
            let l0 = _mm256_loadu_si256(ql as *const __m256i);
            let l1 = _mm256_loadu_si256(ql.add(32) as *const __m256i);
            let q = [
                _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), three)),
                _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), three)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(qh, three)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                    _mm256_and_si256(_mm256_srli_epi16(qh, 2), three),
                ),
            ];
            for (k, values) in q.into_iter().enumerate() {
                let x = _mm256_loadu_si256(a.add(128 * half + 32 * k) as *const __m256i);
                let s = pair((4 * half + k) as i64);
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(values, x), s));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, offset)), acc);
    }
    hsum(acc)
}
