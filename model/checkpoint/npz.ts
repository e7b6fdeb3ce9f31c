/** NumPy `.npz` archives: a zip of `name.npy` entries (stored or deflated in; stored out, like `np.savez`). */
import { promises as fs } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import type { HostArray, NamedArrays } from '../tensors.ts';
import { errorLine as describeError } from '../atomic-file.ts';
import { decodeNpy, encodeNpy } from './npy.ts';

/** The raw `.npy` images of an archive by array name, in archive order; decode each with `decodeNpzEntry`. */
export type NpzEntries = Map<string, Uint8Array>;

export function unpackNpz(bytes: Uint8Array, path: string): NpzEntries {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new Error(`${path}: not a readable .npz archive (${describeError(e)})`);
  }
  const entries: NpzEntries = new Map();
  for (const [name, data] of Object.entries(files)) {
    // np.savez names entries `key.npy`; anything else is not an array numpy would list.
    if (name.endsWith('.npy')) entries.set(name.slice(0, -'.npy'.length), data);
  }
  return entries;
}

export function decodeNpzEntry(entries: NpzEntries, name: string, path: string): HostArray {
  const bytes = entries.get(name);
  if (!bytes) throw new Error(`${path}: no array '${name}'`);
  return decodeNpy(bytes, `${path}: array '${name}'`);
}

/** Reads the raw entries of an `.npz` file (arrays are decoded on demand: an archive may hold non-float extras). */
export async function readNpzEntries(path: string): Promise<NpzEntries> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path}: no such file`);
    throw new Error(`${path}: cannot read (${describeError(e)})`);
  }
  return unpackNpz(bytes, path);
}

/** Reads every array of an `.npz` file; any non-float array is an error. */
export async function readNpz(path: string): Promise<NamedArrays> {
  const entries = await readNpzEntries(path);
  const arrays: NamedArrays = new Map();
  for (const name of entries.keys()) arrays.set(name, decodeNpzEntry(entries, name, path));
  return arrays;
}

/** Builds an `.npz` image with stored (uncompressed) entries, as `np.savez` does. */
export function encodeNpz(arrays: NamedArrays): Uint8Array {
  const files = Object.create(null) as Record<string, Uint8Array>; // names like `__proto__` stay plain keys
  for (const [name, array] of arrays) {
    try {
      files[`${name}.npy`] = encodeNpy(array);
    } catch (e) {
      throw new Error(`array '${name}': ${describeError(e)}`);
    }
  }
  return zipSync(files, { level: 0 });
}
