// The only place the window talks to the Rust shell. Every name and shape here mirrors IPC.md;
// when IPC.md changes, this file changes with it and the compiler finds the callers.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";

// ---- Types (TypeScript view of the JSON, copied from IPC.md) ----

export type FileStatus = "indexed" | "failed" | "skipped";

export interface IndexProgress {
  done: number;
  total: number;
  chunks: number;
  eta_seconds: number | null;
  current: string | null;
}

export interface FolderView {
  path: string;
  files_indexed: number;
  files_failed: number;
  files_skipped: number;
  chunks: number;
  /** Non-null while this folder is being indexed. */
  indexing: IndexProgress | null;
  watched: boolean;
  /** Why the folder cannot be read now (missing, unreadable, suddenly empty); its index is kept. */
  unavailable?: string | null;
}

export interface FileView {
  path: string;
  status: FileStatus;
  reason: string | null;
  chunks: number;
  pages: number | null;
}

export interface LibraryView {
  folders: FolderView[];
  embedder: string;
  chunks: number;
  files: number;
}

export interface Source {
  number: number;
  path: string;
  page: number | null;
  start: number;
  end: number;
  text: string;
  chunk_ids: number[];
  score: number;
}

export interface Citation {
  number: number;
  path: string;
  page: number | null;
  snippet: string;
  score: number;
  chunk_ids: number[];
}

export interface Answer {
  text: string;
  /** The fact the answer begins with, without markers; empty for a refusal. */
  lead: string;
  citations: Citation[];
  /** A refusal's closest passages (the model found no answer in passages judged relevant). */
  closest: Citation[];
  dropped_citations: number;
  /** Sentences without a marker attributed to the source their words come from. */
  inferred_citations: number;
  refused: boolean;
  nothing_relevant: boolean;
  /** The user stopped it: the text is what was written until then. */
  stopped: boolean;
  query: string;
  language: "english" | "russian";
  sources: Source[];
  chat_id: number | null;
  retrieve_seconds: number;
  first_token_seconds: number;
  total_seconds: number;
  prompt_tokens: number;
  generated_tokens: number;
  /** The answer in its sources' language when `text` is its translation into the question's. */
  translated_from?: string | null;
}

export interface Chat {
  id: number;
  title: string;
  created_at: number;
  updated_at: number;
  messages: number;
}

export interface MessageDetails {
  query: string;
  citations: Citation[];
  refused: boolean;
  dropped_citations: number;
  /** Absent in chats saved before answers could be stopped. */
  stopped?: boolean;
  /** A refusal's closest passages; absent in chats saved before them. */
  closest?: Citation[];
}

export interface StoredMessage {
  id: number;
  chat_id: number;
  role: "user" | "assistant";
  content: string;
  details: MessageDetails | null;
  created_at: number;
}

export interface CatalogModel {
  id: string;
  name: string;
  kind: "decoder" | "embedder";
  size_bytes: number;
  sha256: string | null;
  source: string;
  installed: boolean;
  description: string;
  parameters: number | null;
  ram_bytes: number | null;
  languages: string[];
  ladder: number | null;
}

export interface ModelsView {
  models_dir: string;
  active_model: string | null;
  catalog: CatalogModel[];
  imported: string[];
}

export type Device = "auto" | "cpu" | "gpu";

export interface Settings {
  model: string | null;
  /** Why this model: the first start's measured choice, or the user's own (set by the shell). */
  model_reason?: string | null;
  device: Device;
  embedder: string;
  context: number;
  temperature: number;
}

export interface AppState {
  ready: boolean;
  model_loaded: string | null;
  model_error: string | null;
  library: LibraryView;
  /** Problems found while starting (a damaged settings file kept aside): shown once. */
  startup_problems?: string[];
}

// ---- Event payloads ----

export interface IndexProgressEvent {
  folder: string;
  progress: IndexProgress;
}

export type AnswerEvent =
  | { requestId: number; kind: "query"; query: string }
  | { requestId: number; kind: "sources"; sources: Source[] }
  | { requestId: number; kind: "token"; text: string }
  | { requestId: number; kind: "done"; answer: Answer }
  | { requestId: number; kind: "error"; message: string };

export interface ModelDownloadEvent {
  id: string;
  done_bytes: number;
  total_bytes: number;
  finished: boolean;
  error: string | null;
}

