//! Where a model runs: Folio's native CPU decoder, or candle-transformers' quantised models on a
//! GPU (CUDA or Metal, with the matching cargo feature) and, for comparison, on the CPU.

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_gemma3, quantized_llama, quantized_qwen2, quantized_qwen3};

use super::gguf::GgufFile;
use super::native::{KvSnapshot, NativeModel};
use crate::error::{Error, Result};

/// A decoder with a KV cache over the tokens it has seen.
pub trait Decoder: Send {
    /// Runs `tokens` after the cached ones and returns the logits of the last.
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>>;
    /// Keeps the first `len` cached tokens, drops the rest. Returns the length actually kept
    /// (a decoder that cannot cut its cache keeps 0).
    fn truncate(&mut self, len: usize) -> usize;
    fn cached(&self) -> usize;
    fn max_context(&self) -> usize;
    fn device_name(&self) -> String;
    /// A copy of the first `len` cached positions, to be restored later; `None` where the
    /// decoder's cache cannot be copied (candle's models).
    fn snapshot(&self, _len: usize) -> Option<KvSnapshot> {
        None
    }
    /// Replaces the cache by a snapshot's positions; returns the positions now cached.
    fn restore(&mut self, _snapshot: &KvSnapshot) -> usize {
        self.truncate(0)
    }
}

impl Decoder for NativeModel {
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        NativeModel::forward(self, tokens)
    }
    fn truncate(&mut self, len: usize) -> usize {
        NativeModel::truncate(self, len);
        self.cached()
    }
    fn cached(&self) -> usize {
        NativeModel::cached(self)
    }
    fn max_context(&self) -> usize {
        NativeModel::max_context(self)
    }
    fn snapshot(&self, len: usize) -> Option<KvSnapshot> {
        Some(NativeModel::snapshot(self, len))
    }
    fn restore(&mut self, snapshot: &KvSnapshot) -> usize {
        NativeModel::restore(self, snapshot)
    }
    fn device_name(&self) -> String {
        format!("cpu (native kernels: {:?}, {} threads)", crate::kernels::isa(), rayon::current_num_threads())
    }
}

enum CandleWeights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
    Gemma3(quantized_gemma3::ModelWeights),
}

impl CandleWeights {
    /// Empties the KV cache. Gemma 3 has no method for it; a fresh clone is cheap (tensors are
    /// shared), so one is kept aside.
    fn reset(&mut self, fresh_gemma: &Option<quantized_gemma3::ModelWeights>) {
        match self {
            CandleWeights::Llama(m) => m.clear_kv_cache(),
            CandleWeights::Qwen2(m) => m.clear_kv_cache(),
            CandleWeights::Qwen3(m) => m.clear_kv_cache(),
            CandleWeights::Gemma3(m) => *m = fresh_gemma.clone().expect("kept for gemma3"),
        }
    }
}

/// candle-transformers' models. Their caches only grow or reset, so a prompt that does not
/// extend the cached tokens starts over.
pub struct CandleDecoder {
    fresh_gemma: Option<quantized_gemma3::ModelWeights>,
    weights: CandleWeights,
    device: Device,
    cached: usize,
    max_context: usize,
}

impl CandleDecoder {
    pub fn load(file: &GgufFile, device: Device, max_context: usize) -> Result<Self> {
        let name = file.path.display().to_string();
        let mut reader = std::fs::File::open(&file.path).map_err(|e| Error::model(&name, e))?;
        let content = gguf_file::Content::read(&mut reader).map_err(|e| Error::model(&name, e))?;
        let fail = |e: candle_core::Error| Error::model(&name, e);
        let arch = file.architecture()?.to_string();
        let weights = match arch.as_str() {
            "llama" | "mistral" => CandleWeights::Llama(
                quantized_llama::ModelWeights::from_gguf(content, &mut reader, &device).map_err(fail)?,
            ),
            "qwen2" => CandleWeights::Qwen2(
                quantized_qwen2::ModelWeights::from_gguf(content, &mut reader, &device).map_err(fail)?,
            ),
            "qwen3" => CandleWeights::Qwen3(
                quantized_qwen3::ModelWeights::from_gguf(content, &mut reader, &device).map_err(fail)?,
            ),
            "gemma3" => CandleWeights::Gemma3(
                quantized_gemma3::ModelWeights::from_gguf(content, &mut reader, &device).map_err(fail)?,
            ),
            other => return Err(Error::model(&name, format!("architecture '{other}' is not supported"))),
        };
        let context = file.arch_u32("context_length").map(|v| v as usize).unwrap_or(4096);
        let fresh_gemma = match &weights {
            CandleWeights::Gemma3(m) => Some(m.clone()),
            _ => None,
        };
        Ok(CandleDecoder { fresh_gemma, weights, device, cached: 0, max_context: max_context.min(context) })
    }
}

