import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNpy, encodeNpy } from './npy.ts';

/** A .npy image with the given header dict and raw data, as numpy lays it out (version 1.0). */
function npyImage(header: string, data: ArrayBufferView): Uint8Array {
  let text = header;
  text += ' '.repeat((64 - ((10 + text.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + text.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(Buffer.from(text, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + text.length);
  return out;
}

test('encode → decode round trip, including a scalar', () => {
  for (const shape of [[2, 3], [4], [], [2, 1, 3]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 1);
    const bytes = encodeNpy({ shape, data });
    assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0, 'header is 64-byte aligned');
    const back = decodeNpy(bytes, 'x.npy');
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(back.data, data);
  }
});

test('Fortran order is converted to C order', () => {
  // The 2×3 matrix [[0,1,2],[3,4,5]] stored column by column, and a 2×2×2 one.
  const f2 = npyImage(
    "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
    new Float32Array([0, 3, 1, 4, 2, 5]),
  );
  assert.deepEqual(Array.from(decodeNpy(f2, 'f.npy').data), [0, 1, 2, 3, 4, 5]);
  // C element (i,j,k) = 4i+2j+k; Fortran offset = i + 2j + 4k.
  const fData = new Float32Array(8);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) fData[i + 2 * j + 4 * k] = 4 * i + 2 * j + k;
  const f3 = npyImage("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", fData);
  assert.deepEqual(Array.from(decodeNpy(f3, 'f.npy').data), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('float64 becomes float32', () => {
  const img = npyImage(
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
    new Float64Array([0.1, -2, 1e10]),
  );
  const a = decodeNpy(img, 'd.npy');
  assert.deepEqual(a.shape, [3]);
  assert.deepEqual(a.data, Float32Array.from([0.1, -2, 1e10]));
});

test('other dtypes, truncation and bad magic are one-line errors naming the source', () => {
  const ints = npyImage(
    "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
    new BigInt64Array([1n, 2n]),
  );
  assert.throws(() => decodeNpy(ints, "m.npz: array 'w'"), {
    message: /^m\.npz: array 'w': unsupported dtype '<i8'/,
  });
  const big = npyImage("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Float32Array(1));
  assert.throws(() => decodeNpy(big, 'b.npy'), { message: /^b\.npy: unsupported dtype '>f4'/ });
  const whole = encodeNpy({ shape: [10], data: new Float32Array(10) });
  assert.throws(() => decodeNpy(whole.subarray(0, whole.length - 4), 't.npy'), {
    message: /^t\.npy: truncated \.npy data/,
  });
  assert.throws(() => decodeNpy(whole.subarray(0, 40), 't.npy'), {
    message: /^t\.npy: truncated \.npy header/,
  });
  assert.throws(() => decodeNpy(new Uint8Array(20), 'z.npy'), { message: /^z\.npy: not a \.npy file/ });
});
