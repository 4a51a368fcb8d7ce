// A tiny element builder. Text always goes in as text nodes and attributes through setAttribute,
// so strings from documents or the shell can never become markup. Inline event-handler and style
// attributes are refused outright: the CSP forbids them and they are the usual injection route.

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, ...children);
  return el;
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    const lower = name.toLowerCase();
    if (lower.startsWith("on") || lower === "style" || lower === "srcdoc") {
      throw new Error(`refusing attribute ${name}`);
    }
    if (value === false || value === null || value === undefined) el.removeAttribute(name);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces all children (text stays text). */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** The element with this id, or a clear error at start-up instead of a null later. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(`#${id}`);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

/** Runs `fn` at most once per animation frame (setTimeout where frames do not exist). */
export function frameThrottle(fn: () => void): { schedule: () => void; flush: () => void; cancel: () => void } {
  let handle: number | null = null;
  const raf: (cb: () => void) => number =
    typeof requestAnimationFrame === "function" ? (cb) => requestAnimationFrame(cb) : (cb) => window.setTimeout(cb, 16);
  const caf: (h: number) => void =
    typeof cancelAnimationFrame === "function" ? (h) => cancelAnimationFrame(h) : (h) => window.clearTimeout(h);
  return {
    schedule() {
      if (handle !== null) return;
      handle = raf(() => {
        handle = null;
        fn();
      });
    },
    flush() {
      if (handle !== null) {
        caf(handle);
        handle = null;
      }
      fn();
    },
    cancel() {
      if (handle !== null) caf(handle);
      handle = null;
    },
  };
}