export interface ModelStateEvent {
  loaded: string | null;
  error: string | null;
}

export interface EventMap {
  "library-changed": LibraryView;
  "index-progress": IndexProgressEvent;
  answer: AnswerEvent;
  "model-download": ModelDownloadEvent;
  "model-state": ModelStateEvent;
}

// ---- Commands ----

/** Errors from the shell are strings (IPC.md); anything else is normalised to one. */
export function errorText(err: unknown): string {
  if (typeof err === "string") return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

export const commands = {
  appState: () => invoke<AppState>("app_state"),
  addPaths: (paths: string[]) => invoke<void>("add_paths", { paths }),
  removeFolder: (path: string) => invoke<void>("remove_folder", { path }),
  reindexFolder: (path: string) => invoke<void>("reindex_folder", { path }),
  folderFiles: (path: string) => invoke<FileView[]>("folder_files", { path }),
  ask: (question: string, chatId: number | null) => invoke<number>("ask", { question, chatId }),
  stopAnswer: (requestId: number) => invoke<void>("stop_answer", { requestId }),
  listChats: () => invoke<Chat[]>("list_chats"),
  chatMessages: (chatId: number) => invoke<StoredMessage[]>("chat_messages", { chatId }),
  deleteChat: (chatId: number) => invoke<void>("delete_chat", { chatId }),
  renameChat: (chatId: number, title: string) => invoke<void>("rename_chat", { chatId, title }),
  /** Opens the save dialog in the shell and writes the chat there: the path, or null if cancelled. */
  exportChat: (chatId: number, fileName: string) => invoke<string | null>("export_chat", { chatId, fileName }),
  openSource: (path: string, page: number | null) => invoke<void>("open_source", { path, page }),
  models: () => invoke<ModelsView>("models"),
  importModel: (path: string) => invoke<string>("import_model", { path }),
  downloadModel: (id: string) => invoke<void>("download_model", { id }),
  /** Stops a download (its part is kept; downloading again resumes). */
  cancelDownload: (id: string) => invoke<void>("cancel_download", { id }),
  getSettings: () => invoke<Settings>("get_settings"),
  setSettings: (settings: Settings) => invoke<void>("set_settings", { settings }),
};

export type Commands = typeof commands;

/** Typed `listen`: handlers get the payload only. */
export function on<K extends keyof EventMap>(
  name: K,
  handler: (payload: EventMap[K]) => void,
): Promise<UnlistenFn> {
  return listen<EventMap[K]>(name, (event) => handler(event.payload));
}

/** Files and folders dropped on the window (Tauri's webview drag-and-drop, not the DOM one:
 * only Tauri's event carries absolute paths). `hover` drives the drop overlay. */
export async function onDrop(
  handlers: { hover: (over: boolean) => void; drop: (paths: string[]) => void },
): Promise<UnlistenFn> {
  // async, so that a missing Tauri runtime surfaces as a rejection, not a throw at start-up.
  return getCurrentWebview().onDragDropEvent((event) => {
    const p = event.payload;
    if (p.type === "enter" || p.type === "over") handlers.hover(true);
    else if (p.type === "leave") handlers.hover(false);
    else if (p.type === "drop") {
      handlers.hover(false);
      if (p.paths.length > 0) handlers.drop(p.paths);
    }
  });
}

// ---- Native dialogs ----

export const dialogs = {
  /** Folders to add to the library (null when cancelled). */
  async pickFolders(): Promise<string[] | null> {
    const r = await open({ directory: true, multiple: true, title: "Add folders to the library" });
    return r === null ? null : Array.isArray(r) ? r : [r];
  },
  /** Single documents to add to the library (null when cancelled). */
  async pickFiles(): Promise<string[] | null> {
    const r = await open({ directory: false, multiple: true, title: "Add documents to the library" });
    return r === null ? null : Array.isArray(r) ? r : [r];
  },
  /** A GGUF model file to import (null when cancelled). */
  async pickModel(): Promise<string | null> {
    const r = await open({
      directory: false,
      multiple: false,
      title: "Import a GGUF model",
      filters: [{ name: "GGUF model", extensions: ["gguf"] }],
    });
    return typeof r === "string" ? r : null;
  },
};

export type Dialogs = typeof dialogs;
