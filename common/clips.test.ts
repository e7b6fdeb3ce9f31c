import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipFrameIndices, clipStarts } from './clips.ts';

test('clip starts follow range(0, f − maxlen + 1, stride)', () => {
  assert.deepEqual(clipStarts(34, 30, 2), [0, 2, 4]);
  assert.deepEqual(clipStarts(34, 30, 1), [0, 1, 2, 3, 4]);
  assert.deepEqual(clipStarts(30, 30, 1), [0]);
  assert.deepEqual(clipStarts(100, 30, 30), [0, 30, 60]);
  // Shorter than a window: exactly one clip at 0.
  assert.deepEqual(clipStarts(12, 30, 1), [0]);
  // skip = 30 / fps: a window spans maxlen·skip frames.
  assert.deepEqual(clipStarts(64, 30, 1, 2), [0, 1, 2, 3, 4]);
});

test('a short video is padded with its last frame', () => {
  const indices = clipFrameIndices(12, 0, 30);
  assert.equal(indices.length, 30);
  assert.deepEqual(indices.slice(0, 12), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.ok(indices.slice(12).every((i) => i === 11));
  assert.deepEqual(
    clipFrameIndices(34, 4, 30),
    Array.from({ length: 30 }, (_, t) => 4 + t),
  );
  // With skip 2 a 7-frame video gives frames 0, 2, 4, 6 (n = 1 + (7 − 1) // 2), then 6 again.
  assert.deepEqual(clipFrameIndices(7, 0, 6, 2), [0, 2, 4, 6, 6, 6]);
  assert.throws(() => clipFrameIndices(12, 12, 30), /outside/);
  assert.throws(() => clipStarts(12, 0, 1), /maxlen/);
});
