/**
 * Initialisation: 'reference' draws exactly what it drew before the `init` option existed (digests pinned from
 * that code), and 'glorot' draws PyTorch's default U(±1/√n) with the n this file states per parameter.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../common/options.ts';
import { initParameters, parameterSpecs } from './params.ts';
import type { NamedArrays } from './tensors.ts';

const BASIC: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 24,
  locations: 16,
  dim: 16,
  dimOut: 16,
  nActions: 4,
};
const EVERY_LAYER: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 12,
  locations: 9,
  dim: 12,
  dimOut: 8,
  nActions: 3,
  nLayersAtt: 2,
  nLayersOut: 2,
  nLayersInit: 2,
  selector: true,
  ctx2out: true,
  lstmLayers: 2,
};
const EQ4: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 10,
  locations: 4,
  dim: 6,
  dimOut: 5,
  nActions: 2,
  attention: 'eq4',
  selector: true,
};

function digest(params: NamedArrays): string {
  const h = createHash('sha256');
  for (const [name, a] of params) {
    h.update(`${name}:${a.shape.join(',')};`);
    h.update(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  }
  return h.digest('hex');
}

test("'reference' draws bit for bit what the code drew before the init option (seed 7)", () => {
  // sha256 over names, shapes and float32 bytes, computed with model/params.ts of commit a9e9921.
  const pinned: [ModelOptions, string][] = [
    [BASIC, '4b1be0876ab4cc17e9b9bd89de02f3f8a6f7215c7f01514dc0bb107e8eaca31c'],
    [EVERY_LAYER, '0ad94eb8b13c870615e7e6117b3822fdb0558beba40b55bb6243360438e248a8'],
    [EQ4, '00ec48bef334dbe8da018569dc17f50337cf8313ec1f33157c2f0fde061ac515'],
  ];
  for (const [options, expected] of pinned) {
    assert.equal(options.init, 'reference', 'the default');
    assert.equal(digest(initParameters(options, 7)), expected);
  }
});

/** n of U(±1/√n) as PyTorch's nn.Linear (fan-in) and nn.LSTM (hidden size) would draw each parameter. */
function torchFan(name: string, o: ModelOptions): number {
  if (/^decoder(_l\d+)?_[WUb]$/.test(name)) return o.dim; // the LSTM's weights and bias
  if (/^ff_logit_(h\d+_[Wb]|W|b)$/.test(name)) return o.dimOut; // layers fed by the deep output
  if (/^(decoder_(Wd_att|W_loc|W_sel|b_sel)|ff_logit_lstm_[Wb])$/.test(name)) return o.dim; // fed by h
  if (/^(ff_init_\d+|ff_(state|memory)(_l\d+)?|ff_logit_ctx)_[Wb]$/.test(name)) return o.ctxDim;
  if (/^decoder_(Wc_att|b_att(_\d+)?|W_att_\d+|U_att|c_tt)$/.test(name)) return o.ctxDim; // fed by x or D-wide
  throw new Error(`no expected fan for ${name}`);
}

// Wide enough layers that every weight has hundreds of draws; D, dim and dim_out differ, so a wrong fan shows.
const WIDE: ModelOptions = {
  ...EVERY_LAYER,
  ctxDim: 96,
  dim: 40,
  dimOut: 24,
  nActions: 5,
  locations: 16,
  init: 'glorot',
};

test("'glorot' draws U(±1/√n) per parameter: the bound holds, and mean and variance match", () => {
  for (const options of [WIDE, { ...EQ4, init: 'glorot' as const }]) {
    const params = initParameters(options, 11);
    for (const spec of parameterSpecs(options)) {
      const { data } = params.get(spec.name)!;
      const bound = 1 / Math.sqrt(torchFan(spec.name, options));
      const n = data.length;
      let max = 0;
      let sum = 0;
      let squares = 0;
      for (const v of data) {
        max = Math.max(max, Math.abs(v));
        sum += v;
        squares += v * v;
      }
      assert.ok(max <= bound, `${spec.name}: |x| reaches ${max} > bound ${bound}`);
      if (n < 20) continue; // too few draws for moments; the bound was checked
      // U(±b): variance b²/3, the sample mean of x² has relative s.d. 0.89/√n; the mean has s.d. b/√(3n).
      const variance = squares / n;
      const expected = (bound * bound) / 3;
      const margin = 6 * (0.9 / Math.sqrt(n));
      assert.ok(
        Math.abs(variance / expected - 1) < margin,
        `${spec.name}: variance ${variance} against ${expected} (n ${n})`,
      );
      assert.ok(Math.abs(sum / n) < (6 * bound) / Math.sqrt(3 * n), `${spec.name}: mean ${sum / n}`);
      // The draws fill the interval: the largest is near the bound (all n below 0.8·b has chance 0.8ⁿ).
      assert.ok(max > 0.8 * bound, `${spec.name}: largest |x| ${max} of bound ${bound}`);
    }
  }
});

test("'glorot' is seeded: the same seed gives the same draws, another seed others", () => {
  const glorot: ModelOptions = { ...BASIC, init: 'glorot' };
  assert.equal(digest(initParameters(glorot, 3)), digest(initParameters(glorot, 3)));
  assert.notEqual(digest(initParameters(glorot, 3)), digest(initParameters(glorot, 4)));
  assert.notEqual(digest(initParameters(glorot, 7)), digest(initParameters(BASIC, 7)));
  // Same names and shapes as the reference: only the values differ.
  const a = initParameters(glorot, 3);
  const b = initParameters(BASIC, 3);
  assert.deepEqual(
    [...a].map(([k, v]) => [k, v.shape]),
    [...b].map(([k, v]) => [k, v.shape]),
  );
});
