//! Typed progress events of an indexing run, rendered by both faces (CLI and window).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// What became of one file in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FileOutcome {
    Indexed { chunks: usize, warnings: Option<String> },
    Unchanged,
    Skipped { reason: String },
    Failed { reason: String },
    Removed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IndexEvent {
    /// Walking a folder.
    Scanning {
        folder: PathBuf,
    },
    /// What the run will do: files to read (and their bytes), files unchanged, files removed.
    Planned {
        folder: PathBuf,
        to_read: usize,
        bytes: u64,
        unchanged: usize,
        removed: usize,
    },
    /// A file is settled; `done` of `total` files to read are.
    File {
        path: PathBuf,
        outcome: FileOutcome,
        done: usize,
        total: usize,
    },
    /// A folder of the library cannot be read now (missing, unreadable, suddenly empty): its index
    /// is kept and it is read again when it comes back.
    Unavailable {
        folder: PathBuf,
        reason: String,
    },
    /// Chunks embedded so far in this run.
    Embedded {
        chunks: usize,
    },
    Finished {
        summary: IndexSummary,
    },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexSummary {
    pub folders: Vec<PathBuf>,
    pub indexed: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub chunks: usize,
    /// Of `chunks`, those that kept the vector of an unchanged passage of their file's earlier
    /// version instead of being embedded again.
    pub reused: usize,
    pub bytes_read: u64,
    pub skipped: Vec<(PathBuf, String)>,
    pub failed: Vec<(PathBuf, String)>,
    /// Folders left as they were because they cannot be read now, with the reason.
    pub unavailable: Vec<(PathBuf, String)>,
    #[serde(with = "secs")]
    pub elapsed: Duration,
    /// From the start of the run until the first file of it could be found by every search mode.
    #[serde(with = "optional_secs")]
    pub first_searchable: Option<Duration>,
    /// CPU time over the run divided by what the cores could have given in that time (0 to 1):
    /// this process and its extraction workers.
    pub cpu_utilisation: f64,
    pub cancelled: bool,
}

mod optional_secs {
    pub fn serialize<S: serde::Serializer>(d: &Option<std::time::Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

mod secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
