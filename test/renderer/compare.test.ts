import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectClip, InspectResult } from '../../main/engine/api.ts';
import {
  compareHash,
  differenceAt,
  pairSeries,
  parseCompare,
  trackOf,
} from '../../renderer/src/lib/compare.ts';
import { parseRoute } from '../../renderer/src/lib/route.ts';

const L = 4;
const C = 2;

/** A clip whose attention is all on cell `hot` and whose step decision is class `best`. */
function clip(start: number, steps: number, hot: number, best: number): InspectClip {
  const alpha = new Float32Array(steps * L);
  const probs = new Float32Array(steps * C);
  for (let t = 0; t < steps; t++) {
    alpha[t * L + hot] = 1;
    probs[t * C + best] = 0.9;
    probs[t * C + (1 - best)] = 0.1;
  }
  return { start, steps, alpha, probs, prediction: best };
}

function result(clips: InspectClip[], frames: number, maxlen: number): InspectResult {
  return {
    request: { model: '/m.h5', source: { kind: 'video', path: '/v.mp4' } },
    modelHash: 'm',
    featuresHash: 'f',
    classNames: ['a', 'b'],
    multilabel: false,
    grid: 2,
    locations: L,
    fps: 30,
    frames,
    maxlen,
    stride: maxlen,
    lastN: 1,
    backbone: 'builtin',
    backend: 'cpu',
    label: 0,
    prediction: 0,
    scores: [0.5, 0.5],
    clips,
    video: null,
    cached: false,
  };
}

test('the compare address round-trips through the router, paths and the pair included', () => {
  const state = {
    models: ['/r/a b.h5', '/r/c,d.h5'.replace(',', '_'), '/r/e.npz'],
    source: { kind: 'dataset', dir: '/d/feat s', split: 'test', index: 3 } as const,
    frame: 12,
    pair: [2, 0] as [number, number],
  };
  const route = parseRoute(compareHash(state));
  assert.equal(route.view, 'compare');
  assert.ok('params' in route);
  assert.deepEqual(parseCompare(route.params), state);
  // Defaults are left out; a bad pair or a fourth model is dropped, never thrown.
  assert.equal(
    compareHash({ ...state, models: state.models.slice(0, 2), frame: null, pair: [0, 1] }),
    '#/compare?models=%2Fr%2Fa%20b.h5%2C%2Fr%2Fc_d.h5&dataset=%2Fd%2Ffeat%20s&split=test&index=3',
  );
  const bad = parseCompare({ models: '/a,/b,/c,/d', video: '/v.mp4', pair: '1,7', frame: 'x' });
  assert.deepEqual(bad, {
    models: ['/a', '/b', '/c'],
    source: { kind: 'video', path: '/v.mp4' },
    frame: null,
    pair: [0, 1],
  });
});

test('models of another maxlen align by frame; frames one model has no step for are gaps', () => {
  // A: clips [0,4) [4,8) of a 9-row video, row 8 in none; B: one clip [0,6) then [3,9): rows 0..8.
  const a = result([clip(0, 4, 0, 0), clip(4, 4, 1, 1)], 9, 4);
  const b = result([clip(0, 6, 0, 0), clip(3, 6, 3, 1)], 9, 6);
  const ta = trackOf(a, 9);
  const tb = trackOf(b, 9);
  assert.equal(ta.alpha[8], null);
  assert.deepEqual(Array.from(ta.decision), [0, 0, 0, 0, 1, 1, 1, 1, -1]);
  // B frames 3–5 show its first clip (the first that covers them), 6–8 the second.
  assert.deepEqual(Array.from(tb.decision), [0, 0, 0, 0, 0, 0, 1, 1, 1]);
  const { js, disagree } = pairSeries(ta, tb);
  assert.deepEqual(
    Array.from(js, (v) => (Number.isNaN(v) ? null : v)),
    [0, 0, 0, 0, 1, 1, 1, 1, null],
  );
  assert.deepEqual(disagree, [{ from: 4, to: 6 }]);
  assert.deepEqual(Array.from(differenceAt(ta, tb, 4)?.values ?? []), [0, 1, 0.5, 0.5]);
  assert.equal(differenceAt(ta, tb, 8), null);
});
