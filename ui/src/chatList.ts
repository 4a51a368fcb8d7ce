// The list of chats (newest first, from list_chats): open, new, rename, delete. Switching chats
// is disabled while an answer streams, so a stream always lands in the chat it was asked in.

import type { App } from "./app";
import type { Chat } from "./ipc";
import { formatTime } from "./format";
import { h, replaceChildren } from "./dom";
import type { UiState } from "./state";

export interface ChatListActions {
  open(chatId: number | null): void;
}

export class ChatList {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly newChat: HTMLButtonElement;
  private editing: number | null = null;

  constructor(private readonly app: App, private readonly actions: ChatListActions) {
    this.newChat = h("button", { type: "button", id: "new-chat", "data-testid": "new-chat" }, "New chat");
    this.list = h("ul", { id: "chat-list", class: "chat-list", "data-testid": "chat-list", "aria-label": "Chats" });
    this.el = h(
      "section",
      { id: "chats-panel", class: "panel", "aria-labelledby": "chats-heading" },
      h("div", { class: "panel-head" }, h("h2", { id: "chats-heading" }, "Chats"), this.newChat),
      this.list,
    );
    this.newChat.addEventListener("click", () => actions.open(null));
    app.store.subscribe((s, prev) => {
      if (s.chats !== prev.chats || s.currentChatId !== prev.currentChatId || s.generating !== prev.generating) this.render(s);
    });
    this.render(app.store.get());
  }

  render(s: UiState): void {
    // Rebuilding drops focus; remember which control had it and put it back.
    const active = document.activeElement as HTMLElement | null;
    const focusKey = active && this.list.contains(active) ? `${active.dataset.chatId}:${active.dataset.testid}` : null;
    this.newChat.disabled = s.generating;
    replaceChildren(
      this.list,
      ...s.chats.map((c) => this.item(c, s)),
      s.chats.length === 0 ? h("li", { class: "muted empty-hint" }, "No chats yet.") : null,
    );
    if (focusKey) {
      const [id, testid] = focusKey.split(":");
      this.list.querySelector<HTMLElement>(`[data-chat-id="${id}"][data-testid="${testid}"]`)?.focus();
    }
  }

  private item(c: Chat, s: UiState): HTMLLIElement {
    const current = c.id === s.currentChatId;
    if (this.editing === c.id) return this.editor(c);
    const open = h(
      "button",
      { type: "button", class: "chat-open", "data-testid": "chat-item", "data-chat-id": c.id, "aria-current": current ? "true" : false, disabled: s.generating },
      h("span", { class: "chat-title" }, c.title || "Untitled chat"),
      h("span", { class: "chat-time muted" }, formatTime(c.updated_at)),
    );
    const rename = h("button", { type: "button", class: "icon", "data-testid": "rename-chat", "data-chat-id": c.id, "aria-label": `Rename chat ${c.title}`, title: "Rename", disabled: s.generating }, "✎");
    const del = h("button", { type: "button", class: "icon danger", "data-testid": "delete-chat", "data-chat-id": c.id, "aria-label": `Delete chat ${c.title}`, title: "Delete", disabled: s.generating }, "×");
    open.addEventListener("click", () => this.actions.open(c.id));
    rename.addEventListener("click", () => {
      this.editing = c.id;
      this.render(this.app.store.get());
    });
    del.addEventListener("click", () => void this.remove(c, del));
    return h("li", { class: current ? "chat current" : "chat" }, open, rename, del);
  }

  private editor(c: Chat): HTMLLIElement {
    const input = h("input", { type: "text", class: "chat-rename", "data-testid": "rename-chat-input", "aria-label": "Chat title", maxlength: 200 });
    input.value = c.title;
    const done = async (save: boolean) => {
      if (this.editing !== c.id) return;
      this.editing = null;
      const title = input.value.trim();
      if (save && title && title !== c.title) {
        await this.app.attempt(this.app.commands.renameChat(c.id, title));
        await this.app.refreshChats();
      }
      this.render(this.app.store.get());
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        void done(true);
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        void done(false);
      }
    });
    input.addEventListener("blur", () => void done(true));
    queueMicrotask(() => {
      input.focus();
      input.select();
    });
    return h("li", { class: "chat editing" }, input);
  }

  /** Two clicks, like removing a folder: the first arms the button. */
  private async remove(c: Chat, button: HTMLButtonElement): Promise<void> {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = "Delete?";
      window.setTimeout(() => {
        if (button.isConnected) {
          delete button.dataset.armed;
          button.textContent = "×";
        }
      }, 4000);
      return;
    }
    const ok = await this.app.attempt(this.app.commands.deleteChat(c.id).then(() => true));
    if (ok && this.app.store.get().currentChatId === c.id) this.actions.open(null);
    await this.app.refreshChats();
  }
}
