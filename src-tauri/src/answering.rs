//! Loading the answering model and answering questions, off the window's thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use folio::answer::{AskEvent, AskOptions};
use folio::llm::sampling::SamplingOptions;
use folio::llm::LoadOptions;
use tauri::{AppHandle, Emitter, Manager};

use crate::state::{lock, ModelSlot, Shell};
use crate::views::{AnswerEvent, ModelStateEvent};

/// Loads the model the settings name in the background. The engine decides what happens on the
/// first start (it measures this machine and picks) and when the named model cannot be loaded (the
/// best other installed one); the settings keep the outcome and its reason, which Settings shows.
pub fn load_model(app: &AppHandle) {
    let handle = app.clone();
    std::thread::spawn(move || {
        let shell = handle.state::<Arc<Shell>>();
        let settings = lock(&shell.settings).clone();
        let options = LoadOptions { device: settings.device_choice(), context: settings.context };
        let mut slot = lock(&shell.model);
        *slot = ModelSlot::default();
        match folio::models::startup::load_for_answering(settings.model.as_deref(), &options) {
            Ok(Some(loaded)) => {
                tracing::info!("model {} loaded on {}", loaded.id, loaded.model.device_name());
                if let Some(reason) = loaded.reason {
                    let mut saved = lock(&shell.settings);
                    saved.model = Some(loaded.id.clone());
                    saved.model_reason = Some(reason);
                    if let Err(e) = saved.save() {
                        tracing::warn!("the model choice was not saved: {e}");
                    }
                }
                if let Some(problem) = loaded.problem {
                    crate::notice(&handle, problem);
                }
                slot.model = Some(loaded.model);
                slot.loaded = Some(loaded.id);
            }
            Ok(None) => {}
            Err(e) => slot.error = Some(e.to_string()),
        }
        let event = ModelStateEvent { loaded: slot.loaded.clone(), error: slot.error.clone() };
        drop(slot);
        let _ = handle.emit("model-state", event);
        prepare_answers(&shell);
    });
}

/// Runs the instructions every answer begins with while the user is still typing, so the first
/// question waits only for its sources. A question asked meanwhile waits for the lock; a
/// failure here costs nothing but the head start.
fn prepare_answers(shell: &Shell) {
    let mut slot = lock(&shell.model);
    if let Some(model) = slot.model.as_mut() {
        let outcome = catch_unwind(AssertUnwindSafe(|| folio::answer::prepare(model, &AskOptions::default())));
        match outcome {
            Ok(Ok(tokens)) => tracing::info!("{tokens} tokens of answer instructions prepared"),
            Ok(Err(e)) => tracing::warn!("the answer instructions were not prepared: {e}"),
            Err(_) => {
                tracing::warn!("preparing the answer instructions panicked; the model's cache is emptied");
                model.reset();
            }
        }
    }
}

/// Answers in the background; every step goes to the window as an `answer` event.
pub fn ask(app: &AppHandle, shell: &Arc<Shell>, question: String, chat_id: Option<i64>, within: Vec<PathBuf>) -> u64 {
    let request_id = shell.next_request.fetch_add(1, Ordering::SeqCst) + 1;
    let cancel = Arc::new(AtomicBool::new(false));
    lock(&shell.answers).insert(request_id, cancel.clone());
    let (handle, shell) = (app.clone(), shell.clone());
    std::thread::spawn(move || {
        let send = |event: AnswerEvent| {
            let _ = handle.emit("answer", event);
        };
        let temperature = lock(&shell.settings).temperature;
        let sampling = if temperature > 0.0 {
            SamplingOptions { temperature, ..SamplingOptions::default() }
        } else {
            AskOptions::default().sampling
        };
        let options = AskOptions { chat_id, sampling, within, ..AskOptions::default() };
        let mut slot = lock(&shell.model);
        // A panic inside the model (a decoder bug, a corner of a tokenizer) must not leave the
        // lock poisoned and every later question failing: the answer ends with an error, the
        // model, whose caches may be half-written, is dropped and loaded afresh.
        let outcome = catch_unwind(AssertUnwindSafe(|| match slot.model.as_mut() {
            None => Err(slot.error.clone().map_or_else(
                || "No model is installed yet: import a GGUF file or download one from the catalog.".to_string(),
                |e| format!("The model could not be loaded: {e}"),
            )),
            Some(model) => shell
                .library
                .ask(model, &question, &options, &cancel, &mut |event| match event {
                    AskEvent::Query(query) => send(AnswerEvent::Query { request_id, query }),
                    AskEvent::Sources(sources) => send(AnswerEvent::Sources { request_id, sources }),
                    AskEvent::Text(text) => send(AnswerEvent::Token { request_id, text }),
                })
                .map_err(|e| e.to_string()),
        }));
        let panicked = outcome.is_err();
        let result = outcome.unwrap_or_else(|panic| {
            *slot = ModelSlot::default();
            Err(format!(
                "The model failed while answering ({}); it is being loaded again, ask once more in a moment.",
                folio::error::panic_message(panic.as_ref())
            ))
        });
        drop(slot);
        if panicked {
            load_model(&handle);
        }
        match result {
            Ok(answer) => send(AnswerEvent::Done { request_id, answer: Box::new(answer) }),
            Err(message) => send(AnswerEvent::Error { request_id, message }),
        }
        lock(&shell.answers).remove(&request_id);
    });
    request_id
}
