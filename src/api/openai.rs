//! The OpenAI-compatible endpoints: `/v1/models`, `/v1/chat/completions` (a cited answer from the
//! library by default, the model alone with `"folio": {"retrieval": false}`), `/v1/embeddings`
//! (the library's embedder), and Folio's own `/v1/search`. Shapes follow OpenAI's API so that its
//! clients work unchanged; what only Folio has (citations) rides in a `folio` field they ignore.

use std::convert::Infallible;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::answerer::{Finished, Job, Task, Update};
use super::{blocking, Shared};
use crate::answer::{AskOptions, Citation};
use crate::llm::sampling::SamplingOptions;
use crate::llm::{GenerateOptions, Message};
use crate::search::SearchMode;

/// Texts one embeddings request may carry, and characters per text.
const MAX_EMBED_INPUTS: usize = 256;
const MAX_EMBED_CHARS: usize = 32_000;
/// Passages one search may return.
const MAX_SEARCH_K: usize = 100;
/// Tokens an answer may be asked for.
const MAX_ANSWER_TOKENS: usize = 4096;
/// Seconds a refused client is told to wait: about one answer on a laptop.
const RETRY_AFTER_SECONDS: &str = "10";

/// An error in OpenAI's shape.
pub fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": { "message": message.into(), "type": kind, "code": status.as_u16() } });
    (status, Json(body)).into_response()
}

fn invalid(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `GET /v1/models`: the installed decoders (the loaded one first) and the embedder.
pub async fn models(State(shared): State<Arc<Shared>>) -> Response {
    let loaded = shared.answerer.loaded();
    let mut ids = vec![loaded.clone()];
    ids.extend(crate::models::known::installed_decoders().into_iter().filter(|id| *id != loaded));
    let mut data: Vec<Value> =
        ids.iter().map(|id| json!({ "id": id, "object": "model", "created": 0, "owned_by": "folio" })).collect();
    data.push(json!({ "id": shared.library.embedder().id(), "object": "model", "created": 0, "owned_by": "folio" }));
    Json(json!({ "object": "list", "data": data })).into_response()
}

#[derive(Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    model: Option<String>,
    messages: Vec<ChatMessageIn>,
    #[serde(default)]
    stream: bool,
    temperature: Option<f32>,
    top_p: Option<f32>,
    #[serde(alias = "max_completion_tokens")]
    max_tokens: Option<usize>,
    #[serde(default)]
    stop: Option<Stop>,
    seed: Option<u64>,
    #[serde(default)]
    folio: FolioOptions,
}

#[derive(Deserialize)]
struct ChatMessageIn {
    role: String,
    content: Content,
}

/// A message's content: a string, or OpenAI's list of parts (text parts are read).
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