impl Decoder for CandleDecoder {
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        if self.cached + tokens.len() > self.max_context {
            return Err(Error::InvalidInput(format!(
                "{} tokens do not fit the context of {}",
                self.cached + tokens.len(),
                self.max_context
            )));
        }
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let pos = self.cached;
        let logits = match &mut self.weights {
            CandleWeights::Llama(m) => m.forward(&input, pos)?,
            CandleWeights::Qwen2(m) => m.forward(&input, pos)?,
            CandleWeights::Qwen3(m) => m.forward(&input, pos)?,
            CandleWeights::Gemma3(m) => m.forward(&input, pos)?,
        };
        self.cached += tokens.len();
        Ok(logits.squeeze(0)?.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
    }
    fn truncate(&mut self, len: usize) -> usize {
        if len < self.cached {
            self.weights.reset(&self.fresh_gemma);
            self.cached = 0;
        }
        self.cached
    }
    fn cached(&self) -> usize {
        self.cached
    }
    fn max_context(&self) -> usize {
        self.max_context
    }
    fn device_name(&self) -> String {
        match &self.device {
            Device::Cpu => "cpu (candle)".into(),
            Device::Cuda(_) => "cuda (candle)".into(),
            Device::Metal(_) => "metal (candle)".into(),
        }
    }
}

/// Which device to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda,
    Metal,
    /// candle-transformers on the CPU (for comparisons).
    CandleCpu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "auto" => DeviceChoice::Auto,
            "cpu" => DeviceChoice::Cpu,
            "cuda" | "gpu" => DeviceChoice::Cuda,
            "metal" => DeviceChoice::Metal,
            "candle-cpu" => DeviceChoice::CandleCpu,
            other => return Err(format!("unknown device '{other}' (auto, cpu, cuda, metal)")),
        })
    }
}

/// Opens the decoder for a device choice. `auto` takes a GPU when Folio was built for one and it
/// answers, else the CPU (saying so in the log).
pub fn open_decoder(file: &GgufFile, choice: DeviceChoice, max_context: usize) -> Result<Box<dyn Decoder>> {
    let gpu = |device: candle_core::Result<Device>, what: &str| -> Result<Device> {
        device.map_err(|e| Error::model(file.path.display().to_string(), format!("{what} is not available: {e}")))
    };
    match choice {
        DeviceChoice::Cpu => Ok(Box::new(NativeModel::load(file, max_context)?)),
        DeviceChoice::CandleCpu => Ok(Box::new(CandleDecoder::load(file, Device::Cpu, max_context)?)),
        DeviceChoice::Cuda => Ok(Box::new(CandleDecoder::load(file, gpu(Device::new_cuda(0), "CUDA")?, max_context)?)),
        DeviceChoice::Metal => {
            Ok(Box::new(CandleDecoder::load(file, gpu(Device::new_metal(0), "Metal")?, max_context)?))
        }
        DeviceChoice::Auto => {
            if cfg!(feature = "cuda") {
                match Device::new_cuda(0) {
                    Ok(device) => return Ok(Box::new(CandleDecoder::load(file, device, max_context)?)),
                    Err(e) => tracing::info!("no CUDA device ({e}); running on the CPU"),
                }
            }
            if cfg!(feature = "metal") {
                match Device::new_metal(0) {
                    Ok(device) => return Ok(Box::new(CandleDecoder::load(file, device, max_context)?)),
                    Err(e) => tracing::info!("no Metal device ({e}); running on the CPU"),
                }
            }
            if !cfg!(any(feature = "cuda", feature = "metal")) {
                tracing::info!("built without GPU support; running on the CPU");
            }
            Ok(Box::new(NativeModel::load(file, max_context)?))
        }
    }
}
