/**
 * The analytic gradient of the full training objective against central finite differences, per parameter
 * family, on small models that switch on every option of the reference and both extensions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from './backend.ts';
import { dataLoss, weightDecay } from './loss.ts';
import { AttentionModel } from './model.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../common/options.ts';

const T = 4;
const B = 3;

function objective(model: AttentionModel, x: tf.Tensor4D, labels: tf.Tensor, mask: tf.Tensor2D): tf.Scalar {
  const out = model.run(x, true, mask, 7);
  const targets = { labels: labels as tf.Tensor1D | tf.Tensor2D, mask };
  const data = dataLoss(out.probs, out.alphas, targets, model.options.multilabel, 0.3);
  return tf.add(data, weightDecay(model.variables.values(), 0.01)) as tf.Scalar;
}

async function checkFamilies(options: ModelOptions): Promise<void> {
  const model = AttentionModel.initialise(options, 3);
  // Larger weights than the 0.01·N(0,1) init so that every path carries gradient above float32 noise.
  for (const v of model.variables.values())
    v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 11)));
  const { ctxDim: D, locations: L, nActions: C } = options;
  const x = tf.relu(tf.randomNormal([T, B, L, D], 0, 1, 'float32', 5)) as tf.Tensor4D;
  const labels = options.multilabel
    ? tf.tensor2d([1, 0, 1, 0, 1, 1, 0, 0, 0], [B, C])
    : tf.tensor1d([0, 2, 1], 'int32');
  // The last column is padding, as in the reference's partial last batch.
  const mask = tf.tensor2d(
    Array.from({ length: T * B }, (_, i) => (i % B === B - 1 ? 0 : 1)),
    [T, B],
  );

  const varList = [...model.variables.values()];
  const { grads } = tf.variableGrads(() => objective(model, x, labels, mask), varList);
  const eps = 1e-2;
  for (const [name, v] of model.variables) {
    const g = grads[v.name];
    assert.ok(g, `no gradient for ${name}`);
    const direction = tf.randomNormal(v.shape, 0, 1, 'float32', name.length * 31 + 1);
    const analytic = (await tf.sum(tf.mul(g, direction)).data())[0];
    const original = v.clone();
    v.assign(tf.add(original, tf.mul(direction, eps)));
    const plus = (await objective(model, x, labels, mask).data())[0];
    v.assign(tf.sub(original, tf.mul(direction, eps)));
    const minus = (await objective(model, x, labels, mask).data())[0];
    v.assign(original);
    const numeric = (plus - minus) / (2 * eps);
    const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1e-2);
    assert.ok(
      Math.abs(analytic - numeric) / scale < 3e-2,
      `${name}: analytic ${analytic} vs finite difference ${numeric}`,
    );
  }
  model.dispose();
}

test('gradients match finite differences: every reference option on', async () => {
  await chooseBackend('cpu');
  await checkFamilies({
    ...DEFAULT_MODEL_OPTIONS,
    ctxDim: 6,
    locations: 4,
    dim: 5,
    dimOut: 4,
    nActions: 3,
    nLayersAtt: 3,
    nLayersOut: 2,
    nLayersInit: 2,
    selector: true,
    ctx2out: true,
    temperatureInverse: 1.5,
    dropout: 'non-inverted',
  });
});

test('gradients match finite differences: multi-label, Eq. 4 attention, two LSTM layers', async () => {
  await chooseBackend('cpu');
  await checkFamilies({
    ...DEFAULT_MODEL_OPTIONS,
    ctxDim: 6,
    locations: 4,
    dim: 5,
    dimOut: 4,
    nActions: 3,
    multilabel: true,
    attention: 'eq4',
    lstmLayers: 2,
    dropout: 'inverted',
  });
});
