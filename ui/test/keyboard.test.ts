import { describe, expect, it } from "vitest";
import { composerAction } from "../src/keyboard";

const key = (k: string, extra: Partial<KeyboardEventInit> & { keyCode?: number } = {}) => ({ key: k, shiftKey: false, ...extra });

describe("composer keys", () => {
  it("Enter sends, Shift+Enter is a new line", () => {
    expect(composerAction(key("Enter"), false)).toBe("send");
    expect(composerAction(key("Enter", { shiftKey: true }), false)).toBe("newline");
    expect(composerAction(key("Enter", { ctrlKey: true }), false)).toBe("send");
    expect(composerAction(key("Enter", { altKey: true }), false)).toBeNull();
  });
  it("Esc stops only while an answer runs", () => {
    expect(composerAction(key("Escape"), true)).toBe("stop");
    expect(composerAction(key("Escape"), false)).toBeNull();
  });
  it("leaves Enter alone while an input method composes", () => {
    expect(composerAction(key("Enter", { isComposing: true }), false)).toBeNull();
    expect(composerAction(key("Enter", { keyCode: 229 }), false)).toBeNull();
  });
  it("ignores other keys", () => {
    expect(composerAction(key("a"), true)).toBeNull();
  });
});
