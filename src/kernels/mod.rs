//! Quantised matrix × activations for the native CPU decoder and the embedders' native encoder.
//!
//! Activations are quantised once per matmul (int8 blocks, as llama.cpp's CPU backend does), then
//! each thread takes a band of weight rows and computes tiles of rows × tokens with the widest
//! kernel the CPU has (chosen at run time). A decoder's weights stay in the GGUF file's memory map:
//! nothing is copied or repacked, so a model costs its file size in (shared, evictable) page cache.
//! An embedder's float weights are quantised to Q8_0 once at load (`formats::quantize_q8_0_weights`).

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod f16_vec;
pub mod formats;
pub mod gemm;
pub mod scalar;

use std::sync::{Arc, OnceLock};

use formats::{dequantize_row, quantize_q8, quantize_q8k, ActivationType, Q8KRow, Q8Row, WeightType};
use memmap2::Mmap;
use rayon::prelude::*;

/// Bytes of a weight matrix: a slice of the model's memory map, or owned (tests, converted data).
#[derive(Clone)]
enum Bytes {
    Mapped { map: Arc<Mmap>, start: usize, len: usize },
    Owned(Arc<Vec<u8>>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped { map, start, len } => &map[*start..*start + *len],
            Bytes::Owned(v) => v,
        }
    }
}

/// A weight matrix in a GGML format: `rows` outputs, each a row of `cols` inputs.
#[derive(Clone)]
pub struct QMatrix {
    pub wtype: WeightType,
    pub rows: usize,
    pub cols: usize,
    bytes: Bytes,
}

impl QMatrix {
    pub fn mapped(wtype: WeightType, rows: usize, cols: usize, map: Arc<Mmap>, start: usize) -> Self {
        let len = rows * wtype.row_bytes(cols);
        QMatrix { wtype, rows, cols, bytes: Bytes::Mapped { map, start, len } }
    }

    pub fn owned(wtype: WeightType, rows: usize, cols: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), rows * wtype.row_bytes(cols));
        QMatrix { wtype, rows, cols, bytes: Bytes::Owned(Arc::new(data)) }
    }

    pub fn row_bytes(&self, r: usize) -> &[u8] {
        let n = self.wtype.row_bytes(self.cols);
        &self.bytes.as_slice()[r * n..(r + 1) * n]
    }

    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        dequantize_row(self.wtype, self.row_bytes(r), &mut out[..self.cols]);
    }

    /// `out[t·rows + r] = Σ_i W[r, i] · x[t·cols + i]` for `tokens` tokens.
    pub fn matmul(&self, x: &[f32], tokens: usize, out: &mut [f32]) {
        matmul_batch(&mut [(self, out)], x, tokens);
    }

    /// One band of rows through the token-lane GEMM. The band's rows are unpacked once; tokens
    /// then pass in chunks whose activations fit in L2 (about 256 KB), each chunk meeting every
    /// 4-row tile of the band while that tile sits in L1. Streaming all tokens past each tile
    /// instead read the whole activation matrix from memory once per 4 rows (an encoder batch of
    /// 4096 tokens is 1.5 MB of int8 at 384 columns, 6 MB at 1536).
    #[cfg(target_arch = "x86_64")]
    fn gemm_band(&self, acts: &gemm::LaneActivations, rows: std::ops::Range<usize>, out: SyncPtr) {
        let vnni = isa() == Isa::Vnni;
        let tiles: Vec<(usize, usize, gemm::Unpacked)> = (rows.start..rows.end)
            .step_by(GEMM_ROWS)
            .map(|r0| {
                let n = (rows.end - r0).min(GEMM_ROWS);
                let mut unpacked = gemm::Unpacked::new(self.wtype, self.cols, GEMM_ROWS, vnni);
                for i in 0..n {
                    unpacked.fill(self.wtype, i, self.row_bytes(r0 + i), self.cols);
                }
                (r0, n, unpacked)
            })
            .collect();
        let chunk = (GEMM_CHUNK_BYTES / (gemm::LANES * self.cols)).max(1);
        for first in (0..acts.groups).step_by(chunk) {
            let groups = first..(first + chunk).min(acts.groups);
            for (r0, n, unpacked) in &tiles {
                let r0 = *r0;
                // SAFETY: rows r0..r0+n belong to this band only; the CPU features were checked.
                let write = |r: usize, t: usize, v: f32| unsafe { out.write(t * self.rows + r0 + r, v) };
                unsafe {
                    macro_rules! run {
                        ($n:literal) => {
                            if vnni {
                                gemm::x86::run_vnni::<$n>(unpacked, self.cols, acts, groups.clone(), write)
                            } else {
                                gemm::x86::run_avx2::<$n>(unpacked, self.cols, acts, groups.clone(), write)
                            }
                        };
                    }
                    match n {
                        4 => run!(4),
                        3 => run!(3),
                        2 => run!(2),
                        _ => run!(1),
                    }
                }
            }
        }
    }

    unsafe fn compute_band(&self, acts: &Activations, tokens: usize, rows: std::ops::Range<usize>, out: SyncPtr) {
        let write = |r: usize, t: usize, v: f32| unsafe { out.write(t * self.rows + r, v) };
        match acts {
            Activations::F32(xs) => {
                let mut row = vec![0f32; self.cols];
                for r in rows {
                    self.dequantize_row(r, &mut row);
                    for t in 0..tokens {
                        write(r, t, scalar::dot_f32(&row, &xs[t * self.cols..(t + 1) * self.cols]));
                    }
                }
            }
            Activations::Q8(qs) => tiles(self, rows, tokens, qs, &write, Kernel::Simple),
            Activations::Q8K(qs) => tiles(self, rows, tokens, qs, &write, Kernel::K),
        }
    }
}

