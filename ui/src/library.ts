// The library panel: folders with their indexing progress, counts and files. Rows are keyed by
// path and updated in place, so progress events (several a second) never rebuild the list and
// never steal keyboard focus from a button inside it.

import type { App } from "./app";
import type { FileView, FolderView } from "./ipc";
import { basename, formatCount, formatProgress, plural } from "./format";
import { h, replaceChildren } from "./dom";
import { folderPhase, folderProgress, type UiState } from "./state";

/** Files listed per folder at most; a library folder can hold thousands. */
const FILE_LIMIT = 500;

const STATUS_ORDER: Record<FileView["status"], number> = { failed: 0, skipped: 1, indexed: 2 };

/** Failed first (they need attention), then skipped, then indexed; by name within each. */
export function sortFiles(files: FileView[]): FileView[] {
  return [...files].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.path.localeCompare(b.path));
}

export function folderCounts(f: FolderView): string {
  const parts = [`${formatCount(f.files_indexed)} indexed`];
  if (f.files_failed) parts.push(`${formatCount(f.files_failed)} failed`);
  if (f.files_skipped) parts.push(`${formatCount(f.files_skipped)} skipped`);
  parts.push(plural(f.chunks, "passage"));
  return parts.join(" · ");
}

export function librarySummary(s: UiState): string {
  const l = s.library;
  if (l.folders.length === 0) return "No folders yet.";
  const emb = l.embedder ? ` · embedder ${l.embedder}` : "";
  return `${plural(l.folders.length, "folder")} · ${plural(l.files, "file")} · ${plural(l.chunks, "passage")}${emb}`;
}

class FolderRow {
  readonly el: HTMLLIElement;
  private readonly status: HTMLElement;
  private readonly progressWrap: HTMLElement;
  private readonly progressBar: HTMLProgressElement;
  private readonly progressText: HTMLElement;
  private readonly current: HTMLElement;
  private readonly counts: HTMLElement;
  private readonly watched: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly reindex: HTMLButtonElement;
  private readonly remove: HTMLButtonElement;
  private readonly files: HTMLElement;
  private expanded = false;
  private removeArmed: number | null = null;
  private lastFilesLoad = 0;

  constructor(readonly path: string, private readonly app: App) {
    const name = basename(path) || path;
    const filesId = `files-${Math.random().toString(36).slice(2, 10)}`;
    this.status = h("span", { class: "badge", "data-testid": "folder-status", role: "status" });
    this.progressBar = h("progress", { "data-testid": "folder-progress", "aria-label": `Indexing ${name}` });
    this.progressText = h("span", { class: "progress-text", "data-testid": "folder-progress-text" });
    this.current = h("span", { class: "progress-current", "data-testid": "folder-current" });
    this.progressWrap = h("div", { class: "folder-progress", hidden: true }, this.progressBar, this.progressText, this.current);
    this.counts = h("div", { class: "folder-counts", "data-testid": "folder-counts" });
    this.watched = h("span", { class: "watched", "data-testid": "folder-watched", title: "Changes in this folder are picked up automatically" });
    this.toggle = h("button", { type: "button", class: "link", "data-testid": "folder-files-toggle", "aria-expanded": "false", "aria-controls": filesId }, "Files");
    this.reindex = h("button", { type: "button", class: "link", "data-testid": "reindex-folder" }, "Re-index");
    this.remove = h("button", { type: "button", class: "link danger", "data-testid": "remove-folder", "aria-label": `Remove ${name} from the library` }, "Remove");
    this.files = h("ul", { id: filesId, class: "file-list", "data-testid": "file-list", hidden: true });
    const askHere = h("button", { type: "button", class: "link", "data-testid": "ask-in-folder", title: `Ask about ${name} only` }, "Ask here");

    this.el = h(
      "li",
      { class: "folder", "data-testid": "folder", "data-path": path },
      h(
        "div",
        { class: "folder-head" },
        h("span", { class: "folder-name", "data-testid": "folder-name", title: path }, name),
        this.watched,
        this.status,
      ),
      this.progressWrap,
      this.counts,
      h("div", { class: "folder-actions" }, this.toggle, askHere, this.reindex, this.remove),
      this.files,
    );

    this.toggle.addEventListener("click", () => void this.setExpanded(!this.expanded));
    this.reindex.addEventListener("click", () => void this.app.reindexFolder(this.path));
    this.remove.addEventListener("click", () => this.onRemove());
    askHere.addEventListener("click", () => this.app.askWithin(this.path));
  }

