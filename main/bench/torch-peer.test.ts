import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePeerOutput } from './torch-peer.ts';

test('the peer line parses into figures; a broken line is a one-line error', () => {
  const line =
    '{"peer": "pytorch-cpu", "torch": "1.13.0a0", "threads": 2, "batch": 16, "train_ms_per_batch": 43748.2, ' +
    '"train_clips_per_s": 0.37, "infer_ms_per_batch": 28662.1, "infer_clips_per_s": 0.56}';
  assert.deepEqual(parsePeerOutput(`warning: something\n${line}\n`), {
    peer: 'pytorch-cpu',
    torch: '1.13.0a0',
    threads: 2,
    trainClipsPerS: 0.37,
    trainMsPerBatch: 43748.2,
    inferClipsPerS: 0.56,
    inferMsPerBatch: 28662.1,
  });
  assert.throws(() => parsePeerOutput('Traceback (most recent call last)'), /output is not JSON/);
  assert.throws(() => parsePeerOutput('{"threads": 1}'), /lacks a numeric train_clips_per_s/);
});
