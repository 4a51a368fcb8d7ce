import { afterEach, describe, expect, it, vi } from "vitest";
import { installTestHook } from "../src/e2e";
import { downloadPhase } from "../src/models";
import { appState, defaultHandlers, modelsView, mountWindow, noDecoderModels, q, qa, resetDom, settingsFixture, settle, shellEmit, tid } from "./helpers";

afterEach(() => {
  delete window.__folioTest;
  resetDom();
});

const noModel = (over = {}) => defaultHandlers({
  app_state: () => appState({ model_loaded: null }),
  models: () => noDecoderModels(),
  get_settings: () => settingsFixture({ model: null }),
  ...over,
});

describe("first screen without a model", () => {
  it("says no model is installed and offers import and download", async () => {
    await mountWindow(noModel());
    const setup = q(tid("no-model"));
    expect(setup.hidden).toBe(false);
    expect(setup.textContent).toContain("No language model installed");
    expect(q("#chat-panel").hidden).toBe(true);
    expect(q(tid("model-status")).textContent).toBe("No model installed");
    expect(q(tid("import-model"), setup)).toBeTruthy();
    const rows = qa(tid("catalog-model"), setup);
    expect(rows.map((r) => r.dataset.modelId)).toEqual(["qwen2.5-1.5b-instruct", "qwen2.5-7b-instruct"]);
    expect(qa(tid("download-model"), setup)).toHaveLength(2);
    // Indexing does not need a model: the library stays usable.
    expect(q<HTMLButtonElement>(tid("add-folder")).disabled).toBe(false);
  });

  it("is not shown while a model is loaded, or installed but not loaded", async () => {
    await mountWindow(defaultHandlers());
    expect(q(tid("no-model")).hidden).toBe(true);
    expect(q(tid("model-status")).textContent).toBe("Model: qwen2.5-1.5b-instruct");
    resetDom();
    await mountWindow(defaultHandlers({ app_state: () => appState({ model_loaded: null, model_error: "GGUF is truncated: download it again." }) }));
    expect(q(tid("no-model")).hidden).toBe(true);
    expect(q(tid("model-error")).textContent).toContain("GGUF is truncated");
  });

  it("imports a GGUF picked from disk and makes it the model", async () => {
    let models = noDecoderModels();
    const pickModel = vi.fn(async () => "/home/u/Downloads/tiny.gguf");
    const { calls } = await mountWindow(
      noModel({
        models: () => models,
        import_model: () => {
          models = { ...models, imported: ["tiny"] };
          return "tiny";
        },
        set_settings: () => null,
      }),
      { dialogs: { pickFolders: vi.fn(), pickFiles: vi.fn(), pickModel } },
    );
    q<HTMLButtonElement>(`${tid("no-model")} ${tid("import-model")}`).click();
    await settle();
    expect(calls.find((c) => c.cmd === "import_model")?.args).toEqual({ path: "/home/u/Downloads/tiny.gguf" });
    expect(calls.find((c) => c.cmd === "set_settings")?.args).toEqual({ settings: settingsFixture({ model: "tiny" }) });
    expect(q(tid("no-model")).hidden).toBe(true);
    expect(q("#chat-panel").hidden).toBe(false);
  });

  it("downloads from the catalog with a progress bar, then installs", async () => {
    let models = noDecoderModels();
    let now = 0;
    const { calls } = await mountWindow(
      noModel({ models: () => models, download_model: () => null, set_settings: () => null }),
      { now: () => now },
    );
    const setup = q(tid("no-model"));
    q<HTMLButtonElement>(`${tid("catalog-model")}[data-model-id="qwen2.5-1.5b-instruct"] ${tid("download-model")}`, setup).click();
    await settle();
    expect(calls.find((c) => c.cmd === "download_model")?.args).toEqual({ id: "qwen2.5-1.5b-instruct" });
    const rowSel = `${tid("catalog-model")}[data-model-id="qwen2.5-1.5b-instruct"]`;
    expect(q(rowSel, setup).dataset.phase).toBe("downloading");

    await shellEmit("model-download", { id: "qwen2.5-1.5b-instruct", done_bytes: 0, total_bytes: 1_000_000_000, finished: false, error: null });
    now = 10_000;
    await shellEmit("model-download", { id: "qwen2.5-1.5b-instruct", done_bytes: 250_000_000, total_bytes: 1_000_000_000, finished: false, error: null });
    const bar = q<HTMLProgressElement>(`${rowSel} ${tid("download-progress")}`, setup);
    expect(bar.value).toBe(250_000_000);
    expect(bar.max).toBe(1_000_000_000);
    expect(q(`${rowSel} ${tid("download-progress-text")}`, setup).textContent).toMatch(/^250 MB of 1.00 GB · /);

    models = modelsView({ active_model: null });
    await shellEmit("model-download", { id: "qwen2.5-1.5b-instruct", done_bytes: 1_000_000_000, total_bytes: 1_000_000_000, finished: true, error: null });
    await settle();
    expect(calls.find((c) => c.cmd === "set_settings")?.args).toEqual({ settings: settingsFixture({ model: "qwen2.5-1.5b-instruct" }) });
    expect(q(tid("no-model")).hidden).toBe(true);
  });

  it("stops a download in flight from its row", async () => {
    const { calls } = await mountWindow(noModel({ download_model: () => null, cancel_download: () => null }));
    q<HTMLButtonElement>(tid("download-model")).click();
    await settle();
    await shellEmit("model-download", { id: "qwen2.5-1.5b-instruct", done_bytes: 100, total_bytes: 1000, finished: false, error: null });
    q<HTMLButtonElement>(tid("cancel-download")).click();
    await settle();
    expect(calls.find((c) => c.cmd === "cancel_download")?.args).toEqual({ id: "qwen2.5-1.5b-instruct" });
  });

  it("shows a failed download with a retry", async () => {
    await mountWindow(noModel({ download_model: () => null }));
    await shellEmit("model-download", { id: "qwen2.5-7b-instruct", done_bytes: 10, total_bytes: 100, finished: false, error: "Hash mismatch: the file was deleted; try again." });
    const row = q(`${tid("no-model")} ${tid("catalog-model")}[data-model-id="qwen2.5-7b-instruct"]`);
    expect(row.dataset.phase).toBe("failed");
    expect(q(tid("download-error"), row).textContent).toContain("Hash mismatch");
    expect(q(tid("download-model"), row).textContent).toBe("Retry download");
  });

  it("follows model-state events", async () => {
    await mountWindow(defaultHandlers({ app_state: () => appState({ model_loaded: null }) }));
    expect(q(tid("model-status")).textContent).toBe("Model not loaded");
    await shellEmit("model-state", { loaded: "qwen2.5-7b-instruct", error: null });
    expect(q(tid("model-status")).textContent).toBe("Model: qwen2.5-7b-instruct");
  });

  it("knows the download phases", () => {
    const m = modelsView().catalog[1]!;
    expect(downloadPhase(m, undefined)).toBe("idle");
    expect(downloadPhase({ ...m, installed: true }, undefined)).toBe("installed");
  });
});

describe("start-up", () => {
  it("asks app_state again until the shell is ready", async () => {
    let n = 0;
    const { ui } = await mountWindow(defaultHandlers({ app_state: () => appState({ ready: ++n >= 3 }) }));
    expect(n).toBe(3);
    expect(ui.root.dataset.state).toBe("ready");
  });

  it("says so when the shell cannot be reached", async () => {
    const { ui } = await mountWindow(defaultHandlers({ app_state: () => Promise.reject("library is locked by another Folio") }));
    expect(ui.root.dataset.state).toBe("error");
    expect(q(tid("boot-message")).textContent).toContain("library is locked");
  });
});

describe("end-to-end hook", () => {
  it("adds paths through the same path as the button", async () => {
    const { app, calls } = await mountWindow(defaultHandlers({ add_paths: () => null }));
    installTestHook(app);
    await window.__folioTest!.addPaths(["/e2e/docs"]);
    expect(calls.find((c) => c.cmd === "add_paths")?.args).toEqual({ paths: ["/e2e/docs"] });
  });
});
