/**
 * Entry of the engine's utility process (bundled to dist/electron/engine-host.cjs). The engine is not
 * bundled: its worker threads start TypeScript entries next to their sources (feature decoding, the
 * training pool), so it runs from the sources through tsx, as the CLI does. Flags: `--host-module PATH`
 * (engine-host.ts) and the host's own (`--workspace DIR`).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

async function boot(): Promise<void> {
  // Flags, not positions: whatever else a utility process's argv holds (the exec path, per platform) is ignored.
  const { values } = parseArgs({
    args: process.argv,
    options: { 'host-module': { type: 'string' } },
    strict: false,
  });
  const hostModule = values['host-module'];
  if (typeof hostModule !== 'string')
    throw new Error('engine host: --host-module (engine-host.ts) is missing');
  // h5wasm's Emscripten glue takes a global `navigator` for a browser; hide it while it loads (DESIGN.md).
  const navigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  if (navigator?.configurable) Reflect.deleteProperty(globalThis, 'navigator');
  try {
    await import('h5wasm/node');
  } finally {
    if (navigator?.configurable) Object.defineProperty(globalThis, 'navigator', navigator);
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(hostModule).href);
}

boot().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.parentPort?.postMessage({ type: 'failed', message });
  process.stderr.write(`glimpse engine host: ${message}\n`);
  process.exitCode = 1;
});
