// The window's state: one small observable store, plus pure helpers that derive what the panels
// show from it. Panels subscribe and update only their own DOM; nothing here touches the DOM.

import type { AppState, Chat, IndexProgress, LibraryView, ModelsView, Settings } from "./ipc";

export interface DownloadState {
  id: string;
  doneBytes: number;
  totalBytes: number;
  /** When this window first saw the download, and how far it was then, for the rate. */
  startedAt: number;
  startedBytes: number;
  finished: boolean;
  error: string | null;
}

export interface UiState {
  boot: "loading" | "ready" | "error";
  bootError: string | null;
  library: LibraryView;
  /** Latest index-progress per folder path; cleared when library-changed says it is idle. */
  progress: Record<string, IndexProgress>;
  /** Paths handed to add_paths that the library has not reported yet. */
  pending: string[];
  modelLoaded: string | null;
  modelError: string | null;
  models: ModelsView | null;
  downloads: Record<string, DownloadState>;
  settings: Settings | null;
  chats: Chat[];
  currentChatId: number | null;
  generating: boolean;
  /** Folders and documents the next questions are limited to; empty: the whole library. */
  scope: string[];
}

export type Listener<T> = (state: T, prev: T) => void;

export class Store<T extends object> {
  private state: T;
  private listeners = new Set<Listener<T>>();

  constructor(initial: T) {
    this.state = initial;
  }

  get(): T {
    return this.state;
  }

  /** Shallow-merges `patch` and notifies every listener once. */
  set(patch: Partial<T>): void {
    const prev = this.state;
    this.state = { ...prev, ...patch };
    for (const l of [...this.listeners]) l(this.state, prev);
  }

  update(fn: (s: T) => Partial<T>): void {
    this.set(fn(this.state));
  }

  subscribe(l: Listener<T>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export const emptyLibrary: LibraryView = { folders: [], embedder: "", chunks: 0, files: 0 };

export function initialState(): UiState {
  return {
    boot: "loading",
    bootError: null,
    library: emptyLibrary,
    progress: {},
    pending: [],
    modelLoaded: null,
    modelError: null,
    models: null,
    downloads: {},
    settings: null,
    chats: [],
    currentChatId: null,
    generating: false,
    scope: [],
  };
}

/** State after an app_state answer. */
export function fromAppState(app: AppState): Partial<UiState> {
  return {
    boot: app.ready ? "ready" : "loading",
    modelLoaded: app.model_loaded,
    modelError: app.model_error,
    ...libraryPatch(app.library, {}, []),
  };
}

/** Applies a new LibraryView: folders that went idle lose their progress entry, and pending
 * paths the library now lists stop being pending. */
export function libraryPatch(
  library: LibraryView,
  progress: Record<string, IndexProgress>,
  pending: string[],
): Pick<UiState, "library" | "progress" | "pending"> {
  const next: Record<string, IndexProgress> = {};
  for (const f of library.folders) {
    if (f.indexing) next[f.path] = progress[f.path] ?? f.indexing;
  }
  const known = new Set(library.folders.map((f) => f.path));
  return { library, progress: next, pending: pending.filter((p) => !known.has(p)) };
}

/** What a folder row shows as its status. "ready" is what end-to-end tests wait for. */
export type FolderPhase = "adding" | "indexing" | "ready" | "unavailable";

export function folderPhase(state: UiState, path: string): FolderPhase {
  if (state.progress[path]) return "indexing";
  const f = state.library.folders.find((x) => x.path === path);
  if (f?.indexing) return "indexing";
  if (!f && state.pending.includes(path)) return "adding";
  if (f?.unavailable) return "unavailable";
  return "ready";
}

/** The progress a folder row should show: the newest event, else the view's own. */
export function folderProgress(state: UiState, path: string): IndexProgress | null {
  return state.progress[path] ?? state.library.folders.find((f) => f.path === path)?.indexing ?? null;
}

/** A decoder is installed if the catalog says so or one was imported. */
export function hasInstalledDecoder(models: ModelsView | null): boolean {
  if (!models) return false;
  return models.imported.length > 0 || models.catalog.some((m) => m.kind === "decoder" && m.installed);
}

/** The first screen asks for a model when none is loaded and none is installed. Until `models`
 * has answered we do not know, so the chat stays (disabled sending is handled elsewhere). */
export function needsModelSetup(state: UiState): boolean {
  return state.modelLoaded === null && state.models !== null && !hasInstalledDecoder(state.models);
}

/** Whether the question box may send: a model is loaded or at least installed (the shell loads
 * it on demand and rejects `ask` with a readable error if it cannot). */
export function canAsk(state: UiState): boolean {
  return !state.generating && (state.modelLoaded !== null || hasInstalledDecoder(state.models));
}