/// Several matrices over the same input (the q, k and v projections; gate and up): the input is
/// quantised once per format family, and one parallel pass covers the rows of all of them, so
/// threads are woken once instead of once per matrix.
pub fn matmul_batch(jobs: &mut [(&QMatrix, &mut [f32])], x: &[f32], tokens: usize) {
    let Some(cols) = jobs.first().map(|(m, _)| m.cols) else { return };
    for (m, out) in jobs.iter() {
        assert_eq!(m.cols, cols, "matrices of one batch share their input");
        assert_eq!(x.len(), tokens * cols);
        assert_eq!(out.len(), tokens * m.rows);
    }
    let use_gemm = |m: &QMatrix| {
        tokens >= GEMM_FROM_TOKENS && gemm::supported(m.wtype) && isa() != Isa::Scalar && cfg!(target_arch = "x86_64")
    };
    let needs = |kind: ActivationType| jobs.iter().any(|(m, _)| !use_gemm(m) && m.wtype.activation() == kind);
    let lanes = jobs.iter().any(|(m, _)| use_gemm(m)).then(|| gemm::LaneActivations::quantize(x, tokens, cols));
    let q8 = needs(ActivationType::Q8).then(|| Activations::quantize(ActivationType::Q8, x, tokens, cols));
    let q8k = needs(ActivationType::Q8K).then(|| Activations::quantize(ActivationType::Q8K, x, tokens, cols));
    let f32s = needs(ActivationType::F32).then(|| Activations::F32(x.to_vec()));

    let total_rows: usize = jobs.iter().map(|(m, _)| m.rows).sum();
    let band = band_size(total_rows, tokens);
    let outs: Vec<SyncPtr> = jobs.iter_mut().map(|(_, out)| SyncPtr(out.as_mut_ptr())).collect();
    let tasks: Vec<(usize, usize)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, (m, _))| (0..m.rows).step_by(band).map(move |start| (j, start)))
        .collect();
    let run = |&(j, start): &(usize, usize)| {
        let m = jobs[j].0;
        let rows = start..(start + band).min(m.rows);
        #[cfg(target_arch = "x86_64")]
        if let (true, Some(lanes)) = (use_gemm(m), lanes.as_ref()) {
            m.gemm_band(lanes, rows, outs[j]);
            return;
        }
        let acts = match m.wtype.activation() {
            ActivationType::Q8 => q8.as_ref(),
            ActivationType::Q8K => q8k.as_ref(),
            ActivationType::F32 => f32s.as_ref(),
        }
        .expect("prepared above");
        // SAFETY: tasks cover disjoint rows of each output.
        unsafe { m.compute_band(acts, tokens, rows, outs[j]) };
    };
    if tasks.len() == 1 {
        run(&tasks[0]);
    } else {
        tasks.par_iter().for_each(run);
    }
}

