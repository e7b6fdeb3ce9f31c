import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  averagePrecision,
  classificationMetrics,
  clipPrediction,
  clipScores,
  majorityVote,
  multilabelMetrics,
} from './metrics.ts';

test('clip prediction sums the probabilities of the last n steps only', () => {
  const probs = [
    [0.9, 0.1],
    [0.2, 0.8],
    [0.4, 0.6],
  ];
  assert.equal(clipPrediction(probs, 3).prediction, 0); // 1.5 each: the tie goes to class 0
  assert.equal(clipPrediction(probs, 2).prediction, 1);
  assert.equal(clipPrediction(probs, 1).prediction, 1);
  assert.equal(clipPrediction([[0.9, 0.1]], 30).prediction, 0);
});

test('ties go to the lowest class id', () => {
  assert.equal(clipPrediction([[0.5, 0.5]], 1).prediction, 0);
  assert.equal(majorityVote([2, 1, 2, 1], 3), 1);
  assert.equal(majorityVote([2, 2, 1], 3), 2);
});

test('multi-label clip score is the mean of the last n steps', () => {
  assert.deepEqual(
    clipScores(
      [
        [1, 0],
        [0.5, 0.25],
        [0.25, 0.75],
      ],
      2,
    ),
    [0.375, 0.5],
  );
});

test('accuracy, per-class accuracy and confusion', () => {
  const m = classificationMetrics([0, 0, 1, 2], [0, 1, 1, 1], 4);
  assert.equal(m.accuracy, 0.5);
  assert.deepEqual(m.perClassAccuracy, [0.5, 1, 0, null]);
  assert.deepEqual(m.confusion[0], [1, 1, 0, 0]);
  assert.deepEqual(m.confusion[2], [0, 1, 0, 0]);
});

test('non-interpolated average precision', () => {
  // Ranking: v1 (rel), v0 (not), v2 (rel): AP = (1/1 + 2/3) / 2.
  assert.ok(Math.abs(averagePrecision([0.5, 0.9, 0.1], [false, true, true])! - (1 + 2 / 3) / 2) < 1e-12);
  assert.equal(averagePrecision([0.5, 0.2], [false, false]), null);
  const m = multilabelMetrics(
    [
      [1, 0],
      [0, 0],
    ],
    [
      [0.9, 0.1],
      [0.1, 0.9],
    ],
  );
  assert.deepEqual(m.ap, [1, null]);
  assert.equal(m.mAP, 1);
});
