// Models: the catalog with download progress, importing a GGUF from disk, and the first screen
// shown when no language model is installed. The same list appears in the settings dialog.

import type { App } from "./app";
import type { KnownModel } from "./ipc";
import { basename, downloadEta, formatBytes, formatDownload } from "./format";
import { h, replaceChildren } from "./dom";
import { needsModelSetup, type DownloadState, type UiState } from "./state";

export type DownloadPhase = "idle" | "downloading" | "failed" | "installed";

export function downloadPhase(m: KnownModel, d: DownloadState | undefined): DownloadPhase {
  if (m.installed) return "installed";
  if (!d) return "idle";
  if (d.error) return "failed";
  // Finished but the catalog has not been re-read yet: still show it as arriving.
  return "downloading";
}

/** A model file's size, or that it is not known (a catalog entry without one). */
function sizeText(bytes: number | null): string {
  return bytes === null ? "size unknown" : formatBytes(bytes);
}

export function downloadText(d: DownloadState, nowMs: number): string {
  const eta = downloadEta(d.doneBytes, d.totalBytes, d.startedBytes, (nowMs - d.startedAt) / 1000);
  return d.finished ? "Verifying…" : formatDownload(d.doneBytes, d.totalBytes, eta);
}

class ModelRow {
  readonly el: HTMLLIElement;
  private readonly action: HTMLElement;
  private phase: DownloadPhase | null = null;
  private bar: HTMLProgressElement | null = null;
  private text: HTMLElement | null = null;

  constructor(private model: KnownModel, private readonly app: App) {
    this.action = h("div", { class: "model-action" });
    this.el = h(
      "li",
      { class: "model", "data-testid": "catalog-model", "data-model-id": model.id },
      h(
        "div",
        { class: "model-head" },
        h("span", { class: "model-name" }, model.name),
        h("span", { class: "muted" }, ` ${sizeText(model.size_bytes)}`),
      ),
      model.description ? h("p", { class: "model-desc" }, model.description) : null,
      this.action,
    );
  }

  update(model: KnownModel, d: DownloadState | undefined): void {
    this.model = model;
    const phase = downloadPhase(model, d);
    this.el.dataset.phase = phase;
    if (phase !== this.phase) {
      this.phase = phase;
      this.bar = null;
      this.text = null;
      // Rebuilt only when the phase changes, so a focused Download button survives progress.
      if (phase === "installed") {
        replaceChildren(this.action, h("span", { class: "badge badge-indexed", "data-testid": "model-installed" }, "installed"));
      } else if (phase === "idle" || phase === "failed") {
        const btn = h(
          "button",
          { type: "button", "data-testid": "download-model", "aria-label": `Download ${model.name} (${sizeText(model.size_bytes)})` },
          phase === "failed" ? "Retry download" : "Download",
        );
        btn.addEventListener("click", () => void this.app.downloadModel(this.model.id));
        replaceChildren(
          this.action,
          btn,
          phase === "failed" && d?.error ? h("span", { class: "error-text", "data-testid": "download-error" }, d.error) : null,
        );
      } else {
        this.bar = h("progress", { "data-testid": "download-progress", "aria-label": `Downloading ${model.name}` });
        this.text = h("span", { class: "progress-text", "data-testid": "download-progress-text" });
        // Stopping keeps what arrived: downloading again resumes it.
        const cancel = h("button", { type: "button", class: "link", "data-testid": "cancel-download", "aria-label": `Stop downloading ${model.name}` }, "Stop");
        cancel.addEventListener("click", () => void this.app.cancelDownload(this.model.id));
        replaceChildren(this.action, this.bar, this.text, cancel);
      }
    }
    if (phase === "downloading" && d && this.bar && this.text) {
      const total = d.totalBytes > 0 ? d.totalBytes : (model.size_bytes ?? 0);
      if (total > 0) {
        this.bar.max = total;
        this.bar.value = Math.min(d.doneBytes, total);
      }
      this.text.textContent = downloadText({ ...d, totalBytes: total }, Date.now());
    }
  }
}

/** Catalog models of one kind, plus the imported ones and the import button for decoders. */
export class ModelList {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly imported: HTMLElement;
  private rows = new Map<string, ModelRow>();

  constructor(private readonly app: App, private readonly kind: KnownModel["kind"] = "decoder", idPrefix = "models") {
    this.list = h("ul", { class: "model-list", id: `${idPrefix}-catalog`, "data-testid": "catalog" });
    this.imported = h("div", { class: "imported", "data-testid": "imported-models" });
    const importBtn = h("button", { type: "button", id: `${idPrefix}-import`, "data-testid": "import-model" }, "Import a GGUF file…");
    importBtn.addEventListener("click", () => void app.importModel());
    this.el = h("div", { class: "model-manager" }, this.list, kind === "decoder" ? h("div", { class: "toolbar" }, importBtn) : null, this.imported);
    app.store.subscribe((s, prev) => {
      if (s.models !== prev.models || s.downloads !== prev.downloads) this.render(s);
    });
    this.render(app.store.get());
  }

  render(s: UiState): void {
    const catalog = (s.models?.catalog ?? []).filter((m) => m.kind === this.kind);
    const ids = new Set(catalog.map((m) => m.id));
    for (const [id, row] of this.rows) {
      if (!ids.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    for (const m of catalog) {
      let row = this.rows.get(m.id);
      if (!row) {
        row = new ModelRow(m, this.app);
        this.rows.set(m.id, row);
        this.list.append(row.el);
      }
      row.update(m, s.downloads[m.id]);
    }
    if (this.kind === "decoder") {
      const imported = s.models?.imported ?? [];
      replaceChildren(
        this.imported,
        imported.length ? h("h4", {}, "Imported") : null,
        imported.length ? h("ul", { class: "plain" }, ...imported.map((id) => h("li", { "data-testid": "imported-model", title: id }, basename(id)))) : null,
      );
    }
  }
}

/** The first screen when no language model is installed. */
export class SetupScreen {
  readonly el: HTMLElement;

  constructor(app: App) {
    const list = new ModelList(app, "decoder", "setup");
    this.el = h(
      "section",
      { id: "setup", class: "setup", "data-testid": "no-model", "aria-labelledby": "setup-heading", hidden: true },
      h("h2", { id: "setup-heading" }, "No language model installed"),
      h(
        "p",
        {},
        "Folio answers with a local model, so nothing leaves this computer. Import a GGUF model you already have, or download one from the list below. You can add documents to the library meanwhile.",
      ),
      list.el,
    );
    app.store.subscribe((s) => this.update(s));
    this.update(app.store.get());
  }

  update(s: UiState): void {
    this.el.hidden = !needsModelSetup(s);
  }
}
