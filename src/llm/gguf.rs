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
        let content = Content::read(&mut file).map_err(|e| fail(format!("not a readable GGUF file: {e}")))?;
        // SAFETY: the model file is mapped read-only and not modified while Folio runs.
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| fail(format!("cannot map: {e}")))?;
        let end = content
            .tensor_infos
            .values()
            .map(|t| {
                content.tensor_data_offset as usize
                    + t.offset as usize
                    + tensor_bytes(t.ggml_dtype, t.shape.elem_count())
            })
            .max()
            .unwrap_or(0);
        if end > mmap.len() {
            return Err(fail(format!(
                "the file is truncated: its tensors need {end} bytes, the file has {} (an incomplete download?)",
                mmap.len()
            )));
        }
        Ok(GgufFile { path: path.to_path_buf(), content, mmap })
    }

    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta(key).and_then(|v| v.to_string().ok()).map(String::as_str)
    }

    pub fn meta_u32(&self, key: &str) -> Option<u32> {
        self.meta(key).and_then(|v| match v {
            Value::U8(x) => Some(*x as u32),
            Value::U16(x) => Some(*x as u32),
            Value::U32(x) => Some(*x),
            Value::U64(x) => u32::try_from(*x).ok(),
            Value::I8(x) => u32::try_from(*x).ok(),
            Value::I16(x) => u32::try_from(*x).ok(),
            Value::I32(x) => u32::try_from(*x).ok(),
            Value::I64(x) => u32::try_from(*x).ok(),
            _ => None,
        })
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
        let start = self.content.tensor_data_offset as usize + info.offset as usize;
        let len = tensor_bytes(info.ggml_dtype, info.shape.elem_count());
        // candle reports dims outermost-first; GGML order is the reverse.
        let mut dims = info.shape.dims().to_vec();
        dims.reverse();
        Ok(RawTensor { name: name.to_string(), dtype: info.ggml_dtype, dims, data: &self.mmap[start..start + len] })
    }
}

pub fn tensor_bytes(dtype: GgmlDType, elements: usize) -> usize {
    elements / dtype.block_size() * dtype.type_size()
}
