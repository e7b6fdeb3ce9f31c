/**
 * The browser-mode wire format: one WebSocket binary message per call, result or event. JSON carries
 * the structure; typed arrays travel as raw bytes after it, so attention and frames are not
 * re-encoded as text. Node-free: the renderer and the server both use it.
 *
 * Layout: u32 (little-endian) header length · UTF-8 JSON header · padding to 8 · buffers, each at a
 * multiple of 8. In the header a typed array is `{ "$bin": i, "type": "Float32Array" }`.
 */
import type { ApiMethod, EngineEvent, GlimpseErrorData } from '../main/engine/api.ts';

export type ClientMessage = { type: 'call'; id: number; method: ApiMethod; args: unknown[] };
export type ServerMessage =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: GlimpseErrorData }
  | { type: 'event'; event: EngineEvent };

const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;

function typedArrayName(value: unknown): TypedArrayName | null {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return null;
  const name = value.constructor.name;
  // Node's Buffer is a Uint8Array subclass.
  if (name in TYPED_ARRAYS) return name as TypedArrayName;
  return value instanceof Uint8Array ? 'Uint8Array' : null;
}

const align8 = (n: number) => (n + 7) & ~7;

export function encodeMessage(message: ClientMessage | ServerMessage): Uint8Array {
  const buffers: AnyTypedArray[] = [];
  const header = JSON.stringify(
    message,
    function replacer(this: Record<string, unknown>, key, value: unknown) {
      // The holder's own property: a Node Buffer has already become { type, data } through its toJSON.
      const original = this[key];
      const name = typedArrayName(original);
      if (name === null) return value;
      buffers.push(original as AnyTypedArray);
      return { $bin: buffers.length - 1, type: name };
    },
  );
  const headerBytes = new TextEncoder().encode(header);
  let size = align8(4 + headerBytes.length);
  for (const b of buffers) size = align8(size + 8 + b.byteLength);
  // Each buffer is preceded by its byte length (a float64, 8 bytes), so the header needs no offsets.
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  let at = align8(4 + headerBytes.length);
  for (const b of buffers) {
    view.setFloat64(at, b.byteLength, true);
    at += 8;
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), at);
    at = align8(at + b.byteLength);
  }
  return out;
}

export function decodeMessage(bytes: Uint8Array): unknown {
  if (bytes.byteLength < 4) throw new Error('wire: message shorter than its header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  if (4 + headerLength > bytes.byteLength) throw new Error('wire: header runs past the message');
  const header = new TextDecoder().decode(bytes.subarray(4, 4 + headerLength));
  const buffers: AnyTypedArray[] = [];
  let at = align8(4 + headerLength);
  while (at < bytes.byteLength) {
    if (at + 8 > bytes.byteLength) throw new Error('wire: truncated buffer length');
    const length = view.getFloat64(at, true);
    at += 8;
    if (!Number.isInteger(length) || length < 0 || at + length > bytes.byteLength)
      throw new Error('wire: buffer runs past the message');
    // Copy into a fresh, aligned buffer so any element type can view it.
    const copy = new Uint8Array(length);
    copy.set(bytes.subarray(at, at + length));
    buffers.push(copy);
    at = align8(at + length);
  }
  return JSON.parse(header, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || !('$bin' in value)) return value;
    const { $bin, type } = value as { $bin: unknown; type: unknown };
    const raw = typeof $bin === 'number' ? buffers[$bin] : undefined;
    if (!raw || typeof type !== 'string' || !(type in TYPED_ARRAYS))
      throw new Error(`wire: bad binary reference ${JSON.stringify(value)}`);
    const Ctor = TYPED_ARRAYS[type as TypedArrayName];
    if (raw.byteLength % Ctor.BYTES_PER_ELEMENT !== 0)
      throw new Error(`wire: ${type} of ${raw.byteLength} bytes`);
    return new Ctor(raw.buffer, 0, raw.byteLength / Ctor.BYTES_PER_ELEMENT);
  });
}
