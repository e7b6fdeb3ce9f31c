#!/usr/bin/env node
// `npm run build`: the renderer (when stale) and the Electron bundles, as `npm start` builds them.
import './register.js';

const { ensureRendererBuilt } = await import('../main/server/renderer-build.ts');
const { buildElectronBundles } = await import('../main/electron/build.ts');
try {
  const renderer = await ensureRendererBuilt({
    onBuild: (reason) => console.error(`building the renderer (${reason})…`),
  });
  console.log(renderer);
  for (const bundle of await buildElectronBundles()) console.log(bundle);
} catch (err) {
  console.error(`glimpse build: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
  process.exitCode = 1;
}
