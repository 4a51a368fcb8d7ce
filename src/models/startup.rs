//! Loading the answering model a face asks for, and what to do when it cannot be loaded: the
//! first start measures the machine and picks (`ladder::first_choice`); a model that fails to
//! load (a damaged file, a deleted one, a bug that panicked) gives way to the best other installed
//! model, and the settings are told, so the next start does not try the broken one again.

use super::ladder;
use crate::error::Result;
use crate::llm::{resolve_model, LoadOptions, LocalModel};

/// The model to answer with, and what the settings should keep.
pub struct Loaded {
    pub id: String,
    pub model: LocalModel,
    /// When the settings should name another model than they do: the new reason for it.
    pub reason: Option<String>,
    /// Why the asked model was not loaded, for the user (`None` when it was).
    pub problem: Option<String>,
}

/// Loads `wanted` (a catalog id or a GGUF path), or on the first start (`None`) the model this
/// machine runs best. `Ok(None)`: no decoder is installed at all.
pub fn load_for_answering(wanted: Option<&str>, options: &LoadOptions) -> Result<Option<Loaded>> {
    let failure = match wanted {
        None => None,
        Some(id) => match resolve_model(id).and_then(|path| LocalModel::load(&path, options)) {
            Ok(model) => return Ok(Some(Loaded { id: id.to_string(), model, reason: None, problem: None })),
            Err(e) => Some((id, e)),
        },
    };
    let exclude: Vec<&str> = failure.as_ref().map(|(id, _)| *id).into_iter().collect();
    let (choice, measured) = match ladder::first_choice(options, &exclude) {
        Ok(found) => found,
        // Nothing else loads either: the user reads why the model they asked for did not.
        Err(e) => return Err(failure.map_or(e, |(_, first)| first)),
    };
    let Some(id) = choice.model.clone() else {
        return match failure {
            Some((_, e)) => Err(e),
            None => Ok(None),
        };
    };
    let model = match measured {
        Some(model) => model,
        None => resolve_model(&id).and_then(|path| LocalModel::load(&path, options))?,
    };
    let (reason, problem) = match failure {
        None => (choice.reason, None),
        Some((broken, e)) => {
            let problem = format!("{broken} could not be loaded ({e}); answering with {id} instead.");
            (format!("{problem} {}", choice.reason), Some(problem))
        }
    };
    Ok(Some(Loaded { id, model, reason: Some(reason), problem }))
}
