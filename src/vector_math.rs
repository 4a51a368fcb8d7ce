//! Vector arithmetic shared by the embedder, the vector index, the decoder and its scalar kernels,
//! and the exponential their softmaxes vectorise
//! (a leaf: it imports nothing of the crate).

/// Dot product of two normalised vectors: their cosine similarity.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent sums over exact chunks of eight: no bounds checks and no reassociation,
    // so the compiler keeps the sums in one vector register.
    let n = a.len().min(b.len());
    let (a, b) = (a[..n].chunks_exact(8), b[..n].chunks_exact(8));
    let tail: f32 = a.remainder().iter().zip(b.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0f32; 8];
    for (x, y) in a.zip(b) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Adds `bias` to every row of `x` (rows of `bias.len()` values).
pub fn add_bias(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

pub fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// `e^x` for x ≤ 88: 2^n · e^r with r in [−ln2/2, ln2/2] and a degree-6 polynomial (relative
/// error about 2·10⁻⁷); below −87 it returns about 10⁻³⁸, which a softmax reads as zero.
/// n is rounded by adding 1.5·2²³ (its integer lands in the low mantissa bits), and 2^n is built
/// from those bits: no float-to-int conversion, which the compiler would do one lane at a time.
#[inline]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    let x = x.clamp(-87.0, 88.0);
    let z = x * std::f32::consts::LOG2_E + ROUND;
    let n = z - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let poly = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5]
        .iter()
        .fold(0f32, |acc, c| acc * r + c);
    let er = poly * r * r + r + 1.0;
    let two_n = f32::from_bits(z.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23);
    er * two_n
}
