import { defineConfig } from "vitest/config";

// Tauri loads the built files from its own protocol, so asset URLs are relative; the dev server
// port is fixed because the shell's devUrl names it.
export default defineConfig({
  base: "./",
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  envPrefix: ["VITE_"],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    // No inline module-preload polyfill script: the CSP allows scripts from files only.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.ts"],
    restoreMocks: true,
  },
});
