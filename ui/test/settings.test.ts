import { afterEach, describe, expect, it } from "vitest";
import { embedderChoices, modelChoices, parseSettings } from "../src/settings";
import { appState, defaultHandlers, modelsView, mountWindow, q, resetDom, settingsFixture, settle, tid } from "./helpers";
import type { Settings } from "../src/ipc";

afterEach(() => resetDom());

describe("settings dialog", () => {
  it("round-trips get_settings -> form -> set_settings", async () => {
    const reason = "Qwen2.5 1.5B Instruct is the best installed model that answers within 4 s here.";
    let stored: Settings = settingsFixture({ device: "cpu", context: 8192, temperature: 0.7, model_reason: reason });
    const { calls, ui } = await mountWindow(defaultHandlers({
      get_settings: () => stored,
      set_settings: (a) => {
        stored = a.settings as Settings;
        return null;
      },
    }));
    q<HTMLButtonElement>(tid("open-settings")).click();
    await settle();
    expect(ui.settings.isOpen()).toBe(true);
    expect(ui.settings.values()).toEqual({ model: "qwen2.5-1.5b-instruct", device: "cpu", embedder: "multilingual-e5-small", context: "8192", temperature: "0.7" });
    // Why this model: the engine's first-start choice, as the shell keeps it.
    expect(q(tid("setting-model-reason")).textContent).toBe(reason);
    // The not-downloaded embedder is listed but cannot be picked.
    const mini = q<HTMLOptionElement>(`${tid("setting-embedder")} option[value="all-minilm-l6-v2"]`);
    expect(mini.disabled).toBe(true);

    q<HTMLSelectElement>(tid("setting-device")).value = "gpu";
    q<HTMLInputElement>(tid("setting-context")).value = "16384";
    q<HTMLInputElement>(tid("setting-temperature")).value = "0.1";
    q<HTMLButtonElement>(tid("settings-save")).click();
    await settle();
    expect(calls.find((c) => c.cmd === "set_settings")?.args).toEqual({
      settings: { model: "qwen2.5-1.5b-instruct", device: "gpu", embedder: "multilingual-e5-small", context: 16384, temperature: 0.1 },
    });
    expect(q(tid("settings-status")).textContent).toBe("Saved.");

    // Reopening reads the settings back from the shell.
    q<HTMLButtonElement>(tid("settings-cancel")).click();
    q<HTMLButtonElement>(tid("open-settings")).click();
    await settle();
    expect(ui.settings.values()).toMatchObject({ device: "gpu", context: "16384", temperature: "0.1" });
  });

  it("shows a problem found at start once, as an error that stays", async () => {
    const problem = "The settings file settings.toml is damaged; it was kept as settings.toml.damaged.";
    await mountWindow(defaultHandlers({ app_state: () => appState({ startup_problems: [problem] }) }));
    const shown = [...document.querySelectorAll(tid("notice-error"))].map((n) => n.textContent);
    expect(shown.filter((t) => t?.includes(problem))).toHaveLength(1);
  });

  it("refuses bad numbers without calling the shell", async () => {
    const { calls } = await mountWindow(defaultHandlers({ set_settings: () => null }));
    q<HTMLButtonElement>(tid("open-settings")).click();
    await settle();
    q<HTMLInputElement>(tid("setting-context")).value = "100";
    q<HTMLButtonElement>(tid("settings-save")).click();
    await settle();
    expect(q(tid("settings-status")).textContent).toMatch(/Context size/);
    expect(calls.some((c) => c.cmd === "set_settings")).toBe(false);
  });

  it("shows the shell's refusal", async () => {
    await mountWindow(defaultHandlers({ set_settings: () => Promise.reject("No GPU is usable here: choose CPU or Automatic.") }));
    q<HTMLButtonElement>(tid("open-settings")).click();
    await settle();
    q<HTMLButtonElement>(tid("settings-save")).click();
    await settle();
    expect(q(tid("settings-status")).textContent).toMatch(/Not saved/);
    expect(q(tid("notice-error")).textContent).toContain("No GPU is usable");
  });
});

describe("settings helpers", () => {
  it("parses and validates", () => {
    const ok = parseSettings({ model: "", device: "auto", embedder: "e", context: "4096", temperature: "0" });
    expect(ok).toEqual({ settings: { model: null, device: "auto", embedder: "e", context: 4096, temperature: 0 } });
    expect(parseSettings({ model: "m", device: "tpu", embedder: "e", context: "4096", temperature: "0" })).toHaveProperty("error");
    expect(parseSettings({ model: "m", device: "cpu", embedder: "e", context: "4096.5", temperature: "0" })).toHaveProperty("error");
    expect(parseSettings({ model: "m", device: "cpu", embedder: "e", context: "4096", temperature: "" })).toHaveProperty("error");
    expect(parseSettings({ model: "m", device: "cpu", embedder: "e", context: "4096", temperature: "2.5" })).toHaveProperty("error");
  });
  it("lists installed and imported models, keeping a missing current one", () => {
    const m = modelsView({ imported: ["/models/tiny.gguf"] });
    expect(modelChoices(m, "gone")).toEqual([
      { value: "qwen2.5-1.5b-instruct", label: "Qwen2.5 1.5B Instruct" },
      { value: "/models/tiny.gguf", label: "tiny.gguf (imported)" },
      { value: "gone", label: "gone (not installed)" },
    ]);
    expect(modelChoices(null, null)).toEqual([{ value: "", label: "No model installed", disabled: true }]);
    expect(embedderChoices(m, "multilingual-e5-small").map((c) => c.disabled)).toEqual([false, true]);
  });
});
