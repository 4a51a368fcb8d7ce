//! Local GGUF decoders: loading, tokenizing from the file's metadata, chat templates, sampling,
//! streaming generation on the CPU (Folio's native kernels) or a GPU (candle).

pub mod bench;
pub mod decoder;
pub mod gguf;
pub mod native;
pub mod prefix_cache;
pub mod sampling;
pub mod session;
pub mod template;
pub mod tokenizer;

pub use decoder::DeviceChoice;
pub use session::{resolve_model, GenerateOptions, Generation, LoadOptions, LocalModel, StopReason};
pub use template::Message;
