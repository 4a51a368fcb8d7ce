//! GGML block formats: sizes, scalar dequantisation, and the quantisation of activations that
//! quantised dot products take (Q8 blocks of 32 for the simple formats, Q8_K blocks of 256 for
//! k-quants), with llama.cpp's rounding so results match its CPU backend.

use half::f16;

/// Weight formats Folio reads. Q2_K, Q3_K and the float formats go through a generic path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
}

impl WeightType {
    /// (elements per block, bytes per block)
    pub const fn block(self) -> (usize, usize) {
        match self {
            WeightType::F32 => (1, 4),
            WeightType::F16 | WeightType::BF16 => (1, 2),
            WeightType::Q4_0 => (32, 18),
            WeightType::Q4_1 => (32, 20),
            WeightType::Q5_0 => (32, 22),
            WeightType::Q5_1 => (32, 24),
            WeightType::Q8_0 => (32, 34),
            WeightType::Q2K => (256, 84),
            WeightType::Q3K => (256, 110),
            WeightType::Q4K => (256, 144),
            WeightType::Q5K => (256, 176),
            WeightType::Q6K => (256, 210),
        }
    }

    pub fn row_bytes(self, cols: usize) -> usize {
        let (elements, bytes) = self.block();
        cols / elements * bytes
    }

