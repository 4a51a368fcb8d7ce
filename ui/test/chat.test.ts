import { afterEach, describe, expect, it, vi } from "vitest";
import { STOP_GRACE_MS } from "../src/chat";
import type { ChatMessage } from "../src/ipc";
import { answerFixture, appState, citation, defaultHandlers, folder, library, mountWindow, q, qa, resetDom, settle, shellEmit, source, tid } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  resetDom();
});

function type(text: string): HTMLTextAreaElement {
  const box = q<HTMLTextAreaElement>(tid("question"));
  box.value = text;
  return box;
}

function press(el: HTMLElement, key: string, extra: KeyboardEventInit = {}): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...extra });
  el.dispatchEvent(e);
  return e;
}

/** Waits for the throttled painter (one animation frame) to run. */
const frame = () => new Promise((r) => setTimeout(r, 40));

describe("asking and streaming", () => {
  it("asks within a folder or a document chosen in the library, until the limit is lifted", async () => {
    const files = [{ path: "/d/contracts/lease.pdf", status: "indexed" as const, reason: null, chunks: 4, pages: 2, needs_password: false }];
    const { calls } = await mountWindow(defaultHandlers({
      ask: () => 5,
      app_state: () => appState({ library: library([folder("/d/contracts", { files_indexed: 1, chunks: 4 })]) }),
      folder_files: () => files,
    }));
    expect(q(tid("scope-chips")).hidden).toBe(true);
    q<HTMLButtonElement>(tid("ask-in-folder")).click();
    q<HTMLButtonElement>(tid("folder-files-toggle")).click();
    await settle();
    q<HTMLButtonElement>(tid("file-ask")).click();
    const chips = qa(tid("scope-chip"));
    expect(chips.map((c) => c.textContent?.replace("×", ""))).toEqual(["in: contracts", "in: lease.pdf"]);
    expect(document.activeElement).toBe(q(tid("question")));

    press(type("when does the lease end"), "Enter");
    await settle();
    expect(calls.filter((c) => c.cmd === "ask").at(-1)?.args).toEqual({
      question: "when does the lease end", chatId: null, within: ["/d/contracts", "/d/contracts/lease.pdf"],
    });
    // The limit stays for the next questions until it is lifted.
    q<HTMLButtonElement>(tid("scope-remove"), chips[0]).click();
    expect(qa(tid("scope-chip")).map((c) => c.dataset.path)).toEqual(["/d/contracts/lease.pdf"]);
    q<HTMLButtonElement>(tid("scope-remove")).click();
    expect(q(tid("scope-chips")).hidden).toBe(true);
  });

  it("streams tokens, then shows the final answer with citation chips", async () => {
    const { calls } = await mountWindow(defaultHandlers({ ask: () => 41, list_chats: () => [{ id: 7, title: "Valve", created_at: 1, updated_at: 2, messages: 2 }] }));
    const box = type("how is the valve cleaned");
    press(box, "Enter");
    await settle();
    expect(calls.find((c) => c.cmd === "ask")?.args).toEqual({ question: "how is the valve cleaned", chatId: null, within: [] });
    expect(box.value).toBe("");
    expect(q(tid("message-user")).textContent).toBe("how is the valve cleaned");
    expect(q(tid("stop")).hidden).toBe(false);

    await shellEmit("answer", { requestId: 41, kind: "query", query: "valve cleaning" });
    await shellEmit("answer", { requestId: 41, kind: "sources", sources: [source(1, "/docs/manual.pdf", 12, "Clean the valve once a month.")] });
    await shellEmit("answer", { requestId: 41, kind: "token", text: "The valve is " });
    await shellEmit("answer", { requestId: 41, kind: "token", text: "cleaned monthly [1" });
    await shellEmit("answer", { requestId: 99, kind: "token", text: "someone else's stream" });
    await frame();
    const streaming = q(tid("answer-streaming"));
    expect(streaming.textContent).toContain("The valve is cleaned monthly [1");
    expect(streaming.textContent).not.toContain("someone else");
    expect(streaming.getAttribute("aria-busy")).toBe("true");

    await shellEmit("answer", { requestId: 41, kind: "done", answer: answerFixture() });
    await settle();
    expect(document.querySelector(tid("answer-streaming"))).toBeNull();
    const answer = q(tid("answer"));
    expect(q(tid("answer-body"), answer).textContent?.trim()).toBe("The valve is cleaned monthly 1.");
    const chips = qa(tid("citation"), answer);
    expect(chips).toHaveLength(1);
    expect(chips[0]!.textContent).toContain("manual.pdf");
    expect(chips[0]!.textContent).toContain("p. 12");
    expect(q(tid("citation-ref"), answer).getAttribute("aria-label")).toBe("Source 1: manual.pdf, p. 12");
    expect(q(tid("stop")).hidden).toBe(true);
    // The new chat the shell created becomes the current one.
    await settle();
    expect(q(tid("chat-title")).textContent).toBe("Valve");
    expect(q(`${tid("chat-item")}[aria-current="true"]`).dataset.chatId).toBe("7");
  });

  it("shows a refusal with the passages that came closest", async () => {
    await mountWindow(defaultHandlers({ ask: () => 5 }));
    press(type("when was the pump replaced"), "Enter");
    await settle();
    const closest = [citation(2, "/docs/pumps.pdf", 3, "The pump was serviced in May."), citation(1, "/docs/log.txt", null, "Pump noise reported.")];
    const refusal = answerFixture({ text: "I could not find this in your documents.", lead: "", citations: [], closest, refused: true });
    await shellEmit("answer", { requestId: 5, kind: "done", answer: refusal });
    await settle();
    const answer = q(tid("answer"));
    expect(q(tid("answer-body"), answer).textContent?.trim()).toBe("I could not find this in your documents.");
    expect(answer.querySelector(tid("citations"))).toBeNull();
    const list = q(tid("closest-passages"), answer);
    expect(list.textContent).toContain("Closest passages");
    const chips = qa(tid("citation"), list);
    expect(chips.map((c) => c.textContent)).toEqual([expect.stringContaining("log.txt"), expect.stringContaining("pumps.pdf")]);
    expect(q(tid("answer-note"), answer).textContent).toContain("came closest");
  });

  it("handles events that arrive before ask returns the request id", async () => {
    let release!: (id: number) => void;
    await mountWindow(defaultHandlers({ ask: () => new Promise<number>((r) => (release = r)) }));
    press(type("q"), "Enter");
    await settle();
    await shellEmit("answer", { requestId: 3, kind: "token", text: "early " });
    await shellEmit("answer", { requestId: 3, kind: "token", text: "bird" });
    release(3);
    await settle();
    await frame();
    expect(q(tid("answer-streaming")).textContent).toContain("early bird");
  });

  it("shows a streamed error", async () => {
    await mountWindow(defaultHandlers({ ask: () => 5 }));
    press(type("q"), "Enter");
    await settle();
    await shellEmit("answer", { requestId: 5, kind: "token", text: "Partial" });
    await shellEmit("answer", { requestId: 5, kind: "error", message: "The model stopped: out of memory. Lower the context size in Settings." });
    await settle();
    const err = q(tid("answer-error"));
    expect(err.textContent).toMatch(/out of memory/);
    expect(err.getAttribute("role")).toBe("alert");
    expect(q(tid("answer")).dataset.status).toBe("error");
    expect(q(tid("stop")).hidden).toBe(true);
  });

  it("shows ask's own rejection as the answer's error", async () => {
    await mountWindow(defaultHandlers({ ask: () => Promise.reject("No model is loaded: pick one in Settings.") }));
    press(type("q"), "Enter");
    await settle();
    expect(q(tid("answer-error")).textContent).toBe("No model is loaded: pick one in Settings.");
  });

  it("renders hostile answers inert, with chips still working", async () => {
    const { calls } = await mountWindow(defaultHandlers({ ask: () => 8, open_source: () => null }));
    press(type("q"), "Enter");
    await settle();
    const hostile = 'Hi <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> [link](javascript:window.__pwned=3) [1]';
    await shellEmit("answer", { requestId: 8, kind: "token", text: hostile });
    await frame();
    await shellEmit("answer", {
      requestId: 8,
      kind: "done",
      answer: answerFixture({ text: hostile, citations: [citation(1, "/docs/<b onmouseover=x>.pdf", 3, '<img src=x onerror="window.__pwned=4">')] }),
    });
    await settle();
    const answer = q(tid("answer"));
    expect(answer.querySelector("script, img, a, iframe")).toBeNull();
    for (const el of answer.querySelectorAll("*")) {
      for (const attr of el.getAttributeNames()) expect(attr.startsWith("on"), attr).toBe(false);
    }
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    expect(answer.textContent).toContain("<script>");
    // The chip's popover shows the hostile snippet as text.
    const chip = q<HTMLButtonElement>(tid("citation"), answer);
    chip.dispatchEvent(new FocusEvent("focus"));
    const pop = q(tid("citation-popover"));
    expect(pop.hidden).toBe(false);
    expect(pop.querySelector("img")).toBeNull();
    expect(q(tid("citation-popover-snippet")).textContent).toContain("<img src=x");
    expect(chip.getAttribute("aria-describedby")).toBe("citation-popover");
    // Clicking opens the file at the page through the shell.
    chip.click();
    await settle();
    expect(calls.find((c) => c.cmd === "open_source")?.args).toEqual({ path: "/docs/<b onmouseover=x>.pdf", page: 3 });
    expect(pop.hidden).toBe(true);
  });

  it("copies an answer with its sources", async () => {
    const copy = vi.fn(async () => {});
    await mountWindow(defaultHandlers({ ask: () => 2 }), { copy });
    press(type("q"), "Enter");
    await settle();
    await shellEmit("answer", { requestId: 2, kind: "done", answer: answerFixture() });
    await settle();
    q<HTMLButtonElement>(tid("copy-answer")).click();
    await settle();
    expect(copy).toHaveBeenCalledWith("The valve is cleaned monthly [1].\n\nSources:\n[1] /docs/manual.pdf, p. 12\n");
    expect(q(tid("copy-answer")).textContent).toBe("Copied");
  });
});

