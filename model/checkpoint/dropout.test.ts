import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import seedrandom from 'seedrandom';
import { forward } from '../network.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../common/options.ts';
import { initParameters } from '../params.ts';
import { dropoutConsumers, toDropoutConvention } from './dropout.ts';
import type { Checkpoint } from './types.ts';

/** Small model with every layer that dropout touches: extra init and output layers, two LSTM layers. */
const OPTIONS: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 6,
  locations: 4,
  dim: 5,
  dimOut: 7,
  nActions: 3,
  nLayersInit: 3,
  nLayersOut: 3,
  lstmLayers: 2,
  ctx2out: true,
  selector: true,
  useDropout: true,
  dropout: 'inverted',
};

function checkpoint(options: ModelOptions): Checkpoint {
  const params = initParameters(options, 1);
  // Weights of order one, so that every layer visibly shapes the output.
  const rng = seedrandom.alea('weights');
  for (const p of params.values()) for (let i = 0; i < p.data.length; i++) p.data[i] = rng() * 1.4 - 0.7;
  return { options, params, classNames: [], training: {}, provenance: {}, featureSpec: null };
}

function predict(ckpt: Checkpoint): Float32Array {
  return tf
    .tidy(() => {
      const params = new Map([...ckpt.params].map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
      const x = tf.randomUniform([4, 2, ckpt.options.locations, ckpt.options.ctxDim], 0, 2, 'float32', 3);
      return forward(params, ckpt.options, { x: x as tf.Tensor4D }, { training: false }).probs;
    })
    .dataSync() as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

test('inverted → non-inverted keeps test-time predictions identical', async () => {
  await tf.setBackend('cpu');
  const inverted = checkpoint(OPTIONS);
  const converted = toDropoutConvention(inverted, 'non-inverted');
  assert.equal(converted.options.dropout, 'non-inverted');
  assert.ok(maxAbsDiff(predict(inverted), predict(converted)) < 1e-5);
  // Relabelling without rescaling changes the predictions: the rescaling is what keeps them.
  const relabelled: Checkpoint = { ...inverted, options: { ...OPTIONS, dropout: 'non-inverted' } };
  assert.ok(maxAbsDiff(predict(inverted), predict(relabelled)) > 1e-3);
});

test('only the consumers of dropped-out activations are scaled, by 2, without touching the input', () => {
  const inverted = checkpoint(OPTIONS);
  const before = new Map([...inverted.params].map(([k, v]) => [k, Float32Array.from(v.data)]));
  const converted = toDropoutConvention(inverted, 'non-inverted');
  const scaled = new Set(dropoutConsumers(OPTIONS));
  assert.deepEqual([...scaled].sort(), [
    'ff_init_2_W',
    'ff_logit_W',
    'ff_logit_h1_W',
    'ff_logit_h2_W',
    'ff_logit_lstm_W',
    'ff_memory_W',
    'ff_memory_l2_W',
    'ff_state_W',
    'ff_state_l2_W',
  ]);
  for (const [name, p] of converted.params) {
    const factor = scaled.has(name) ? 2 : 1;
    assert.deepEqual(
      p.data,
      before.get(name)!.map((v) => v * factor),
      name,
    );
    assert.deepEqual(inverted.params.get(name)!.data, before.get(name), `${name} of the input changed`);
  }
  // And back again.
  const back = toDropoutConvention(converted, 'inverted');
  for (const [name, p] of back.params) assert.deepEqual(p.data, before.get(name), name);
});

test('without dropout only the recorded convention changes', () => {
  const plain = checkpoint({ ...OPTIONS, useDropout: false });
  const converted = toDropoutConvention(plain, 'non-inverted');
  assert.equal(converted.options.dropout, 'non-inverted');
  for (const [name, p] of converted.params) assert.equal(p.data, plain.params.get(name)!.data);
});
