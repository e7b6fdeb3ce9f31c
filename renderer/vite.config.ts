// Vite build of the renderer. The root is this folder whatever the caller's working directory
// (`glimpse serve` builds it through Vite's JS API); `base: './'` keeps asset URLs relative so the
// same dist/ loads over http (browser mode), app:// (Electron) and file URLs.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  clearScreen: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
