//! Which answering model a start loads: the first start measures and picks; a model that cannot
//! be loaded gives way to another installed one and says why, so the next start does not try
//! the broken one again. Real files: the tests' tiny decoders and a damaged one.

mod common;

use common::tiny_gguf::{self, TinySpec};
use folio::llm::{DeviceChoice, LoadOptions};
use folio::models::startup::load_for_answering;

/// One test: the model directory is process-wide (`FOLIO_MODELS`).
#[test]
fn a_start_loads_what_works_and_says_why() {
    let models = tempfile::tempdir().unwrap();
    std::env::set_var("FOLIO_MODELS", models.path());
    let options = LoadOptions { device: DeviceChoice::Cpu, context: 256 };

    // Nothing installed: nothing to load, and no error.
    assert!(load_for_answering(None, &options).unwrap().is_none());

    // The first start with one (imported) decoder: it is measured, chosen and explained.
    tiny_gguf::write(&models.path().join("tiny.gguf"), &TinySpec::default());
    let first = load_for_answering(None, &options).unwrap().unwrap();
    assert_eq!(first.id, "tiny");
    assert!(first.problem.is_none());
    let reason = first.reason.unwrap();
    assert!(reason.contains("tiny") && reason.contains("measured"), "{reason}");

    // The model the settings name is damaged: the other one answers, and the settings learn why.
    let mut damaged = std::fs::read(models.path().join("tiny.gguf")).unwrap();
    damaged.truncate(damaged.len() / 2);
    std::fs::write(models.path().join("broken.gguf"), &damaged).unwrap();
    let fallback = load_for_answering(Some("broken"), &options).unwrap().unwrap();
    assert_eq!(fallback.id, "tiny");
    let problem = fallback.problem.unwrap();
    assert!(problem.contains("broken could not be loaded") && problem.contains("truncated"), "{problem}");
    assert!(fallback.reason.unwrap().starts_with(&problem));

    // The window names models by id, and an id never reaches outside the model directory.
    assert!(folio::models::installed_model_file("tiny").is_ok());
    for escape in ["../tiny", "/etc/passwd", "sub/tiny", "tiny\\x", ""] {
        assert!(folio::models::installed_model_file(escape).is_err(), "{escape}");
    }

    // A model that loads is loaded as asked, and the settings keep their reason.
    let asked = load_for_answering(Some("tiny"), &options).unwrap().unwrap();
    assert!(asked.reason.is_none() && asked.problem.is_none());

    // When nothing else loads either, the error is the one about the model that was asked for.
    std::fs::remove_file(models.path().join("tiny.gguf")).unwrap();
    let error = load_for_answering(Some("broken"), &options).err().expect("nothing loads").to_string();
    assert!(error.contains("truncated"), "{error}");
}