impl Content {
    fn text(&self) -> String {
        match self {
            Content::Text(text) => text.clone(),
            Content::Parts(parts) => parts.iter().filter_map(|p| p.text.as_deref()).collect::<Vec<_>>().join("\n"),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

/// Folio's own request options.
#[derive(Deserialize)]
struct FolioOptions {
    /// Answer from the library (default) or with the model alone.
    #[serde(default = "yes")]
    retrieval: bool,
    /// Answer from these folders or documents of the library only (absolute paths).
    #[serde(default)]
    within: Vec<std::path::PathBuf>,
}

impl Default for FolioOptions {
    fn default() -> Self {
        FolioOptions { retrieval: true, within: Vec::new() }
    }
}

fn yes() -> bool {
    true
}

impl ChatRequest {
    fn sampling(&self, base: SamplingOptions) -> SamplingOptions {
        SamplingOptions {
            temperature: self.temperature.unwrap_or(base.temperature).clamp(0.0, 2.0),
            top_p: self.top_p.unwrap_or(base.top_p).clamp(0.0, 1.0),
            seed: self.seed.unwrap_or(base.seed),
            ..base
        }
    }

    /// The task this request is, or why it cannot be one.
    fn task(&self) -> Result<Task, String> {
        let Some(last) = self.messages.last() else { return Err("messages is empty".into()) };
        if self.max_tokens.is_some_and(|m| m == 0 || m > MAX_ANSWER_TOKENS) {
            return Err(format!("max_tokens is 1 to {MAX_ANSWER_TOKENS}"));
        }
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(many)) => many.clone(),
        };
        if stop.len() > 4 || stop.iter().any(|s| s.is_empty()) {
            return Err("stop is up to 4 non-empty strings".into());
        }
        if self.folio.retrieval {
            if last.role != "user" {
                return Err("the last message is the user's question".into());
            }
            let question = last.content.text();
            crate::answer::chats::checked_question(&question).map_err(|e| e.to_string())?;
            let base = AskOptions::default();
            let options = AskOptions {
                persist: false,
                max_answer_tokens: self.max_tokens.unwrap_or(base.max_answer_tokens),
                sampling: self.sampling(base.sampling),
                within: self.folio.within.clone(),
                stop,
                ..base
            };
            return Ok(Task::Ask { question, options });
        }
        let messages: Vec<Message> = self.messages.iter().map(|m| Message::new(&m.role, m.content.text())).collect();
        if let Some(bad) = messages.iter().find(|m| !matches!(m.role.as_str(), "system" | "user" | "assistant")) {
            return Err(format!("unknown role '{}'", bad.role));
        }
        let base = GenerateOptions::default();
        let options = GenerateOptions {
            max_tokens: self.max_tokens.unwrap_or(base.max_tokens),
            sampling: self.sampling(base.sampling),
            stop,
        };
        Ok(Task::Chat { messages, options })
    }
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let request: ChatRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid(format!("the request is not a chat completion request: {e}")),
    };
    let task = match request.task() {
        Ok(task) => task,
        Err(message) => return invalid(message),
    };
    if let Some(model) = request.model.as_deref().filter(|m| *m != shared.answerer.loaded()) {
        if let Err(e) = crate::models::installed_model_file(model) {
            return error(StatusCode::NOT_FOUND, "invalid_request_error", e.to_string());
        }
    }
    let (updates, receiver) = mpsc::channel(256);
    let cancel = Arc::new(AtomicBool::new(false));
    let job = Job { model: request.model.clone(), task, updates, cancel: cancel.clone() };
    if shared.answerer.submit(job).is_err() {
        let mut response =
            error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "the model is busy; try again shortly");
        response.headers_mut().insert("retry-after", HeaderValue::from_static(RETRY_AFTER_SECONDS));
        return response;
    }
    // The guard flags the request as abandoned when the response is dropped unfinished (the client
    // left): the model stops at its next token.
    let guard = CancelOnDrop(cancel);
    let id = format!("chatcmpl-{}", shared.next_id());
    if request.stream {
        let model = request.model.clone().unwrap_or_else(|| shared.answerer.loaded());
        stream(id, model, receiver, guard).into_response()
    } else {
        whole(id, receiver, guard).await
    }
}

struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The numbered sources an answer cites, as text under it.
fn sources_text(citations: &[Citation]) -> String {
    if citations.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = citations
        .iter()
        .map(|c| {
            let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
            format!("[{}] {}{page}", c.number, c.path.display())
        })
        .collect();
    format!("\n\nSources:\n{}", lines.join("\n"))
}

fn folio_field(finished: &Finished) -> Value {
    json!({ "citations": finished.citations, "refused": finished.refused })
}

fn usage(finished: &Finished) -> Value {
    json!({
        "prompt_tokens": finished.prompt_tokens,
        "completion_tokens": finished.generated_tokens,
        "total_tokens": finished.prompt_tokens + finished.generated_tokens,
    })
}

async fn whole(id: String, mut receiver: mpsc::Receiver<Update>, _guard: CancelOnDrop) -> Response {
    while let Some(update) = receiver.recv().await {
        let Update::Done(outcome) = update else { continue };
        return match outcome {
            Ok(finished) => Json(json!({
                "id": id,
                "object": "chat.completion",
                "created": now(),
                "model": finished.model,
                "choices": [{
                    "index": 0,
                    "message": { "role": "assistant", "content": format!("{}{}", finished.text, sources_text(&finished.citations)) },
                    "finish_reason": finished.finish_reason,
                }],
                "usage": usage(&finished),
                "folio": folio_field(&finished),
            }))
            .into_response(),
            Err(message) => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message),
        };
    }
    error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the answering thread stopped")
}

