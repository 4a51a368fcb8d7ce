//! The f16 vector operations of attention over the cached keys and values, in llama.cpp's order
//! of operations (its `ggml_vec_dot_f16`, `ggml_vec_mad_f16` and `ggml_vec_scale_f16` on AVX2):
//! the same roundings in the same order give the same greedy tokens as llama.cpp. AVX2 with F16C
//! where the CPU has them, else a scalar copy that rounds identically (the tests hold them equal).
//!
//! Dot products: a product of two f16 values is exact in f32; the products are summed in f64
//! lanes, so the sum is as good as exact. (llama.cpp sums in f32 lanes whose width depends on the
//! CPU it was built for; an exact sum is what agrees with it best across them, measured on the
//! greedy fixtures.) Multiply-adds and scalings round each element back to f16 after one fused
//! operation, as llama.cpp does.

use half::f16;

/// Elements per step: two vectors of four f64 lanes.
const STEP: usize = 8;

/// Σ x·y: exact products, summed in f64.
pub fn dot(x: &[f16], y: &[f16]) -> f64 {
    assert_eq!(x.len(), y.len());
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: the CPU has AVX2, FMA and F16C (checked by `simd`).
        return unsafe { x86::dot(x, y) };
    }
    scalar_dot(x, y)
}

/// y ← y + x·v, each element rounded to f16.
pub fn mad(y: &mut [f16], x: &[f16], v: f32) {
    assert_eq!(x.len(), y.len());
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: as in `dot`.
        return unsafe { x86::mad(y, x, v) };
    }
    for (a, b) in y.iter_mut().zip(x) {
        *a = f16::from_f32(b.to_f32().mul_add(v, a.to_f32()));
    }
}

/// y ← y·v, each element rounded to f16.
pub fn scale(y: &mut [f16], v: f32) {
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: as in `dot`.
        return unsafe { x86::scale(y, v) };
    }
    for a in y.iter_mut() {
        *a = f16::from_f32(a.to_f32() * v);
    }
}

/// Σ x·y for an f32 query against f16 keys, in eight f32 lanes (the prompt's attention, where
/// no bit-exact agreement with llama.cpp is sought).
pub fn dot_f32(x: &[f32], y: &[f16]) -> f32 {
    assert_eq!(x.len(), y.len());
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: as in `dot`.
        return unsafe { x86::dot_f32(x, y) };
    }
    let whole = x.len() / 8 * 8;
    let mut lanes = [0f32; 8];
    for i in (0..whole).step_by(8) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane = x[i + l].mul_add(y[i + l].to_f32(), *lane);
        }
    }
    // The order of `hsum`: halves, then pairs, then the last two.
    let h: [f32; 4] = std::array::from_fn(|l| lanes[l] + lanes[l + 4]);
    let mut sum = (h[0] + h[2]) + (h[1] + h[3]);
    for k in whole..x.len() {
        sum = x[k].mul_add(y[k].to_f32(), sum);
    }
    sum
}

/// out ← out + x·w for f16 values into f32.
pub fn axpy_f32(out: &mut [f32], x: &[f16], w: f32) {
    assert_eq!(out.len(), x.len());
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: as in `dot`.
        return unsafe { x86::axpy_f32(out, x, w) };
    }
    for (a, b) in out.iter_mut().zip(x) {
        *a = b.to_f32().mul_add(w, *a);
    }
}

#[cfg(target_arch = "x86_64")]
fn simd() -> bool {
    static SIMD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SIMD.get_or_init(|| super::isa() != super::Isa::Scalar && is_x86_feature_detected!("f16c"))
}