describe("keyboard", () => {
  it("Shift+Enter does not send; Enter does; an empty box never sends", async () => {
    const { calls } = await mountWindow(defaultHandlers({ ask: () => 1 }));
    const box = type("line one");
    const e = press(box, "Enter", { shiftKey: true });
    expect(e.defaultPrevented).toBe(false);
    await settle();
    expect(calls.some((c) => c.cmd === "ask")).toBe(false);
    type("   ");
    press(box, "Enter");
    await settle();
    expect(calls.some((c) => c.cmd === "ask")).toBe(false);
    type("line one\nline two");
    const sent = press(box, "Enter");
    expect(sent.defaultPrevented).toBe(true);
    await settle();
    expect(calls.filter((c) => c.cmd === "ask")).toHaveLength(1);
  });

  it("Esc and the stop button stop the running answer; the partial text stays", async () => {
    const { calls } = await mountWindow(defaultHandlers({ ask: () => 12, stop_answer: () => null }));
    press(type("q"), "Enter");
    await settle();
    await shellEmit("answer", { requestId: 12, kind: "token", text: "half" });
    press(document.body, "Escape");
    await settle();
    expect(calls.find((c) => c.cmd === "stop_answer")?.args).toEqual({ requestId: 12 });
    await shellEmit("answer", { requestId: 12, kind: "done", answer: answerFixture({ text: "half", citations: [], stopped: true }) });
    await settle();
    expect(q(tid("answer-body")).textContent?.trim()).toBe("half");
    expect(q(tid("answer")).dataset.status).toBe("stopped");
    expect(q(tid("answer-stopped")).textContent).toBe("Stopped.");
    expect(q(tid("stop")).hidden).toBe(true);

    // Stop button, and the shell never closes the stream: the window closes it after a grace time.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    press(type("again"), "Enter");
    await vi.advanceTimersByTimeAsync(1);
    await shellEmit("answer", { requestId: 12, kind: "token", text: "part" });
    q<HTMLButtonElement>(tid("stop")).click();
    await vi.advanceTimersByTimeAsync(STOP_GRACE_MS + 100);
    const answers = qa(tid("answer"));
    expect(answers[answers.length - 1]!.dataset.status).toBe("stopped");
    expect(q(tid("answer-stopped")).textContent).toBe("Stopped.");
    expect(q(tid("stop")).hidden).toBe(true);
    expect(calls.filter((c) => c.cmd === "stop_answer")).toHaveLength(2);
  });

  it("Esc before ask returns still stops once the id is known", async () => {
    let release!: (id: number) => void;
    const { calls } = await mountWindow(defaultHandlers({ ask: () => new Promise<number>((r) => (release = r)), stop_answer: () => null }));
    const box = type("q");
    press(box, "Enter");
    await settle();
    press(box, "Escape");
    release(77);
    await settle();
    expect(calls.find((c) => c.cmd === "stop_answer")?.args).toEqual({ requestId: 77 });
  });
});

