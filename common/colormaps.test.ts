import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { interpolateInferno, interpolateViridis } from 'd3-scale-chromatic';
import {
  attentionCentroid,
  blendOverlay,
  normaliseMap,
  colormapLut,
  COLORMAPS,
  normalisedEntropy,
  upsampleAttention,
} from './colormaps.ts';

function hex(colour: string): number[] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(colour);
  assert.ok(m, colour);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

test('viridis and inferno are within one level of matplotlib (d3 carries its 256-entry tables)', () => {
  for (const [name, reference] of [
    ['viridis', interpolateViridis],
    ['inferno', interpolateInferno],
  ] as const) {
    const lut = colormapLut(name);
    let worst = 0;
    for (let i = 0; i < 256; i++) {
      const want = hex(reference(i / 255));
      for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(lut[i * 3 + ch] - want[ch]));
    }
    assert.ok(worst <= 1, `${name}: worst channel error ${worst} levels`);
  }
});

test('jet, spotlight and rdbu hit their known anchors', () => {
  const at = (name: (typeof COLORMAPS)[number], i: number) =>
    Array.from(colormapLut(name).subarray(i * 3, i * 3 + 3));
  assert.deepEqual(at('jet', 0), [0, 0, 128]);
  assert.deepEqual(at('jet', 255), [128, 0, 0]);
  // matplotlib jet(0.5) = (0.4904, 1, 0.4776).
  const mid = at('jet', 128);
  assert.ok(Math.abs(mid[0] - 125) <= 2 && mid[1] === 255 && Math.abs(mid[2] - 122) <= 2, String(mid));
  assert.deepEqual(at('spotlight', 0), [0, 0, 0]);
  assert.deepEqual(at('spotlight', 200), [200, 200, 200]);
  assert.deepEqual(at('rdbu', 0), [0x67, 0x00, 0x1f]);
  assert.deepEqual(at('rdbu', 255), [0x05, 0x30, 0x61]);
  for (const name of COLORMAPS) assert.equal(colormapLut(name).length, 768);
  assert.throws(() => colormapLut('nope' as 'jet'), /unknown colormap "nope"/);
});

test('nearest upsampling shows the true K×K cells', () => {
  const K = 3;
  const alpha = Array.from({ length: 9 }, (_, i) => i / 36);
  const map = upsampleAttention(alpha, K, 30, 15, false);
  assert.equal(map.length, 450);
  for (let y = 0; y < 15; y++)
    for (let x = 0; x < 30; x++)
      assert.equal(map[y * 30 + x], Math.fround(alpha[Math.floor(y / 5) * K + Math.floor(x / 10)]));
  assert.throws(() => upsampleAttention([1, 2], 3, 4, 4, false), /2 values, expected K² = 9/);
});

test('smooth upsampling equals scipy: bilinear zoom then gaussian_filter(σ = 20 px at 224)', (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import scipy.ndimage'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('scipy is not installed for /usr/bin/python3');
  const K = 7;
  const alpha = Array.from({ length: 49 }, (_, i) => ((i * 37) % 11) + (i === 24 ? 30 : 0));
  const width = 160;
  const height = 120;
  const script = `
import json, sys, numpy as np, scipy.ndimage as ndi
a = np.array(json.loads(sys.argv[1]), dtype=np.float64).reshape(7, 7)
w, h = ${width}, ${height}
up = ndi.zoom(a, (h / 7, w / 7), order=1, mode='nearest', grid_mode=True)
out = ndi.gaussian_filter(up, (20 * h / 224, 20 * w / 224), mode='reflect', truncate=4.0)
print(json.dumps(out.ravel().tolist()))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(alpha)], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const want = JSON.parse(run.stdout) as number[];
  const got = upsampleAttention(alpha, K, width, height, true);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  // The Gaussian's discrete taps differ by rounding of the radius only.
  assert.ok(worst < 0.02, `worst difference ${worst} (values up to ${Math.max(...want)})`);
});

test('entropy is 0 on one cell and 1 when uniform; the centroid is in grid units', () => {
  const one = new Float32Array(49);
  one[8] = 1; // row 1, col 1
  assert.equal(normalisedEntropy(one), 0);
  assert.ok(Math.abs(normalisedEntropy(new Float32Array(49).fill(1 / 49)) - 1) < 1e-6);
  assert.deepEqual(attentionCentroid(one, 7), { x: 1.5, y: 1.5 });
  const two = new Float32Array(49);
  two[0] = 0.5;
  two[48] = 0.5;
  assert.deepEqual(attentionCentroid(two, 7), { x: 3.5, y: 3.5 });
  assert.ok(Math.abs(normalisedEntropy(two) - Math.log(2) / Math.log(49)) < 1e-6);
});

test('blendOverlay: colour maps mix by opacity, the spotlight darkens where attention is low', () => {
  const map = normaliseMap(new Float32Array([0, 2, 4]));
  assert.deepEqual(Array.from(map), [0, 0.5, 1]);
  const rgb = new Uint8Array([100, 100, 100, 100, 100, 100, 100, 100, 100]);
  blendOverlay(rgb, 3, map, 'jet', 0.5);
  const jet = colormapLut('jet');
  assert.deepEqual(Array.from(rgb.subarray(6, 9)), [Math.round(50 + jet[765] / 2), 50, 50]);
  const rgba = new Uint8Array([200, 200, 200, 255, 200, 200, 200, 255, 200, 200, 200, 255]);
  blendOverlay(rgba, 4, map, 'spotlight', 1);
  assert.deepEqual(Array.from(rgba), [0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255]);
  assert.throws(() => blendOverlay(new Uint8Array(5), 3, map, 'jet', 1), /5 bytes are not 3 pixels/);
});
