// The chat panel: the conversation, the question box with send and stop, and export. The answer
// stream itself is data in answerStream.ts; this module only connects it to the screen.

import type { App } from "./app";
import { AnswerRouter, isFinished, type LiveAnswer } from "./answerStream";
import { AnswerView } from "./answerView";
import type { CitationUi } from "./citations";
import { errorText, type ChatMessage } from "./ipc";
import { basename, exportFileName } from "./format";
import { frameThrottle, h, replaceChildren } from "./dom";
import { composerAction } from "./keyboard";
import { canAsk, hasInstalledDecoder, type UiState } from "./state";

/** How long to wait for the shell to close a stopped stream before closing it here. */
export const STOP_GRACE_MS = 5000;

export class ChatPanel {
  readonly el: HTMLElement;
  readonly router: AnswerRouter;
  readonly question: HTMLTextAreaElement;
  private readonly messages: HTMLElement;
  private readonly title: HTMLElement;
  private readonly exportBtn: HTMLButtonElement;
  private readonly send: HTMLButtonElement;
  private readonly stopBtn: HTMLButtonElement;
  private readonly hint: HTMLElement;
  /** "in: …" chips: what the next questions are limited to. */
  private readonly scopeChips: HTMLElement;
  private readonly modelBanner: HTMLElement;
  private readonly empty: HTMLElement;
  private liveView: AnswerView | null = null;
  private stopWanted = false;
  private stopTimer: number | null = null;
  private loadToken = 0;
  private readonly paint = frameThrottle(() => this.paintLive());

