/**
 * The fixtures in test/fixtures/reference were made by an independent implementation of the reference code:
 * `glimpse predict` must reproduce every per-step probability and attention weight to 1e-4, on every backend that
 * loads here (the native TensorFlow ones cannot be installed on this machine).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, runGlimpse } from '../support/cli.ts';

interface ExpectedClip {
  start: number;
  probs: number[][];
  alpha: number[][];
}
interface ExpectedVideo {
  index: number;
  label: number | number[];
  prediction?: number;
  scores?: number[];
  clips: ExpectedClip[];
}
interface Expected {
  stride: number;
  last_n: number;
  videos: ExpectedVideo[];
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((row, i) => {
    assert.equal(row.length, b[i].length);
    row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j]))));
  });
  return worst;
}

// '' : no backend forced, so the default order picks one (onnx here: native TensorFlow cannot load).
const CASES = [
  ...['wasm', 'onnx', 'cpu'].flatMap((b) => [
    ['single', b],
    ['multilabel', b],
  ]),
  ['single', ''],
];

for (const [kind, backend] of CASES) {
  test(`predict reproduces the reference fixture: ${kind} on ${backend || 'the default backend'}`, () => {
    const dir = join(FIXTURES, 'reference', kind);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const tmp = mkdtempSync(join(tmpdir(), 'glimpse-fixture-'));
    try {
      const out = join(tmp, 'results.json');
      const r = runGlimpse(
        [
          'predict',
          '--model',
          join(dir, 'model.npz'),
          '--dataset',
          dir,
          '--split',
          'test',
          '--stride',
          String(expected.stride),
          '--last-n',
          String(expected.last_n),
          '--out',
          out,
          ...(backend ? ['--backend', backend] : []),
        ],
        { GLIMPSE_BACKEND: '' },
      );
      assert.equal(r.code, 0, r.stderr);
      const got = JSON.parse(readFileSync(out, 'utf8'));
      if (backend) assert.equal(got.model.backend, backend);
      else assert.ok(['tensorflow-gpu', 'tensorflow', 'onnx'].includes(got.model.backend), got.model.backend);
      assert.equal(got.videos.length, expected.videos.length);
      expected.videos.forEach((ev, i) => {
        const gv = got.videos[i];
        assert.equal(gv.index, ev.index);
        assert.deepEqual(gv.label, ev.label);
        assert.deepEqual(
          gv.clips.map((c: ExpectedClip) => c.start),
          ev.clips.map((c) => c.start),
        );
        ev.clips.forEach((ec, k) => {
          assert.ok(maxAbsDiff(gv.clips[k].probs, ec.probs) <= 1e-4, `video ${i} clip ${k} probs`);
          assert.ok(maxAbsDiff(gv.clips[k].alpha, ec.alpha) <= 1e-4, `video ${i} clip ${k} alpha`);
        });
        if (ev.prediction !== undefined) assert.equal(gv.prediction, ev.prediction, `video ${i} prediction`);
        if (ev.scores) assert.ok(maxAbsDiff([gv.scores], [ev.scores]) <= 1e-4, `video ${i} scores`);
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}
