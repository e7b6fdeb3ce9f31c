/**
 * Writes that never leave a half-written file: a temp file beside the target, fsync, rename (and a best-effort
 * fsync of the folder so the rename itself survives a crash); on failure the temp file is removed.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** The first line of an error's message (Node's file-system messages already name the syscall and path). */
export function errorLine(e: unknown): string {
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

async function fsyncFolderOf(path: string): Promise<void> {
  try {
    await fsyncPath(dirname(path), 'r');
  } catch {
    // Some file systems refuse to fsync folders; the rename has happened either way.
  }
}

/** Flushes an already written temp file and renames it over `path`. */
export async function commitTempFile(tempPath: string, path: string): Promise<void> {
  await fsyncPath(tempPath, 'r+');
  await fs.rename(tempPath, path);
  await fsyncFolderOf(path);
}

export async function removeQuietly(path: string): Promise<void> {
  await fs.rm(path, { force: true });
}

/** Lets `write` fill the temp path (by any means: h5wasm, ffmpeg, …), then commits it; removes it on failure. */
export async function replaceAtomically(
  path: string,
  write: (tempPath: string) => Promise<void> | void,
): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await write(temp);
    await commitTempFile(temp, path);
  } catch (err) {
    await removeQuietly(temp);
    throw err;
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await replaceAtomically(path, (temp) => fs.writeFile(temp, data));
}

/**
 * Writes several files so that each appears complete or not at all: every temp file is written and flushed
 * before any is renamed, and on failure all temp files are removed. Errors are one line naming the target.
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
    throw new Error(`${current}: cannot write (${errorLine(e)})`);
  }
  await fsyncFolderOf(files[0].path);
}
