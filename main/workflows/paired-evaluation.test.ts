// Pairing two models' video results: single-label counts and disagreements, the multi-label mAP difference
// with its interval, and refusals when the two results are not of the same videos.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multilabelMetrics } from '../../common/metrics.ts';
import type { VideoResult } from '../../model/evaluate.ts';
import { pairedStatistics } from './paired-evaluation.ts';

const single = (preds: number[], labels: number[]): VideoResult[] =>
  preds.map((p, i) => ({ index: i, file: `v${i}`, label: labels[i], prediction: p, scores: [], clips: [] }));

test('single-label: counts, disagreements and per-class deltas', () => {
  const labels = [0, 0, 1, 1, 2, 2];
  const a = single([0, 1, 1, 1, 2, 0], labels);
  const b = single([0, 0, 0, 1, 1, 0], labels);
  const s = pairedStatistics(
    { path: 'a', videos: a, perClass: [0.5, 1, 0.5], multilabel: false },
    { path: 'b', videos: b, perClass: [1, 0.5, null], multilabel: false },
    { resamples: 300 },
  );
  assert.ok(s.accuracy);
  assert.deepEqual([s.accuracy.onlyA, s.accuracy.onlyB, s.accuracy.bothRight], [2, 1, 2]);
  assert.deepEqual(s.disagreements, [1, 2, 4]);
  assert.deepEqual(s.perClassDelta, [-0.5, 0.5, null]);
  assert.equal(s.mAP, null);
});

test('multi-label: the mAP difference and a paired interval around it', () => {
  const labels = [
    [1, 0],
    [0, 1],
    [1, 1],
    [0, 1],
    [1, 0],
    [0, 0],
  ];
  const scoresA = [
    [0.9, 0.1],
    [0.2, 0.8],
    [0.7, 0.6],
    [0.3, 0.7],
    [0.6, 0.2],
    [0.1, 0.3],
  ];
  const scoresB = scoresA.map(([x, y]) => [1 - x, y]);
  const videos = (scores: number[][]): VideoResult[] =>
    scores.map((s, i) => ({ index: i, file: `v${i}`, label: labels[i], scores: s, clips: [] }));
  const s = pairedStatistics(
    { path: 'a', videos: videos(scoresA), perClass: [1, 1], multilabel: true },
    { path: 'b', videos: videos(scoresB), perClass: [0.4, 1], multilabel: true },
    { resamples: 300 },
  );
  assert.ok(s.mAP);
  const expected = multilabelMetrics(labels, scoresA).mAP - multilabelMetrics(labels, scoresB).mAP;
  assert.ok(Math.abs(s.mAP.difference - expected) < 1e-12);
  assert.ok(s.mAP.difference > 0);
  assert.ok(s.mAP.interval.low <= s.mAP.difference && s.mAP.difference <= s.mAP.interval.high);
  assert.equal(s.accuracy, null);
});

test('results of other videos, or another label kind, cannot be paired', () => {
  const a = single([0, 1], [0, 1]);
  const side = (videos: VideoResult[], multilabel = false) => ({
    path: 'x',
    videos,
    perClass: [1, 1],
    multilabel,
  });
  assert.throws(() => pairedStatistics(side(a), side(single([0], [0]))), /2 videos against 1/);
  assert.throws(() => pairedStatistics(side(a), side(single([0, 1], [0, 0]))), /video 1 differs/);
  assert.throws(() => pairedStatistics(side(a), side(a, true)), /multi-label/);
});
