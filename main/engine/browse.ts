/** The in-app file picker's directory listing (browser mode has no native dialog), with what each entry is. */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isVideoName, listFolder } from '../datasets/scan.ts';
import type { DirectoryEntry, DirectoryListing } from './api.ts';
import { aboutFile } from './error-mapping.ts';

const MODEL_EXTENSIONS = new Set(['.h5', '.hdf5', '.npz']);

async function holdsFeatures(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((n) => n.endsWith('_features.h5'));
  } catch {
    return false;
  }
}

function fileRole(name: string): DirectoryEntry['role'] {
  if (isVideoName(name)) return 'video';
  // A dataset's feature files are .h5 too, but they are not checkpoints.
  if (MODEL_EXTENSIONS.has(path.extname(name).toLowerCase()) && !name.endsWith('_features.h5'))
    return 'model';
  return 'other';
}

export async function browseDir(dir?: string): Promise<DirectoryListing> {
  const target = path.resolve(dir ?? os.homedir());
  return aboutFile(target, async () => {
    const found = await listFolder(target);
    const entries: DirectoryEntry[] = [];
    for (const e of found) {
      if (e.kind === 'other') continue;
      const full = path.join(target, e.name);
      if (e.kind === 'folder') {
        entries.push({
          name: e.name,
          path: full,
          kind: 'dir',
          role: (await holdsFeatures(full)) ? 'dataset' : 'other',
        });
      } else {
        entries.push({ name: e.name, path: full, kind: 'file', role: fileRole(e.name) });
      }
    }
    entries.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'dir' ? -1 : 1));
    const parent = path.dirname(target);
    return { path: target, parent: parent === target ? null : parent, entries };
  });
}