/// Rows per parallel task: enough tasks to balance two to eight cores, and bands big enough that
/// a tile's weight rows stay hot while all tokens pass.
fn band_size(rows: usize, tokens: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let target_tasks = if tokens > 1 { threads * 4 } else { threads * 2 };
    rows.div_ceil(target_tasks).max(4).next_multiple_of(4)
}

#[derive(Clone, Copy)]
struct SyncPtr(*mut f32);
unsafe impl Send for SyncPtr {}
unsafe impl Sync for SyncPtr {}

impl SyncPtr {
    /// # Safety
    /// `i` is in bounds and no other thread writes element `i`.
    unsafe fn write(self, i: usize, v: f32) {
        *self.0.add(i) = v;
    }
}

enum Activations {
    F32(Vec<f32>),
    Q8(Vec<Q8Row>),
    Q8K(Vec<Q8KRow>),
}

impl Activations {
    fn quantize(kind: ActivationType, x: &[f32], tokens: usize, cols: usize) -> Self {
        match kind {
            ActivationType::F32 => Activations::F32(x.to_vec()),
            ActivationType::Q8 => Activations::Q8(
                (0..tokens)
                    .into_par_iter()
                    .with_min_len(8)
                    .map(|t| {
                        let mut row = Q8Row::default();
                        quantize_q8(&x[t * cols..(t + 1) * cols], &mut row);
                        row
                    })
                    .collect(),
            ),
            ActivationType::Q8K => Activations::Q8K(
                (0..tokens)
                    .into_par_iter()
                    .with_min_len(8)
                    .map(|t| {
                        let mut row = Q8KRow::default();
                        quantize_q8k(&x[t * cols..(t + 1) * cols], &mut row);
                        row
                    })
                    .collect(),
            ),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kernel {
    Simple,
    K,
}

/// Prompts of at least this many tokens go through the GEMM (its weight unpacking pays off).
const GEMM_FROM_TOKENS: usize = 16;
/// Weight rows a GEMM kernel call keeps in registers.
const GEMM_ROWS: usize = 4;
/// Int8 activations of one GEMM token chunk: what stays in L2 while a band's tiles pass over it.
const GEMM_CHUNK_BYTES: usize = 256 * 1024;

/// Which implementation runs, decided once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Isa {
    Scalar,
    Avx2,
    /// AVX2 plus 256-bit VNNI integer dot products (AVX-512 VNNI with VL).
    Vnni,
}

pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        // FOLIO_KERNELS=scalar|avx2 caps the choice (comparisons, debugging).
        let cap = std::env::var("FOLIO_KERNELS").unwrap_or_default();
        if cap == "scalar" {
            return Isa::Scalar;
        }
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            if cap != "avx2" && is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl") {
                return Isa::Vnni;
            }
            return Isa::Avx2;
        }
        Isa::Scalar
    })
}

/// Anything the tile kernels take as one token's activations.
trait ActRow: Sync {
    fn scalar_dot(&self, wtype: WeightType, row: &[u8]) -> f32;
}

impl ActRow for Q8Row {
    fn scalar_dot(&self, wtype: WeightType, row: &[u8]) -> f32 {
        scalar::dot_simple(wtype, row, self)
    }
}

impl ActRow for Q8KRow {
    fn scalar_dot(&self, wtype: WeightType, row: &[u8]) -> f32 {
        scalar::dot_k(wtype, row, self)
    }
}

/// Row tile × token tile sizes for the AVX2 kernels: 4×2 keeps the 16 vector registers busy.
const TILE_ROWS: usize = 4;
const TILE_TOKENS: usize = 2;

