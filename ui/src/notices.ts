// Short messages at the bottom of the window: errors from the shell (which say what failed and
// what to do) and confirmations. Errors use role="alert" so screen readers announce them.

import { h } from "./dom";

export type NoticeKind = "error" | "info";

export class Notices {
  readonly el: HTMLElement;

  constructor(private readonly lifetimeMs = 8000) {
    this.el = h("div", { id: "notices", class: "notices", "data-testid": "notices" });
  }

  show(message: string, kind: NoticeKind = "info"): HTMLElement {
    const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss" }, "×");
    const item = h(
      "div",
      { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status", "data-testid": `notice-${kind}` },
      h("span", { class: "notice-text" }, message),
      close,
    );
    const remove = () => item.remove();
    close.addEventListener("click", remove);
    // Errors stay until dismissed: they usually say what to do next.
    if (kind === "info") window.setTimeout(remove, this.lifetimeMs);
    this.el.append(item);
    return item;
  }

  error(message: string): HTMLElement {
    return this.show(message, "error");
  }
}
