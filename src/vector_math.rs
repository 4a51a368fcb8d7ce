//! Vector arithmetic shared by the embedder, the vector index, the decoder and its scalar kernels
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
