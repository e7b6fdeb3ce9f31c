/** Atomic file replacement: write `path.tmp-<pid>`, fsync, rename; never leave a partial file behind. */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** One-line description of a file-system error (Node's messages already name the syscall and path). */
export function describeError(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await fs.open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes an already written temp file and renames it over `path`. */
export async function commitTempFile(tempPath: string, path: string): Promise<void> {
  await fsyncPath(tempPath, 'r+');
  await fs.rename(tempPath, path);
  try {
    await fsyncPath(dirname(path), 'r'); // make the rename itself durable
  } catch {
    // Some file systems refuse to fsync directories; the rename has happened either way.
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await fs.rm(path, { force: true });
}

/**
 * Writes several files so that each appears complete or not at all: every temp file is written and
 * flushed before any is renamed, and on failure all temp files are removed.
 * Errors are one line naming the target file.
 */
export async function writeFilesAtomic(files: { path: string; data: Uint8Array }[]): Promise<void> {
  if (files.length === 0) return;
  const temps = files.map((f) => tempPathFor(f.path));
  let current = files[0].path;
  try {
    for (let i = 0; i < files.length; i++) {
      current = files[i].path;
      await fs.writeFile(temps[i], files[i].data);
      await fsyncPath(temps[i], 'r+');
    }
    for (let i = 0; i < files.length; i++) {
      current = files[i].path;
      await fs.rename(temps[i], files[i].path);
    }
  } catch (e) {
    await Promise.all(temps.map(removeQuietly));
    throw new Error(`${current}: cannot write (${describeError(e)})`);
  }
  try {
    await fsyncPath(dirname(files[0].path), 'r');
  } catch {
    // As in commitTempFile: directory fsync is best effort.
  }
}