fn tiles<A: ActRow + 'static>(
    m: &QMatrix,
    rows: std::ops::Range<usize>,
    tokens: usize,
    acts: &[A],
    write: &dyn Fn(usize, usize, f32),
    kernel: Kernel,
) {
    if isa() == Isa::Scalar {
        for r in rows {
            let row = m.row_bytes(r);
            for (t, a) in acts.iter().enumerate() {
                write(r, t, a.scalar_dot(m.wtype, row));
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if tokens == 1 && kernel == Kernel::K {
            let act = (&acts[0] as &dyn std::any::Any).downcast_ref::<Q8KRow>().expect("Q8K activations");
            for r in rows {
                // SAFETY: AVX2 and FMA were checked by `isa`; rows hold whole blocks.
                write(r, 0, unsafe { avx2::dot_k(m.wtype, m.row_bytes(r), act) });
            }
            return;
        }
        if tokens == 1 && kernel == Kernel::Simple {
            let act = (&acts[0] as &dyn std::any::Any).downcast_ref::<Q8Row>().expect("Q8 activations");
            for r in rows {
                let row = m.row_bytes(r);
                // SAFETY: AVX2 and FMA were checked by `isa`; rows hold whole blocks.
                let v = unsafe {
                    match m.wtype {
                        WeightType::Q4_0 => avx2::dot_simple::<0>(row, act),
                        WeightType::Q4_1 => avx2::dot_simple::<1>(row, act),
                        WeightType::Q5_0 => avx2::dot_simple::<2>(row, act),
                        WeightType::Q5_1 => avx2::dot_simple::<3>(row, act),
                        _ => avx2::dot_simple::<4>(row, act),
                    }
                };
                write(r, 0, v);
            }
            return;
        }
        let mut r = rows.start;
        while r < rows.end {
            let nr = (rows.end - r).min(TILE_ROWS);
            let mut t = 0;
            while t < tokens {
                let nt = (tokens - t).min(TILE_TOKENS);
                dispatch_tile(m, r, nr, t, nt, acts, write, kernel);
                t += nt;
            }
            r += nr;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn dispatch_tile<A: ActRow + 'static>(
    m: &QMatrix,
    r: usize,
    nr: usize,
    t: usize,
    nt: usize,
    acts: &[A],
    write: &dyn Fn(usize, usize, f32),
    kernel: Kernel,
) {
    macro_rules! run {
        ($R:literal, $C:literal) => {{
            let rows: [&[u8]; $R] = std::array::from_fn(|i| m.row_bytes(r + i));
            let mut out = [[0f32; $C]; $R];
            let any: &dyn std::any::Any = &acts[0];
            // SAFETY: the CPU has AVX2 and FMA (checked by `isa`); rows hold whole blocks.
            unsafe {
                if kernel == Kernel::Simple {
                    let _ = any;
                    let a: [&Q8Row; $C] = std::array::from_fn(|i| {
                        (&acts[t + i] as &dyn std::any::Any).downcast_ref::<Q8Row>().expect("Q8 activations")
                    });
                    avx2::tile_simple::<$R, $C>(m.wtype, &rows, &a, &mut out);
                } else {
                    let a: [&Q8KRow; $C] = std::array::from_fn(|i| {
                        (&acts[t + i] as &dyn std::any::Any).downcast_ref::<Q8KRow>().expect("Q8K activations")
                    });
                    avx2::tile_k::<$R, $C>(m.wtype, &rows, &a, &mut out);
                }
            }
            for i in 0..$R {
                for j in 0..$C {
                    write(r + i, t + j, out[i][j]);
                }
            }
        }};
    }
    match (nr, nt) {
        (4, 2) => run!(4, 2),
        (4, 1) => run!(4, 1),
        (3, 2) => run!(3, 2),
        (3, 1) => run!(3, 1),
        (2, 2) => run!(2, 2),
        (2, 1) => run!(2, 1),
        (1, 2) => run!(1, 2),
        _ => run!(1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::formats::WeightType;
    use super::*;

    /// Random rows in a format, built by candle's quantiser from random floats.
    fn random_matrix(wtype: WeightType, rows: usize, cols: usize, seed: u64) -> (QMatrix, Vec<f32>) {
        use candle_core::quantized::{GgmlDType, QTensor};
        use candle_core::{Device, Tensor};
        let mut state = seed;
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0
            })
            .collect();
        let dtype = match wtype {
            WeightType::Q4_0 => GgmlDType::Q4_0,
            WeightType::Q4_1 => GgmlDType::Q4_1,
            WeightType::Q5_0 => GgmlDType::Q5_0,
            WeightType::Q5_1 => GgmlDType::Q5_1,
            WeightType::Q8_0 => GgmlDType::Q8_0,
            WeightType::Q2K => GgmlDType::Q2K,
            WeightType::Q3K => GgmlDType::Q3K,
            WeightType::Q4K => GgmlDType::Q4K,
            WeightType::Q5K => GgmlDType::Q5K,
            WeightType::Q6K => GgmlDType::Q6K,
            WeightType::F16 => GgmlDType::F16,
            WeightType::BF16 => GgmlDType::BF16,
            WeightType::F32 => GgmlDType::F32,
        };
        let tensor = Tensor::from_vec(values.clone(), (rows, cols), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&tensor, dtype).unwrap();
        let data = q.data().unwrap().into_owned();
        let dequant = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        (QMatrix::owned(wtype, rows, cols, data), dequant)
    }

    const ALL: [WeightType; 12] = [
        WeightType::Q4_0,
        WeightType::Q4_1,
        WeightType::Q5_0,
        WeightType::Q5_1,
        WeightType::Q8_0,
        WeightType::Q2K,
        WeightType::Q3K,
        WeightType::Q4K,
        WeightType::Q5K,
        WeightType::Q6K,
        WeightType::F16,
        WeightType::F32,
    ];

    #[test]
    fn dequantisation_matches_candle() {
        for wtype in ALL {
            let (m, reference) = random_matrix(wtype, 3, 512, 7);
            let mut row = vec![0f32; 512];
            for r in 0..3 {
                m.dequantize_row(r, &mut row);
                assert_eq!(&row[..], &reference[r * 512..(r + 1) * 512], "{wtype:?} row {r}");
            }
        }
    }

    /// Every kernel against float math on the dequantised weights: only activation rounding
    /// (int8) separates them.
    #[test]
    fn matmul_matches_float_reference() {
        for wtype in ALL {
            let (rows, cols, tokens) = (37, 768, 5);
            let (m, w) = random_matrix(wtype, rows, cols, 11);
            let x: Vec<f32> = (0..tokens * cols).map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.7).collect();
            let mut out = vec![0f32; tokens * rows];
            m.matmul(&x, tokens, &mut out);
            for t in 0..tokens {
                for r in 0..rows {
                    let exact: f32 = (0..cols).map(|i| w[r * cols + i] * x[t * cols + i]).sum();
                    let got = out[t * rows + r];
                    let scale = (0..cols).map(|i| (w[r * cols + i] * x[t * cols + i]).abs()).sum::<f32>();
                    assert!((got - exact).abs() <= 0.01 * scale + 1e-3, "{wtype:?} r{r} t{t}: {got} vs {exact}");
                }
            }
        }
    }

    /// The prompt GEMM (many tokens, a partial last lane group) against float math.
    #[test]
    fn gemm_matches_float_reference() {
        for wtype in [
            WeightType::Q4_0,
            WeightType::Q4_1,
            WeightType::Q5_0,
            WeightType::Q5_1,
            WeightType::Q8_0,
            WeightType::Q4K,
            WeightType::Q5K,
            WeightType::Q6K,
        ] {
            let (rows, cols, tokens) = (13, 512, 21);
            let (m, w) = random_matrix(wtype, rows, cols, 3);
            let x: Vec<f32> = (0..tokens * cols).map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.9).collect();
            let mut out = vec![0f32; tokens * rows];
            m.matmul(&x, tokens, &mut out);
            for t in 0..tokens {
                for r in 0..rows {
                    let exact: f32 = (0..cols).map(|i| w[r * cols + i] * x[t * cols + i]).sum();
                    let scale = (0..cols).map(|i| (w[r * cols + i] * x[t * cols + i]).abs()).sum::<f32>();
                    let got = out[t * rows + r];
                    assert!((got - exact).abs() <= 0.01 * scale + 1e-3, "{wtype:?} r{r} t{t}: {got} vs {exact}");
                }
            }
        }
    }

    /// The prompt GEMM over several token chunks (a long prompt, an encoder batch): the simple
    /// formats equal the scalar kernels on the same int8 activations (Q8_0 through its +128
    /// offset on VNNI); the k-quants, whose GEMM takes blocks of 32 where the scalar kernel takes
    /// Q8_K blocks of 256, stay within activation rounding of float math.
    #[test]
    fn gemm_over_many_chunks_is_exact() {
        let (rows, cols, tokens) = (9, 1024, 300);
        assert!(tokens > GEMM_CHUNK_BYTES / (cols * gemm::LANES) * gemm::LANES, "more than one chunk");
        for wtype in
            [WeightType::Q4_0, WeightType::Q4_1, WeightType::Q5_0, WeightType::Q8_0, WeightType::Q4K, WeightType::Q6K]
        {
            let (m, w) = random_matrix(wtype, rows, cols, 13);
            let x: Vec<f32> = (0..tokens * cols).map(|i| ((i * 104729 % 997) as f32 / 498.0 - 1.0) * 1.3).collect();
            let mut out = vec![0f32; tokens * rows];
            m.matmul(&x, tokens, &mut out);
            for t in (0..tokens).step_by(7) {
                let xs = &x[t * cols..(t + 1) * cols];
                for r in 0..rows {
                    let got = out[t * rows + r];
                    if wtype.activation() == ActivationType::Q8 {
                        let mut q = Q8Row::default();
                        quantize_q8(xs, &mut q);
                        let expected = scalar::dot_simple(wtype, m.row_bytes(r), &q);
                        assert!(
                            (got - expected).abs() <= 1e-4 * expected.abs().max(1.0),
                            "{wtype:?} r{r} t{t}: {got} vs {expected}"
                        );
                    } else {
                        let exact: f32 = (0..cols).map(|i| w[r * cols + i] * xs[i]).sum();
                        let scale = (0..cols).map(|i| (w[r * cols + i] * xs[i]).abs()).sum::<f32>();
                        assert!((got - exact).abs() <= 0.01 * scale + 1e-3, "{wtype:?} r{r} t{t}: {got} vs {exact}");
                    }
                }
            }
        }
    }

    /// Float weights quantised to Q8_0 by Folio are the bytes candle's (ggml's) quantiser writes.
    #[test]
    fn q8_0_weights_match_candle() {
        let (m, _) = random_matrix(WeightType::Q8_0, 5, 256, 17);
        let (_, floats) = random_matrix(WeightType::F32, 5, 256, 17);
        let mut ours = Vec::new();
        formats::quantize_q8_0_weights(&floats, &mut ours);
        let theirs: Vec<u8> = (0..5).flat_map(|r| m.row_bytes(r).to_vec()).collect();
        assert_eq!(ours, theirs);
    }

    /// SIMD tiles equal the scalar kernels on the same quantised activations.
    #[test]
    fn simd_equals_scalar() {
        for wtype in [
            WeightType::Q4_0,
            WeightType::Q4_1,
            WeightType::Q5_0,
            WeightType::Q5_1,
            WeightType::Q8_0,
            WeightType::Q4K,
            WeightType::Q5K,
            WeightType::Q6K,
        ] {
            for tokens in [1, 3] {
                let (rows, cols) = (9, 1024);
                let (m, _) = random_matrix(wtype, rows, cols, 5);
                let x: Vec<f32> = (0..tokens * cols).map(|i| ((i * 104729 % 997) as f32 / 498.0 - 1.0) * 1.3).collect();
                let mut out = vec![0f32; tokens * rows];
                m.matmul(&x, tokens, &mut out);
                for t in 0..tokens {
                    let xs = &x[t * cols..(t + 1) * cols];
                    for r in 0..rows {
                        let expected = match wtype.activation() {
                            ActivationType::Q8 => {
                                let mut q = Q8Row::default();
                                quantize_q8(xs, &mut q);
                                scalar::dot_simple(wtype, m.row_bytes(r), &q)
                            }
                            _ => {
                                let mut q = Q8KRow::default();
                                quantize_q8k(xs, &mut q);
                                scalar::dot_k(wtype, m.row_bytes(r), &q)
                            }
                        };
                        let got = out[t * rows + r];
                        assert!(
                            (got - expected).abs() <= 1e-4 * expected.abs().max(1.0),
                            "{wtype:?} r{r} t{t}: {got} vs {expected}"
                        );
                    }
                }
            }
        }
    }
}
