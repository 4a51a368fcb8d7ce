//! The one thread that owns the answering model. A local model answers one request at a time, so
//! requests wait in a short queue and a full queue is refused at once (the HTTP face answers 429
//! with `Retry-After`) instead of piling up memory and waiting clients. A request names the model
//! it wants; the thread loads another installed one when asked (by id, never a path a request
//! names), keeping one in memory.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::answer::{AskEvent, AskOptions, Citation};
use crate::error::{panic_message, Error, Result};
use crate::library::Library;
use crate::llm::{GenerateOptions, LoadOptions, LocalModel, Message, StopReason};

/// What a request asks of the model.
pub enum Task {
    /// A cited answer from the library (`Library::ask`); nothing is kept in the library's chats.
    Ask { question: String, options: AskOptions },
    /// The model alone, on the conversation as given.
    Chat { messages: Vec<Message>, options: GenerateOptions },
}

pub struct Job {
    /// An installed model's id or a GGUF path; `None`: the one loaded.
    pub model: Option<String>,
    pub task: Task,
    /// Text as it is written, then the outcome. A closed receiver (the client left) stops the work.
    pub updates: mpsc::Sender<Update>,
    pub cancel: Arc<AtomicBool>,
}

pub enum Update {
    Text(String),
    Done(std::result::Result<Finished, String>),
}

/// How a request ended.
pub struct Finished {
    /// The model that answered.
    pub model: String,
    /// The final text (an answer's markers checked against its sources).
    pub text: String,
    pub citations: Vec<Citation>,
    /// The documents do not hold the answer (said by the model, or without asking it).
    pub refused: bool,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// `"stop"` or `"length"`, as OpenAI names them.
    pub finish_reason: &'static str,
}

/// The queue is full.
#[derive(Debug)]
pub struct Busy;

#[derive(Clone)]
pub struct Answerer {
    jobs: crossbeam_channel::Sender<Job>,
    loaded: Arc<std::sync::Mutex<String>>,
}

impl Answerer {
    /// Starts the model's thread with `model` (id `id`) loaded; `queue` requests may wait beside
    /// the one being answered.
    pub fn start(library: Arc<Library>, id: String, model: LocalModel, load: LoadOptions, queue: usize) -> Answerer {
        let (jobs, incoming) = crossbeam_channel::bounded::<Job>(queue.max(1));
        let loaded = Arc::new(std::sync::Mutex::new(id.clone()));
        let shown = loaded.clone();
        std::thread::Builder::new()
            .name("folio-answerer".into())
            .spawn(move || {
                let mut current = (id, model);
                for job in incoming {
                    let outcome = serve_one(&library, &mut current, &load, &job);
                    *shown.lock().unwrap_or_else(|p| p.into_inner()) = current.0.clone();
                    let _ = job.updates.blocking_send(Update::Done(outcome));
                }
            })
            .expect("the answering thread starts");
        Answerer { jobs, loaded }
    }

    /// Queues a job, or refuses it at once when the queue is full.
    pub fn submit(&self, job: Job) -> std::result::Result<(), Busy> {
        self.jobs.try_send(job).map_err(|_| Busy)
    }

    /// The id of the model in memory.
    pub fn loaded(&self) -> String {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn serve_one(
    library: &Library,
    current: &mut (String, LocalModel),
    load: &LoadOptions,
    job: &Job,
) -> std::result::Result<Finished, String> {
    if let Some(wanted) = job.model.as_deref().filter(|m| *m != current.0) {
        // Only an installed model's id: a request cannot make the server open any file it names.
        let path = crate::models::installed_model_file(wanted).map_err(|e| e.to_string())?;
        let model = LocalModel::load(&path, load).map_err(|e| e.to_string())?;
        *current = (wanted.to_string(), model);
    }
    let (id, model) = (current.0.clone(), &mut current.1);
    // A panic in the model ends this request, not the thread; the model is reset for the next.
    let outcome = catch_unwind(AssertUnwindSafe(|| run(library, model, job)));
    match outcome {
        Ok(result) => result.map(|f| Finished { model: id, ..f }).map_err(|e| e.to_string()),
        Err(panic) => {
            model.reset();
            Err(format!("the model failed: {}", panic_message(panic.as_ref())))
        }
    }
}

fn run(library: &Library, model: &mut LocalModel, job: &Job) -> Result<Finished> {
    let send = |text: String| {
        if job.updates.blocking_send(Update::Text(text)).is_err() {
            // Nobody reads any more: stop generating.
            job.cancel.store(true, Ordering::SeqCst);
        }
    };
    match &job.task {
        Task::Ask { question, options } => {
            let answer = library.ask(model, question, options, &job.cancel, &mut |event| {
                if let AskEvent::Text(text) = event {
                    send(text);
                }
            })?;
            if answer.stopped && job.cancel.load(Ordering::SeqCst) {
                return Err(Error::Cancelled);
            }
            Ok(Finished {
                model: String::new(),
                text: answer.text,
                citations: answer.citations,
                refused: answer.refused,
                prompt_tokens: answer.prompt_tokens,
                generated_tokens: answer.generated_tokens,
                finish_reason: if answer.generated_tokens >= options.max_answer_tokens { "length" } else { "stop" },
            })
        }
        Task::Chat { messages, options } => {
            let generation = model.chat(messages, options, &job.cancel, &mut |text| send(text.to_string()))?;
            if generation.stop == StopReason::Cancelled {
                return Err(Error::Cancelled);
            }
            Ok(Finished {
                model: String::new(),
                text: generation.text,
                citations: Vec::new(),
                refused: false,
                prompt_tokens: generation.prompt_tokens,
                generated_tokens: generation.generated_tokens,
                finish_reason: match generation.stop {
                    StopReason::MaxTokens | StopReason::ContextFull => "length",
                    _ => "stop",
                },
            })
        }
    }
}