    /// The activation format its dot product takes.
    pub const fn activation(self) -> ActivationType {
        match self {
            WeightType::Q4_0 | WeightType::Q5_0 | WeightType::Q8_0 | WeightType::Q4_1 | WeightType::Q5_1 => {
                ActivationType::Q8
            }
            WeightType::Q4K | WeightType::Q5K | WeightType::Q6K => ActivationType::Q8K,
            // Formats without a kernel of ours are dequantised and meet float activations.
            WeightType::Q2K | WeightType::Q3K | WeightType::F32 | WeightType::F16 | WeightType::BF16 => {
                ActivationType::F32
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationType {
    F32,
    Q8,
    Q8K,
}

#[inline]
pub fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// An activation row quantised in blocks of 32: int8 values, the block scale (rounded through f16
/// as ggml stores it) and scale × sum of the values (for formats with an offset).
#[derive(Clone, Default)]
pub struct Q8Row {
    pub qs: Vec<i8>,
    pub d: Vec<f32>,
    pub s: Vec<f32>,
    /// Sum of the int8 values of each block.
    pub sums: Vec<i32>,
}

pub fn quantize_q8(x: &[f32], row: &mut Q8Row) {
    let blocks = x.len() / 32;
    row.qs.resize(x.len(), 0);
    row.d.resize(blocks, 0.0);
    row.s.resize(blocks, 0.0);
    row.sums.resize(blocks, 0);
    for b in 0..blocks {
        let xs = &x[b * 32..b * 32 + 32];
        let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        // As ggml's x86 path computes it (127/amax, rounding half to even), not its reference
        // path (1/d, half away from zero): the last bit decides some greedy tokens.
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        let mut sum = 0i32;
        for (i, v) in xs.iter().enumerate() {
            let q = ((v * id).round_ties_even() as i32).clamp(-127, 127);
            row.qs[b * 32 + i] = q as i8;
            sum += q;
        }
        let d16 = f16::from_f32(d).to_f32();
        row.d[b] = d16;
        row.sums[b] = sum;
        row.s[b] = f16::from_f32(d * sum as f32).to_f32();
    }
}

/// Weights as Q8_0 rows (blocks of 32: an f16 scale, then 32 int8 values), for matrices that
/// arrive in a float format (the embedders' safetensors) and should run on the integer kernels.
/// `x.len()` is a multiple of 32.
pub fn quantize_q8_0_weights(x: &[f32], out: &mut Vec<u8>) {
    for xs in x.chunks_exact(32) {
        let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend(xs.iter().map(|v| ((v * id).round() as i32).clamp(-127, 127) as i8 as u8));
    }
}

/// An activation row quantised in blocks of 256 (ggml's Q8_K): int8 values, an f32 scale per
/// block, and sums of each 16 values.
#[derive(Clone, Default)]
pub struct Q8KRow {
    pub qs: Vec<i8>,
    pub d: Vec<f32>,
    pub bsums: Vec<i16>,
}

pub fn quantize_q8k(x: &[f32], row: &mut Q8KRow) {
    let blocks = x.len() / 256;
    row.qs.resize(x.len(), 0);
    row.d.resize(blocks, 0.0);
    row.bsums.resize(blocks * 16, 0);
    for b in 0..blocks {
        let xs = &x[b * 256..b * 256 + 256];
        let (mut amax, mut max) = (0f32, 0f32);
        for &v in xs {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        let qs = &mut row.qs[b * 256..b * 256 + 256];
        if amax == 0.0 {
            row.d[b] = 0.0;
            qs.fill(0);
            row.bsums[b * 16..b * 16 + 16].fill(0);
            continue;
        }
        let iscale = -128.0 / max;
        for (q, &v) in qs.iter_mut().zip(xs) {
            // nearest_int in ggml rounds half to even.
            *q = ((iscale * v).round_ties_even() as i32).min(127) as i8;
        }
        for g in 0..16 {
            row.bsums[b * 16 + g] = qs[g * 16..g * 16 + 16].iter().map(|&q| q as i16).sum();
        }
        row.d[b] = 1.0 / iscale;
    }
}

/// Scale and min of sub-block `j` of a Q4_K/Q5_K block (6-bit packed).
#[inline]
pub fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// Dequantises one row (`out.len()` elements) of `wtype` data.
pub fn dequantize_row(wtype: WeightType, data: &[u8], out: &mut [f32]) {
    let (qk, bytes) = wtype.block();
    let blocks = out.len() / qk;
    match wtype {
        WeightType::F32 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        WeightType::F16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = f16::from_le_bytes([c[0], c[1]]).to_f32();
            }
        }
        WeightType::BF16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = half::bf16::from_le_bytes([c[0], c[1]]).to_f32();
            }
        }
        WeightType::Q4_0 | WeightType::Q4_1 | WeightType::Q5_0 | WeightType::Q5_1 | WeightType::Q8_0 => {
            for b in 0..blocks {
                let blk = &data[b * bytes..(b + 1) * bytes];
                let y = &mut out[b * 32..b * 32 + 32];
                let mut q = [0i32; 32];
                let (d, m) = simple_block_ints(wtype, blk, &mut q);
                for (o, &v) in y.iter_mut().zip(&q) {
                    *o = d * v as f32 + m;
                }
            }
        }
        WeightType::Q4K | WeightType::Q5K => {
            for b in 0..blocks {
                let blk = &data[b * bytes..(b + 1) * bytes];
                let y = &mut out[b * 256..b * 256 + 256];
                let d = f16_at(blk, 0);
                let dmin = f16_at(blk, 2);
                let scales = &blk[4..16];
                let (qh, ql) =
                    if wtype == WeightType::Q5K { (Some(&blk[16..48]), &blk[48..176]) } else { (None, &blk[16..144]) };
                for chunk in 0..4 {
                    let (sc1, m1) = scale_min_k4(2 * chunk, scales);
                    let (sc2, m2) = scale_min_k4(2 * chunk + 1, scales);
                    let (d1, min1, d2, min2) = (d * sc1 as f32, dmin * m1 as f32, d * sc2 as f32, dmin * m2 as f32);
                    let q = &ql[chunk * 32..chunk * 32 + 32];
                    for l in 0..32 {
                        let (mut lo, mut hi) = ((q[l] & 0xF) as i32, (q[l] >> 4) as i32);
                        if let Some(qh) = qh {
                            lo += (((qh[l] >> (2 * chunk)) & 1) as i32) << 4;
                            hi += (((qh[l] >> (2 * chunk + 1)) & 1) as i32) << 4;
                        }
                        y[chunk * 64 + l] = d1 * lo as f32 - min1;
                        y[chunk * 64 + 32 + l] = d2 * hi as f32 - min2;
                    }
                }
            }
        }
        WeightType::Q6K => {
            for b in 0..blocks {
                let blk = &data[b * bytes..(b + 1) * bytes];
                let y = &mut out[b * 256..b * 256 + 256];
                let mut q = [0i32; 256];
                q6k_ints(blk, &mut q);
                let d = f16_at(blk, 208);
                for (i, o) in y.iter_mut().enumerate() {
                    *o = d * (blk[192 + i / 16] as i8) as f32 * q[i] as f32;
                }
            }
        }
        WeightType::Q2K | WeightType::Q3K => candle_dequantize(wtype, data, out),
    }
}

/// The 32 integer values of a simple-format block and its (scale, offset): x = d·q + m.
#[inline]
pub fn simple_block_ints(wtype: WeightType, blk: &[u8], q: &mut [i32; 32]) -> (f32, f32) {
    match wtype {
        WeightType::Q4_0 => {
            for j in 0..16 {
                q[j] = (blk[2 + j] & 0xF) as i32 - 8;
                q[j + 16] = (blk[2 + j] >> 4) as i32 - 8;
            }
            (f16_at(blk, 0), 0.0)
        }
        WeightType::Q4_1 => {
            for j in 0..16 {
                q[j] = (blk[4 + j] & 0xF) as i32;
                q[j + 16] = (blk[4 + j] >> 4) as i32;
            }
            (f16_at(blk, 0), f16_at(blk, 2))
        }
        WeightType::Q5_0 | WeightType::Q5_1 => {
            let (head, offset) = if wtype == WeightType::Q5_0 { (2, -16) } else { (4, 0) };
            let qh = u32::from_le_bytes([blk[head], blk[head + 1], blk[head + 2], blk[head + 3]]);
            let qs = &blk[head + 4..head + 20];
            for j in 0..16 {
                let h0 = ((qh >> j) & 1) << 4;
                let h1 = ((qh >> (j + 16)) & 1) << 4;
                q[j] = ((qs[j] & 0xF) as u32 | h0) as i32 + offset;
                q[j + 16] = ((qs[j] >> 4) as u32 | h1) as i32 + offset;
            }
            let m = if wtype == WeightType::Q5_1 { f16_at(blk, 2) } else { 0.0 };
            (f16_at(blk, 0), m)
        }
        WeightType::Q8_0 => {
            for j in 0..32 {
                q[j] = blk[2 + j] as i8 as i32;
            }
            (f16_at(blk, 0), 0.0)
        }
        _ => unreachable!("not a simple format"),
    }
}

/// The 256 signed 6-bit values (q − 32) of a Q6_K block.
#[inline]
pub fn q6k_ints(blk: &[u8], q: &mut [i32; 256]) {
    let (ql, qh) = (&blk[0..128], &blk[128..192]);
    for half in 0..2 {
        let (ql, qh) = (&ql[half * 64..], &qh[half * 32..]);
        let base = half * 128;
        for l in 0..32 {
            q[base + l] = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i32 - 32;
            q[base + l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            q[base + l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            q[base + l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
        }
    }
}

/// Formats without a kernel of ours: candle's block types know them.
fn candle_dequantize(wtype: WeightType, data: &[u8], out: &mut [f32]) {
    use candle_core::quantized::k_quants::{BlockQ2K, BlockQ3K, GgmlType};
    fn run<T: GgmlType>(data: &[u8], out: &mut [f32]) {
        let blocks = out.len() / T::BLCK_SIZE;
        assert_eq!(data.len(), blocks * std::mem::size_of::<T>());
        // Copy into aligned blocks: file data need not be aligned for T.
        let mut typed: Vec<T> = (0..blocks).map(|_| T::zeros()).collect();
        // SAFETY: T is a plain-old-data block of exactly these bytes (sizes asserted above).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), typed.as_mut_ptr() as *mut u8, data.len()) };
        T::to_float(&typed, out);
    }
    match wtype {
        WeightType::Q2K => run::<BlockQ2K>(data, out),
        WeightType::Q3K => run::<BlockQ3K>(data, out),
        _ => unreachable!(),
    }
}
