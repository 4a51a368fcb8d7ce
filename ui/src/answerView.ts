// One assistant message on screen: sanitised Markdown with citation chips, the source list, notes
// and a copy button. Used for the streaming answer and for answers loaded from history.

import type { App } from "./app";
import type { LiveAnswer } from "./answerStream";
import { CitationUi, copyText, fromCitation, fromSource, type CiteTarget } from "./citations";
import type { Citation } from "./ipc";
import { h, replaceChildren } from "./dom";
import { linkCitations, renderMarkdown } from "./markdown";

export interface FinalAnswer {
  text: string;
  citations: Citation[];
  refused: boolean;
  nothingRelevant: boolean;
  droppedCitations: number;
  /** Stopped by the user: the text is partial. */
  stopped?: boolean;
  /** A refusal's closest passages, for the reader to check. */
  closest?: Citation[];
}

/** Notes under an answer, in words. */
export function answerNotes(a: FinalAnswer): string[] {
  const notes: string[] = [];
  if (a.nothingRelevant) notes.push("Nothing relevant was found in the library.");
  else if (a.refused && (a.closest?.length ?? 0) > 0) notes.push("The documents found do not answer this question; the passages above came closest.");
  else if (a.refused) notes.push("The documents found do not answer this question.");
  if (a.droppedCitations > 0) {
    notes.push(`${a.droppedCitations} citation${a.droppedCitations === 1 ? "" : "s"} to sources that do not exist ${a.droppedCitations === 1 ? "was" : "were"} removed.`);
  }
  return notes;
}

export class AnswerView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly footer: HTMLElement;

  constructor(private readonly app: App, private readonly cites: CitationUi) {
    this.body = h("div", { class: "answer-body", "data-testid": "answer-body" });
    this.footer = h("div", { class: "answer-footer" });
    this.el = h("article", { class: "msg assistant", "aria-label": "Answer" }, this.body, this.footer);
  }

  /** Renders `text` as Markdown, with markers that name a known source turned into chips. */
  private renderBody(text: string, targets: CiteTarget[]): void {
    const byNumber = new Map(targets.map((t) => [t.number, t]));
    const frag = renderMarkdown(text);
    linkCitations(frag, (n) => {
      const t = byNumber.get(n);
      return t ? this.cites.refChip(t) : null;
    });
    replaceChildren(this.body, frag);
  }

  /** The answer while it streams (and its final state when it ends by stop or error). */
  showLive(a: LiveAnswer): void {
    if ((a.status === "done" || a.status === "stopped") && a.answer) {
      this.showFinal({
        text: a.answer.text,
        citations: a.answer.citations,
        refused: a.answer.refused,
        nothingRelevant: a.answer.nothing_relevant,
        droppedCitations: a.answer.dropped_citations,
        stopped: a.status === "stopped",
        closest: a.answer.closest,
      });
      return;
    }
    const finished = a.status === "error" || a.status === "stopped";
    this.el.dataset.testid = finished ? "answer" : "answer-streaming";
    this.el.dataset.status = a.status;
    this.el.setAttribute("aria-busy", String(!finished));
    this.renderBody(a.text, a.sources.map(fromSource));
    const footer: (HTMLElement | null)[] = [];
    if (a.status === "waiting") {
      footer.push(h("p", { class: "muted working", "data-testid": "answer-waiting" }, a.stopping ? "Stopping…" : "Searching your documents…"));
    } else if (a.status === "streaming" && a.stopping) {
      footer.push(h("p", { class: "muted working" }, "Stopping…"));
    } else if (a.status === "stopped") {
      footer.push(h("p", { class: "muted", "data-testid": "answer-stopped" }, "Stopped."));
      if (a.text) footer.push(this.copyButton(a.text, []));
    } else if (a.status === "error") {
      footer.push(h("p", { class: "error-text", role: "alert", "data-testid": "answer-error" }, a.error ?? "The answer failed."));
    }
    replaceChildren(this.footer, ...footer);
  }

  showFinal(a: FinalAnswer): void {
    const targets = a.citations.map(fromCitation);
    this.el.dataset.testid = "answer";
    this.el.dataset.status = a.stopped ? "stopped" : "done";
    this.el.setAttribute("aria-busy", "false");
    this.renderBody(a.text, targets);
    replaceChildren(
      this.footer,
      a.stopped ? h("p", { class: "muted", "data-testid": "answer-stopped" }, "Stopped.") : null,
      this.cites.sourceList(targets),
      this.cites.sourceList((a.closest ?? []).map(fromCitation), "Closest passages", "closest-passages"),
      ...answerNotes(a).map((n) => h("p", { class: "muted note", "data-testid": "answer-note" }, n)),
      this.copyButton(a.text, targets),
    );
  }

  private copyButton(text: string, targets: CiteTarget[]): HTMLElement {
    const b = h("button", { type: "button", class: "link", "data-testid": "copy-answer" }, "Copy");
    b.addEventListener("click", async () => {
      if (await this.app.copy(copyText(text, targets))) {
        b.textContent = "Copied";
        window.setTimeout(() => (b.textContent = "Copy"), 1500);
      }
    });
    return h("div", { class: "answer-actions" }, b);
  }
}
