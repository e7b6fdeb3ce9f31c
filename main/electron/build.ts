/**
 * The Electron bundles (esbuild): dist/electron/main.cjs, preload.cjs (sandboxed preloads load neither ESM
 * nor node_modules, so everything it uses is inlined) and engine-host.cjs (the utility process's entry,
 * which runs the engine from its TypeScript sources through tsx). Built by `npm start` before a launch and
 * by `npm run dist` before packaging. Each bundle is written to a temp file and renamed into place.
 */
import { build } from 'esbuild';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commitTempFile, removeQuietly, tempPathFor } from '../../model/atomic-file.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ELECTRON_DIST = join(REPO_ROOT, 'dist', 'electron');

const BUNDLES = [
  // Node built-ins and 'electron' are provided at run time; everything of ours is inlined.
  { entry: 'main.ts', out: 'main.cjs', external: ['electron'] },
  { entry: 'preload.ts', out: 'preload.cjs', external: ['electron'] },
  // Loaded from node_modules at run time: tsx (the engine's loader) and h5wasm (wasm, loaded first).
  { entry: 'host-bootstrap.ts', out: 'engine-host.cjs', external: ['electron', 'tsx', 'h5wasm'] },
] as const;

/** Builds the three bundles into `outDir`; returns their paths. */
export async function buildElectronBundles(outDir: string = ELECTRON_DIST): Promise<string[]> {
  await fs.mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const bundle of BUNDLES) {
    const target = join(outDir, bundle.out);
    const temp = tempPathFor(target);
    try {
      await build({
        entryPoints: [join(REPO_ROOT, 'main', 'electron', bundle.entry)],
        outfile: temp,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        // Electron 45 ships Node 22 and Chromium 142.
        target: 'node22',
        external: [...bundle.external],
        sourcemap: 'inline',
        logLevel: 'silent',
        legalComments: 'none',
      });
      await commitTempFile(temp, target);
    } catch (err) {
      await removeQuietly(temp);
      const line = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      throw new Error(`bundling main/electron/${bundle.entry} failed: ${line}`);
    }
    written.push(target);
  }
  return written;
}