  constructor(private readonly app: App, private readonly cites: CitationUi, signal?: AbortSignal) {
    this.router = new AnswerRouter((a) => this.onLive(a));
    app.onAnswer((ev) => this.router.handle(ev));

    this.title = h("h2", { id: "chat-title", "data-testid": "chat-title" }, "New chat");
    this.exportBtn = h("button", { type: "button", id: "export-chat", "data-testid": "export-chat" }, "Export…");
    this.modelBanner = h("div", { class: "banner", role: "alert", "data-testid": "model-error", hidden: true });
    this.empty = h("p", { class: "empty-hint", "data-testid": "chat-empty" }, "Ask a question about your documents. Answers cite the file, page and passage they come from.");
    this.messages = h("div", { id: "messages", class: "messages", role: "log", "aria-live": "polite", "aria-label": "Conversation", "data-testid": "messages" });
    this.question = h("textarea", {
      id: "question",
      "data-testid": "question",
      rows: 3,
      placeholder: "Ask about your documents…",
      "aria-describedby": "composer-hint",
    });
    this.send = h("button", { type: "submit", id: "send", class: "primary", "data-testid": "send" }, "Send");
    this.stopBtn = h("button", { type: "button", id: "stop", class: "danger", "data-testid": "stop", hidden: true }, "Stop");
    this.hint = h("p", { id: "composer-hint", class: "hint" }, "Enter sends · Shift+Enter new line · Esc stops");
    this.scopeChips = h("div", { class: "scope-chips", "data-testid": "scope-chips", "aria-label": "Questions are limited to", hidden: true });
    const form = h(
      "form",
      { id: "composer", class: "composer", "aria-label": "Ask a question" },
      h("label", { for: "question", class: "visually-hidden" }, "Question"),
      this.scopeChips,
      this.question,
      h("div", { class: "composer-actions" }, this.hint, this.stopBtn, this.send),
    );

    this.el = h(
      "section",
      { id: "chat-panel", class: "chat-panel", "aria-labelledby": "chat-title" },
      h("div", { class: "chat-head" }, this.title, this.exportBtn),
      this.modelBanner,
      this.messages,
      form,
    );
    this.messages.append(this.empty);

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.ask();
    });
    this.question.addEventListener("keydown", (e) => {
      const action = composerAction(e, app.store.get().generating);
      if (action === "send") {
        e.preventDefault();
        void this.ask();
      } else if (action === "stop") {
        e.preventDefault();
        void this.stop();
      }
    });
    // Esc stops from anywhere in the window, unless a dialog is open (Esc closes that instead).
    document.addEventListener("keydown", (e) => {
      if (e.target === this.question || e.defaultPrevented) return;
      if (composerAction(e, app.store.get().generating) === "stop" && !document.querySelector("dialog[open]")) {
        e.preventDefault();
        void this.stop();
      }
    }, { signal });
    this.stopBtn.addEventListener("click", () => void this.stop());
    this.exportBtn.addEventListener("click", () => void this.exportChat());

    app.store.subscribe((s, prev) => this.update(s, prev));
    this.update(app.store.get(), null);
  }

  private update(s: UiState, prev: UiState | null): void {
    if (!prev || s.scope !== prev.scope) this.renderScope(s.scope);
    this.send.disabled = !canAsk(s);
    this.stopBtn.hidden = !s.generating;
    // The log is a live region: while tokens stream it is busy, so screen readers announce the
    // finished answer once instead of every repaint.
    this.messages.setAttribute("aria-busy", String(s.generating));
    this.exportBtn.disabled = s.currentChatId === null || s.generating;
    const chat = s.chats.find((c) => c.id === s.currentChatId);
    this.title.textContent = chat?.title || (s.currentChatId === null ? "New chat" : "Chat");
    if (!prev || s.modelError !== prev.modelError || s.models !== prev.models || s.modelLoaded !== prev.modelLoaded) {
      const showError = s.modelError !== null && s.modelLoaded === null;
      this.modelBanner.hidden = !showError;
      this.modelBanner.textContent = showError ? `The model could not be loaded: ${s.modelError}` : "";
      this.hint.textContent = !canAsk(s) && !s.generating && !hasInstalledDecoder(s.models) && s.models !== null
        ? "Install a model to ask questions."
        : "Enter sends · Shift+Enter new line · Esc stops";
    }
  }

  private renderScope(scope: string[]): void {
    this.scopeChips.hidden = scope.length === 0;
    replaceChildren(
      this.scopeChips,
      ...scope.map((path) => {
        const remove = h("button", { type: "button", class: "link", "data-testid": "scope-remove", "aria-label": `Ask the whole library, not only ${basename(path)}` }, "×");
        remove.addEventListener("click", () => this.app.leaveScope(path));
        return h("span", { class: "chip", "data-testid": "scope-chip", "data-path": path, title: path }, `in: ${basename(path)}`, remove);
      }),
    );
  }

  /** Shows a stored chat, or an empty new one (null). */
  async openChat(chatId: number | null): Promise<void> {
    if (this.app.store.get().generating) return;
    const token = ++this.loadToken;
    this.app.store.set({ currentChatId: chatId });
    this.liveView = null;
    replaceChildren(this.messages, this.empty);
    this.empty.hidden = false;
    if (chatId === null) {
      this.question.focus();
      return;
    }
    const msgs = await this.app.attempt(this.app.commands.chatMessages(chatId));
    if (!msgs || token !== this.loadToken) return;
    this.empty.hidden = msgs.length > 0;
    for (const m of msgs) this.messages.append(this.savedMessage(m));
    this.scrollToEnd();
  }

  private savedMessage(m: ChatMessage): HTMLElement {
    if (m.role === "user") return userMessage(m.content);
    const view = new AnswerView(this.app, this.cites);
    view.showFinal({
      text: m.content,
      citations: m.details?.citations ?? [],
      refused: m.details?.refused ?? false,
      nothingRelevant: false,
      droppedCitations: m.details?.dropped_citations ?? 0,
      stopped: m.details?.stopped ?? false,
      closest: m.details?.closest ?? [],
    });
    view.el.dataset.messageId = String(m.id);
    return view.el;
  }

  /** Sends the question box's text. */
  async ask(): Promise<void> {
    const s = this.app.store.get();
    const question = this.question.value.trim();
    if (!question || !canAsk(s)) return;
    this.question.value = "";
    this.empty.hidden = true;
    this.messages.append(userMessage(question));
    this.liveView = new AnswerView(this.app, this.cites);
    this.messages.append(this.liveView.el);
    this.stopWanted = false;
    this.app.store.set({ generating: true });
    this.router.begin(question);
    // Paint the waiting state now, so `answer-streaming` exists before the first frame.
    this.paint.flush();
    try {
      const requestId = await this.app.commands.ask(question, s.currentChatId, s.scope);
      this.router.bind(requestId);
      if (this.stopWanted) await this.stop();
    } catch (err) {
      this.router.fail(errorText(err));
    }
  }

  /** Stops the running answer; the partial text stays. */
  async stop(): Promise<void> {
    const live = this.router.current();
    if (!live || isFinished(live)) return;
    if (live.requestId === null) {
      // `ask` has not returned the id yet: stop as soon as it does.
      this.stopWanted = true;
      this.router.markStopping();
      return;
    }
    this.router.markStopping();
    if (this.stopTimer === null) {
      this.stopTimer = window.setTimeout(() => {
        this.stopTimer = null;
        this.router.forceStopped();
      }, STOP_GRACE_MS);
    }
    await this.app.attempt(this.app.commands.stopAnswer(live.requestId));
  }

  private onLive(a: LiveAnswer): void {
    if (!isFinished(a)) {
      // Tokens arrive faster than frames; paint at most once a frame.
      this.paint.schedule();
      return;
    }
    this.paint.flush();
    if (this.stopTimer !== null) {
      window.clearTimeout(this.stopTimer);
      this.stopTimer = null;
    }
    this.app.store.set({ generating: false });
    const chatId = a.answer?.chat_id ?? null;
    if (chatId !== null && this.app.store.get().currentChatId === null) this.app.store.set({ currentChatId: chatId });
    void this.app.refreshChats();
  }

  private paintLive(): void {
    const a = this.router.current();
    if (!a || !this.liveView) return;
    const nearEnd = this.isNearEnd();
    this.liveView.showLive(a);
    if (nearEnd) this.scrollToEnd();
  }

  private isNearEnd(): boolean {
    const m = this.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  private scrollToEnd(): void {
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  private async exportChat(): Promise<void> {
    const s = this.app.store.get();
    if (s.currentChatId === null) return;
    const title = s.chats.find((c) => c.id === s.currentChatId)?.title ?? "chat";
    await this.app.exportChat(s.currentChatId, exportFileName(title));
  }
}

function userMessage(text: string): HTMLElement {
  // Plain text: the question is shown exactly as typed.
  return h("article", { class: "msg user", "data-testid": "message-user", "aria-label": "Question" }, h("p", { class: "user-text" }, text));
}
