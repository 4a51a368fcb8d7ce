//! Element-wise and per-row operations of the native encoder, on f32 slices, written so the
//! compiler vectorises them (no branches in the inner loops): layer norm, GELU, softmax.
//! Everything here stays in f32; only the matrix products run on int8.

use rayon::prelude::*;

use super::config::Activation;

/// `x ← (x − mean) / √(var + eps) · w + b` for each row of `x` (rows of `w.len()` values).
pub fn layer_norm(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let n = w.len();
    x.par_chunks_mut(n).with_min_len(64).for_each(|row| {
        let mean = row.iter().sum::<f32>() / n as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), s) in row.iter_mut().zip(w).zip(b) {
            *v = (*v - mean) * inv * g + s;
        }
    });
}

/// The feed-forward activation over every value of `x`, in parallel (it is a tenth of the
/// layer's time when run on one core).
pub fn activate(x: &mut [f32], activation: Activation) {
    x.par_chunks_mut(4096).for_each(|chunk| match activation {
        Activation::GeluErf => {
            for v in chunk {
                *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
            }
        }
        Activation::GeluTanh => {
            const SQRT_2_OVER_PI: f32 = 0.797_884_6;
            for v in chunk {
                let x = *v;
                *v = 0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x)).tanh());
            }
        }
        Activation::Relu => chunk.iter_mut().for_each(|v| *v = v.max(0.0)),
    });
}

/// The error function as a rational function of odd and even polynomials on [−4, 4] (beyond it
/// erf is ±1 in f32): at most 7·10⁻⁸ from the exact value, and no branch, so it vectorises.
#[inline]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ]
    .iter()
    .fold(0f32, |acc, c| acc * x2 + c);
    let q = [-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2]
        .iter()
        .fold(0f32, |acc, c| acc * x2 + c);
    x * p / q
}

pub use crate::vector_math::exp;

/// Softmax of `x` in place. The exponentials and the sum run as separate loops: a float sum in
/// the same loop would keep the compiler from vectorising the exponentials.
pub fn softmax(x: &mut [f32]) {
    let max = max(x);
    for v in x.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / sum(x);
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// Largest value of `x` in eight lanes (a plain comparison, which vectorises where `f32::max`'s
/// NaN rule does not).
fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] = if c[l] > acc[l] { c[l] } else { acc[l] };
        }
    }
    acc.iter().chain(chunks.remainder()).fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// Sum of `x` in eight independent lanes (vectorised without reassociation flags).
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += c[l];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_the_series_to_seven_digits() {
        // erf by its Taylor series in f64, exact enough on [-3, 3].
        fn series(x: f64) -> f64 {
            let (mut term, mut sum) = (x, x);
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        }
        for i in -300..=300 {
            let x = i as f64 / 100.0;
            assert!((erf(x as f32) as f64 - series(x)).abs() < 3e-7, "erf({x})");
        }
        assert_eq!(erf(10.0), erf(4.0));
        assert!((erf(4.0) - 1.0).abs() < 2e-7);
    }

    #[test]
    fn exp_is_within_a_few_ulp_of_std() {
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let (ours, std) = (exp(x), x.exp());
            assert!(((ours - std) / std).abs() < 5e-7, "exp({x}): {ours} vs {std}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut x = vec![1.0, 3.0, -2.0, 0.5, -100.0];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x[1] > x[0] && x[0] > x[3] && x[3] > x[2] && x[4] < 1e-30);
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0];
        layer_norm(&mut x, &[1.0; 4], &[0.5; 4], 1e-12);
        let first = &x[..4];
        assert!((first.iter().sum::<f32>() / 4.0 - 0.5).abs() < 1e-6);
        assert!(x[4..].iter().all(|v| (v - 0.5).abs() < 1e-6), "a constant row becomes the shift");
    }
}
