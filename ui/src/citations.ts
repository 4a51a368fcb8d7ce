// Citation chips: the inline [n] markers in an answer and the list of sources under it. Each chip
// shows file, page and snippet in a popover on hover or focus, and opens the file at the page
// through the shell's `open_source` (the window never opens files itself).

import type { Citation, Source } from "./ipc";
import { basename, formatLocation } from "./format";
import { h, replaceChildren } from "./dom";

/** What a chip needs, from a final Citation or (while streaming) a retrieved Source. */
export interface CiteTarget {
  number: number;
  path: string;
  page: number | null;
  snippet: string;
}

const SNIPPET_CHARS = 320;

export function shortSnippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS - 1).trimEnd()}…` : flat;
}

export function fromCitation(c: Citation): CiteTarget {
  return { number: c.number, path: c.path, page: c.page, snippet: shortSnippet(c.snippet) };
}

export function fromSource(s: Source): CiteTarget {
  return { number: s.number, path: s.path, page: s.page, snippet: shortSnippet(s.text) };
}

/** Plain text for "copy answer": the answer, then its sources with full paths. */
export function copyText(text: string, cites: CiteTarget[]): string {
  if (cites.length === 0) return text;
  const lines = cites.map((c) => `[${c.number}] ${c.path}${c.page === null ? "" : `, p. ${c.page}`}`);
  return `${text.trimEnd()}\n\nSources:\n${lines.join("\n")}\n`;
}

export type OpenSource = (path: string, page: number | null) => void;

/** Builds chips and owns the one shared popover. */
export class CitationUi {
  readonly popover: HTMLElement;
  private anchor: HTMLElement | null = null;

  /** `signal` removes the window-wide key listener when the window is torn down (tests). */
  constructor(private readonly openSource: OpenSource, signal?: AbortSignal) {
    this.popover = h("div", { id: "citation-popover", class: "popover", role: "tooltip", "data-testid": "citation-popover", hidden: true });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.popover.hidden) this.hide();
    }, { signal });
  }

  /** The inline marker chip, e.g. "2" in a pill. */
  refChip(t: CiteTarget): HTMLButtonElement {
    const b = h(
      "button",
      {
        type: "button",
        class: "cite-ref",
        "data-testid": "citation-ref",
        "data-number": t.number,
        "aria-label": `Source ${t.number}: ${formatLocation(t.path, t.page)}`,
      },
      String(t.number),
    );
    this.wire(b, t);
    return b;
  }

  /** The chip in the list under an answer: "[2] report.pdf · p. 3". */
  sourceChip(t: CiteTarget): HTMLButtonElement {
    const b = h(
      "button",
      {
        type: "button",
        class: "cite-chip",
        "data-testid": "citation",
        "data-number": t.number,
        "data-path": t.path,
        "data-page": t.page ?? "",
        title: t.path,
        "aria-label": `Open source ${t.number}: ${formatLocation(t.path, t.page)}`,
      },
      h("span", { class: "cite-num" }, `[${t.number}]`),
      " ",
      h("span", { class: "cite-file" }, basename(t.path)),
      t.page === null ? null : h("span", { class: "cite-page" }, ` · p. ${t.page}`),
    );
    this.wire(b, t);
    return b;
  }

  /** A row of source chips under an answer, ordered by number: its sources, or the closest passages of a refusal. */
  sourceList(targets: CiteTarget[], label = "Sources", testid = "citations"): HTMLElement | null {
    if (targets.length === 0) return null;
    const sorted = [...targets].sort((a, b) => a.number - b.number);
    return h(
      "div",
      { class: "sources", "data-testid": testid },
      h("span", { class: "sources-label" }, label),
      ...sorted.map((t) => this.sourceChip(t)),
    );
  }

  show(anchor: HTMLElement, t: CiteTarget): void {
    this.anchor = anchor;
    replaceChildren(
      this.popover,
      h("div", { class: "popover-file", "data-testid": "citation-popover-file" }, basename(t.path)),
      h("div", { class: "popover-meta" }, t.page === null ? t.path : `Page ${t.page} · ${t.path}`),
      h("blockquote", { class: "popover-snippet", "data-testid": "citation-popover-snippet" }, t.snippet || "(no text)"),
      h("div", { class: "popover-hint" }, "Click to open the file"),
    );
    this.popover.hidden = false;
    anchor.setAttribute("aria-describedby", this.popover.id);
    this.place(anchor);
  }

  hide(): void {
    this.popover.hidden = true;
    this.anchor?.removeAttribute("aria-describedby");
    this.anchor = null;
  }

  private wire(b: HTMLButtonElement, t: CiteTarget): void {
    b.addEventListener("click", () => {
      this.hide();
      this.openSource(t.path, t.page);
    });
    b.addEventListener("mouseenter", () => this.show(b, t));
    b.addEventListener("focus", () => this.show(b, t));
    b.addEventListener("mouseleave", () => this.hide());
    b.addEventListener("blur", () => this.hide());
  }

  /** Below the chip, kept inside the viewport. Positions are set through CSSOM, which the CSP
   * allows (it forbids style attributes in markup, not style properties set from script). */
  private place(anchor: HTMLElement): void {
    const r = anchor.getBoundingClientRect();
    const pw = this.popover.offsetWidth || 320;
    const ph = this.popover.offsetHeight || 120;
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = document.documentElement.clientHeight || window.innerHeight;
    let top = r.bottom + 6;
    if (top + ph > vh && r.top - ph - 6 > 0) top = r.top - ph - 6;
    const left = Math.max(8, Math.min(r.left, vw - pw - 8));
    this.popover.style.top = `${Math.round(top)}px`;
    this.popover.style.left = `${Math.round(left)}px`;
  }
}