  update(s: UiState): void {
    const phase = folderPhase(s, this.path);
    const view = s.library.folders.find((f) => f.path === this.path);
    const p = folderProgress(s, this.path);
    this.status.textContent = phase;
    this.status.dataset.phase = phase;
    // An unavailable folder says why (its index is kept until it is back).
    this.status.title = view?.unavailable ?? "";
    this.el.dataset.phase = phase;
    this.progressWrap.hidden = phase !== "indexing";
    if (p && phase === "indexing") {
      // A <progress> without value is indeterminate: right while the total is unknown.
      if (p.total > 0) {
        this.progressBar.max = p.total;
        this.progressBar.value = Math.min(p.done, p.total);
      } else this.progressBar.removeAttribute("value");
      this.progressText.textContent = formatProgress(p);
      this.current.textContent = p.current ? basename(p.current) : "";
      this.current.title = p.current ?? "";
    }
    this.counts.textContent = view ? folderCounts(view) : "Adding…";
    this.watched.textContent = view?.watched ? "watched" : "";
    this.watched.hidden = !view?.watched;
    this.toggle.disabled = !view;
    this.reindex.disabled = !view || phase === "indexing";
    this.remove.disabled = !view;
    // Keep an open file list current while indexing moves on (at most once a second).
    if (this.expanded && view && Date.now() - this.lastFilesLoad > 1000) {
      void this.loadFiles();
    }
  }

  private async setExpanded(open: boolean): Promise<void> {
    this.expanded = open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.files.hidden = !open;
    if (open) await this.loadFiles();
  }

  private async loadFiles(): Promise<void> {
    this.lastFilesLoad = Date.now();
    const files = await this.app.folderFiles(this.path);
    // A password being typed is not swept away by the list's refresh.
    if (!files || this.files.querySelector(".unlock-form")) return;
    const sorted = sortFiles(files);
    const shown = sorted.slice(0, FILE_LIMIT);
    replaceChildren(
      this.files,
      ...shown.map((f) => fileRow(f, this.app)),
      sorted.length > shown.length ? h("li", { class: "file more" }, `and ${formatCount(sorted.length - shown.length)} more`) : null,
      sorted.length === 0 ? h("li", { class: "file empty" }, "No files yet.") : null,
    );
  }

  /** Two clicks to remove, so a stray click does not drop an index that took an hour to build. */
  private onRemove(): void {
    if (this.removeArmed !== null) {
      window.clearTimeout(this.removeArmed);
      this.removeArmed = null;
      this.remove.textContent = "Remove";
      void this.app.removeFolder(this.path);
      return;
    }
    this.remove.textContent = "Confirm remove";
    this.remove.dataset.armed = "true";
    this.removeArmed = window.setTimeout(() => {
      this.removeArmed = null;
      this.remove.textContent = "Remove";
      delete this.remove.dataset.armed;
    }, 4000);
  }
}

function fileRow(f: FileView, app: App): HTMLLIElement {
  const detail = f.status === "indexed"
    ? `${plural(f.chunks, "passage")}${f.pages === null ? "" : ` · ${plural(f.pages, "page")}`}`
    : "";
  const li = h(
    "li",
    { class: `file file-${f.status}`, "data-testid": "file", "data-status": f.status, "data-path": f.path },
    h("span", { class: "file-name", title: f.path }, basename(f.path)),
    h("span", { class: `badge badge-${f.status}`, "data-testid": "file-status" }, f.status),
    detail ? h("span", { class: "file-detail" }, detail) : null,
    f.reason ? h("span", { class: "file-reason", "data-testid": "file-reason" }, f.reason) : null,
  );
  if (f.status === "indexed") {
    const askAbout = h("button", { type: "button", class: "link", "data-testid": "file-ask", title: `Ask about ${basename(f.path)} only` }, "Ask about");
    askAbout.addEventListener("click", () => app.askWithin(f.path));
    li.append(askAbout);
  }
  if (f.needs_password) {
    const unlock = h("button", { type: "button", class: "link", "data-testid": "file-unlock" }, "Password…");
    unlock.addEventListener("click", () => {
      unlock.hidden = true;
      li.append(unlockForm(f.path, app, () => (unlock.hidden = false)));
    });
    li.append(unlock);
  }
  return li;
}

