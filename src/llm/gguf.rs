//! A GGUF file: its metadata (through candle's reader) and its tensor data, memory-mapped.

use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::GgmlDType;
use memmap2::Mmap;

use crate::error::{Error, Result};

pub struct GgufFile {
    pub path: PathBuf,
    pub content: Content,
    mmap: Mmap,
}

/// A tensor's raw bytes in the file, as GGML laid them out.
pub struct RawTensor<'a> {
    pub name: String,
    pub dtype: GgmlDType,
    /// Dimensions in GGML order: `dims[0]` is the row length (innermost).
    pub dims: Vec<usize>,
    pub data: &'a [u8],
}

impl GgufFile {
    pub fn open(path: &Path) -> Result<Self> {
        let fail = |reason: String| Error::model(path.display().to_string(), reason);
        let mut file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
        // candle's reader bounds lengths and counts, but a few fields still reach arithmetic
        // unchecked (an alignment of 0 divides by zero): a damaged file must be an error, never a
        // panic that takes the app's model thread with it.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Content::read(&mut file)));
        let content = match read {
            Ok(Ok(content)) => content,
            Ok(Err(e)) => return Err(fail(format!("not a readable GGUF file: {e}"))),
            Err(_) => return Err(fail("not a readable GGUF file: its header is damaged".into())),
        };
        // SAFETY: the model file is mapped read-only and not modified while Folio runs.
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| fail(format!("cannot map: {e}")))?;
        check_tensors(&content, mmap.len()).map_err(fail)?;
        Ok(GgufFile { path: path.to_path_buf(), content, mmap })
    }

    /// The number of weights in the file's tensors.
    pub fn parameter_count(&self) -> u64 {
        self.content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum()
    }

    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta(key).and_then(|v| v.to_string().ok()).map(String::as_str)
    }

    pub fn meta_u32(&self, key: &str) -> Option<u32> {
        self.meta(key).and_then(value_u32)
    }

    pub fn meta_f32(&self, key: &str) -> Option<f32> {
        self.meta(key).and_then(|v| match v {
            Value::F32(x) => Some(*x),
            Value::F64(x) => Some(*x as f32),
            other => other.to_u32().ok().map(|x| x as f32),
        })
    }

    pub fn meta_bool(&self, key: &str) -> Option<bool> {
        self.meta(key).and_then(|v| v.to_bool().ok())
    }

    pub fn architecture(&self) -> Result<&str> {
        self.meta_str("general.architecture")
            .ok_or_else(|| Error::model(self.path.display().to_string(), "no general.architecture in its metadata"))
    }

    /// `{arch}.{key}` metadata, as llama.cpp names hyperparameters.
    pub fn arch_u32(&self, key: &str) -> Option<u32> {
        let arch = self.architecture().ok()?;
        self.meta_u32(&format!("{arch}.{key}"))
    }

    pub fn arch_f32(&self, key: &str) -> Option<f32> {
        let arch = self.architecture().ok()?;
        self.meta_f32(&format!("{arch}.{key}"))
    }

    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    pub fn tensor(&self, name: &str) -> Result<RawTensor<'_>> {
        let info = self
            .content
            .tensor_infos
            .get(name)
            .ok_or_else(|| Error::model(self.path.display().to_string(), format!("tensor {name} is missing")))?;
        // `open` checked that every tensor lies inside the file, with checked arithmetic.
        let start = self.content.tensor_data_offset as usize + info.offset as usize;
        let len = tensor_bytes(info.ggml_dtype, info.shape.elem_count());
        // candle reports dims outermost-first; GGML order is the reverse.
        let mut dims = info.shape.dims().to_vec();
        dims.reverse();
        Ok(RawTensor { name: name.to_string(), dtype: info.ggml_dtype, dims, data: &self.mmap[start..start + len] })
    }
}

/// Runs `read` (anything that reads the model at `path`) with its panics caught: a reader that
/// slipped past the checks reports the file as damaged instead of taking the caller's thread (and
/// the locks it holds) with it.
pub fn without_panics<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        Err(Error::model(
            path.display().to_string(),
            format!("damaged model: reading it failed ({})", crate::error::panic_message(panic.as_ref())),
        ))
    })
}

/// An unsigned number of any integer type (writers differ in the widths they use).
fn value_u32(v: &Value) -> Option<u32> {
    match v {
        Value::U8(x) => Some(*x as u32),
        Value::U16(x) => Some(*x as u32),
        Value::U32(x) => Some(*x),
        Value::U64(x) => u32::try_from(*x).ok(),
        Value::I8(x) => u32::try_from(*x).ok(),
        Value::I16(x) => u32::try_from(*x).ok(),
        Value::I32(x) => u32::try_from(*x).ok(),
        Value::I64(x) => u32::try_from(*x).ok(),
        _ => None,
    }
}

/// Every tensor: a rank of 1 to 4, whole quantisation blocks, its data inside the file (no sum or
/// product wraps around: each is checked).
fn check_tensors(content: &Content, file_len: usize) -> std::result::Result<(), String> {
    let alignment = match content.metadata.get("general.alignment") {
        Some(v) => value_u32(v).filter(|a| a.is_power_of_two()).map(u64::from),
        None => Some(candle_core::quantized::gguf_file::DEFAULT_ALIGNMENT),
    }
    .ok_or("the header's general.alignment is not a power of two")?;
    for (name, info) in &content.tensor_infos {
        let dims = info.shape.dims();
        if dims.is_empty() || dims.len() > 4 {
            return Err(format!("tensor {name} has {} dimensions", dims.len()));
        }
        let elements = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("tensor {name} has impossible dimensions {dims:?}"))?;
        if elements == 0 || !elements.is_multiple_of(info.ggml_dtype.block_size()) {
            return Err(format!("tensor {name}: {elements} weights are not whole {:?} blocks", info.ggml_dtype));
        }
        if !info.offset.is_multiple_of(alignment) {
            return Err(format!("tensor {name} starts at offset {}, not aligned to {alignment} bytes", info.offset));
        }
        let end = (elements / info.ggml_dtype.block_size())
            .checked_mul(info.ggml_dtype.type_size())
            .and_then(|bytes| bytes.checked_add(usize::try_from(info.offset).ok()?))
            .and_then(|end| end.checked_add(usize::try_from(content.tensor_data_offset).ok()?));
        match end {
            Some(end) if end <= file_len => {}
            Some(end) => {
                return Err(format!(
                    "the file is truncated: tensor {name} needs {end} bytes, the file has {file_len} (an incomplete download?)"
                ))
            }
            None => return Err(format!("tensor {name} lies beyond any possible file (offset {})", info.offset)),
        }
    }
    Ok(())
}

pub fn tensor_bytes(dtype: GgmlDType, elements: usize) -> usize {
    elements / dtype.block_size() * dtype.type_size()
}
