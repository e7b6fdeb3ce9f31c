// The Evaluate view's engine side on real files: an 'evaluate' job (two models, paired) reports progress,
// keeps its report in the workspace under a key, and `evaluation()` answers it at once — after a restart
// too — with the numbers `glimpse evaluate` gives; the same evaluation started twice is 'busy'; a model
// of another class count is refused before any job starts ('mismatch', naming the files).
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { EngineEvent, EvaluationRequest, JobInfo } from '../../main/engine/api.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import { GlimpseError } from '../../main/engine/errors.ts';
import type { EvaluationReport } from '../../main/workflows/evaluation.ts';
import { runGlimpse } from '../support/cli.ts';
import { makeEngineFixture, type EngineFixture } from '../support/engine-fixture.ts';

let fx: EngineFixture;
let modelB: string;
let workspace: string;
const engines: Engine[] = [];

async function open(): Promise<Engine> {
  const engine = await createEngine({ workspace, transport: 'browser', mediaUrl: (id) => `/media/${id}` });
  engines.push(engine);
  return engine;
}

function finished(engine: Engine, id: string, seen: JobInfo[]): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = engine.subscribe((e: EngineEvent) => {
      if (e.type !== 'job' || e.job.id !== id) return;
      seen.push(e.job);
      if (['done', 'failed', 'cancelled'].includes(e.job.state)) {
        off();
        resolve(e.job);
      }
    });
  });
}

before(() => {
  fx = makeEngineFixture();
  workspace = path.join(fx.root, 'workspace');
  modelB = path.join(fx.root, 'model-b.h5');
  const r = runGlimpse([
    'train',
    ...['--dataset', fx.features, '--out', modelB, '--dim', '8', '--dim-out', '8', '--maxlen', '16'],
    ...['--last-n', '4', '--training-stride', '8', '--batch-size', '8', '--epochs', '1', '--no-dropout'],
    ...['--seed', '11'],
  ]);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

test('an evaluate job keeps its report; evaluation() answers it at once, after a restart too', async () => {
  const request: EvaluationRequest = {
    model: fx.model,
    compare: modelB,
    dataset: fx.features,
    split: 'test',
    stride: 4,
  };
  let engine = await open();
  const before = await engine.evaluation(request);
  assert.equal(before.status, 'none');
  const job = await engine.startJob({ kind: 'evaluate', ...request });
  const seen: JobInfo[] = [];
  const done = finished(engine, job.id, seen);
  // The same evaluation again while it runs: refused, and evaluation() names the running job.
  await assert.rejects(engine.startJob({ kind: 'evaluate', ...request }), (err: unknown) => {
    assert.ok(err instanceof GlimpseError && err.code === 'busy', String(err));
    return true;
  });
  const during = await engine.evaluation(request);
  assert.equal(during.status === 'none' && during.job?.id, job.id);
  const end = await done;
  assert.equal(end.state, 'done', JSON.stringify(end.error));
  assert.ok(
    seen.some((j) => j.progress && j.progress.rateUnit === 'clips/s' && j.progress.fraction > 0),
    'progress with a rate',
  );

  const kept = await engine.evaluation(request);
  assert.equal(kept.status, 'ready');
  assert.equal(kept.status === 'ready' && kept.key, before.key);
  const report = kept.status === 'ready' ? kept.report : null;
  assert.ok(report?.comparison, 'paired report kept');
  assert.equal(report.videos[0].clips > 0, true, 'clip counts, not clip entries');

  // The numbers of `glimpse evaluate` on the same model, split and stride.
  const out = path.join(fx.root, 'cli.json');
  const cli = runGlimpse([
    'evaluate',
    ...['--model', fx.model, '--dataset', fx.features, '--split', 'test', '--stride', '4', '--out', out],
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  const fromCli = JSON.parse(readFileSync(out, 'utf8')) as EvaluationReport;
  assert.deepEqual(report.metrics, fromCli.metrics);
  assert.deepEqual(
    report.videos.map((v) => [v.index, v.prediction, v.attention?.meanEntropy]),
    fromCli.videos.map((v) => [v.index, v.prediction, v.attention?.meanEntropy]),
  );
  // The full report, per clip, is in the exports folder the job names.
  assert.ok(
    typeof end.result?.path === 'string' && readFileSync(end.result.path, 'utf8').includes('"clips"'),
  );

  await engine.close();
  engines.splice(engines.indexOf(engine), 1);
  engine = await open();
  const t0 = performance.now();
  const again = await engine.evaluation(request);
  assert.equal(again.status, 'ready');
  assert.ok(performance.now() - t0 < 2000, 'a kept report is a file read');
  // Other settings are another evaluation.
  assert.equal((await engine.evaluation({ ...request, stride: 8 })).status, 'none');
});

test('a model of another class count than the dataset is refused before a job starts', async () => {
  const engine = await open();
  const bad = path.join(fx.root, 'three-classes');
  cpSync(fx.features, bad, { recursive: true });
  writeFileSync(path.join(bad, 'classes.txt'), 'a\nb\nc\n');
  const jobsBefore = (await engine.listJobs()).length;
  await assert.rejects(
    engine.startJob({ kind: 'evaluate', model: fx.model, dataset: bad, split: 'test' }),
    (err: unknown) => {
      assert.ok(err instanceof GlimpseError, String(err));
      assert.equal(err.code, 'mismatch', err.message);
      assert.match(
        err.message,
        /model\.h5: does not fit .*three-classes\/test_features\.h5: 2 classes against the dataset's 3/,
      );
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
  assert.equal((await engine.listJobs()).length, jobsBefore, 'no job was made');
  await assert.rejects(
    engine.evaluation({ model: fx.model, dataset: path.join(fx.root, 'nowhere'), split: 'test' }),
    (err: unknown) => {
      assert.ok(err instanceof GlimpseError && err.code === 'not-found');
      return true;
    },
  );
});