/** Asks for one file's password. The password goes to the engine, which keeps it in memory for
 * this session only; the field is cleared whatever happens. */
function unlockForm(path: string, app: App, onClose: () => void): HTMLFormElement {
  const input = h("input", {
    type: "password",
    autocomplete: "off",
    required: true,
    "aria-label": `Password for ${basename(path)}`,
    "data-testid": "unlock-password",
  });
  const submit = h("button", { type: "submit", "data-testid": "unlock-submit" }, "Read with this password");
  const cancel = h("button", { type: "button", "data-testid": "unlock-cancel" }, "Cancel");
  const form = h("form", { class: "unlock-form", "data-testid": "unlock-form" }, input, submit, cancel);
  const close = () => {
    input.value = "";
    form.remove();
    onClose();
  };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const password = input.value;
    if (!password) return;
    submit.disabled = true;
    void app.unlockFile(path, password).then((taken) => {
      if (taken) close();
      else {
        submit.disabled = false;
        input.value = "";
      }
    });
  });
  queueMicrotask(() => input.focus());
  return form;
}

export class LibraryPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly summary: HTMLElement;
  private readonly empty: HTMLElement;
  private rows = new Map<string, FolderRow>();

  constructor(private readonly app: App) {
    const addFolder = h("button", { type: "button", id: "add-folder", "data-testid": "add-folder" }, "Add folder…");
    const addFiles = h("button", { type: "button", id: "add-files", "data-testid": "add-files" }, "Add files…");
    this.summary = h("p", { id: "library-summary", class: "muted", "data-testid": "library-summary" });
    this.empty = h("p", { class: "empty-hint", "data-testid": "library-empty" }, "Drop folders or documents on the window, or use Add folder.");
    this.list = h("ul", { id: "folder-list", class: "folder-list", "data-testid": "folder-list", "aria-label": "Library folders" });
    this.el = h(
      "section",
      { id: "library-panel", class: "panel", "aria-labelledby": "library-heading" },
      h("h2", { id: "library-heading" }, "Library"),
      h("div", { class: "toolbar" }, addFolder, addFiles),
      this.summary,
      this.empty,
      this.list,
    );
    addFolder.addEventListener("click", () => void app.addFromDialog("folders"));
    addFiles.addEventListener("click", () => void app.addFromDialog("files"));
    app.store.subscribe((s, prev) => {
      if (s.library !== prev.library || s.progress !== prev.progress || s.pending !== prev.pending) this.render(s);
    });
    this.render(app.store.get());
  }

  render(s: UiState): void {
    const paths = [...s.library.folders.map((f) => f.path), ...s.pending.filter((p) => !s.library.folders.some((f) => f.path === p))];
    for (const [path, row] of this.rows) {
      if (!paths.includes(path)) {
        row.el.remove();
        this.rows.delete(path);
      }
    }
    // Insert new rows in order without moving existing ones (moving a focused node blurs it).
    let prevEl: Element | null = null;
    for (const path of paths) {
      let row = this.rows.get(path);
      if (!row) {
        row = new FolderRow(path, this.app);
        this.rows.set(path, row);
        if (prevEl) prevEl.after(row.el);
        else this.list.prepend(row.el);
      }
      row.update(s);
      prevEl = row.el;
    }
    this.summary.textContent = librarySummary(s);
    this.empty.hidden = paths.length > 0;
  }
}
