/**
 * The built renderer, built when needed: `glimpse serve` and `npm start` both call this, so a fresh clone
 * needs no separate build step. renderer/dist is rebuilt when its index.html is missing or older than any
 * source file under renderer/; the build goes to a temporary folder first and is renamed into place, so
 * an interrupted build never leaves a half-written dist.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RENDERER_ROOT = fileURLToPath(new URL('../../renderer/', import.meta.url));

const SKIPPED = new Set(['dist', 'node_modules', '.svelte-kit', '.vite']);

async function newestSourceMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    // dist.building-* / dist.old-*: another process's build in flight.
    if (SKIPPED.has(entry.name) || entry.name.startsWith('dist.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSourceMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, (await fs.stat(path)).mtimeMs);
  }
  return newest;
}

async function mtimeOrNull(path: string): Promise<number | null> {
  try {
    return (await fs.stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

export interface RendererBuildOptions {
  /** Folder holding vite.config.ts (default: the repository's renderer/). */
  root?: string;
  /** Told once when a build starts, e.g. to print "building the renderer…". */
  onBuild?: (reason: string) => void;
}

/** Why renderer/dist must be (re)built, or null when it is up to date. */
export async function rendererBuildReason(root: string): Promise<string | null> {
  const built = await mtimeOrNull(join(root, 'dist', 'index.html'));
  const hasSources = (await mtimeOrNull(join(root, 'vite.config.ts'))) !== null;
  if (!hasSources) {
    if (built !== null) return null;
    throw new Error(`${root}: neither a built renderer (dist/index.html) nor its sources (vite.config.ts)`);
  }
  if (built === null) return 'renderer/dist/index.html is missing';
  return (await newestSourceMtime(root)) > built ? 'renderer sources changed since the last build' : null;
}

/** Builds renderer/dist when needed; returns the dist folder. */
export async function ensureRendererBuilt(options: RendererBuildOptions = {}): Promise<string> {
  const root = options.root ?? RENDERER_ROOT;
  const dist = join(root, 'dist');
  const reason = await rendererBuildReason(root);
  if (reason === null) return dist;
  options.onBuild?.(reason);
  const staging = join(root, `dist.building-${process.pid}`);
  const old = join(root, `dist.old-${process.pid}`);
  await fs.rm(staging, { recursive: true, force: true });
  try {
    const { build } = await import('vite');
    await build({
      configFile: join(root, 'vite.config.ts'),
      root,
      logLevel: 'error',
      build: { outDir: staging, emptyOutDir: true },
    });
    if ((await mtimeOrNull(join(staging, 'index.html'))) === null)
      throw new Error(`${root}: the Vite build wrote no index.html`);
    await fs.rm(old, { recursive: true, force: true });
    if ((await mtimeOrNull(dist)) !== null) await fs.rename(dist, old);
    await fs.rename(staging, dist);
    await fs.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    const line = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new Error(`building the renderer failed: ${line}`);
  }
  return dist;
}
