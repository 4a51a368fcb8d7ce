// Generated from the Rust types by `FOLIO_WRITE_BINDINGS=1 cargo test -p folio-desktop bindings`
// (src-tauri/src/views.rs); do not edit. A test fails when this file is out of date.

export type FileStatus = "indexed" | "failed" | "skipped";

export type IndexProgress = { done: number, total: number, chunks: number, eta_seconds: number | null, current: string | null, };

export type FolderView = { path: string, files_indexed: number, files_failed: number, files_skipped: number, chunks: number, indexing: IndexProgress | null, 
/**
 * Changes on disk are picked up by themselves (false where the system refused to watch it).
 */
watched: boolean, 
/**
 * Why the folder cannot be read now (missing, unreadable, suddenly empty); its index is kept.
 */
unavailable: string | null, };

export type FileView = { path: string, status: FileStatus, reason: string | null, chunks: number, pages: number | null, 
/**
 * Failed because it is password-protected: the window offers to type its password.
 */
needs_password: boolean, };

export type LibraryView = { folders: Array<FolderView>, embedder: string, chunks: number, files: number, };

export type Source = { number: number, path: string, page: number | null, 
/**
 * Character span in the page.
 */
start: number, end: number, text: string, chunk_ids: Array<number>, 
/**
 * Best fused retrieval score among its chunks.
 */
score: number, };

export type Citation = { number: number, path: string, page: number | null, snippet: string, score: number, chunk_ids: Array<number>, };

export type Language = "english" | "russian";

export type Answer = { text: string, 
/**
 * The fact the answer begins with, without markers (`lead::lead`); empty for a refusal.
 */
lead: string, citations: Array<Citation>, 
/**
 * When the model found no answer in passages the gate judged relevant: the best of them, for
 * the reader to check instead of a bare refusal.
 */
closest: Array<Citation>, 
/**
 * Markers naming no provided source, removed from the text.
 */
dropped_citations: number, 
/**
 * Sentences without a marker that were attributed to the source their words come from.
 */
inferred_citations: number, 
/**
 * The answer says the documents do not hold it (said by the model, or without calling it).
 */
refused: boolean, 
/**
 * Nothing relevant was retrieved, so the model was not asked.
 */
nothing_relevant: boolean, 
/**
 * The user stopped the answer: the text is what was written until then.
 */
stopped: boolean, query: string, 
/**
 * The question's language (the answer's too, unless every source is in another one:
 * `prompt::answer_language`).
 */
language: Language, sources: Array<Source>, chat_id: number | null, retrieve_seconds: number, first_token_seconds: number, total_seconds: number, prompt_tokens: number, generated_tokens: number, 
/**
 * The answer as the model first wrote it, in its sources' language, when `text` is its
 * translation into the question's (`AnswerIn::Translate`).
 */
translated_from: string | null, };

export type MessageDetails = { query: string, citations: Array<Citation>, 
/**
 * A refusal's closest passages.
 */
closest: Array<Citation>, refused: boolean, dropped_citations: number, stopped: boolean, };

export type Chat = { id: number, title: string, created_at: number, updated_at: number, messages: number, };

export type Role = "user" | "assistant";

export type ChatMessage = { id: number, chat_id: number, role: Role, content: string, 
/**
 * What an answer kept beside its text; `None` for questions.
 */
details: MessageDetails | null, created_at: number, };

export type KnownModel = { id: string, name: string, kind: string, size_bytes: number | null, sha256: string | null, source: string, 
/**
 * Where to download the file from when online; `None`: installed by scripts/fetch-models.
 */
url: string | null, description: string, 
/**
 * Weights in the model (for predicting its speed from a measured one).
 */
parameters: number | null, 
/**
 * Memory the model needs at a 4096-token context.
 */
ram_bytes: number | null, 
/**
 * Languages it reads and writes well (ISO 639-1).
 */
languages: Array<string>, 
/**
 * Its rung on the ladder of answering models (higher answers better); `None`: never picked
 * automatically.
 */
ladder: number | null, installed: boolean, };

export type ModelsView = { models_dir: string, active_model: string | null, catalog: Array<KnownModel>, imported: Array<string>, };

export type EncoderPath = "auto" | "native" | "reference";

export type Settings = { 
/**
 * The answering model: a catalog id or a GGUF path. `None` until one is installed.
 */
model: string | null, 
/**
 * Why that model: the first start's measured choice, or the user's own.
 */
model_reason: string | null, 
/**
 * auto, cpu or gpu.
 */
device: string, 
/**
 * Embedder of new libraries.
 */
embedder: string, 
/**
 * Which encoder computes the vectors: auto (native where it runs), native or reference.
 */
encoder: EncoderPath, 
/**
 * Context length of the answering model, in tokens.
 */
context: number, temperature: number, 
/**
 * Where the library lives (default: the platform data dir).
 */
library_dir: string | null, };

export type AppState = { ready: boolean, model_loaded: string | null, model_error: string | null, library: LibraryView, 
/**
 * Problems found while starting (a damaged settings file kept aside), shown once.
 */
startup_problems: Array<string>, };

export type IndexProgressEvent = { folder: string, progress: IndexProgress, };

export type AnswerEvent = { "kind": "query", requestId: number, query: string, } | { "kind": "sources", requestId: number, sources: Array<Source>, } | { "kind": "token", requestId: number, text: string, } | { "kind": "done", requestId: number, answer: Answer, } | { "kind": "error", requestId: number, message: string, };

export type DownloadEvent = { id: string, done_bytes: number, total_bytes: number, finished: boolean, error: string | null, };

export type ModelStateEvent = { loaded: string | null, error: string | null, };
