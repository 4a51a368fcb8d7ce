// The controller: owns the store, listens to the shell's events and performs the actions the
// panels ask for. Panels never call IPC directly for shared state; they call these methods, so
// the button, the drop target and the end-to-end hook all take the same path.

import type { UnlistenFn } from "@tauri-apps/api/event";
import {
  commands as realCommands,
  dialogs as realDialogs,
  errorText,
  on,
  type AnswerEvent,
  type Commands,
  type Dialogs,
  type FileView,
  type IndexProgressEvent,
  type LibraryView,
  type ModelDownloadEvent,
  type ModelStateEvent,
  type SettingsChange,
} from "./ipc";
import { basename } from "./format";
import { Notices } from "./notices";
import { Store, fromAppState, initialState, libraryPatch, type UiState } from "./state";

export interface Deps {
  commands: Commands;
  dialogs: Dialogs;
  /** Copies text; the webview's async clipboard, with a fallback for webviews without it. */
  copy: (text: string) => Promise<void>;
  now: () => number;
  /** How often app_state is asked again while the shell says it is not ready yet. */
  bootPollMs: number;
}

export async function copyToClipboard(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Older WebKitGTK builds lack the async clipboard; a hidden textarea + copy still works there.
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.append(ta);
  ta.select();
  const ok = document.execCommand("copy");
  ta.remove();
  if (!ok) throw new Error("The clipboard is not available.");
}

export function defaultDeps(): Deps {
  return { commands: realCommands, dialogs: realDialogs, copy: copyToClipboard, now: () => Date.now(), bootPollMs: 400 };
}

export class App {
  readonly store = new Store<UiState>(initialState());
  readonly notices = new Notices();
  readonly commands: Commands;
  readonly dialogs: Dialogs;
  private readonly deps: Deps;
  private answerHandlers = new Set<(ev: AnswerEvent) => void>();
  private unlisten: UnlistenFn[] = [];

  constructor(deps: Partial<Deps> = {}) {
    this.deps = { ...defaultDeps(), ...deps };
    this.commands = this.deps.commands;
    this.dialogs = this.deps.dialogs;
  }

  /** Listens first (so no event is missed), then loads state. */
  async start(): Promise<void> {
    try {
      this.unlisten = await Promise.all([
        on("library-changed", (v) => this.onLibraryChanged(v)),
        on("index-progress", (e) => this.onIndexProgress(e)),
        on("answer", (e) => this.answerHandlers.forEach((h) => h(e))),
        on("model-download", (e) => this.onModelDownload(e)),
        on("model-state", (e) => this.onModelState(e)),
      ]);
      await this.loadAppState();
      await Promise.all([this.refreshModels(), this.refreshSettings(), this.refreshChats()]);
    } catch (err) {
      this.store.set({ boot: "error", bootError: errorText(err) });
    }
  }

  stop(): void {
    this.unlisten.forEach((u) => u());
    this.unlisten = [];
  }

  onAnswer(handler: (ev: AnswerEvent) => void): () => void {
    this.answerHandlers.add(handler);
    return () => this.answerHandlers.delete(handler);
  }

  /** Reports a failed command and returns null, so callers can `await this.attempt(...)`. */
  async attempt<T>(p: Promise<T>): Promise<T | null> {
    try {
      return await p;
    } catch (err) {
      this.notices.error(errorText(err));
      return null;
    }
  }

  // ---- app state and library ----

  private async loadAppState(): Promise<void> {
    // The shell may still be opening the library; ask again until it says ready.
    for (;;) {
      const app = await this.commands.appState();
      this.store.set(fromAppState(app));
      if (app.ready) {
        for (const problem of app.startup_problems ?? []) this.notices.error(problem);
        return;
      }
      await new Promise((r) => window.setTimeout(r, this.deps.bootPollMs));
    }
  }

  onLibraryChanged(view: LibraryView): void {
    const s = this.store.get();
    this.store.set(libraryPatch(view, s.progress, s.pending));
  }

  onIndexProgress(e: IndexProgressEvent): void {
    this.store.update((s) => ({ progress: { ...s.progress, [e.folder]: e.progress } }));
  }

  /** The one path for adding: the buttons, drag-and-drop and the end-to-end hook. */
  async addPaths(paths: string[]): Promise<void> {
    const fresh = paths.filter((p) => p.length > 0);
    if (fresh.length === 0) return;
    this.store.update((s) => ({ pending: [...new Set([...s.pending, ...fresh])] }));
    try {
      await this.commands.addPaths(fresh);
      // The shell has registered the paths; its view is now the truth (files added one by one
      // may not appear as folders of their own, so pending entries end here either way).
      const app = await this.commands.appState();
      const s = this.store.get();
      this.store.set({ ...libraryPatch(app.library, s.progress, s.pending), pending: s.pending.filter((p) => !fresh.includes(p)) });
    } catch (err) {
      this.store.update((s) => ({ pending: s.pending.filter((p) => !fresh.includes(p)) }));
      this.notices.error(errorText(err));
    }
  }

  async addFromDialog(kind: "folders" | "files"): Promise<void> {
    const picked = await this.attempt(kind === "folders" ? this.dialogs.pickFolders() : this.dialogs.pickFiles());
    if (picked && picked.length > 0) await this.addPaths(picked);
  }

