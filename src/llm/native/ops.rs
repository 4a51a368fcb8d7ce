//! Element-wise and per-row operations of the decoder, on plain f32 slices.

use super::config::RopeStyle;
pub use crate::vector_math::{add_bias, add_in_place};

/// `x ← x / rms(x) · w` for each row of `x` (row length `w.len()`). The sum of squares is
/// accumulated in f64 as ggml does, so results agree with llama.cpp to the last bit more often.
pub fn rms_norm(x: &mut [f32], w: &[f32], eps: f32) {
    let n = w.len();
    for row in x.chunks_exact_mut(n) {
        let sum: f64 = row.iter().map(|v| (v * v) as f64).sum();
        let mean = (sum / n as f64) as f32;
        let scale = 1.0 / (mean + eps).sqrt();
        for (v, g) in row.iter_mut().zip(w) {
            *v = (*v * scale) * g;
        }
    }
}

/// Writes `rms_norm(x)` into `out` without touching `x`.
pub fn rms_norm_into(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    out.copy_from_slice(x);
    rms_norm(out, w, eps);
}

/// `gate ← silu(gate) · up`, with ggml's vectorised exp so activations match llama.cpp's.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = (*g / (1.0 + expf_ggml(-*g))) * u;
    }
}

/// ggml's single-precision exp (a polynomial on a range-reduced argument, ≤ 1.5 ulp), written
/// with the same fused multiply-adds so each value equals ggml's.
#[inline]
pub fn expf_ggml(x: f32) -> f32 {
    let r = f32::from_bits(0x4B40_0000); // 0x1.8p23
    let z = x.mul_add(f32::from_bits(0x3FB8_AA3B), r); // 0x1.715476p+0 = log2(e)
    let n = z - r;
    let b = (-n).mul_add(f32::from_bits(0x35BF_BE8E), (-n).mul_add(f32::from_bits(0x3F31_7200), x)); // 0x1.7f7d1cp-20, 0x1.62e4p-1
    if n.abs() > 192.0 {
        return if n <= 0.0 { 0.0 } else { f32::INFINITY };
    }
    let u = b * b;
    let j = (f32::from_bits(0x3C07_2010).mul_add(b, f32::from_bits(0x3D2B_9F17))) // 0x1.0e4020p-7, 0x1.573e2ep-5
        .mul_add(u, f32::from_bits(0x3E2A_AF33).mul_add(b, f32::from_bits(0x3EFF_FEDB))) // 0x1.555e66p-3, 0x1.fffdb6p-2
        .mul_add(u, f32::from_bits(0x3F7F_FFF6).mul_add(b, 1.0)); // 0x1.ffffecp-1
                                                                  // j · 2^n, exact (scalef): build the power of two from its bits where it is a normal number.
    let n = n as i32;
    if (-126..=127).contains(&n) {
        j * f32::from_bits(((n + 127) as u32) << 23)
    } else {
        j * 2f32.powi(n)
    }
}

pub fn gelu_tanh_mul(gate: &mut [f32], up: &[f32]) {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    for (g, u) in gate.iter_mut().zip(up) {
        let x = *g;
        *g = 0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x)).tanh()) * u;
    }
}

/// Cos/sin of rotary embeddings for one base, computed like ggml (the angle advances by repeated
/// multiplication in f32), for positions `0..positions`.
pub struct RopeTable {
    pub half: usize,
    cos: Vec<f32>,
    sin: Vec<f32>,
    base: f32,
    freq_scale: f32,
    dims: usize,
}

impl RopeTable {
    pub fn new(dims: usize, base: f32, freq_scale: f32) -> Self {
        RopeTable { half: dims / 2, cos: Vec::new(), sin: Vec::new(), base, freq_scale, dims }
    }

    /// Makes sure positions `0..n` are in the table.
    pub fn ensure(&mut self, n: usize) {
        let have = self.cos.len() / self.half;
        if n <= have {
            return;
        }
        let theta_scale = self.base.powf(-2.0 / self.dims as f32);
        for p in have..n {
            let mut theta = p as f32;
            for _ in 0..self.half {
                let t = theta * self.freq_scale;
                self.cos.push(t.cos());
                self.sin.push(t.sin());
                theta *= theta_scale;
            }
        }
    }

    /// Rotates the first `dims` values of each head in `x` (row of `heads × head_dim`) for `pos`.
    pub fn apply(&self, x: &mut [f32], head_dim: usize, pos: usize, style: RopeStyle) {
        let cos = &self.cos[pos * self.half..(pos + 1) * self.half];
        let sin = &self.sin[pos * self.half..(pos + 1) * self.half];
        for head in x.chunks_exact_mut(head_dim) {
            match style {
                RopeStyle::Interleaved => {
                    for i in 0..self.half {
                        let (a, b) = (head[2 * i], head[2 * i + 1]);
                        head[2 * i] = a * cos[i] - b * sin[i];
                        head[2 * i + 1] = a * sin[i] + b * cos[i];
                    }
                }
                RopeStyle::Halves => {
                    for i in 0..self.half {
                        let (a, b) = (head[i], head[i + self.half]);
                        head[i] = a * cos[i] - b * sin[i];
                        head[i + self.half] = a * sin[i] + b * cos[i];
                    }
                }
            }
        }
    }
}
