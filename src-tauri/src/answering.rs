//! Loading the answering model and answering questions, off the window's thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use folio::answer::{AskEvent, AskOptions};
use folio::llm::sampling::SamplingOptions;
use folio::llm::{resolve_model, LoadOptions, LocalModel};
use tauri::{AppHandle, Emitter, Manager};

use crate::state::Shell;
use crate::views::{AnswerEvent, ModelStateEvent};

/// Loads the model the settings name (or the best installed one) in the background.
pub fn load_model(app: &AppHandle) {
    let handle = app.clone();
    std::thread::spawn(move || {
        let shell = handle.state::<Arc<Shell>>();
        let mut settings = shell.settings.lock().unwrap().clone();
        if settings.model.is_none() {
            let installed = folio::models::catalog::installed_decoders();
            let preferred = ["qwen2.5-0.5b-instruct", "smollm2-135m-instruct"];
            settings.model = preferred
                .iter()
                .map(|s| s.to_string())
                .find(|p| installed.contains(p))
                .or_else(|| installed.first().cloned());
            if settings.model.is_some() {
                let _ = settings.save();
                *shell.settings.lock().unwrap() = settings.clone();
            }
        }
        let mut slot = shell.model.lock().unwrap();
        slot.model = None;
        slot.loaded = None;
        slot.error = None;
        if let Some(id) = settings.model.clone() {
            let options = LoadOptions { device: settings.device_choice(), context: settings.context };
            match resolve_model(&id).and_then(|path| LocalModel::load(&path, &options)) {
                Ok(model) => {
                    tracing::info!("model {id} loaded on {}", model.device_name());
                    slot.model = Some(model);
                    slot.loaded = Some(id);
                }
                Err(e) => slot.error = Some(e.to_string()),
            }
        }
        let event = ModelStateEvent { loaded: slot.loaded.clone(), error: slot.error.clone() };
        drop(slot);
        let _ = handle.emit("model-state", event);
    });
}

/// Answers in the background; every step goes to the window as an `answer` event.
pub fn ask(app: &AppHandle, shell: &Arc<Shell>, question: String, chat_id: Option<i64>) -> u64 {
    let request_id = shell.next_request.fetch_add(1, Ordering::SeqCst) + 1;
    let cancel = Arc::new(AtomicBool::new(false));
    shell.answers.lock().unwrap().insert(request_id, cancel.clone());
    let (handle, shell) = (app.clone(), shell.clone());
    std::thread::spawn(move || {
        let send = |event: AnswerEvent| {
            let _ = handle.emit("answer", event);
        };
        let temperature = shell.settings.lock().unwrap().temperature;
        let sampling = if temperature > 0.0 {
            SamplingOptions { temperature, ..SamplingOptions::default() }
        } else {
            AskOptions::default().sampling
        };
        let options = AskOptions { chat_id, sampling, ..AskOptions::default() };
        let mut slot = shell.model.lock().unwrap();
        let result = match slot.model.as_mut() {
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
        };
        drop(slot);
        match result {
            Ok(answer) => send(AnswerEvent::Done { request_id, answer: Box::new(answer) }),
            Err(message) => send(AnswerEvent::Error { request_id, message }),
        }
        shell.answers.lock().unwrap().remove(&request_id);
    });
    request_id
}
