import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectClip, InspectResult } from '../../main/engine/api.ts';
import {
  decisionWindow,
  describeClips,
  displayMap,
  frameSeries,
  runningDecision,
  stepAt,
  topClasses,
} from '../../renderer/src/lib/attention.ts';

const K = 2;
const L = 4;
const C = 3;

function clip(
  start: number,
  steps: number,
  hot: (t: number) => number,
  best: (t: number) => number,
): InspectClip {
  const alpha = new Float32Array(steps * L);
  const probs = new Float32Array(steps * C);
  for (let t = 0; t < steps; t++) {
    for (let l = 0; l < L; l++) alpha[t * L + l] = l === hot(t) ? 0.7 : 0.1;
    for (let c = 0; c < C; c++) probs[t * C + c] = c === best(t) ? 0.8 : 0.1;
  }
  return { start, steps, alpha, probs, prediction: best(steps - 1) };
}

function result(clips: InspectClip[], frames: number): InspectResult {
  return {
    request: { model: '/m.h5', source: { kind: 'video', path: '/v.mp4' } },
    modelHash: 'm',
    featuresHash: 'f',
    classNames: ['a', 'b', 'c'],
    multilabel: false,
    grid: K,
    locations: L,
    fps: 30,
    frames,
    maxlen: 4,
    stride: 4,
    lastN: 2,
    backbone: 'builtin',
    backend: 'cpu',
    label: 1,
    prediction: 1,
    scores: [0.2, 0.5, 0.3],
    clips,
    video: null,
    cached: false,
  };
}

// Clips [0,4) and [4,8), then a last clip [5,9) that ends with the 10-frame video's row 8; row 9 is in none.
const clips = [
  clip(
    0,
    4,
    () => 0,
    () => 0,
  ),
  clip(
    4,
    4,
    () => 3,
    (t) => (t < 2 ? 2 : 1),
  ),
  clip(
    5,
    4,
    () => 1,
    () => 1,
  ),
];
const r = result(clips, 10);

test('a frame maps to the preferred clip when it covers it, else the first clip that does', () => {
  assert.deepEqual(stepAt(clips, 5, 0), { clip: 1, step: 1 });
  assert.deepEqual(stepAt(clips, 5, 2), { clip: 2, step: 0 });
  assert.deepEqual(stepAt(clips, 8, 1), { clip: 2, step: 3 });
  assert.equal(stepAt(clips, 9, 0), null);
});

test('display normalisation divides by the step maximum', () => {
  const { values, max } = displayMap(new Float32Array([0.1, 0.4, 0.2, 0.3]));
  assert.ok(Math.abs(max - 0.4) < 1e-7);
  assert.deepEqual(
    Array.from(values, (v) => Number(v.toFixed(4))),
    [0.25, 1, 0.5, 0.75],
  );
  assert.deepEqual(Array.from(displayMap(new Float32Array(4)).values), [0, 0, 0, 0]);
});

test('the running decision sums the last lastN steps; the window is the clip tail', () => {
  assert.deepEqual(Array.from(runningDecision(clips[1], C, 3)), [2, 2, 2, 1]);
  assert.deepEqual(Array.from(runningDecision(clips[1], C, 1)), [2, 2, 1, 1]);
  assert.deepEqual(decisionWindow(clips[1], 2), { from: 6, to: 8 });
  assert.deepEqual(decisionWindow(clips[1], 30), { from: 4, to: 8 });
});

test('per-frame series: clip, step, entropy and centroid; nothing outside the clips', () => {
  const s = frameSeries(r, 0);
  assert.deepEqual(Array.from(s.clipOf), [0, 0, 0, 0, 1, 1, 1, 1, 2, -1]);
  assert.deepEqual(Array.from(s.stepOf), [0, 1, 2, 3, 0, 1, 2, 3, 3, -1]);
  // Cell 0 (row 0, col 0) holds 0.7: the centroid leans to (0.5, 0.5) from the grid centre (1, 1).
  assert.ok(s.cx[0] < 1 && s.cy[0] < 1);
  // Cell 3 (row 1, col 1) for clip 1.
  assert.ok(s.cx[4] > 1 && s.cy[4] > 1);
  assert.ok(s.entropy[0] > 0 && s.entropy[0] < 1);
  assert.ok(Number.isNaN(s.entropy[9]) && s.decision[9] === -1);
  assert.equal(frameSeries(r, 2).clipOf[5], 2);
});

test('top classes and the written clip mapping', () => {
  assert.deepEqual(topClasses([0.2, 0.5, 0.3], 2), [1, 2]);
  assert.equal(
    describeClips(r),
    '3 clips of up to 4 steps every 4 frames, the last one starting at frame 5 to end with the video; step t of clip c is frame start_c + t',
  );
  assert.equal(
    describeClips(
      result(
        [
          clip(
            0,
            3,
            () => 0,
            () => 0,
          ),
        ],
        3,
      ),
    ),
    'one clip of 3 steps from frame 0; step t is frame 0 + t',
  );
});
