import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  argmax,
  attentionDifference,
  disagreementRuns,
  jsDivergence,
  jsTimeline,
  symmetricDisplay,
} from './attention-compare.ts';

/** JS divergence written out directly from its definition with natural logs, then converted to bits. */
function jsByDefinition(p: number[], q: number[]): number {
  const kl = (x: number[], m: number[]) =>
    x.reduce((s, xi, i) => (xi > 0 ? s + xi * Math.log(xi / m[i]) : s), 0);
  const m = p.map((pi, i) => (pi + q[i]) / 2);
  return (kl(p, m) + kl(q, m)) / 2 / Math.LN2;
}

test('JS divergence: 0 for equal maps, 1 bit for disjoint ones, symmetric, equal to the definition', () => {
  assert.equal(jsDivergence([0.25, 0.25, 0.5], [0.25, 0.25, 0.5]), 0);
  assert.equal(jsDivergence([1, 0, 0, 0], [0, 0, 0.5, 0.5]), 1);
  const p = [0.7, 0.2, 0.1, 0];
  const q = [0.1, 0.3, 0.3, 0.3];
  assert.ok(Math.abs(jsDivergence(p, q) - jsDivergence(q, p)) < 1e-15);
  assert.ok(Math.abs(jsDivergence(p, q) - jsByDefinition(p, q)) < 1e-12);
  // SciPy: scipy.spatial.distance.jensenshannon([.7,.2,.1,0],[.1,.3,.3,.3], base=2) ** 2
  assert.ok(Math.abs(jsDivergence(p, q) - 0.3775809) < 1e-6, String(jsDivergence(p, q)));
});

test('JS divergence renormalises float32 attention and refuses maps of different sizes', () => {
  const p = Float32Array.from([0.5, 0.5]);
  assert.ok(Math.abs(jsDivergence(p, [1, 1]) - 0) < 1e-12);
  assert.throws(() => jsDivergence([1, 0], [1, 0, 0]), /2 locations against 3/);
});

test('difference map and its symmetric display: 0.5 is no difference, the largest |Δ| is 0 or 1', () => {
  const d = attentionDifference([0.5, 0.3, 0.2, 0], [0.1, 0.3, 0.2, 0.4]);
  assert.deepEqual(
    Array.from(d, (v) => Number(v.toFixed(6))),
    [0.4, 0, 0, -0.4],
  );
  const { values, max } = symmetricDisplay(d);
  assert.ok(Math.abs(max - 0.4) < 1e-6);
  assert.deepEqual(
    Array.from(values, (v) => Number(v.toFixed(6))),
    [1, 0.5, 0.5, 0],
  );
  const equal = symmetricDisplay(new Float32Array(3));
  assert.equal(equal.max, 0);
  assert.deepEqual(Array.from(equal.values), [0.5, 0.5, 0.5]);
  // An asymmetric difference keeps its scale symmetric: +0.1 against the largest −0.4.
  const skew = symmetricDisplay([0.1, -0.4]);
  assert.ok(Math.abs(skew.values[0] - 0.625) < 1e-6 && skew.values[1] === 0);
});

test('JS timeline has gaps where either model has no step', () => {
  const a = [[1, 0], null, [0.5, 0.5], [0, 1]];
  const b = [[1, 0], [0, 1], null];
  const js = jsTimeline(a, b);
  assert.equal(js.length, 4);
  assert.equal(js[0], 0);
  assert.ok(Number.isNaN(js[1]) && Number.isNaN(js[2]) && Number.isNaN(js[3]));
});

test('disagreement runs: only frames where both decide and differ', () => {
  assert.deepEqual(disagreementRuns([0, 1, 1, -1, 2, 2, 0], [0, 0, 2, 1, 1, 2, 1, 1]), [
    { from: 1, to: 3 },
    { from: 4, to: 5 },
    { from: 6, to: 7 },
  ]);
  assert.equal(argmax([0.1, 0.7, 0.7]), 1);
  assert.equal(argmax([]), -1);
});
