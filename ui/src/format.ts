// Pure text formatting for counts, sizes, times and paths. No DOM here, so it is unit-tested alone.

import type { IndexProgress } from "./ipc";

const nf = new Intl.NumberFormat("en-US");

/** 1234 -> "1,234". */
export function formatCount(n: number): string {
  return nf.format(Math.max(0, Math.round(n)));
}

/** Pluralised count: plural(1, "file") -> "1 file", plural(3, "file") -> "3 files". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/**
 * Remaining time, rounded so it does not flicker with every progress event:
 * seconds below a minute, "M min S s" below ten minutes, whole minutes below an hour, then hours.
 * null (the engine has no estimate yet) -> "estimating…".
 */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return "estimating…";
  }
  const s = Math.ceil(seconds);
  if (s < 1) return "almost done";
  if (s < 60) return `${s} s left`;
  if (s < 600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r === 0 ? `${m} min left` : `${m} min ${r} s left`;
  }
  if (s < 3600) return `${Math.round(s / 60)} min left`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h} h left` : m === 60 ? `${h + 1} h left` : `${h} h ${m} min left`;
}

/** "12 of 40 files · 1,234 passages · 2 min left". */
export function formatProgress(p: IndexProgress): string {
  const files = p.total > 0 ? `${formatCount(p.done)} of ${plural(p.total, "file")}` : "Scanning files…";
  return `${files} · ${plural(p.chunks, "passage")} · ${formatEta(p.eta_seconds)}`;
}

/** Byte sizes in decimal units, as download sizes are usually quoted: 4.1 GB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/** Seconds left for a download from its average rate since it started; null when unknown. */
export function downloadEta(doneBytes: number, totalBytes: number, startedBytes: number, elapsedSeconds: number): number | null {
  const gained = doneBytes - startedBytes;
  if (!(totalBytes > 0) || !(elapsedSeconds > 0.5) || gained <= 0) return null;
  const rate = gained / elapsedSeconds;
  return Math.max(0, (totalBytes - doneBytes) / rate);
}

/** "120 MB of 4.10 GB · 2 min left". */
export function formatDownload(doneBytes: number, totalBytes: number, eta: number | null): string {
  const size = totalBytes > 0 ? `${formatBytes(doneBytes)} of ${formatBytes(totalBytes)}` : formatBytes(doneBytes);
  return `${size} · ${formatEta(eta)}`;
}

/** Last path component, for either separator (paths come from Windows, macOS and Linux). */
export function basename(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

/** "report.pdf, p. 3" or "notes.md" when there are no pages. */
export function formatLocation(path: string, page: number | null): string {
  return page === null ? basename(path) : `${basename(path)}, p. ${page}`;
}

/** Short local date-time for chat lists (times from the shell are Unix seconds). */
export function formatTime(unixSeconds: number, now: Date = new Date()): string {
  const d = new Date(unixSeconds * 1000);
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** A file name for an exported chat: the title made safe for every OS, plus ".md". */
export function exportFileName(title: string): string {
  const safe = title
    // Characters Windows, macOS or Linux refuse in file names, and control characters.
    .replace(/[<>:"/\\|?*\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^\.+/, "")
    .slice(0, 80)
    .trim();
  return `${safe || "chat"}.md`;
}
