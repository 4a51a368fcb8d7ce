//! From folders to chunks: find files, extract their text in isolated workers, cut it into chunks.

pub mod chunk;
pub mod discover;
pub mod extract;
pub mod sandbox;
pub mod worker;