  async removeFolder(path: string): Promise<void> {
    await this.attempt(this.commands.removeFolder(path));
  }

  async reindexFolder(path: string): Promise<void> {
    await this.attempt(this.commands.reindexFolder(path));
  }

  async folderFiles(path: string): Promise<FileView[] | null> {
    return this.attempt(this.commands.folderFiles(path));
  }

  /** Limits the next questions to `path` (a folder or a document of the library), beside any
   * already chosen. */
  askWithin(path: string): void {
    const scope = this.store.get().scope;
    if (!scope.includes(path)) this.store.set({ scope: [...scope, path] });
    document.getElementById("question")?.focus();
  }

  /** Lifts the limit to `path`. */
  leaveScope(path: string): void {
    this.store.set({ scope: this.store.get().scope.filter((p) => p !== path) });
  }

  /** Hands a typed password to the engine, which reads the file with it in its folder's next
   * run. Returns whether the engine took it (the file's status then says whether it opened). */
  async unlockFile(path: string, password: string): Promise<boolean> {
    const done = await this.attempt(this.commands.unlockFile(path, password).then(() => true));
    if (done) this.notices.show(`Reading ${basename(path)} with the password given…`);
    return done ?? false;
  }

  async openSource(path: string, page: number | null): Promise<void> {
    await this.attempt(this.commands.openSource(path, page));
  }

  // ---- models and settings ----

  async refreshModels(): Promise<void> {
    const models = await this.attempt(this.commands.models());
    if (models) this.store.set({ models });
  }

  async refreshSettings(): Promise<void> {
    const settings = await this.attempt(this.commands.getSettings());
    if (settings) this.store.set({ settings });
  }

  onModelState(e: ModelStateEvent): void {
    this.store.set({ modelLoaded: e.loaded, modelError: e.error });
  }

  onModelDownload(e: ModelDownloadEvent): void {
    const prev = this.store.get().downloads[e.id];
    const now = this.deps.now();
    const next = {
      id: e.id,
      doneBytes: e.done_bytes,
      totalBytes: e.total_bytes,
      startedAt: prev && !prev.finished && !prev.error ? prev.startedAt : now,
      startedBytes: prev && !prev.finished && !prev.error ? prev.startedBytes : e.done_bytes,
      finished: e.finished,
      error: e.error,
    };
    this.store.update((s) => ({ downloads: { ...s.downloads, [e.id]: next } }));
    if (e.error) this.notices.error(e.error);
    else if (e.finished && !prev?.finished) void this.modelInstalled(e.id);
  }

  /** Imports a GGUF picked from disk. */
  async importModel(): Promise<void> {
    const path = await this.attempt(this.dialogs.pickModel());
    if (!path) return;
    const id = await this.attempt(this.commands.importModel(path));
    if (id !== null) await this.modelInstalled(id);
  }

  async downloadModel(id: string): Promise<void> {
    // Mark it started at once so the button turns into a progress bar before the first event.
    this.store.update((s) => ({
      downloads: { ...s.downloads, [id]: { id, doneBytes: 0, totalBytes: 0, startedAt: this.deps.now(), startedBytes: 0, finished: false, error: null } },
    }));
    try {
      // download_model may resolve at the start or at the end; progress comes by events either way.
      await this.commands.downloadModel(id);
    } catch (err) {
      const message = errorText(err);
      this.store.update((s) => ({ downloads: { ...s.downloads, [id]: { ...s.downloads[id]!, error: message } } }));
      this.notices.error(message);
    }
  }

  async cancelDownload(id: string): Promise<void> {
    await this.attempt(this.commands.cancelDownload(id));
  }

  /** A model arrived: refresh the list, and make it the active model when none is set, so the
   * first model installed is used without a trip to the settings. */
  private async modelInstalled(id: string): Promise<void> {
    await this.refreshModels();
    const s = this.store.get();
    const isDecoder = s.models?.catalog.find((m) => m.id === id)?.kind !== "embedder";
    if (s.settings && s.settings.model === null && isDecoder) {
      await this.saveSettings({ ...s.settings, model: id });
    }
    this.notices.show(`Model ${id} is installed.`);
  }

  /** Saves what the window may change; the rest of the settings stays as the shell has it. */
  async saveSettings(change: SettingsChange): Promise<boolean> {
    try {
      await this.commands.setSettings(change);
      const current = this.store.get().settings;
      if (current) this.store.set({ settings: { ...current, ...change } });
      else await this.refreshSettings();
      return true;
    } catch (err) {
      this.notices.error(errorText(err));
      return false;
    }
  }

  // ---- chats ----

  async refreshChats(): Promise<void> {
    const chats = await this.attempt(this.commands.listChats());
    if (chats) this.store.set({ chats });
  }

  /** Saves an exported chat where the user chooses (the shell asks where and writes it). */
  async exportChat(chatId: number, fileName: string): Promise<void> {
    const path = await this.attempt(this.commands.exportChat(chatId, fileName));
    if (path) this.notices.show(`Chat exported to ${path}`);
  }

  async copy(text: string): Promise<boolean> {
    const ok = await this.attempt(this.deps.copy(text).then(() => true));
    return ok === true;
  }
}