fn scalar_dot(x: &[f16], y: &[f16]) -> f64 {
    let whole = x.len() / STEP * STEP;
    let mut lanes = [0f64; STEP];
    for i in (0..whole).step_by(STEP) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane += (x[i + l].to_f32() * y[i + l].to_f32()) as f64;
        }
    }
    // The SIMD reduction's order: the two vectors added, then their halves, then the pair.
    let s: [f64; 4] = std::array::from_fn(|l| lanes[l] + lanes[l + 4]);
    let mut sum = (s[0] + s[2]) + (s[1] + s[3]);
    for k in whole..x.len() {
        sum += (x[k].to_f32() * y[k].to_f32()) as f64;
    }
    sum
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use half::f16;

    use super::STEP;

    #[inline(always)]
    unsafe fn load(p: *const f16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
    }

    #[inline(always)]
    unsafe fn store(p: *mut f16, v: __m256) {
        _mm_storeu_si128(p as *mut __m128i, _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v));
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot(x: &[f16], y: &[f16]) -> f64 {
        let whole = x.len() / STEP * STEP;
        let (px, py) = (x.as_ptr(), y.as_ptr());
        let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        for i in (0..whole).step_by(STEP) {
            let p = _mm256_mul_ps(load(px.add(i)), load(py.add(i)));
            lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(p)));
            hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(p)));
        }
        let s = _mm256_add_pd(lo, hi);
        let t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd::<1>(s));
        let mut sum = _mm_cvtsd_f64(t) + _mm_cvtsd_f64(_mm_unpackhi_pd(t, t));
        for k in whole..x.len() {
            sum += (x[k].to_f32() * y[k].to_f32()) as f64;
        }
        sum
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_f32(x: &[f32], y: &[f16]) -> f32 {
        let whole = x.len() / 8 * 8;
        let mut acc = _mm256_setzero_ps();
        for i in (0..whole).step_by(8) {
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(x.as_ptr().add(i)), load(y.as_ptr().add(i)), acc);
        }
        let h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
        let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        let h = _mm_add_ss(h, _mm_movehdup_ps(h));
        let mut sum = _mm_cvtss_f32(h);
        for k in whole..x.len() {
            sum = x[k].mul_add(y[k].to_f32(), sum);
        }
        sum
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn axpy_f32(out: &mut [f32], x: &[f16], w: f32) {
        let whole = x.len() / 8 * 8;
        let vw = _mm256_set1_ps(w);
        let po = out.as_mut_ptr();
        for i in (0..whole).step_by(8) {
            _mm256_storeu_ps(po.add(i), _mm256_fmadd_ps(load(x.as_ptr().add(i)), vw, _mm256_loadu_ps(po.add(i))));
        }
        for k in whole..x.len() {
            out[k] = x[k].to_f32().mul_add(w, out[k]);
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn mad(y: &mut [f16], x: &[f16], v: f32) {
        let whole = x.len() / 8 * 8;
        let vv = _mm256_set1_ps(v);
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        for i in (0..whole).step_by(8) {
            store(py.add(i), _mm256_fmadd_ps(load(px.add(i)), vv, load(py.add(i))));
        }
        for k in whole..x.len() {
            y[k] = f16::from_f32(x[k].to_f32().mul_add(v, y[k].to_f32()));
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn scale(y: &mut [f16], v: f32) {
        let whole = y.len() / 8 * 8;
        let vv = _mm256_set1_ps(v);
        let py = y.as_mut_ptr();
        for i in (0..whole).step_by(8) {
            store(py.add(i), _mm256_mul_ps(load(py.add(i)), vv));
        }
        for x in &mut y[whole..] {
            *x = f16::from_f32(x.to_f32() * v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f16> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                f16::from_f32(((s >> 8) as f32 / (1 << 24) as f32 - 0.5) * 4.0)
            })
            .collect()
    }

    /// The SIMD path rounds exactly as the scalar one, for head sizes with and without leftovers.
    #[test]
    fn simd_equals_scalar_bit_for_bit() {
        for n in [64, 80, 128, 256, 7] {
            let (x, y) = (values(n, 1), values(n, 2));
            assert_eq!(dot(&x, &y).to_bits(), scalar_dot(&x, &y).to_bits(), "dot, n = {n}");
            let (mut a, mut b) = (y.clone(), y.clone());
            mad(&mut a, &x, 0.37);
            for (p, q) in b.iter_mut().zip(&x) {
                *p = f16::from_f32(q.to_f32().mul_add(0.37, p.to_f32()));
            }
            assert_eq!(a, b, "mad, n = {n}");
            scale(&mut a, 0.61);
            b.iter_mut().for_each(|p| *p = f16::from_f32(p.to_f32() * 0.61));
            assert_eq!(a, b, "scale, n = {n}");
        }
        // The f32-query forms against a plain sum (their lane order differs from it).
        for n in [64, 80, 7] {
            let (x, y) = (values(n, 3), values(n, 4));
            let xf: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
            let plain: f32 = xf.iter().zip(&y).map(|(a, b)| a * b.to_f32()).sum();
            assert!((dot_f32(&xf, &y) - plain).abs() < 1e-4, "dot_f32, n = {n}");
            let mut out = vec![1f32; n];
            axpy_f32(&mut out, &y, 0.5);
            assert!(out.iter().zip(&y).all(|(o, b)| *o == b.to_f32().mul_add(0.5, 1.0)), "axpy_f32, n = {n}");
        }
        let exact: f64 = values(64, 1).iter().zip(values(64, 2)).map(|(a, b)| a.to_f64() * b.to_f64()).sum();
        assert!((dot(&values(64, 1), &values(64, 2)) - exact).abs() < 1e-12);
    }
}
