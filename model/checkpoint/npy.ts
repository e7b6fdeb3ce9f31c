/**
 * NumPy `.npy` arrays (format versions 1–3): float32/float64 little-endian, C or Fortran order in,
 * float32 C order out, as `np.save` writes it.
 */
import { type HostArray, sizeOf } from '../tensors.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Parses the header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (512, 128), }`. */
function parseHeader(text: string, source: string): NpyHeader {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new Error(`${source}: not a valid .npy file (unreadable header)`);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s.replace(/L$/, '')); // Python 2 may write long dims as 3L
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new Error(`${source}: not a valid .npy file (bad shape '${shape[1]}')`);
      }
      return n;
    });
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Reorders a Fortran-order buffer into C order (the F-order data is the C-order data of the reversed shape). */
function fortranToC(data: Float32Array, shape: number[]): Float32Array {
  const n = shape.length;
  if (n < 2) return data;
  const out = new Float32Array(data.length);
  if (n === 2) {
    // The common case (weight matrices): a plain transpose.
    const [rows, cols] = shape;
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < rows; i++) out[i * cols + j] = data[j * rows + i];
    }
    return out;
  }
  const cStrides = new Array<number>(n);
  let stride = 1;
  for (let k = n - 1; k >= 0; k--) {
    cStrides[k] = stride;
    stride *= shape[k];
  }
  // Walk the source in its own (Fortran) order: index 0 varies fastest.
  const idx = new Array<number>(n).fill(0);
  for (let src = 0; src < data.length; src++) {
    let dst = 0;
    for (let k = 0; k < n; k++) dst += idx[k] * cStrides[k];
    out[dst] = data[src];
    for (let k = 0; k < n; k++) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Decodes one `.npy` image; `source` names the file (and entry) in error messages. */
export function decodeNpy(bytes: Uint8Array, source: string): HostArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${source}: not a .npy file (bad magic)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${source}: truncated .npy header`);
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else {
    throw new Error(`${source}: unsupported .npy format version ${major}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new Error(`${source}: truncated .npy header`);
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataStart),
  );
  const header = parseHeader(headerText, source);
  const count = sizeOf(header.shape);
  let itemSize: number;
  if (header.descr === '<f4') itemSize = 4;
  else if (header.descr === '<f8') itemSize = 8;
  else {
    throw new Error(
      `${source}: unsupported dtype '${header.descr}' (only little-endian float32/float64 arrays are model parameters)`,
    );
  }
  const byteCount = count * itemSize;
  if (dataStart + byteCount > bytes.length) {
    throw new Error(`${source}: truncated .npy data (${bytes.length - dataStart} of ${byteCount} bytes)`);
  }
  // slice() copies into a fresh, aligned buffer; the wire format is little-endian like every host Node runs on.
  const raw = bytes.slice(dataStart, dataStart + byteCount).buffer;
  let data: Float32Array = itemSize === 4 ? new Float32Array(raw) : Float32Array.from(new Float64Array(raw));
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { shape: header.shape, data };
}

/** Encodes a float32 C-order array as a version 1.0 `.npy` image (header padded to 64 bytes, like numpy). */
export function encodeNpy(array: HostArray): Uint8Array {
  if (array.data.length !== sizeOf(array.shape)) {
    throw new Error(`array holds ${array.data.length} values for shape (${array.shape.join(',')})`);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1; // magic+version+length, header, trailing newline
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(
    new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength),
    10 + header.length,
  );
  return out;
}
