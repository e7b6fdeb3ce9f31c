/**
 * The worker pool gives the numbers of the single-thread path (same micro-batches, same order), reports worker
 * failures as one-line errors, and never keeps the process alive on its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../backend.ts';
import { AttentionModel } from '../model.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../common/options.ts';
import { Optimizer } from '../optimizers.ts';
import type { NamedArrays } from '../tensors.ts';
import { type MicroBatch, trainStep } from '../train-step.ts';
import { WorkerPool } from './pool.ts';

const BACKEND = 'wasm';
const T = 5;
const L = 6;
const D = 12;

const OPTIONS: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: D,
  locations: L,
  dim: 8,
  dimOut: 7,
  nActions: 4,
  nLayersAtt: 2,
  selector: true,
  ctx2out: true,
};

function microBatches(sizes: number[], multilabel: boolean): MicroBatch[] {
  let seed = 1;
  const next = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  return sizes.map((B, i) => ({
    x: Float32Array.from({ length: T * B * L * D }, () => Math.max(0, next() * 2 - 0.7)),
    shape: [T, B, L, D],
    labels: multilabel
      ? Float32Array.from({ length: B * OPTIONS.nActions }, () => (next() < 0.4 ? 1 : 0))
      : Int32Array.from({ length: B }, (_, b) => (b + i) % OPTIONS.nActions),
    dropoutSeed: 100 + i,
  }));
}

function maxDifference(a: NamedArrays, b: NamedArrays): number {
  let max = 0;
  for (const [name, p] of a) {
    const q = b.get(name);
    assert.ok(q, `parameter ${name} missing`);
    for (let k = 0; k < p.data.length; k++) max = Math.max(max, Math.abs(p.data[k] - q.data[k]));
  }
  return max;
}

for (const multilabel of [false, true]) {
  test(`pooled training steps equal single-thread ones (${multilabel ? 'multi-label' : 'single-label'})`, async () => {
    await chooseBackend(BACKEND);
    const options = { ...OPTIONS, multilabel };
    const batches = microBatches([3, 2, 3], multilabel);
    const loss = { decayC: 1e-3, alphaC: 0.2 };
    const local = AttentionModel.initialise(options, 7);
    const pooled = AttentionModel.initialise(options, 7);
    const localOpt = new Optimizer('adam-reference', 1e-4);
    const pooledOpt = new Optimizer('adam-reference', 1e-4);
    const pool = await WorkerPool.start({
      workers: 2,
      backend: BACKEND,
      options,
      params: await pooled.parameters(),
    });
    try {
      for (let step = 0; step < 3; step++) {
        const a = await trainStep(local, localOpt, batches.length, (i) => batches[i], loss);
        const b = await trainStep(pooled, pooledOpt, batches.length, (i) => batches[i], loss, pool);
        assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(a), `step ${step}: loss ${a} vs ${b}`);
      }
      const before = await AttentionModel.initialise(options, 7).parameters();
      assert.ok(maxDifference(before, await local.parameters()) > 1e-5, 'training moved no parameter');
      assert.ok(maxDifference(await local.parameters(), await pooled.parameters()) <= 1e-6);
    } finally {
      await pool.close();
      localOpt.dispose();
      pooledOpt.dispose();
    }
  });
}

test('pooled inference equals the single-thread forward pass', async () => {
  await chooseBackend(BACKEND);
  const model = AttentionModel.initialise(OPTIONS, 3);
  const pool = await WorkerPool.start({
    workers: 2,
    backend: BACKEND,
    options: OPTIONS,
    params: await model.parameters(),
  });
  try {
    const batches = microBatches([4, 3], false);
    const results = await Promise.all(batches.map((b) => pool.infer(b.x, b.shape)));
    batches.forEach((b, i) => {
      const [probs, alphas] = tf.tidy(() => {
        const out = model.run(tf.tensor4d(b.x, b.shape), false);
        return [out.probs.dataSync(), out.alphas.dataSync()];
      });
      assert.equal(results[i].probs.length, T * b.shape[1] * OPTIONS.nActions);
      assert.equal(results[i].alphas.length, T * b.shape[1] * L);
      probs.forEach((p, k) => assert.ok(Math.abs(p - results[i].probs[k]) <= 1e-6));
      alphas.forEach((a, k) => assert.ok(Math.abs(a - results[i].alphas[k]) <= 1e-6));
    });
    // New parameters reach the workers.
    const zeroed = await model.parameters();
    for (const p of zeroed.values()) p.data.fill(0);
    await pool.setParameters(zeroed);
    const uniform = await pool.infer(batches[0].x, batches[0].shape);
    uniform.probs.forEach((p) => assert.ok(Math.abs(p - 1 / OPTIONS.nActions) < 1e-6));
  } finally {
    await pool.close();
    model.dispose();
  }
});

test('a failing request rejects with one line and the pool stays usable; closed pools refuse work', async () => {
  await chooseBackend(BACKEND);
  const model = AttentionModel.initialise(OPTIONS, 3);
  const pool = await WorkerPool.start({
    workers: 1,
    backend: BACKEND,
    options: OPTIONS,
    params: await model.parameters(),
  });
  const [good] = microBatches([2], false);
  try {
    await assert.rejects(
      pool.infer(new Float32Array(T * 2 * (L + 1) * D), [T, 2, L + 1, D]),
      (err: Error) => {
        assert.match(err.message, /features are 7×12 per frame but the model expects 6×12/);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
    const ok = await pool.infer(good.x, good.shape);
    assert.equal(ok.probs.length, T * 2 * OPTIONS.nActions);
  } finally {
    await pool.close();
    model.dispose();
  }
  await assert.rejects(pool.infer(good.x, good.shape), /closed/);
});

test('an open, idle pool does not keep the process from exiting', () => {
  const script = `
    import { chooseBackend } from './model/backend.ts';
    import { AttentionModel } from './model/model.ts';
    import { DEFAULT_MODEL_OPTIONS } from './common/options.ts';
    import { WorkerPool } from './model/parallel/pool.ts';
    await chooseBackend('${BACKEND}');
    const options = { ...DEFAULT_MODEL_OPTIONS, ctxDim: 4, locations: 2, dim: 3, dimOut: 3, nActions: 2 };
    const pool = await WorkerPool.start({ workers: 2, backend: '${BACKEND}', options,
      params: await AttentionModel.initialise(options, 1).parameters() });
    await pool.infer(new Float32Array(2 * 1 * 2 * 4), [2, 1, 2, 4]);
    console.log('started', pool.size);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.error, undefined, 'the process did not exit by itself');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /started 2/);
});
