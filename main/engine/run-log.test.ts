/**
 * The run log reader on a log written by runTraining's format: lines fed in arbitrary pieces give the same
 * points; a resume drops the cut-short epoch's batches and says from which point the list changed; a
 * damaged line is skipped; the best epoch is the latest of the top score.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochSummary, RunLogReader } from './run-log.ts';

const line = (entry: object) => JSON.stringify({ time: '2026-12-01T10:00:00.000Z', ...entry }) + '\n';
const start = (epochs: number, multilabel = false) =>
  line({ kind: 'start', options: { dim: 8, multilabel }, settings: { epochs, maxlen: 8 }, resume: false });
const batch = (epoch: number, b: number, loss: number) =>
  line({ kind: 'batch', epoch, batch: b, batches: 2, loss, clipsPerS: 10, etaS: 5 });
const epoch = (n: number, score: number, best: boolean) =>
  line({ kind: 'epoch', epoch: n, trainLoss: 1 / n, validScore: score, best, seconds: 2 });

const LOG =
  start(3) +
  batch(0, 0, 5) +
  batch(0, 1, 4) +
  epoch(1, 0.5, true) +
  batch(1, 0, 3) +
  // Stopped mid-epoch 2, then resumed after epoch 1.
  start(3) +
  line({ kind: 'resume', epoch: 1 }) +
  batch(1, 0, 2.5) +
  batch(1, 1, 2) +
  epoch(2, 0.75, true) +
  'not json\n' +
  batch(2, 0, 1) +
  batch(2, 1, 0.5) +
  epoch(3, 0.75, true) +
  line({ kind: 'done', bestEpoch: 3 });

test('fed whole or byte by byte, the log gives the same points; the resume drops the cut-short batches', () => {
  const whole = new RunLogReader();
  whole.feed(LOG);
  const pieces = new RunLogReader();
  for (const ch of LOG) pieces.feed(ch);
  assert.deepEqual(pieces.state, whole.state);
  const s = whole.state;
  assert.deepEqual(
    s.points.map((p) => (p.kind === 'batch' ? `b${p.epoch}.${p.batch}:${p.loss}` : `e${p.epoch}`)),
    ['b0.0:5', 'b0.1:4', 'e1', 'b1.0:2.5', 'b1.1:2', 'e2', 'b2.0:1', 'b2.1:0.5', 'e3'],
  );
  assert.equal(s.done, true);
  assert.equal(s.epochs, 3);
  assert.equal(s.multilabel, false);
  assert.deepEqual(s.first, { options: { dim: 8, multilabel: false }, settings: { epochs: 3, maxlen: 8 } });
  assert.deepEqual(epochSummary(s.points), { epochsDone: 3, bestEpoch: 3, bestScore: 0.75 });
});

test('feed says from which point the list changed', () => {
  const r = new RunLogReader();
  assert.equal(r.feed(start(3) + batch(0, 0, 5) + batch(0, 1, 4)), 0);
  assert.equal(r.feed(epoch(1, 0.5, true) + batch(1, 0, 3)), 2);
  // A line cut off: nothing changes until its end arrives.
  const next = batch(1, 1, 2.8);
  assert.equal(r.feed(next.slice(0, 10)), 4);
  assert.equal(r.state.points.length, 4);
  assert.equal(r.feed(next.slice(10)), 4);
  assert.equal(r.state.points.length, 5);
  // The resume after epoch 1 cuts at the first batch of epoch index 1 (point 3), then appends.
  assert.equal(r.feed(start(3) + line({ kind: 'resume', epoch: 1 }) + batch(1, 0, 2.5)), 3);
  assert.equal(r.state.points.length, 4);
  assert.equal(r.state.done, false);
});

test('an empty or unfinished log summarises to nothing done', () => {
  const r = new RunLogReader();
  r.feed(start(5, true));
  assert.equal(r.state.multilabel, true);
  assert.deepEqual(epochSummary(r.state.points), { epochsDone: 0, bestEpoch: null, bestScore: null });
});
