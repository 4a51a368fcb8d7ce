// The settings dialog: model, device, embedder, context size and temperature, read with
// get_settings and written whole with set_settings. The form is filled from the store each time
// it opens, so it always shows what the shell last confirmed.

import type { App } from "./app";
import type { Device, ModelsView, SettingsChange } from "./ipc";
import { basename } from "./format";
import { h, replaceChildren } from "./dom";
import { ModelList } from "./models";

export interface Choice {
  value: string;
  label: string;
  disabled?: boolean;
}

export const CONTEXT_MIN = 512;
export const CONTEXT_MAX = 131072;
export const TEMPERATURE_MAX = 2;

/** Installed decoders and imported models; the current choice stays listed even if missing. */
export function modelChoices(models: ModelsView | null, current: string | null): Choice[] {
  const out: Choice[] = [];
  for (const m of models?.catalog ?? []) {
    if (m.kind === "decoder" && m.installed) out.push({ value: m.id, label: m.name });
  }
  for (const id of models?.imported ?? []) {
    if (!out.some((c) => c.value === id)) out.push({ value: id, label: `${basename(id)} (imported)` });
  }
  if (current !== null && !out.some((c) => c.value === current)) out.push({ value: current, label: `${current} (not installed)` });
  if (out.length === 0) out.push({ value: "", label: "No model installed", disabled: true });
  return out;
}

/** Catalog embedders; ones not yet downloaded are listed but cannot be picked. */
export function embedderChoices(models: ModelsView | null, current: string): Choice[] {
  const out: Choice[] = (models?.catalog ?? [])
    .filter((m) => m.kind === "embedder")
    .map((m) => ({ value: m.id, label: m.installed ? m.name : `${m.name} (not downloaded)`, disabled: !m.installed && m.id !== current }));
  if (current && !out.some((c) => c.value === current)) out.unshift({ value: current, label: current });
  return out;
}

export interface SettingsForm {
  model: string;
  device: string;
  embedder: string;
  context: string;
  temperature: string;
}

/** Form values -> Settings, or the first problem in words. */
export function parseSettings(f: SettingsForm): { settings: SettingsChange } | { error: string } {
  const device = f.device as Device;
  if (!["auto", "cpu", "gpu"].includes(device)) return { error: "Choose a device: automatic, CPU or GPU." };
  const context = Number(f.context);
  if (!Number.isInteger(context) || context < CONTEXT_MIN || context > CONTEXT_MAX) {
    return { error: `Context size must be a whole number from ${CONTEXT_MIN} to ${CONTEXT_MAX}.` };
  }
  const temperature = Number(f.temperature);
  if (f.temperature.trim() === "" || !Number.isFinite(temperature) || temperature < 0 || temperature > TEMPERATURE_MAX) {
    return { error: `Temperature must be a number from 0 to ${TEMPERATURE_MAX}.` };
  }
  if (!f.embedder) return { error: "Choose an embedder." };
  return { settings: { model: f.model === "" ? null : f.model, device, embedder: f.embedder, context, temperature } };
}

