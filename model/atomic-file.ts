/** Writes that never leave a half-written file: temp file in the same folder, fsync, rename. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export function temporaryPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Runs `write(tempPath)`, then fsyncs and renames over `path`; on any failure removes the temp file. */
export async function replaceAtomically(
  path: string,
  write: (tempPath: string) => Promise<void> | void,
): Promise<void> {
  const temp = temporaryPathFor(path);
  try {
    await write(temp);
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await replaceAtomically(path, (temp) => {
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    } finally {
      closeSync(fd);
    }
  });
}
