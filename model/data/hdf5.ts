/**
 * h5wasm access for feature files: loads the library once, checks a file is whole HDF5 before the C
 * library sees it (its own errors print pages of HDF5-DIAG and then throw "name not defined"), and turns
 * failures into one-line errors that name the file.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import h5wasm, { type Dataset, type File as H5File } from 'h5wasm/node';

export type { Dataset, H5File };

let loaded: Promise<typeof h5wasm> | null = null;

/** The h5wasm namespace, after its wasm module is ready. */
export function loadH5wasm(): Promise<typeof h5wasm> {
  loaded ??= h5wasm.ready.then(() => h5wasm);
  return loaded;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Throws unless `file` starts (at 0, 512, 1024, … as HDF5 allows for a user block) with the HDF5
 * signature and is at least as long as its superblock's end-of-file address says.
 */
export function checkHdf5File(file: string): void {
  if (!existsSync(file)) throw new Error(`${file}: file not found`);
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(96);
    let base = -1;
    for (let at = 0; at + SIGNATURE.length <= size; at = at === 0 ? 512 : at * 2) {
      readSync(fd, head, 0, head.length, at);
      if (SIGNATURE.every((b, i) => head[i] === b)) {
        base = at;
        break;
      }
    }
    if (base < 0) throw new Error(`${file}: not an HDF5 file (no HDF5 signature)`);
    const stored = storedEndOfFile(head);
    if (stored === null)
      throw new Error(`${file}: not a readable HDF5 file (unknown superblock version ${head[8]})`);
    // Addresses are relative to the base address, which is where the signature is.
    if (stored !== undefined && size < base + stored) {
      throw new Error(`${file}: truncated HDF5 file (${size} bytes, its superblock says ${base + stored})`);
    }
  } finally {
    closeSync(fd);
  }
}

/** The superblock's end-of-file address; undefined when it is the "undefined address"; null if unknown layout. */
function storedEndOfFile(sb: Buffer): number | undefined | null {
  const version = sb[8];
  let offsetSize: number;
  let eofAt: number;
  if (version === 0 || version === 1) {
    offsetSize = sb[13];
    const baseAt = version === 0 ? 24 : 28;
    eofAt = baseAt + 2 * offsetSize; // base address, free-space address, end-of-file address
  } else if (version === 2 || version === 3) {
    offsetSize = sb[9];
    eofAt = 12 + 2 * offsetSize; // base address, extension address, end-of-file address
  } else {
    return null;
  }
  if (![2, 4, 8].includes(offsetSize) || eofAt + offsetSize > sb.length) return null;
  let value = 0n;
  let allOnes = true;
  for (let i = offsetSize - 1; i >= 0; i--) {
    const byte = sb[eofAt + i];
    if (byte !== 0xff) allOnes = false;
    value = (value << 8n) | BigInt(byte);
  }
  return allOnes ? undefined : Number(value);
}

/** The first line of an h5wasm/HDF5 error, for one-line messages. */
export function errorLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (
    text
      .split('\n')
      .map((s) => s.trim())
      .find((s) => s.length > 0) ?? 'unknown error'
  );
}

/** Opens an existing HDF5 file ('r' read-only, 'a' read-write) after checking it is whole. */
export async function openHdf5(file: string, mode: 'r' | 'a'): Promise<H5File> {
  checkHdf5File(file);
  const lib = await loadH5wasm();
  try {
    return new lib.File(file, mode);
  } catch (err) {
    throw new Error(`${file}: cannot open HDF5 file (${errorLine(err)})`);
  }
}

/** Creates (or truncates) an HDF5 file for writing. */
/**
 * Runs synchronous h5wasm calls with HDF5's clock (emscripten's Date.now) at 0, so the object headers they
 * write carry no wall-clock time: the same rows written the same way give the same file bytes (h5wasm
 * cannot turn HDF5's track_times off). Safe because the calls are synchronous: nothing else runs meanwhile.
 */
export function atFixedTime<T>(fn: () => T): T {
  const now = Date.now;
  Date.now = () => 0;
  try {
    return fn();
  } finally {
    Date.now = now;
  }
}

/** A new (truncated) HDF5 file; `fixedTime`: its root group's header without a wall-clock time (atFixedTime). */
export async function createHdf5(file: string, opts: { fixedTime?: boolean } = {}): Promise<H5File> {
  const lib = await loadH5wasm();
  try {
    return opts.fixedTime ? atFixedTime(() => new lib.File(file, 'w')) : new lib.File(file, 'w');
  } catch (err) {
    throw new Error(`${file}: cannot create HDF5 file (${errorLine(err)})`);
  }
}

/** The 2-D float dataset `name` of `h5`, checked; throws one-line errors naming `file`. */
export async function getFloatMatrix(h5: H5File, file: string, name: string): Promise<Dataset> {
  const lib = await loadH5wasm();
  if (!h5.keys().includes(name)) throw new Error(`${file}: no '${name}' dataset`);
  const entity = h5.get(name);
  if (!(entity instanceof lib.Dataset)) throw new Error(`${file}: '${name}' is not a dataset`);
  const meta = entity.metadata;
  const shape = meta.shape;
  if (!shape || shape.length !== 2) {
    throw new Error(`${file}: '${name}' must be 2-D (frames, L·D), has shape [${(shape ?? []).join(', ')}]`);
  }
  // h5wasm type 1 is H5T_FLOAT; big-endian floats would come back unconverted.
  if (meta.type !== 1 || (meta.size !== 4 && meta.size !== 8) || !meta.littleEndian) {
    throw new Error(
      `${file}: '${name}' must hold little-endian float32 values (has type ${String(entity.dtype)})`,
    );
  }
  return entity;
}

/** Reads rows [start, start + count) of a 2-D float dataset as float32. */
export function readFloatRows(ds: Dataset, file: string, start: number, count: number): Float32Array {
  let data: unknown;
  try {
    data = ds.slice([[start, start + count]]);
  } catch (err) {
    throw new Error(`${file}: cannot read rows ${start}..${start + count - 1} (${errorLine(err)})`);
  }
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new Error(`${file}: rows ${start}..${start + count - 1} did not read as floats`);
}
