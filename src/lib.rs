//! Folio's engine: index folders of documents into a hybrid (keyword + vector) index and search it.
//! Knows nothing about windows; everything a user can do, the CLI can do.

pub mod answer;
pub mod api;
pub mod calendar;
pub mod embed;
pub mod error;
pub mod eval;
pub mod failpoint;
pub mod index_events;
pub mod ingest;
pub mod kernels;
pub mod library;
pub mod machine;
pub mod models;
pub mod search;
pub mod settings;
pub mod sizes;
pub mod stats;
pub mod store;
pub mod vector_math;
pub mod watch;

pub use error::{Error, Result};
pub use library::{Library, LibraryOptions, SearchHit};
pub use search::SearchMode;
pub mod llm;
