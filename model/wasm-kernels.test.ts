/**
 * The heap-view Slice/Unpack/SplitV kernels give exactly what a plain JS copy gives, on contiguous pieces (their
 * fast path) and on strided ones (the stock kernels they fall back to).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from './backend.ts';

const SHAPE = [3, 4, 5, 6];

/** Element (i, j, k, l) of the test tensor, computed without tfjs. */
function value(i: number, j: number, k: number, l: number): number {
  return ((i * 4 + j) * 5 + k) * 6 + l + 0.25;
}

function source(): tf.Tensor4D {
  const data = new Float32Array(3 * 4 * 5 * 6);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 4; j++)
      for (let k = 0; k < 5; k++)
        for (let l = 0; l < 6; l++) data[((i * 4 + j) * 5 + k) * 6 + l] = value(i, j, k, l);
  return tf.tensor4d(data, SHAPE as [number, number, number, number]);
}

/** The expected block [begin, begin + size) of the source, flattened. */
function expected(begin: number[], size: number[]): number[] {
  const out: number[] = [];
  for (let i = begin[0]; i < begin[0] + size[0]; i++)
    for (let j = begin[1]; j < begin[1] + size[1]; j++)
      for (let k = begin[2]; k < begin[2] + size[2]; k++)
        for (let l = begin[3]; l < begin[3] + size[3]; l++) out.push(value(i, j, k, l));
  return out;
}

test('wasm slice, unstack and split return the right pieces', async () => {
  await chooseBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  const x = source();

  // Contiguous (leading axis) and strided slices.
  assert.deepEqual(
    Array.from(tf.slice(x, [1, 0, 0, 0], [2, 4, 5, 6]).dataSync()),
    expected([1, 0, 0, 0], [2, 4, 5, 6]),
  );
  assert.deepEqual(
    Array.from(tf.slice(x, [2, 1, 0, 0], [1, 2, 5, 6]).dataSync()),
    expected([2, 1, 0, 0], [1, 2, 5, 6]),
  );
  assert.deepEqual(
    Array.from(tf.slice(x, [0, 1, 2, 3], [3, 2, 2, 2]).dataSync()),
    expected([0, 1, 2, 3], [3, 2, 2, 2]),
  );

  const frames = tf.unstack(x, 0);
  assert.equal(frames.length, 3);
  frames.forEach((f, i) => {
    assert.deepEqual(f.shape, [4, 5, 6]);
    assert.deepEqual(Array.from(f.dataSync()), expected([i, 0, 0, 0], [1, 4, 5, 6]));
  });
  const columns = tf.unstack(x, 2); // strided: the stock kernel
  assert.deepEqual(Array.from(columns[3].dataSync()), expected([0, 0, 3, 0], [3, 4, 1, 6]));

  const [head, tail] = tf.split(x, [1, 2], 0);
  assert.deepEqual(Array.from(head.dataSync()), expected([0, 0, 0, 0], [1, 4, 5, 6]));
  assert.deepEqual(Array.from(tail.dataSync()), expected([1, 0, 0, 0], [2, 4, 5, 6]));
  const quarters = tf.split(x, 2, 3); // strided: the stock kernel
  assert.deepEqual(Array.from(quarters[1].dataSync()), expected([0, 0, 0, 3], [3, 4, 5, 3]));

  // The gradient of unstack (a stack) still flows through the replaced kernels.
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.unstack(t, 0)[1], 2)))(x);
  const want = expected([0, 0, 0, 0], [3, 4, 5, 6]).map((_, n) => (n >= 120 && n < 240 ? 2 : 0));
  assert.deepEqual(Array.from(g.dataSync()), want);
});

test('contiguous wasm slices do not copy the whole input out of the heap', async () => {
  await chooseBackend('wasm');
  const x = source();
  const backend = tf.backend();
  const readSync = backend.readSync.bind(backend);
  let reads = 0;
  backend.readSync = (...args: Parameters<typeof readSync>) => {
    reads += 1;
    return readSync(...args);
  };
  try {
    const pieces = [...tf.unstack(x, 0), tf.slice(x, [1, 0, 0, 0], [1, 4, 5, 6]), ...tf.split(x, 3, 0)];
    assert.equal(pieces.length, 7);
    assert.equal(reads, 0);
  } finally {
    backend.readSync = readSync;
  }
});

test('wasm identity shares memory, and each holder can dispose independently', async () => {
  await chooseBackend('wasm');
  const x = source();
  const copy = tf.clone(x);
  assert.equal(copy.dataId, x.dataId);
  x.dispose();
  assert.deepEqual(Array.from(copy.dataSync()), expected([0, 0, 0, 0], [3, 4, 5, 6]));
  const before = tf.memory().numBytes;
  copy.dispose();
  assert.equal(tf.memory().numBytes, before - 3 * 4 * 5 * 6 * 4);
});
