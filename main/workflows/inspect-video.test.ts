import assert from 'node:assert/strict';
import { test } from 'node:test';
import { featuresHash, inspectClipStarts } from './inspect-video.ts';

test('Inspect clips: every stride rows, then one ending at the last row; short videos are one clip', () => {
  assert.deepEqual(inspectClipStarts(40, 16, 16), [0, 16, 24]);
  assert.deepEqual(inspectClipStarts(48, 16, 16), [0, 16, 32]);
  assert.deepEqual(inspectClipStarts(40, 16, 8), [0, 8, 16, 24]);
  assert.deepEqual(inspectClipStarts(10, 16, 16), [0]);
  assert.deepEqual(inspectClipStarts(16, 16, 16), [0]);
  assert.deepEqual(inspectClipStarts(17, 16, 16), [0, 1]);
});

test('featuresHash depends on every bit of the rows', () => {
  const a = new Float32Array([1, 2, 3]);
  const b = new Float32Array([1, 2, 3.0000002]);
  assert.equal(featuresHash(a), featuresHash(new Float32Array([1, 2, 3])));
  assert.notEqual(featuresHash(a), featuresHash(b));
  assert.equal(featuresHash(new Float32Array([0, 1, 2, 3]).subarray(1)), featuresHash(a));
});
