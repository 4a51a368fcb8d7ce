import { describe, expect, it } from "vitest";
import { AnswerRouter, reduceAnswer, startAnswer, type LiveAnswer } from "../src/answerStream";
import { answerFixture, source } from "./helpers";

describe("reduceAnswer", () => {
  it("appends tokens, then done replaces the text and brings citations", () => {
    let a = startAnswer("q");
    a = reduceAnswer(a, { requestId: 1, kind: "sources", sources: [source(1, "/d/a.pdf", 2, "text")] });
    a = reduceAnswer(a, { requestId: 1, kind: "token", text: "The valve " });
    a = reduceAnswer(a, { requestId: 1, kind: "token", text: "is cleaned [1][9]" });
    expect(a.status).toBe("streaming");
    expect(a.text).toBe("The valve is cleaned [1][9]");
    expect(a.sources).toHaveLength(1);
    const final = answerFixture();
    a = reduceAnswer(a, { requestId: 1, kind: "done", answer: final });
    expect(a.status).toBe("done");
    expect(a.text).toBe(final.text);
    expect(a.answer?.citations[0]?.path).toBe("/docs/manual.pdf");
  });
  it("shows an error and ignores anything after the end", () => {
    let a = startAnswer("q");
    a = reduceAnswer(a, { requestId: 1, kind: "token", text: "partial" });
    a = reduceAnswer(a, { requestId: 1, kind: "error", message: "The model ran out of memory: lower the context size." });
    expect(a.status).toBe("error");
    expect(a.error).toMatch(/out of memory/);
    const after = reduceAnswer(a, { requestId: 1, kind: "token", text: "more" });
    expect(after).toBe(a);
  });
  it("an error after stop counts as stopped, keeping the partial text", () => {
    let a: LiveAnswer = { ...startAnswer("q"), stopping: true };
    a = reduceAnswer(a, { requestId: 1, kind: "token", text: "half an answer" });
    a = reduceAnswer(a, { requestId: 1, kind: "error", message: "stopped" });
    expect(a.status).toBe("stopped");
    expect(a.text).toBe("half an answer");
  });
  it("a stopped answer ends stopped with the engine's partial text and its citations", () => {
    let a: LiveAnswer = { ...startAnswer("q"), stopping: true };
    a = reduceAnswer(a, { requestId: 1, kind: "token", text: "The valve is [1" });
    const final = answerFixture({ text: "The valve is [1]", stopped: true });
    a = reduceAnswer(a, { requestId: 1, kind: "done", answer: final });
    expect(a.status).toBe("stopped");
    expect(a.text).toBe("The valve is [1]");
    expect(a.answer?.citations).toHaveLength(1);
  });
});

describe("AnswerRouter", () => {
  it("holds events that arrive before ask returns the id, then replays only its own", () => {
    const seen: LiveAnswer[] = [];
    const r = new AnswerRouter((a) => seen.push(a));
    r.begin("q");
    expect(r.handle({ requestId: 5, kind: "token", text: "Hel" })).toBe(false);
    r.handle({ requestId: 4, kind: "token", text: "old stream" });
    r.handle({ requestId: 5, kind: "token", text: "lo" });
    expect(r.current()?.text).toBe("");
    r.bind(5);
    expect(r.current()?.text).toBe("Hello");
    expect(r.handle({ requestId: 4, kind: "token", text: "x" })).toBe(false);
    expect(r.current()?.text).toBe("Hello");
  });
  it("ends with ask's own failure", () => {
    const r = new AnswerRouter(() => {});
    r.begin("q");
    r.fail("No model is loaded: install one in Settings.");
    expect(r.current()?.status).toBe("error");
  });
  it("forceStopped closes a stream the shell never closed", () => {
    const r = new AnswerRouter(() => {});
    r.begin("q");
    r.bind(1);
    r.handle({ requestId: 1, kind: "token", text: "part" });
    r.markStopping();
    r.forceStopped();
    expect(r.current()?.status).toBe("stopped");
    expect(r.current()?.text).toBe("part");
  });
});
