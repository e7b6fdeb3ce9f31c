/**
 * Reading and writing checkpoints by file extension: Glimpse's `.h5`, or the reference `.npz` plus its
 * `.npz.pkl` options pickle. Writes are atomic; errors are one line naming the file.
 */
import { promises as fs } from 'node:fs';
import { extname } from 'node:path';
import { errorLine as describeError, writeFilesAtomic } from '../atomic-file.ts';
import { toDropoutConvention } from './dropout.ts';
import { readH5Checkpoint, writeH5Checkpoint } from './h5.ts';
import { encodeNpz, readNpzEntries } from './npz.ts';
import { encodePickle, parsePickle } from './pickle.ts';
import { checkpointFromReference, referenceOptionsDict } from './reference.ts';
import type { Checkpoint } from './types.ts';
import { validatedParameters } from './validate.ts';

export type { Checkpoint, OptimizerState } from './types.ts';
export { toDropoutConvention } from './dropout.ts';

type CheckpointFormat = 'npz' | 'h5';

function formatOf(path: string): CheckpointFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.npz') return 'npz';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  throw new Error(`${path}: unknown checkpoint format '${ext}' (expected .h5 or .npz)`);
}

/** The options pickle that accompanies a reference `.npz` (`train()` writes `saveto + '.pkl'`). */
export function picklePathFor(npzPath: string): string {
  return `${npzPath}.pkl`;
}

async function readFileOrFail(path: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path}: no such file`);
    throw new Error(`${path}: cannot read (${describeError(e)})`);
  }
}

async function readReferenceCheckpoint(path: string): Promise<Checkpoint> {
  const entries = await readNpzEntries(path);
  const pklPath = picklePathFor(path);
  const options = parsePickle(await readFileOrFail(pklPath), pklPath);
  return checkpointFromReference(options, entries, path, pklPath);
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  return formatOf(path) === 'npz' ? readReferenceCheckpoint(path) : readH5Checkpoint(path);
}

/**
 * Exports to the reference layout: weights rescaled to non-inverted dropout (the reference's), the `.npz`
 * and the `.npz.pkl` written together. Optimiser state and anything the reference cannot hold is dropped.
 */
async function writeReferenceCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  const converted = toDropoutConvention(ckpt, 'non-inverted');
  const params = validatedParameters(converted.params, converted.options, path);
  const npz = encodeNpz(params);
  const pkl = encodePickle(referenceOptionsDict(converted, path));
  await writeFilesAtomic([
    { path, data: npz },
    { path: picklePathFor(path), data: pkl },
  ]);
}

export async function writeCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  if (formatOf(path) === 'npz') await writeReferenceCheckpoint(path, ckpt);
  else await writeH5Checkpoint(path, ckpt);
}
