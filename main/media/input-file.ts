// Cheap checks before handing a file to ffmpeg, so the common mistakes get plain messages.
import { stat } from 'node:fs/promises';

/** Throws a one-line Error naming `file` when it is missing, not a regular file, or empty; returns its size. */
export async function assertReadableInput(file: string): Promise<number> {
  let size: number;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new Error(`${file}: is a directory, not a video file`);
    if (!info.isFile()) throw new Error(`${file}: not a regular file`);
    size = info.size;
  } catch (err) {
    if (err instanceof Error && 'code' in err) {
      if (err.code === 'ENOENT') throw new Error(`${file}: file not found`);
      if (err.code === 'EACCES') throw new Error(`${file}: permission denied`);
      throw new Error(`${file}: cannot read (${String(err.code)})`);
    }
    throw err;
  }
  if (size === 0) throw new Error(`${file}: empty file (0 bytes)`);
  return size;
}