describe("history", () => {
  const stored: ChatMessage[] = [
    { id: 1, chat_id: 3, role: "user", content: "what about pumps?", details: null, created_at: 10 },
    {
      id: 2, chat_id: 3, role: "assistant", content: "Pumps run dry [2].", created_at: 11,
      details: { query: "pumps", citations: [citation(2, "/docs/pumps.pdf", null, "Never run dry.")], closest: [], refused: false, dropped_citations: 1, stopped: false },
    },
  ];

  it("lists chats, opens one with its citations, and asks within it", async () => {
    const { calls } = await mountWindow(defaultHandlers({
      list_chats: () => [{ id: 3, title: "Pumps", created_at: 1, updated_at: 2, messages: 2 }],
      chat_messages: () => stored,
      ask: () => 4,
    }));
    const item = q<HTMLButtonElement>(tid("chat-item"));
    expect(item.textContent).toContain("Pumps");
    item.click();
    await settle();
    expect(calls.find((c) => c.cmd === "chat_messages")?.args).toEqual({ chatId: 3 });
    expect(q(tid("message-user")).textContent).toBe("what about pumps?");
    const chip = q(tid("citation"));
    expect(chip.textContent).toBe("[2] pumps.pdf");
    expect(q(tid("answer-note")).textContent).toMatch(/1 citation .* removed/);
    press(type("and valves?"), "Enter");
    await settle();
    expect(calls.find((c) => c.cmd === "ask")?.args).toEqual({ question: "and valves?", chatId: 3, within: [] });
    // Switching chats is off while an answer streams.
    expect(q<HTMLButtonElement>(tid("new-chat")).disabled).toBe(true);
  });

  it("exports the current chat as Markdown through the shell's save dialog", async () => {
    const { calls } = await mountWindow(
      defaultHandlers({
        list_chats: () => [{ id: 3, title: "Pumps: a/b?", created_at: 1, updated_at: 2, messages: 2 }],
        chat_messages: () => stored,
        export_chat: () => "/home/u/Pumps.md",
      }),
    );
    expect(q<HTMLButtonElement>(tid("export-chat")).disabled).toBe(true);
    q<HTMLButtonElement>(tid("chat-item")).click();
    await settle();
    q<HTMLButtonElement>(tid("export-chat")).click();
    await settle();
    expect(calls.find((c) => c.cmd === "export_chat")?.args).toEqual({ chatId: 3, fileName: "Pumps a b.md" });
    expect(q(tid("notice-info")).textContent).toContain("/home/u/Pumps.md");
  });

  it("deletes a chat after a second click", async () => {
    let chats = [{ id: 3, title: "Pumps", created_at: 1, updated_at: 2, messages: 2 }];
    const { calls } = await mountWindow(defaultHandlers({
      list_chats: () => chats,
      delete_chat: () => {
        chats = [];
        return null;
      },
    }));
    q<HTMLButtonElement>(tid("delete-chat")).click();
    await settle();
    expect(calls.some((c) => c.cmd === "delete_chat")).toBe(false);
    q<HTMLButtonElement>(tid("delete-chat")).click();
    await settle();
    expect(calls.find((c) => c.cmd === "delete_chat")?.args).toEqual({ chatId: 3 });
    expect(qa(tid("chat-item"))).toHaveLength(0);
  });

  it("renames a chat", async () => {
    let title = "Pumps";
    const { calls } = await mountWindow(defaultHandlers({
      list_chats: () => [{ id: 3, title, created_at: 1, updated_at: 2, messages: 2 }],
      rename_chat: (a) => {
        title = a.title as string;
        return null;
      },
    }));
    q<HTMLButtonElement>(tid("rename-chat")).click();
    await settle();
    const input = q<HTMLInputElement>(tid("rename-chat-input"));
    input.value = "Pump maintenance";
    press(input, "Enter");
    await settle();
    expect(calls.find((c) => c.cmd === "rename_chat")?.args).toEqual({ chatId: 3, title: "Pump maintenance" });
    expect(q(tid("chat-item")).textContent).toContain("Pump maintenance");
  });
});
