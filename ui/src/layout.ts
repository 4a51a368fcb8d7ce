// Puts the panels together into the window and keeps the top bar (model status, settings) and
// the drop overlay current. Tests mount this into jsdom with the IPC mocked.

import type { App } from "./app";
import { ChatPanel } from "./chat";
import { ChatList } from "./chatList";
import { CitationUi } from "./citations";
import { h } from "./dom";
import { LibraryPanel } from "./library";
import { SetupScreen } from "./models";
import { SettingsDialog } from "./settings";
import { hasInstalledDecoder, needsModelSetup, type UiState } from "./state";

export interface Mounted {
  root: HTMLElement;
  library: LibraryPanel;
  chats: ChatList;
  chat: ChatPanel;
  setup: SetupScreen;
  settings: SettingsDialog;
  cites: CitationUi;
  dropOverlay: HTMLElement;
  setDropHover(over: boolean): void;
  /** Removes window-wide listeners and stops listening to the shell. */
  destroy(): void;
}

export function modelStatusText(s: UiState): string {
  if (s.modelLoaded) return `Model: ${s.modelLoaded}`;
  if (s.modelError) return "Model failed to load";
  if (s.models !== null && !hasInstalledDecoder(s.models)) return "No model installed";
  return "Model not loaded";
}

export function mountApp(root: HTMLElement, app: App): Mounted {
  const life = new AbortController();
  const cites = new CitationUi((path, page) => void app.openSource(path, page), life.signal);
  const library = new LibraryPanel(app);
  const chat = new ChatPanel(app, cites, life.signal);
  const chats = new ChatList(app, { open: (id) => void chat.openChat(id) });
  const setup = new SetupScreen(app);
  const settings = new SettingsDialog(app);

  const modelStatus = h("span", { id: "model-status", class: "model-status", role: "status", "data-testid": "model-status" });
  const settingsBtn = h("button", { type: "button", id: "open-settings", "data-testid": "open-settings" }, "Settings");
  settingsBtn.addEventListener("click", () => void settings.open());
  const bootMessage = h("p", { class: "boot-message", "data-testid": "boot-message", role: "status" }, "Opening the library…");
  const dropOverlay = h("div", { id: "drop-overlay", class: "drop-overlay", "data-testid": "drop-overlay", hidden: true, "aria-hidden": "true" }, h("p", {}, "Drop to add to the library"));

  const skip = h("a", { href: "#question", class: "skip-link" }, "Skip to the question box");
  const main = h("main", { id: "main", class: "main" }, setup.el, chat.el);
  root.replaceChildren(
    skip,
    h("header", { class: "topbar" }, h("h1", { class: "brand" }, "Folio"), bootMessage, modelStatus, settingsBtn),
    h("div", { class: "layout" }, h("aside", { class: "sidebar", "aria-label": "Library and chats" }, library.el, chats.el), main),
    dropOverlay,
    app.notices.el,
    cites.popover,
    settings.el,
  );
  root.dataset.testid = "app";

  const update = (s: UiState) => {
    root.dataset.state = s.boot;
    bootMessage.hidden = s.boot !== "loading" && s.boot !== "error";
    bootMessage.textContent = s.boot === "error" ? `Folio could not start: ${s.bootError ?? "unknown error"}` : "Opening the library…";
    bootMessage.setAttribute("role", s.boot === "error" ? "alert" : "status");
    modelStatus.textContent = modelStatusText(s);
    modelStatus.dataset.loaded = String(s.modelLoaded !== null);
    // The first screen replaces the chat until a model is installed.
    chat.el.hidden = needsModelSetup(s);
  };
  app.store.subscribe(update);
  update(app.store.get());

  return {
    root,
    library,
    chats,
    chat,
    setup,
    settings,
    cites,
    dropOverlay,
    setDropHover(over) {
      dropOverlay.hidden = !over;
    },
    destroy() {
      life.abort();
      app.stop();
      root.replaceChildren();
    },
  };
}
