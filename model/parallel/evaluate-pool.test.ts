/**
 * Evaluation on the worker pool gives exactly the numbers of one thread (same batches, taken in batch order), on
 * the reference fixtures (real HDF5 features and a reference .npz), and a cancelled evaluation leaves no work behind.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseBackend } from '../backend.ts';
import { readCheckpoint } from '../checkpoint/index.ts';
import { openSplit } from '../data/split.ts';
import { evaluateSplit, type EvaluationSettings } from '../evaluate.ts';
import { AttentionModel } from '../model.ts';
import { WorkerPool } from './pool.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/reference/', import.meta.url));

async function fixture(kind: 'single' | 'multilabel') {
  const dir = join(FIXTURES, kind);
  const ckpt = await readCheckpoint(join(dir, 'model.npz'));
  const model = AttentionModel.fromParameters(ckpt.options, ckpt.params);
  const split = await openSplit(dir, 'test', {
    locations: model.options.locations,
    ctxDim: model.options.ctxDim,
    multilabel: model.options.multilabel,
    nClasses: model.options.nActions,
  });
  return { model, split, params: ckpt.params };
}

// Stride 1 and batches of 2: 7 (single) or 2 (multi-label) clips, the last batch short.
const SETTINGS: EvaluationSettings = { maxlen: 30, stride: 1, lastN: 16, batchSize: 2, keepSteps: true };

for (const kind of ['single', 'multilabel'] as const) {
  test(`evaluation on a pool equals one thread exactly (${kind})`, async () => {
    await chooseBackend('wasm');
    const { model, split } = await fixture(kind);
    try {
      const progress: number[] = [];
      const here = await evaluateSplit(model, split, SETTINGS);
      const pooled = await evaluateSplit(model, split, {
        ...SETTINGS,
        workers: 2,
        onProgress: (done) => progress.push(done),
      });
      assert.ok(here.videos.length > 0 && (here.videos[0].clips[0].alpha?.length ?? 0) === 30);
      assert.deepEqual(pooled, here);
      assert.equal(
        progress.at(-1),
        here.videos.reduce((n, v) => n + v.clips.length, 0),
      );
      assert.deepEqual(
        progress,
        [...progress].sort((a, b) => a - b),
      );
      // Without per-step arrays the scores and metrics are still the same.
      const lean = await evaluateSplit(model, split, { ...SETTINGS, keepSteps: false, workers: 2 });
      assert.deepEqual(lean.metrics, here.metrics);
      assert.deepEqual(
        lean.videos.map((v) => v.scores),
        here.videos.map((v) => v.scores),
      );
      assert.equal(lean.videos[0].clips[0].probs, undefined);
    } finally {
      split.close();
      model.dispose();
    }
  });
}

test('a given pool gets the model’s parameters first; a cancelled evaluation rejects and leaves the pool idle', async () => {
  await chooseBackend('wasm');
  const { model, split, params } = await fixture('single');
  // The pool starts with other parameters: evaluation must replace them with the model's.
  const stale = new Map(
    [...params].map(([name, p]) => [name, { shape: p.shape, data: p.data.map((v) => v * 0.5) }]),
  );
  const pool = await WorkerPool.start({ workers: 2, backend: 'wasm', options: model.options, params: stale });
  try {
    const here = await evaluateSplit(model, split, SETTINGS);
    assert.deepEqual(await evaluateSplit(model, split, { ...SETTINGS, pool }), here);
    const abort = new AbortController();
    await assert.rejects(
      evaluateSplit(model, split, {
        ...SETTINGS,
        pool,
        signal: abort.signal,
        onProgress: () => abort.abort(new Error('stopped by the test')),
      }),
      /stopped by the test/,
    );
    // Every worker is free again: a full evaluation runs at once.
    assert.deepEqual(await evaluateSplit(model, split, { ...SETTINGS, pool }), here);
  } finally {
    await pool.close();
    split.close();
    model.dispose();
  }
});
