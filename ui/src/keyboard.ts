// Keyboard rules of the question box, as a pure function so they are tested without a DOM:
// Enter sends, Shift+Enter is a new line, Esc stops a running answer.

export type ComposerAction = "send" | "newline" | "stop" | null;

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  altKey?: boolean;
  /** True while an input method (Chinese, Japanese…) is composing: Enter confirms the text. */
  isComposing?: boolean;
  keyCode?: number;
}

export function composerAction(e: KeyLike, generating: boolean): ComposerAction {
  // keyCode 229 is how some webviews (WebKit) report Enter during IME composition.
  if (e.isComposing || e.keyCode === 229) return null;
  if (e.key === "Escape") return generating ? "stop" : null;
  if (e.key !== "Enter") return null;
  if (e.shiftKey) return "newline";
  // Ctrl/Cmd+Enter send too (a common habit); Alt+Enter is left to the platform.
  return e.altKey ? null : "send";
}
