// Entry point: build the window, hook up drag-and-drop, start talking to the shell.

import "./styles.css";
import { App } from "./app";
import { onDrop, errorText } from "./ipc";
import { mountApp } from "./layout";
import { installTestHook } from "./e2e";

const root = document.getElementById("app");
if (!root) throw new Error("index.html lacks #app");

const app = new App();
const ui = mountApp(root, app);

onDrop({ hover: (over) => ui.setDropHover(over), drop: (paths) => void app.addPaths(paths) }).catch((err) => {
  app.notices.error(`Drag and drop is unavailable: ${errorText(err)}`);
});

// Compiled in only by `npm run build:e2e` (mode e2e, see .env.e2e) or with VITE_FOLIO_E2E=1 in
// the environment; a normal build drops this branch and the hook module with it, so release
// windows expose nothing extra.
if (import.meta.env.VITE_FOLIO_E2E === "1") installTestHook(app);

void app.start();
