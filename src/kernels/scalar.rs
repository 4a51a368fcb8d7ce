//! Portable dot products of one weight row with quantised activations: the reference the SIMD
//! kernels are tested against, and the path on CPUs without them.

use super::formats::{f16_at, q6k_ints, scale_min_k4, simple_block_ints, Q8KRow, Q8Row, WeightType};

/// Dot of a simple-format row (blocks of 32) with a Q8 activation row.
pub fn dot_simple(wtype: WeightType, row: &[u8], act: &Q8Row) -> f32 {
    let bytes = wtype.block().1;
    let mut sum = 0f32;
    let mut q = [0i32; 32];
    for b in 0..act.d.len() {
        let (d, m) = simple_block_ints(wtype, &row[b * bytes..(b + 1) * bytes], &mut q);
        let a = &act.qs[b * 32..b * 32 + 32];
        let isum: i32 = q.iter().zip(a).map(|(&w, &x)| w * x as i32).sum();
        sum += d * act.d[b] * isum as f32 + m * act.s[b];
    }
    sum
}

/// Dot of a Q4_K / Q5_K / Q6_K row with a Q8_K activation row.
pub fn dot_k(wtype: WeightType, row: &[u8], act: &Q8KRow) -> f32 {
    let bytes = wtype.block().1;
    let mut sum = 0f32;
    for b in 0..act.d.len() {
        let blk = &row[b * bytes..(b + 1) * bytes];
        let a = &act.qs[b * 256..b * 256 + 256];
        let bsums = &act.bsums[b * 16..b * 16 + 16];
        match wtype {
            WeightType::Q4K | WeightType::Q5K => {
                let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
                let scales = &blk[4..16];
                let (qh, ql) =
                    if wtype == WeightType::Q5K { (Some(&blk[16..48]), &blk[48..176]) } else { (None, &blk[16..144]) };
                let (mut isum, mut msum) = (0i32, 0i32);
                for j in 0..8 {
                    let (sc, m) = scale_min_k4(j, scales);
                    let chunk = j / 2;
                    let q = &ql[chunk * 32..chunk * 32 + 32];
                    let mut s = 0i32;
                    for l in 0..32 {
                        let mut v = if j % 2 == 0 { (q[l] & 0xF) as i32 } else { (q[l] >> 4) as i32 };
                        if let Some(qh) = qh {
                            v += (((qh[l] >> j) & 1) as i32) << 4;
                        }
                        s += v * a[j * 32 + l] as i32;
                    }
                    isum += sc as i32 * s;
                    msum += m as i32 * (bsums[2 * j] as i32 + bsums[2 * j + 1] as i32);
                }
                sum += act.d[b] * (d * isum as f32 - dmin * msum as f32);
            }
            WeightType::Q6K => {
                let mut q = [0i32; 256];
                q6k_ints(blk, &mut q);
                let mut isum = 0i32;
                for g in 0..16 {
                    let s: i32 = (0..16).map(|i| q[g * 16 + i] * a[g * 16 + i] as i32).sum();
                    isum += (blk[192 + g] as i8) as i32 * s;
                }
                sum += act.d[b] * f16_at(blk, 208) * isum as f32;
            }
            _ => unreachable!("not a k-quant with a kernel"),
        }
    }
    sum
}

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    crate::vector_math::dot(a, b)
}
