//! Failures that belong to one file. Extraction runs in worker processes, so a reader that panics
//! or hangs ends only its worker; the stages that run in the indexer's own process (chunking,
//! embedding, the file's commit) are guarded here instead, so that a bug such as a slice inside a
//! character fails the file it met, with its reason, and the run goes on.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::Result;

/// A stage of indexing one file, named in the reason a user reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Chunking,
    Embedding,
    Committing,
}

impl Stage {
    fn doing(self) -> &'static str {
        match self {
            Stage::Chunking => "splitting its text into passages",
            Stage::Embedding => "computing its passages' embeddings",
            Stage::Committing => "storing it in the library",
        }
    }

    /// The reason a file failed at this stage, as the file list shows it.
    pub(super) fn reason(self, cause: impl std::fmt::Display) -> String {
        format!("internal error while {}: {cause}", self.doing())
    }
}

/// Runs one file's stage; a panic becomes that file's failure. Engine errors are returned as they
/// are: the caller knows which of them belong to the file and which end the run (a full disk).
pub(super) fn contain<T>(stage: Stage, work: impl FnOnce() -> Result<T>) -> std::result::Result<Result<T>, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|panic| stage.reason(crate::error::panic_message(panic.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_panic_becomes_the_files_reason() {
        let text = "日本語";
        let failed = contain(Stage::Chunking, || Ok(text[..1].to_string())).unwrap_err();
        assert!(failed.starts_with("internal error while splitting its text into passages: "), "{failed}");
        assert!(failed.contains("char boundary"), "{failed}");
    }

    #[test]
    fn results_pass_through() {
        assert_eq!(contain(Stage::Embedding, || Ok(7)).unwrap().unwrap(), 7);
        let error = contain(Stage::Committing, || -> Result<()> { Err(Error::InvalidInput("x".into())) }).unwrap();
        assert!(matches!(error, Err(Error::InvalidInput(_))));
    }
}
