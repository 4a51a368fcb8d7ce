// The end-to-end test hook. Native file dialogs cannot be driven by WebDriver, so the e2e build
// lets the test add paths through the same App.addPaths the Add button and drag-and-drop use.
// main.ts calls this only when VITE_FOLIO_E2E=1 at build time.

import type { App } from "./app";

export interface FolioTestHook {
  /** Same as dropping these paths on the window; resolves when add_paths has answered. */
  addPaths(paths: string[]): Promise<void>;
}

declare global {
  interface Window {
    __folioTest?: FolioTestHook;
  }
}

export function installTestHook(app: App): void {
  window.__folioTest = Object.freeze({
    addPaths: (paths: string[]) => app.addPaths([...paths]),
  });
}
