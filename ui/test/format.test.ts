import { describe, expect, it } from "vitest";
import {
  basename, downloadEta, exportFileName, formatBytes, formatCount, formatDownload, formatEta,
  formatLocation, formatProgress, plural,
} from "../src/format";

describe("ETA", () => {
  it("says estimating while the engine has no estimate", () => {
    expect(formatEta(null)).toBe("estimating…");
    expect(formatEta(undefined)).toBe("estimating…");
    expect(formatEta(Number.NaN)).toBe("estimating…");
    expect(formatEta(-3)).toBe("estimating…");
  });
  it("uses seconds below a minute, rounding up", () => {
    expect(formatEta(0)).toBe("almost done");
    expect(formatEta(0.2)).toBe("1 s left");
    expect(formatEta(42)).toBe("42 s left");
    expect(formatEta(59.1)).toBe("1 min left");
  });
  it("uses minutes and seconds below ten minutes, whole minutes below an hour", () => {
    expect(formatEta(60)).toBe("1 min left");
    expect(formatEta(125)).toBe("2 min 5 s left");
    expect(formatEta(600)).toBe("10 min left");
    expect(formatEta(3000)).toBe("50 min left");
  });
  it("uses hours and minutes from an hour", () => {
    expect(formatEta(3600)).toBe("1 h left");
    expect(formatEta(3600 + 25 * 60)).toBe("1 h 25 min left");
    expect(formatEta(2 * 3600 - 10)).toBe("2 h left");
  });
});

describe("progress", () => {
  it("formats counts, passages and ETA", () => {
    expect(formatProgress({ done: 12, total: 40, chunks: 1234, eta_seconds: 125, current: "/a/b.pdf" }))
      .toBe("12 of 40 files · 1,234 passages · 2 min 5 s left");
  });
  it("says scanning while the total is unknown", () => {
    expect(formatProgress({ done: 0, total: 0, chunks: 0, eta_seconds: null, current: null }))
      .toBe("Scanning files… · 0 passages · estimating…");
  });
  it("uses the singular for one", () => {
    expect(formatProgress({ done: 1, total: 1, chunks: 1, eta_seconds: 0, current: null })).toBe("1 of 1 file · 1 passage · almost done");
    expect(plural(2, "passage")).toBe("2 passages");
    expect(formatCount(1234567)).toBe("1,234,567");
  });
});

describe("downloads", () => {
  it("formats sizes in decimal units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.50 KB");
    expect(formatBytes(120_000_000)).toBe("120 MB");
    expect(formatBytes(4_100_000_000)).toBe("4.10 GB");
    expect(formatBytes(-1)).toBe("?");
  });
  it("estimates time left from the average rate", () => {
    // 100 MB in 10 s -> 10 MB/s; 900 MB left -> 90 s.
    expect(downloadEta(100e6, 1000e6, 0, 10)).toBeCloseTo(90);
    // A resumed download counts only what this session fetched.
    expect(downloadEta(600e6, 1000e6, 500e6, 10)).toBeCloseTo(40);
    expect(downloadEta(0, 1000e6, 0, 10)).toBeNull();
    expect(downloadEta(10, 1000e6, 0, 0.1)).toBeNull();
    expect(formatDownload(120e6, 4.1e9, 90)).toBe("120 MB of 4.10 GB · 1 min 30 s left");
  });
});

describe("paths and names", () => {
  it("takes the last component for either separator", () => {
    expect(basename("/home/a/docs/report.pdf")).toBe("report.pdf");
    expect(basename("C:\\Users\\a\\report.pdf")).toBe("report.pdf");
    expect(basename("/home/a/docs/")).toBe("docs");
    expect(formatLocation("/x/report.pdf", 3)).toBe("report.pdf, p. 3");
    expect(formatLocation("/x/notes.md", null)).toBe("notes.md");
  });
  it("makes export file names safe", () => {
    expect(exportFileName("How is the valve cleaned?")).toBe("How is the valve cleaned.md");
    expect(exportFileName('a/b\\c:d*e"f<g>h|i')).toBe("a b c d e f g h i.md");
    expect(exportFileName("...hidden")).toBe("hidden.md");
    expect(exportFileName("   ")).toBe("chat.md");
    expect(exportFileName("x".repeat(200))).toBe(`${"x".repeat(80)}.md`);
  });
});
