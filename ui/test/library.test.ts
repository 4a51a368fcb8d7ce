import { afterEach, describe, expect, it, vi } from "vitest";
import { mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import type { FileView } from "../src/ipc";
import { onDrop } from "../src/ipc";
import { folderCounts, sortFiles } from "../src/library";
import { appState, defaultHandlers, folder, library, mockShell, mountWindow, q, qa, resetDom, settle, shellEmit, tid } from "./helpers";

afterEach(() => resetDom());

const row = (path: string) => q(`${tid("folder")}[data-path="${path}"]`);
const status = (path: string) => q(tid("folder-status"), row(path)).textContent;

describe("library panel", () => {
  it("adds a folder, shows progress with counts and ETA, then ready", async () => {
    let lib = library();
    const { app, calls } = await mountWindow(defaultHandlers({
      app_state: () => appState({ library: lib }),
      add_paths: (a) => {
        // The shell registers the folder and marks it as indexing before answering.
        lib = library([folder((a.paths as string[])[0]!, { indexing: { done: 0, total: 0, chunks: 0, eta_seconds: null, current: null } })]);
        return null;
      },
    }));
    expect(q(tid("library-empty")).hidden).toBe(false);

    const adding = app.addPaths(["/home/u/docs"]);
    // Shown at once, before the shell answers.
    expect(status("/home/u/docs")).toBe("adding");
    await adding;
    await settle();
    expect(calls.find((c) => c.cmd === "add_paths")?.args).toEqual({ paths: ["/home/u/docs"] });
    expect(status("/home/u/docs")).toBe("indexing");

    await shellEmit("index-progress", { folder: "/home/u/docs", progress: { done: 3, total: 10, chunks: 120, eta_seconds: 95, current: "/home/u/docs/b/report.pdf" } });
    const r = row("/home/u/docs");
    const bar = q<HTMLProgressElement>(tid("folder-progress"), r);
    expect(bar.max).toBe(10);
    expect(bar.value).toBe(3);
    expect(q(tid("folder-progress-text"), r).textContent).toBe("3 of 10 files · 120 passages · 1 min 35 s left");
    expect(q(tid("folder-current"), r).textContent).toBe("report.pdf");
    expect(q(tid("folder-name"), r).textContent).toBe("docs");

    await shellEmit("library-changed", library([folder("/home/u/docs", { files_indexed: 9, files_failed: 1, chunks: 400 })]));
    expect(status("/home/u/docs")).toBe("ready");
    expect(q<HTMLElement>(".folder-progress", r).hidden).toBe(true);
    expect(q(tid("folder-counts"), r).textContent).toBe("9 indexed · 1 failed · 400 passages");
    expect(q(tid("library-summary")).textContent).toBe("1 folder · 9 files · 400 passages · embedder multilingual-e5-small");
    // The same row element survived every update (focus inside it is kept).
    expect(row("/home/u/docs")).toBe(r);
  });

  it("shows a folder that cannot be read as unavailable, with the reason, its index kept", async () => {
    const reason = "cannot be found (No such file or directory): deleted, or on a drive that is not mounted";
    await mountWindow(defaultHandlers({
      app_state: () => appState({ library: library([folder("/media/usb/notes", { files_indexed: 12, chunks: 300, unavailable: reason })]) }),
    }));
    expect(status("/media/usb/notes")).toBe("unavailable");
    expect(q(tid("folder-status"), row("/media/usb/notes")).title).toBe(reason);
    expect(q(tid("folder-counts"), row("/media/usb/notes")).textContent).toContain("12");
  });

  it("reports a failed add and drops the placeholder", async () => {
    const { app } = await mountWindow(defaultHandlers({ add_paths: () => Promise.reject("Cannot read /nope: permission denied.") }));
    await app.addPaths(["/nope"]);
    await settle();
    expect(document.querySelector(`${tid("folder")}[data-path="/nope"]`)).toBeNull();
    expect(q(tid("notice-error")).textContent).toContain("permission denied");
  });

  it("lists a folder's files with status and reasons, failed first", async () => {
    const files: FileView[] = [
      { path: "/d/a.pdf", status: "indexed", reason: null, chunks: 12, pages: 3, needs_password: false },
      { path: "/d/b.bin", status: "skipped", reason: "unknown format", chunks: 0, pages: null, needs_password: false },
      { path: "/d/c.pdf", status: "failed", reason: "encrypted PDF", chunks: 0, pages: null, needs_password: false },
    ];
    const { calls } = await mountWindow(defaultHandlers({
      app_state: () => appState({ library: library([folder("/d", { files_indexed: 1, files_failed: 1, files_skipped: 1, chunks: 12 })]) }),
      folder_files: () => files,
    }));
    const toggle = q<HTMLButtonElement>(tid("folder-files-toggle"));
    toggle.click();
    await settle();
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(calls.find((c) => c.cmd === "folder_files")?.args).toEqual({ path: "/d" });
    const items = qa(tid("file"));
    expect(items.map((i) => i.dataset.status)).toEqual(["failed", "skipped", "indexed"]);
    expect(q(tid("file-reason"), items[0]).textContent).toBe("encrypted PDF");
    expect(q(tid("file-status"), items[2]).textContent).toBe("indexed");
    expect(items[2]!.textContent).toContain("12 passages · 3 pages");
  });

  it("asks for a locked file's password, keeps the form through refreshes, and clears it", async () => {
    const locked: FileView = {
      path: "/d/pumps.pdf", status: "failed", reason: "password-protected: Folio needs its password to read it",
      chunks: 0, pages: null, needs_password: true,
    };
    let refusals = 1;
    const { calls } = await mountWindow(defaultHandlers({
      app_state: () => appState({ library: library([folder("/d", { files_failed: 1 })]) }),
      folder_files: () => [locked, { ...locked, path: "/d/valves.pdf", needs_password: false, reason: "damaged" }],
      // The first try is refused by the shell (as for a file that no longer needs one).
      unlock_file: () => (refusals-- > 0 ? Promise.reject("/d/pumps.pdf is not a file of the library that needs a password") : null),
    }));
    q<HTMLButtonElement>(tid("folder-files-toggle")).click();
    await settle();
    const rows = qa(tid("file"));
    expect(rows.map((r) => r.querySelector(tid("file-unlock")) !== null)).toEqual([true, false]);

    q<HTMLButtonElement>(tid("file-unlock"), rows[0]).click();
    const input = q<HTMLInputElement>(tid("unlock-password"));
    expect(input.type).toBe("password");
    expect(input.getAttribute("aria-label")).toBe("Password for pumps.pdf");
    // A refresh of the list while the password is typed leaves the form alone.
    input.value = "s3cret";
    const clock = vi.spyOn(Date, "now").mockReturnValue(Date.now() + 5000);
    await shellEmit("library-changed", library([folder("/d", { files_failed: 1 })]));
    await settle();
    clock.mockRestore();
    expect(calls.filter((c) => c.cmd === "folder_files").length).toBe(2);
    expect(q<HTMLInputElement>(tid("unlock-password"))).toBe(input);
    expect(input.value).toBe("s3cret");

    q<HTMLFormElement>(tid("unlock-form")).requestSubmit();
    await settle();
    expect(q(tid("notice-error")).textContent).toContain("not a file of the library");
    expect(input.value).toBe("");
    expect(input.isConnected).toBe(true);

    input.value = "s3cret";
    q<HTMLFormElement>(tid("unlock-form")).requestSubmit();
    await settle();
    expect(calls.filter((c) => c.cmd === "unlock_file").at(-1)?.args).toEqual({ path: "/d/pumps.pdf", password: "s3cret" });
    expect(input.value).toBe("");
    expect(document.querySelector(tid("unlock-form"))).toBeNull();
    expect(q(tid("notice-info")).textContent).toContain("pumps.pdf");
  });

  it("re-indexes, and removes after a confirming second click", async () => {
    const { calls } = await mountWindow(defaultHandlers({
      app_state: () => appState({ library: library([folder("/d")]) }),
      reindex_folder: () => null,
      remove_folder: () => null,
    }));
    q<HTMLButtonElement>(tid("reindex-folder")).click();
    await settle();
    expect(calls.find((c) => c.cmd === "reindex_folder")?.args).toEqual({ path: "/d" });
    const remove = q<HTMLButtonElement>(tid("remove-folder"));
    remove.click();
    await settle();
    expect(calls.some((c) => c.cmd === "remove_folder")).toBe(false);
    expect(remove.textContent).toBe("Confirm remove");
    remove.click();
    await settle();
    expect(calls.find((c) => c.cmd === "remove_folder")?.args).toEqual({ path: "/d" });
    await shellEmit("library-changed", library([]));
    expect(qa(tid("folder"))).toHaveLength(0);
  });

  it("adds through the dialog with the same command", async () => {
    const pickFolders = vi.fn(async () => ["/a", "/b"]);
    const { calls } = await mountWindow(defaultHandlers({ add_paths: () => null }), {
      dialogs: { pickFolders, pickFiles: vi.fn(async () => null), pickModel: vi.fn() },
    });
    q<HTMLButtonElement>(tid("add-folder")).click();
    await settle();
    expect(calls.find((c) => c.cmd === "add_paths")?.args).toEqual({ paths: ["/a", "/b"] });
    q<HTMLButtonElement>(tid("add-files")).click();
    await settle();
    expect(calls.filter((c) => c.cmd === "add_paths")).toHaveLength(1);
  });
});

describe("drag and drop", () => {
  it("passes dropped paths on and toggles the hover state", async () => {
    mockShell({});
    mockWindows("main");
    const hover = vi.fn();
    const drop = vi.fn();
    await onDrop({ hover, drop });
    await emit("tauri://drag-enter", { paths: ["/x"], position: { x: 1, y: 1 } });
    expect(hover).toHaveBeenLastCalledWith(true);
    await emit("tauri://drag-drop", { paths: ["/x", "/y/z.pdf"], position: { x: 1, y: 1 } });
    expect(drop).toHaveBeenCalledWith(["/x", "/y/z.pdf"]);
    expect(hover).toHaveBeenLastCalledWith(false);
    await emit("tauri://drag-leave", {});
    expect(hover).toHaveBeenLastCalledWith(false);
  });
});

describe("helpers", () => {
  it("counts only what is there", () => {
    expect(folderCounts(folder("/d", { files_indexed: 1, chunks: 1 }))).toBe("1 indexed · 1 passage");
  });
  it("sorts failed, skipped, indexed", () => {
    const f = (path: string, status: FileView["status"]): FileView => ({ path, status, reason: null, chunks: 0, pages: null, needs_password: false });
    expect(sortFiles([f("b", "indexed"), f("a", "indexed"), f("z", "failed")]).map((x) => x.path)).toEqual(["z", "a", "b"]);
  });
});
