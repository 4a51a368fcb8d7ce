// The streamed answer as data: a reducer over `answer` events, and a router that ties events to
// the question being asked. `ask` resolves with the request id, but the shell may emit the first
// events before that promise resolves, so events for an unknown id are held until the id is known.

import type { Answer, AnswerEvent, Source } from "./ipc";

export type LiveStatus = "waiting" | "streaming" | "done" | "error" | "stopped";

export interface LiveAnswer {
  requestId: number | null;
  question: string;
  /** Tokens so far, then the final text once done. */
  text: string;
  sources: Source[];
  status: LiveStatus;
  answer: Answer | null;
  error: string | null;
  /** Stop was asked for; the shell still ends the stream with `done` or `error`. */
  stopping: boolean;
}

export function startAnswer(question: string): LiveAnswer {
  return { requestId: null, question, text: "", sources: [], status: "waiting", answer: null, error: null, stopping: false };
}

export function isFinished(a: LiveAnswer): boolean {
  return a.status === "done" || a.status === "error" || a.status === "stopped";
}

/** Applies one event. Events after the answer finished are ignored. */
export function reduceAnswer(a: LiveAnswer, ev: AnswerEvent): LiveAnswer {
  if (isFinished(a)) return a;
  switch (ev.kind) {
    case "query":
      return a;
    case "sources":
      return { ...a, sources: ev.sources };
    case "token":
      return { ...a, text: a.text + ev.text, status: "streaming" };
    case "done":
      // The final text replaces the streamed one: the engine strips invented citation markers.
      return {
        ...a,
        text: ev.answer.text,
        sources: ev.answer.sources.length ? ev.answer.sources : a.sources,
        answer: ev.answer,
        status: ev.answer.stopped ? "stopped" : "done",
        stopping: false,
      };
    case "error":
      return { ...a, error: ev.message, status: a.stopping ? "stopped" : "error", stopping: false };
  }
}

/** Routes `answer` events to the one live answer. */
export class AnswerRouter {
  private live: LiveAnswer | null = null;
  private early: AnswerEvent[] = [];

  constructor(private readonly onChange: (a: LiveAnswer) => void) {}

  current(): LiveAnswer | null {
    return this.live;
  }

  begin(question: string): LiveAnswer {
    this.live = startAnswer(question);
    this.early = [];
    this.onChange(this.live);
    return this.live;
  }

  /** `ask` resolved: the id is known; replay what arrived before it. */
  bind(requestId: number): void {
    if (!this.live || this.live.requestId !== null) return;
    this.live = { ...this.live, requestId };
    const held = this.early.filter((e) => e.requestId === requestId);
    this.early = [];
    this.onChange(this.live);
    for (const e of held) this.handle(e);
  }

  /** `ask` itself failed: the answer ends with that error. */
  fail(message: string): void {
    if (!this.live || isFinished(this.live)) return;
    this.live = { ...this.live, status: "error", error: message, stopping: false };
    this.onChange(this.live);
  }

  markStopping(): void {
    if (!this.live || isFinished(this.live)) return;
    this.live = { ...this.live, stopping: true };
    this.onChange(this.live);
  }

  /** The shell never closed a stopped stream: end it here, keeping the partial text. */
  forceStopped(): void {
    if (!this.live || isFinished(this.live)) return;
    this.live = { ...this.live, status: "stopped", stopping: false };
    this.onChange(this.live);
  }

  /** Returns true when the event belonged to the live answer. */
  handle(ev: AnswerEvent): boolean {
    const live = this.live;
    if (!live || isFinished(live)) return false;
    if (live.requestId === null) {
      this.early.push(ev);
      return false;
    }
    if (ev.requestId !== live.requestId) return false;
    this.live = reduceAnswer(live, ev);
    this.onChange(this.live);
    return true;
  }
}
