// The only place the window talks to the Rust shell. The shapes are generated from the Rust types
// (bindings.ts); the commands and events are the ones IPC.md describes.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";

// ---- Types: generated from the Rust types into bindings.ts (a Rust test fails when it is stale) ----

import type {
  AnswerEvent,
  AppState,
  Chat,
  ChatMessage,
  DownloadEvent,
  FileView,
  IndexProgressEvent,
  LibraryView,
  ModelStateEvent,
  ModelsView,
  Settings,
} from "./bindings";

export type {
  AnswerEvent,
  AppState,
  Answer,
  KnownModel,
  Chat,
  ChatMessage,
  Citation,
  EncoderPath,
  FileStatus,
  FileView,
  FolderView,
  IndexProgress,
  IndexProgressEvent,
  Language,
  LibraryView,
  MessageDetails,
  ModelStateEvent,
  ModelsView,
  Role,
  Settings,
  Source,
} from "./bindings";

export type ModelDownloadEvent = DownloadEvent;

/** The devices Settings offers (the shell's `Settings.device` is their name). */
export type Device = "auto" | "cpu" | "gpu";

/** What the window may change of the settings; the shell keeps the rest (library location,
 * encoder, the reason for the model). */
export type SettingsChange = Pick<Settings, "model" | "device" | "embedder" | "context" | "temperature">;

// ---- Event payloads ----

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
  unlockFile: (path: string, password: string) => invoke<void>("unlock_file", { path, password }),
  ask: (question: string, chatId: number | null, within: string[]) => invoke<number>("ask", { question, chatId, within }),
  stopAnswer: (requestId: number) => invoke<void>("stop_answer", { requestId }),
  listChats: () => invoke<Chat[]>("list_chats"),
  chatMessages: (chatId: number) => invoke<ChatMessage[]>("chat_messages", { chatId }),
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
  setSettings: (settings: SettingsChange) => invoke<void>("set_settings", { settings }),
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
