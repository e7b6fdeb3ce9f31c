// Atomic output files for ffmpeg: it writes `file.tmp-<pid>`, we fsync and rename, or remove it on failure.
import { open, rename, rm } from 'node:fs/promises';

export function tempPathFor(file: string): string {
  return `${file}.tmp-${process.pid}`;
}

/** Makes the finished temp file durable and moves it into place. */
export async function commitTemp(temp: string, file: string): Promise<void> {
  const handle = await open(temp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

export async function discardTemp(temp: string): Promise<void> {
  await rm(temp, { force: true });
}
