/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** "1" in the end-to-end build: exposes window.__folioTest. */
  readonly VITE_FOLIO_E2E?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