function fillSelect(select: HTMLSelectElement, choices: Choice[], value: string): void {
  replaceChildren(select, ...choices.map((c) => h("option", { value: c.value, disabled: c.disabled ?? false }, c.label)));
  select.value = value;
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const hintEl = hint ? h("span", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

export class SettingsDialog {
  readonly el: HTMLDialogElement;
  private readonly form: HTMLFormElement;
  private readonly model: HTMLSelectElement;
  private readonly device: HTMLSelectElement;
  private readonly embedder: HTMLSelectElement;
  private readonly context: HTMLInputElement;
  private readonly temperature: HTMLInputElement;
  private readonly status: HTMLElement;
  private readonly modelReason: HTMLElement;
  private returnFocus: HTMLElement | null = null;

  constructor(private readonly app: App) {
    this.model = h("select", { id: "setting-model", "data-testid": "setting-model" });
    this.device = h("select", { id: "setting-device", "data-testid": "setting-device" });
    fillSelect(this.device, [
      { value: "auto", label: "Automatic" },
      { value: "cpu", label: "CPU" },
      { value: "gpu", label: "GPU" },
    ], "auto");
    this.embedder = h("select", { id: "setting-embedder", "data-testid": "setting-embedder" });
    this.context = h("input", { id: "setting-context", "data-testid": "setting-context", type: "number", min: CONTEXT_MIN, max: CONTEXT_MAX, step: 256, required: true, inputmode: "numeric" });
    this.temperature = h("input", { id: "setting-temperature", "data-testid": "setting-temperature", type: "number", min: 0, max: TEMPERATURE_MAX, step: 0.05, required: true, inputmode: "decimal" });
    this.modelReason = h("p", { id: "setting-model-reason", class: "hint", "data-testid": "setting-model-reason" });
    this.status = h("p", { id: "settings-status", class: "form-status", role: "status", "data-testid": "settings-status" });
    const save = h("button", { type: "submit", id: "settings-save", "data-testid": "settings-save", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", id: "settings-cancel", "data-testid": "settings-cancel" }, "Close");

    this.form = h(
      "form",
      { id: "settings-form", novalidate: true },
      h("h2", { id: "settings-heading" }, "Settings"),
      field("Model", this.model),
      this.modelReason,
      field("Device", this.device, "Automatic uses the GPU when one is usable."),
      field("Embedder", this.embedder, "Changing it re-embeds the whole library."),
      field("Context size (tokens)", this.context, "Larger fits more passages but needs more memory."),
      field("Temperature", this.temperature, "0 is most literal; higher is more varied."),
      this.status,
      h("div", { class: "dialog-actions" }, cancel, save),
      h("h3", {}, "Language models"),
      new ModelList(app, "decoder", "settings-models").el,
      h("h3", {}, "Embedders"),
      new ModelList(app, "embedder", "settings-embedders").el,
    );
    this.el = h("dialog", { id: "settings-dialog", class: "dialog", "data-testid": "settings-dialog", "aria-labelledby": "settings-heading" }, this.form);

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save();
    });
    cancel.addEventListener("click", () => this.close());
    // Native Esc closes a modal dialog; give focus back to where it was.
    this.el.addEventListener("close", () => this.returnFocus?.focus());
    app.store.subscribe((s, prev) => {
      if (this.isOpen() && s.models !== prev.models) this.fillModelLists();
    });
  }

  isOpen(): boolean {
    return this.el.open;
  }

  async open(): Promise<void> {
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    await this.app.refreshSettings();
    this.fill();
    this.status.textContent = "";
    if (typeof this.el.showModal === "function") {
      try {
        this.el.showModal();
      } catch {
        this.el.setAttribute("open", "");
      }
    } else this.el.setAttribute("open", "");
    this.model.focus();
  }

  close(): void {
    if (typeof this.el.close === "function") this.el.close();
    else {
      this.el.removeAttribute("open");
      this.returnFocus?.focus();
    }
  }

  /** The form as it stands, for tests and for save. */
  values(): SettingsForm {
    return {
      model: this.model.value,
      device: this.device.value,
      embedder: this.embedder.value,
      context: this.context.value,
      temperature: this.temperature.value,
    };
  }

  private fill(): void {
    const s = this.app.store.get().settings;
    if (!s) return;
    this.fillModelLists();
    this.modelReason.textContent = s.model_reason ?? "";
    this.device.value = s.device;
    this.context.value = String(s.context);
    this.temperature.value = String(s.temperature);
  }

  private fillModelLists(): void {
    const st = this.app.store.get();
    const s = st.settings;
    if (!s) return;
    // Keep what the user picked but has not saved yet when the catalog changes under the form.
    const model = this.isOpen() && this.model.value !== "" ? this.model.value : (s.model ?? "");
    const embedder = this.isOpen() && this.embedder.value !== "" ? this.embedder.value : s.embedder;
    fillSelect(this.model, modelChoices(st.models, s.model), model);
    fillSelect(this.embedder, embedderChoices(st.models, s.embedder), embedder);
  }

  private async save(): Promise<void> {
    const parsed = parseSettings(this.values());
    if ("error" in parsed) {
      this.status.textContent = parsed.error;
      this.status.dataset.kind = "error";
      return;
    }
    this.status.textContent = "Saving…";
    delete this.status.dataset.kind;
    const ok = await this.app.saveSettings(parsed.settings);
    this.status.textContent = ok ? "Saved." : "Not saved: see the message below.";
    this.status.dataset.kind = ok ? "ok" : "error";
  }
}
