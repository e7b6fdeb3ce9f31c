/** Folder reading for the adapters: one-line errors that name the path, and video-file recognition. */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareNames } from './splitting.ts';

export const VIDEO_EXTENSIONS = new Set([
  '.avi',
  '.mp4',
  '.mkv',
  '.mov',
  '.webm',
  '.mpg',
  '.mpeg',
  '.m4v',
  '.wmv',
  '.flv',
  '.ogv',
  '.3gp',
]);

export function isVideoName(name: string): boolean {
  return !name.startsWith('.') && VIDEO_EXTENSIONS.has(path.extname(name).toLowerCase());
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT'
    ? 'does not exist'
    : code === 'ENOTDIR'
      ? 'is not a folder'
      : `cannot be read (${code ?? String(err)})`;
}

export interface FolderEntry {
  name: string;
  /** Symbolic links are followed (datasets are often linked in); broken links count as 'other'. */
  kind: 'file' | 'folder' | 'other';
}

/** Entries of a folder sorted by name, hidden ones left out; a missing or unreadable folder throws. */
export async function listFolder(dir: string, what = 'folder'): Promise<FolderEntry[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`${dir}: ${what} ${reason(err)}`);
  }
  const visible = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => compareNames(a.name, b.name));
  return Promise.all(
    visible.map(async (e): Promise<FolderEntry> => {
      if (e.isDirectory()) return { name: e.name, kind: 'folder' };
      if (e.isFile()) return { name: e.name, kind: 'file' };
      if (!e.isSymbolicLink()) return { name: e.name, kind: 'other' };
      try {
        const info = await stat(path.join(dir, e.name));
        return { name: e.name, kind: info.isDirectory() ? 'folder' : info.isFile() ? 'file' : 'other' };
      } catch {
        return { name: e.name, kind: 'other' };
      }
    }),
  );
}

export async function readTextFile(file: string, what = 'file'): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: ${what} ${reason(err)}`);
  }
}

export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export async function isFolder(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** Non-empty lines with surrounding whitespace (and Windows line ends) removed, with 1-based line numbers. */
export function textLines(text: string): { line: string; number: number }[] {
  return text
    .split('\n')
    .map((raw, i) => ({ line: raw.trim(), number: i + 1 }))
    .filter((l) => l.line.length > 0);
}
