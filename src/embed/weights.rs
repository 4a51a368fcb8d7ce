//! The tensors of a `model.safetensors` file, read through one memory map: small tensors are
//! converted to f32 vectors, the word-embedding table stays in the map and is read a row at a time
//! (multilingual-e5's 250k-row table is 384 MB in f32; copying it would double the embedder's
//! memory for rows a library mostly never touches).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::kernels::formats::{dequantize_row, WeightType};

pub struct WeightsFile {
    id: &'static str,
    map: Arc<Mmap>,
    places: HashMap<String, TensorPlace>,
    /// Name prefix the file's tensors carry (`""`, or `"bert."` for checkpoints saved with a head).
    prefix: &'static str,
}

/// A tensor's place in the map: element type, shape, byte range.
#[derive(Clone)]
pub struct TensorPlace {
    dtype: Dtype,
    pub shape: Vec<usize>,
    start: usize,
    len: usize,
}

/// A table read a row at a time from the map (the word embeddings).
pub struct MappedTable {
    map: Arc<Mmap>,
    place: TensorPlace,
    pub rows: usize,
    pub cols: usize,
}

impl WeightsFile {
    pub fn open(path: &Path, id: &'static str) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::model(id, format!("{}: {e}", path.display())))?;
        // SAFETY: the weights file is mapped read-only; Folio never writes model files while they
        // are loaded.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::model(id, format!("{}: {e}", path.display())))?;
        let tensors =
            SafeTensors::deserialize(&map).map_err(|e| Error::model(id, format!("model.safetensors: {e}")))?;
        let places = tensors
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let start = view.data().as_ptr() as usize - map.as_ptr() as usize;
                (name, TensorPlace { dtype: view.dtype(), shape: view.shape().to_vec(), start, len: view.data().len() })
            })
            .collect::<HashMap<_, _>>();
        let prefix = ["", "bert."]
            .into_iter()
            .find(|p| places.contains_key(&format!("{p}embeddings.word_embeddings.weight")))
            .ok_or_else(|| Error::model(id, "model.safetensors has no embeddings.word_embeddings.weight"))?;
        Ok(WeightsFile { id, map: Arc::new(map), places, prefix })
    }

    fn find(&self, name: &str) -> Result<TensorPlace> {
        let place =
            self.places.get(name).ok_or_else(|| Error::model(self.id, format!("model.safetensors has no {name}")))?;
        if !matches!(place.dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16) {
            return Err(Error::model(self.id, format!("{name} is {:?}; float weights are expected", place.dtype)));
        }
        Ok(place.clone())
    }

    /// The tensor `name` (under the file's prefix) as f32 values, checked against `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let place = self.place(name, shape)?;
        let mut out = vec![0f32; shape.iter().product()];
        convert(place.dtype, &self.map[place.start..place.start + place.len], &mut out);
        Ok(out)
    }

    /// A layer norm's scale and shift, under either naming (`weight`/`bias`, or the older
    /// `gamma`/`beta`).
    pub fn norm(&self, name: &str, width: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        match self.f32(&format!("{name}.weight"), &[width]) {
            Ok(weight) => Ok((weight, self.f32(&format!("{name}.bias"), &[width])?)),
            Err(_) => Ok((self.f32(&format!("{name}.gamma"), &[width])?, self.f32(&format!("{name}.beta"), &[width])?)),
        }
    }

    pub fn table(&self, name: &str, cols: usize) -> Result<MappedTable> {
        let place = self.place_any_rows(name, cols)?;
        Ok(MappedTable { map: self.map.clone(), rows: place.shape[0], cols, place })
    }

    fn place(&self, name: &str, shape: &[usize]) -> Result<TensorPlace> {
        let full = format!("{}{name}", self.prefix);
        let place = self.find(&full)?;
        if place.shape != shape {
            return Err(Error::model(
                self.id,
                format!("{full} has shape {:?}, config.json implies {shape:?}", place.shape),
            ));
        }
        Ok(place)
    }

    fn place_any_rows(&self, name: &str, cols: usize) -> Result<TensorPlace> {
        let full = format!("{}{name}", self.prefix);
        let place = self.find(&full)?;
        if place.shape.len() != 2 || place.shape[1] != cols || place.shape[0] == 0 {
            return Err(Error::model(self.id, format!("{full} has shape {:?}, expected [rows, {cols}]", place.shape)));
        }
        Ok(place)
    }
}

impl MappedTable {
    /// Adds row `r` to `out` (`cols` values).
    pub fn add_row(&self, r: usize, out: &mut [f32]) {
        let width = self.place.len / (self.rows * self.cols);
        let start = self.place.start + r * self.cols * width;
        let mut row = [0f32; 1024];
        for (out, src) in
            out.chunks_mut(row.len()).zip(self.map[start..start + self.cols * width].chunks(row.len() * width))
        {
            let row = &mut row[..out.len()];
            convert(self.place.dtype, src, row);
            for (o, v) in out.iter_mut().zip(row.iter()) {
                *o += v;
            }
        }
    }
}

/// Float tensor bytes to f32, through the kernels' own dequantisation of the float formats.
fn convert(dtype: Dtype, bytes: &[u8], out: &mut [f32]) {
    let wtype = match dtype {
        Dtype::F32 => WeightType::F32,
        Dtype::F16 => WeightType::F16,
        Dtype::BF16 => WeightType::BF16,
        _ => unreachable!("float types are checked when a tensor is found"),
    };
    dequantize_row(wtype, bytes, out);
}
