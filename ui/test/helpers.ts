// Test scaffolding: a fake shell behind Tauri's own IPC mock, fixtures shaped like IPC.md, and a
// helper to mount the whole window into jsdom.

import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { App, type Deps } from "../src/app";
import type { Answer, AppState, Citation, EventMap, FolderView, LibraryView, ModelsView, Settings, Source } from "../src/ipc";
import { mountApp, type Mounted } from "../src/layout";

export interface Call {
  cmd: string;
  args: Record<string, unknown> | undefined;
}

export type Handler = (args: Record<string, unknown>) => unknown;

/** A fake shell: every command goes to `handlers` and is recorded in the returned list. An
 * unexpected command rejects, as the real shell would for a command it does not know. */
export function mockShell(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = payload as Record<string, unknown> | undefined;
      calls.push({ cmd, args });
      const h = handlers[cmd];
      if (!h) return Promise.reject(`unexpected command ${cmd}`);
      return h(args ?? {});
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** Emits a shell event with a payload typed from IPC.md. */
export async function shellEmit<K extends keyof EventMap>(name: K, payload: EventMap[K]): Promise<void> {
  await emit(name, payload);
}

/** Lets pending promise callbacks run. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}

let mounted: Mounted | null = null;

export function resetDom(): void {
  mounted?.destroy();
  mounted = null;
  document.body.replaceChildren();
  clearMocks();
}

export const q = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`no element matches ${sel}`);
  return el;
};

export const qa = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T[] =>
  [...root.querySelectorAll<T>(sel)];

export const tid = (id: string) => `[data-testid="${id}"]`;

// ---- fixtures ----

export function folder(path: string, extra: Partial<FolderView> = {}): FolderView {
  return { path, files_indexed: 0, files_failed: 0, files_skipped: 0, chunks: 0, indexing: null, watched: true, unavailable: null, ...extra };
}

export function library(folders: FolderView[] = []): LibraryView {
  return { folders, embedder: "multilingual-e5-small", chunks: folders.reduce((n, f) => n + f.chunks, 0), files: folders.reduce((n, f) => n + f.files_indexed, 0) };
}

export function appState(extra: Partial<AppState> = {}): AppState {
  return { ready: true, model_loaded: "qwen2.5-1.5b-instruct", model_error: null, library: library(), startup_problems: [], ...extra };
}

export function modelsView(extra: Partial<ModelsView> = {}): ModelsView {
  return {
    models_dir: "/models",
    active_model: "qwen2.5-1.5b-instruct",
    catalog: [
      { id: "qwen2.5-1.5b-instruct", name: "Qwen2.5 1.5B Instruct", kind: "decoder", size_bytes: 1_120_000_000, sha256: null, source: "catalog", url: null, installed: true, description: "Small and fast.", parameters: 1_540_000_000, ram_bytes: 2_147_483_648, languages: ["en", "ru"], ladder: 2 },
      { id: "qwen2.5-7b-instruct", name: "Qwen2.5 7B Instruct", kind: "decoder", size_bytes: 4_680_000_000, sha256: null, source: "catalog", url: null, installed: false, description: "Better answers, needs 8 GB.", parameters: 7_620_000_000, ram_bytes: 6_442_450_944, languages: ["en", "ru"], ladder: 5 },
      { id: "multilingual-e5-small", name: "Multilingual E5 small", kind: "embedder", size_bytes: 470_000_000, sha256: null, source: "catalog", url: null, installed: true, description: "", parameters: null, ram_bytes: null, languages: [], ladder: null },
      { id: "all-minilm-l6-v2", name: "all-MiniLM-L6-v2", kind: "embedder", size_bytes: 90_000_000, sha256: null, source: "catalog", url: null, installed: false, description: "", parameters: null, ram_bytes: null, languages: [], ladder: null },
    ],
    imported: [],
    ...extra,
  };
}

/** The same catalog with no decoder installed. */
export function noDecoderModels(): ModelsView {
  const m = modelsView({ active_model: null });
  m.catalog = m.catalog.map((c) => (c.kind === "decoder" ? { ...c, installed: false } : c));
  return m;
}

export function settingsFixture(extra: Partial<Settings> = {}): Settings {
  return {
    model: "qwen2.5-1.5b-instruct",
    model_reason: null,
    device: "auto",
    embedder: "multilingual-e5-small",
    encoder: "auto",
    context: 4096,
    temperature: 0.2,
    library_dir: null,
    ...extra,
  };
}

export function source(number: number, path: string, page: number | null, text: string): Source {
  return { number, path, page, start: 0, end: text.length, text, chunk_ids: [number], score: 1 };
}

export function citation(number: number, path: string, page: number | null, snippet: string): Citation {
  return { number, path, page, snippet, score: 1, chunk_ids: [number] };
}

export function answerFixture(extra: Partial<Answer> = {}): Answer {
  return {
    text: "The valve is cleaned monthly [1].",
    lead: "The valve is cleaned monthly",
    citations: [citation(1, "/docs/manual.pdf", 12, "Clean the valve once a month with warm water.")],
    closest: [],
    dropped_citations: 0,
    inferred_citations: 0,
    refused: false,
    nothing_relevant: false,
    stopped: false,
    query: "how is the valve cleaned",
    language: "english",
    sources: [source(1, "/docs/manual.pdf", 12, "Clean the valve once a month with warm water.")],
    chat_id: 7,
    retrieve_seconds: 0.05,
    first_token_seconds: 0.4,
    total_seconds: 2,
    prompt_tokens: 900,
    generated_tokens: 20,
    translated_from: null,
    ...extra,
  };
}

/** The usual shell: a model loaded, an empty library, no chats. Override per test. */
export function defaultHandlers(over: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    app_state: () => appState(),
    models: () => modelsView(),
    get_settings: () => settingsFixture(),
    list_chats: () => [],
    ...over,
  };
}

export interface Harness {
  app: App;
  ui: Mounted;
  calls: Call[];
}

/** Mounts the whole window against a fake shell and waits for start-up to finish. */
export async function mountWindow(handlers: Record<string, Handler>, deps: Partial<Deps> = {}): Promise<Harness> {
  const calls = mockShell(handlers);
  const root = document.createElement("div");
  root.id = "app";
  document.body.append(root);
  const app = new App({ bootPollMs: 1, ...deps });
  const ui = mountApp(root, app);
  mounted = ui;
  await app.start();
  await settle();
  return { app, ui, calls };
}