fn stream(
    id: String,
    model: String,
    mut receiver: mpsc::Receiver<Update>,
    guard: CancelOnDrop,
) -> Sse<ReceiverStream<Result<Event, Infallible>>> {
    let created = now();
    let chunk = move |delta: Value, finish: Option<&str>, extra: Option<(&str, Value)>| {
        let mut body = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        });
        if let Some((key, value)) = extra {
            body[key] = value;
        }
        Event::default().data(body.to_string())
    };
    let (events, out) = mpsc::channel::<Result<Event, Infallible>>(256);
    tokio::spawn(async move {
        // The guard lives as long as this task, which ends when the client has left (a send
        // fails) or the answer is done: either way the model stops.
        let _guard = guard;
        if events.send(Ok(chunk(json!({ "role": "assistant", "content": "" }), None, None))).await.is_err() {
            return;
        }
        while let Some(update) = receiver.recv().await {
            let done = matches!(update, Update::Done(_));
            for event in sse_events(update, &chunk) {
                if events.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if done {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(out))
}

/// The server-sent events of one update: text as it comes; at the end the sources under the
/// answer, the finish reason with the citations (`folio`), and OpenAI's `[DONE]`.
fn sse_events(update: Update, chunk: &impl Fn(Value, Option<&str>, Option<(&str, Value)>) -> Event) -> Vec<Event> {
    match update {
        Update::Text(text) => vec![chunk(json!({ "content": text }), None, None)],
        Update::Done(Ok(finished)) => {
            let mut last = Vec::new();
            let sources = sources_text(&finished.citations);
            if !sources.is_empty() {
                last.push(chunk(json!({ "content": sources }), None, None));
            }
            last.push(chunk(json!({}), Some(finished.finish_reason), Some(("folio", folio_field(&finished)))));
            last.push(Event::default().data("[DONE]"));
            last
        }
        Update::Done(Err(message)) => {
            vec![Event::default().data(json!({ "error": { "message": message, "type": "server_error" } }).to_string())]
        }
    }
}

#[derive(Deserialize)]
pub struct EmbeddingsRequest {
    input: EmbedInput,
    #[serde(default)]
    model: Option<String>,
    /// e5 models were trained with `query:` and `passage:` prefixes. Default `query` (what e5's
    /// authors advise for symmetric uses such as similarity); `passage` for documents to search.
    #[serde(default)]
    input_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EmbedInput {
    One(String),
    Many(Vec<String>),
}

/// `POST /v1/embeddings`.
pub async fn embeddings(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let request: EmbeddingsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid(format!("the request is not an embeddings request: {e}")),
    };
    let embedder_id = shared.library.embedder().id();
    if request.model.as_deref().is_some_and(|m| m != embedder_id) {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("the library's embedder is {embedder_id}"),
        );
    }
    let texts = match request.input {
        EmbedInput::One(text) => vec![text],
        EmbedInput::Many(texts) => texts,
    };
    if texts.is_empty() || texts.len() > MAX_EMBED_INPUTS || texts.iter().any(|t| t.chars().count() > MAX_EMBED_CHARS) {
        return invalid(format!("input is 1 to {MAX_EMBED_INPUTS} texts of at most {MAX_EMBED_CHARS} characters"));
    }
    let passage = match request.input_type.as_deref() {
        None | Some("query") => false,
        Some("passage") => true,
        Some(other) => return invalid(format!("input_type is query or passage, not {other}")),
    };
    let library = shared.library.clone();
    let vectors = blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        if passage {
            library.embedder().embed_passages(&refs)
        } else {
            library.embedder().embed_queries(&refs)
        }
    })
    .await;
    let vectors = match vectors {
        Ok(vectors) => vectors,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e),
    };
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, v)| json!({ "object": "embedding", "index": index, "embedding": v }))
        .collect();
    Json(json!({ "object": "list", "data": data, "model": embedder_id, "usage": { "prompt_tokens": 0, "total_tokens": 0 } }))
        .into_response()
}

#[derive(Deserialize)]
pub struct SearchRequest {
    query: String,
    #[serde(default = "ten")]
    k: usize,
    #[serde(default)]
    mode: Option<String>,
    /// Only these folders or documents of the library (absolute paths).
    #[serde(default)]
    within: Vec<std::path::PathBuf>,
}

fn ten() -> usize {
    10
}

/// `POST /v1/search` (Folio's own): ranked passages with file, page and scores.
pub async fn search(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let request: SearchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid(format!("the request is not a search request: {e}")),
    };
    if request.query.trim().is_empty() || request.k == 0 || request.k > MAX_SEARCH_K {
        return invalid(format!("a search has a query and k of 1 to {MAX_SEARCH_K}"));
    }
    let mode = match request.mode.as_deref().unwrap_or("hybrid") {
        "hybrid" => SearchMode::Hybrid,
        "bm25" => SearchMode::Bm25,
        "dense" => SearchMode::Dense,
        other => return invalid(format!("mode is hybrid, bm25 or dense, not {other}")),
    };
    let library = shared.library.clone();
    let search = move || {
        let scope = if request.within.is_empty() { None } else { Some(library.scope(&request.within)?) };
        library.search_in(&request.query, mode, request.k, scope.as_ref())
    };
    match blocking(search).await {
        Ok(hits) => Json(json!({ "object": "list", "data": hits })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e),
    }
}
