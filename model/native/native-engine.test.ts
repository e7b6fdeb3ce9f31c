/**
 * The native matrix engine (backend `onnx`): its products against float64 sums, the context projection and its
 * gradients against the plain tfjs expression, a finite-difference check of the full objective through it, the
 * fused recurrence against the tfjs one, and a pooled training step (workers on the engine too) against one thread.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../common/options.ts';
import { chooseBackend } from '../backend.ts';
import { dataLoss, weightDecay } from '../loss.ts';
import { AttentionModel } from '../model.ts';
import { forward } from '../network.ts';
import { Optimizer } from '../optimizers.ts';
import { poolBackend, WorkerPool } from '../parallel/pool.ts';
import { type MicroBatch, trainStep } from '../train-step.ts';
import { contextAttention } from './attention.ts';
import { nativeMatMul, type NativeMatMul } from './matmul-engine.ts';
import { contextProjection } from './projection.ts';

function seeded(n: number, seed: number, offset = 0.5): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - offset;
  });
}

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / Math.max(scale, 1e-12);
}

test('the engine loads with the onnx backend and its products equal float64 sums', async () => {
  const choice = await chooseBackend('onnx');
  assert.equal(choice.name, 'onnx');
  assert.equal(choice.tfBackend, 'wasm');
  const engine = nativeMatMul();
  assert.ok(engine, 'no native engine after choosing onnx');
  assert.equal(poolBackend('wasm'), 'onnx');
  const [n, d, e] = [37, 19, 23];
  const x = seeded(n * d, 3);
  const w = seeded(d * e, 5);
  const b = seeded(e, 7);
  const g = seeded(n * e, 11);
  const p = engine.project(x, w, b, n, d, e);
  const expectP = new Float64Array(n * e);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < e; j++) {
      let s = b[j];
      for (let k = 0; k < d; k++) s += x[i * d + k] * w[k * e + j];
      expectP[i * e + j] = s;
    }
  assert.ok(maxRelativeDifference(p, expectP) < 1e-6);
  const dw = engine.weightGradient(x, g, n, d, e);
  const expectDw = new Float64Array(d * e);
  for (let k = 0; k < d; k++)
    for (let j = 0; j < e; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i * d + k] * g[i * e + j];
      expectDw[k * e + j] = s;
    }
  assert.ok(maxRelativeDifference(dw, expectDw) < 1e-6);
});

test('the native context projection and its gradients equal the tfjs expression', async () => {
  await chooseBackend('onnx');
  const [n, d, e] = [150, 64, 48];
  const x = tf.tensor2d(seeded(n * d, 13, 0), [n, d]);
  const w = tf.tensor2d(seeded(d * e, 17), [d, e]);
  const b = tf.tensor1d(seeded(e, 19));
  const r = tf.tensor2d(seeded(n * e, 23), [n, e]);
  // A loss that is not linear in P, so dP depends on P.
  const loss = (project: (w: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (wt: tf.Tensor, bt: tf.Tensor) =>
    tf.sum(tf.mul(tf.tanh(project(wt, bt)), r)) as tf.Scalar;
  const native = loss((wt, bt) => contextProjection(x, wt as tf.Tensor2D, bt));
  const plain = loss((wt, bt) => tf.add(tf.matMul(x, wt as tf.Tensor2D), bt));
  const [pn, pp] = [contextProjection(x, w, b), tf.add(tf.matMul(x, w), b)];
  assert.ok(maxRelativeDifference(await pn.data(), await pp.data()) < 1e-5);
  const gn = tf.grads(native)([w, b]);
  const gp = tf.grads(plain)([w, b]);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(gn[i].shape, gp[i].shape);
    assert.ok(maxRelativeDifference(await gn[i].data(), await gp[i].data()) < 1e-4, `gradient ${i}`);
  }
  tf.dispose([x, w, b, r, pn, pp, ...gn, ...gp]);
});

const OPTIONS: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 10,
  locations: 6,
  dim: 7,
  dimOut: 5,
  nActions: 3,
  nLayersAtt: 2,
  selector: true,
  ctx2out: true,
};

for (const nLayersAtt of [1, 2]) {
  // One attention layer: the fused path (tanh and U_att on the engine); two: the projection alone on it.
  test(`gradients through the native attention match finite differences (${nLayersAtt} layer(s))`, async () => {
    await chooseBackend('onnx');
    const [T, B] = [4, 3];
    const model = AttentionModel.initialise({ ...OPTIONS, nLayersAtt }, 3);
    for (const v of model.variables.values())
      v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 11)));
    const x = tf.relu(
      tf.randomNormal([T, B, OPTIONS.locations, OPTIONS.ctxDim], 0, 1, 'float32', 5),
    ) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    const mask = tf.ones([T, B]) as tf.Tensor2D;
    const objective = (): tf.Scalar => {
      const out = model.run(x, true, mask, 7);
      const data = dataLoss(out.probs, out.alphas, { labels, mask }, false, 0.3);
      return tf.add(data, weightDecay(model.variables.values(), 0.01)) as tf.Scalar;
    };
    const { grads } = tf.variableGrads(objective, [...model.variables.values()]);
    const eps = 1e-2;
    const names = [
      'decoder_Wc_att',
      'decoder_b_att',
      'decoder_Wd_att',
      'decoder_U_att',
      'decoder_c_tt',
      'decoder_W',
      'decoder_U',
    ];
    for (const name of nLayersAtt > 1 ? [...names, 'decoder_W_att_1'] : names) {
      const v = model.variables.get(name);
      assert.ok(v, name);
      const direction = tf.randomNormal(v.shape, 0, 1, 'float32', name.length * 31 + 1);
      const analytic = (await tf.sum(tf.mul(grads[v.name], direction)).data())[0];
      const original = v.clone();
      v.assign(tf.add(original, tf.mul(direction, eps)));
      const plus = (await objective().data())[0];
      v.assign(tf.sub(original, tf.mul(direction, eps)));
      const minus = (await objective().data())[0];
      v.assign(original);
      const numeric = (plus - minus) / (2 * eps);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1e-2);
      assert.ok(
        Math.abs(analytic - numeric) / scale < 3e-2,
        `${name}: analytic ${analytic} vs finite difference ${numeric}`,
      );
    }
    model.dispose();
  });
}

test('the fused native attention and its gradients equal the tfjs attention', async () => {
  await chooseBackend('onnx');
  const [T, B, L, D] = [3, 2, OPTIONS.locations, OPTIONS.ctxDim];
  const model = AttentionModel.initialise({ ...OPTIONS, nLayersAtt: 1 }, 5);
  for (const v of model.variables.values())
    v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 13)));
  const x = tf.relu(tf.randomNormal([T, B, L, D], 0, 1, 'float32', 17)) as tf.Tensor4D;
  const h = tf.randomNormal([B, OPTIONS.dim], 0, 1, 'float32', 19) as tf.Tensor2D;
  const names = ['decoder_Wc_att', 'decoder_b_att', 'decoder_Wd_att', 'decoder_U_att', 'decoder_c_tt'];
  const vars = names.map((n) => model.variables.get(n) as tf.Variable);
  const run = (engine: NativeMatMul | null) => {
    const attention = contextAttention((n) => model.variables.get(n) as tf.Tensor, model.options, x, engine);
    // Every step, and a non-linear use of each, so every gradient path carries weight.
    const steps = Array.from({ length: T }, (_, t) => {
      const e = attention.energies(t, tf.mul(h, t + 1) as tf.Tensor2D);
      const z = attention.context(t, tf.softmax(e) as tf.Tensor2D);
      return tf.add(tf.sum(tf.mul(tf.sin(e), t + 1)), tf.sum(tf.cos(z)));
    });
    return tf.addN(steps) as tf.Scalar;
  };
  const engine = nativeMatMul();
  assert.ok(engine);
  const fusedGrads = tf.variableGrads(() => run(engine), vars);
  const plainGrads = tf.variableGrads(() => run(null), vars);
  assert.ok(Math.abs((await fusedGrads.value.data())[0] - (await plainGrads.value.data())[0]) < 1e-4);
  for (const v of vars) {
    const a = await fusedGrads.grads[v.name].data();
    const b = await plainGrads.grads[v.name].data();
    assert.ok(maxRelativeDifference(a, b) < 1e-4, v.name);
  }
  model.dispose();
});

for (const selector of [false, true]) {
  test(`the fused native recurrence equals the tfjs recurrence, values and gradients (selector ${selector})`, async () => {
    await chooseBackend('onnx');
    const engine = nativeMatMul();
    assert.ok(engine);
    const [T, B, L, D] = [4, 3, OPTIONS.locations, OPTIONS.ctxDim];
    // Every path that reaches the recurrence carries weight: the temperature, the context into the output (ctx2out),
    // the attention penalty (alpha_c) and a mask that ends one clip early.
    const options = { ...OPTIONS, nLayersAtt: 1, selector, temperatureInverse: 0.7 };
    const model = AttentionModel.initialise(options, 9);
    for (const v of model.variables.values())
      v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 23)));
    const x = tf.relu(tf.randomNormal([T, B, L, D], 0, 1, 'float32', 29)) as tf.Tensor4D;
    const mask = tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1], [T, B]);
    const labels = tf.tensor1d([2, 0, 1], 'int32');
    const run = (withEngine: NativeMatMul | null) => {
      const out = forward(
        model.variables,
        options,
        { x, mask },
        { training: true, dropoutSeed: 3, engine: withEngine },
      );
      return { out, loss: dataLoss(out.probs, out.alphas, { labels, mask }, false, 0.3) };
    };
    const [fused, plain] = [run(engine), run(null)];
    assert.ok(maxRelativeDifference(await fused.out.probs.data(), await plain.out.probs.data()) < 1e-5);
    assert.ok(maxRelativeDifference(await fused.out.alphas.data(), await plain.out.alphas.data()) < 1e-5);
    const vars = [...model.variables.values()];
    const fusedGrads = tf.variableGrads(() => run(engine).loss, vars);
    const plainGrads = tf.variableGrads(() => run(null).loss, vars);
    const [a, b] = [(await fusedGrads.value.data())[0], (await plainGrads.value.data())[0]];
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `loss ${a} vs ${b}`);
    for (const [name, v] of model.variables) {
      const g = plainGrads.grads[v.name];
      assert.ok(g, name);
      assert.deepEqual(fusedGrads.grads[v.name].shape, g.shape, name);
      const [got, want] = [await fusedGrads.grads[v.name].data(), await g.data()];
      if (name === 'decoder_c_tt') {
        // Zero but for rounding (the softmax does not change when every energy moves by c_tt): both must be tiny.
        assert.ok(Math.abs(got[0]) < 1e-5 && Math.abs(want[0]) < 1e-5, `${name}: ${got[0]} vs ${want[0]}`);
        continue;
      }
      const diff = maxRelativeDifference(got, want);
      assert.ok(diff < 1e-4, `${name}: ${diff}`);
    }
    model.dispose();
  });
}

test('a pooled training step on the engine equals one thread', async () => {
  await chooseBackend('onnx');
  const [T, L, D] = [5, OPTIONS.locations, OPTIONS.ctxDim];
  const batches: MicroBatch[] = [3, 2].map((B, i) => ({
    x: seeded(T * B * L * D, 29 + i, 0.2).map((v) => Math.max(0, v)),
    shape: [T, B, L, D],
    labels: Int32Array.from({ length: B }, (_, b) => (b + i) % OPTIONS.nActions),
    dropoutSeed: 100 + i,
  }));
  const loss = { decayC: 1e-3, alphaC: 0.2 };
  const local = AttentionModel.initialise(OPTIONS, 7);
  const pooled = AttentionModel.initialise(OPTIONS, 7);
  const [localOpt, pooledOpt] = [new Optimizer('adam', 1e-2), new Optimizer('adam', 1e-2)];
  const backend = poolBackend(tf.getBackend());
  assert.equal(backend, 'onnx');
  const pool = await WorkerPool.start({
    workers: 2,
    backend,
    options: OPTIONS,
    params: await pooled.parameters(),
  });
  try {
    for (let step = 0; step < 2; step++) {
      const a = await trainStep(local, localOpt, batches.length, (i) => batches[i], loss);
      const b = await trainStep(pooled, pooledOpt, batches.length, (i) => batches[i], loss, pool);
      assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(a), `step ${step}: loss ${a} vs ${b}`);
    }
    const [pa, pb] = [await local.parameters(), await pooled.parameters()];
    for (const [name, p] of pa) {
      const q = pb.get(name);
      assert.ok(q, name);
      assert.ok(maxRelativeDifference(q.data, p.data) < 1e-4, name);
    }
  } finally {
    await pool.close();
    localOpt.dispose();
    pooledOpt.dispose();
    local.dispose();
    pooled.dispose();
  }
});
